// The organizers' figures (templates/figures/index.html): each canvas[data-chart] is drawn by
// Chart.js (static/vendor/chartjs) from the figure's data; its numbers are in the table beside it.
(function () {
  "use strict";

  const COLOURS = ["#1b7a4b", "#c0392b", "#2c6fb7", "#b7791f", "#6b46c1", "#0f766e", "#9d174d", "#4b5563"];

  function options(spec) {
    const value = spec.horizontal ? "x" : "y";
    const scales = {
      x: { stacked: !!spec.stacked, ticks: { autoSkip: true, maxRotation: 60 } },
      y: { stacked: !!spec.stacked, ticks: { autoSkip: !spec.horizontal } },
    };
    scales[value].beginAtZero = true;
    scales[value].ticks.precision = 0;
    if (spec.y1) {
      scales.y1 = { position: "right", beginAtZero: true, grid: { drawOnChartArea: false }, ticks: { precision: 0 } };
    }
    return {
      indexAxis: spec.horizontal ? "y" : "x",
      maintainAspectRatio: false,
      responsive: true,
      animation: false,
      scales: scales,
      plugins: { legend: { display: spec.datasets.length > 1, position: "bottom" } },
    };
  }

  function draw(canvas) {
    const spec = JSON.parse(canvas.dataset.chart);
    spec.datasets.forEach(function (dataset, i) {
      const colour = COLOURS[i % COLOURS.length];
      dataset.backgroundColor = colour;
      dataset.borderColor = colour;
      if (dataset.type === "line") dataset.pointRadius = 2;
    });
    if (spec.horizontal) {
      // One bar per label, each tall enough to read its label on a phone.
      canvas.parentElement.style.height = Math.max(288, 28 * spec.labels.length + 60) + "px";
    }
    return new window.Chart(canvas, {
      type: spec.type,
      data: { labels: spec.labels, datasets: spec.datasets },
      options: options(spec),
    });
  }

  if (!window.Chart) return; // the table stays: it holds every number
  document.querySelectorAll("canvas[data-chart]").forEach(draw);
})();
