// The entry page: the photo series' prev/next (the zoom: viewer.js; sharing: share.js).
// Without JavaScript every part still works: the image links to its 1600 px JPEG, the
// series' arrows are anchors.
(function () {
  "use strict";

  // --- photo series: the arrows scroll the track instead of jumping the page -----------------
  document.querySelectorAll("[data-series]").forEach(function (series) {
    const track = series.querySelector("[data-series-track]");
    const slides = Array.prototype.slice.call(series.querySelectorAll("[data-series-slide]"));
    function current() {
      const width = track.clientWidth || 1;
      return Math.round(track.scrollLeft / width);
    }
    function go(index) {
      // Every slide is as wide as the track.
      const to = Math.max(0, Math.min(slides.length - 1, index));
      track.scrollTo({ left: to * track.clientWidth, behavior: "smooth" });
    }
    series.querySelectorAll("[data-series-go]").forEach(function (arrow) {
      arrow.addEventListener("click", function (event) {
        event.preventDefault();
        const target = document.getElementById(arrow.getAttribute("href").slice(1));
        go(slides.indexOf(target));
        keepFocus(target, arrow.classList.contains("series-next"));
      });
    });
    // The arrow pressed scrolls out of sight with its slide: the focus moves to the same arrow
    // on the slide shown (or the other one at either end), so that the keyboard goes on.
    function keepFocus(slide, forward) {
      const same = slide.querySelector(forward ? ".series-next" : ".series-prev");
      const arrow = same || slide.querySelector("[data-series-go]");
      if (arrow) arrow.focus({ preventScroll: true });
    }
    track.addEventListener("keydown", function (event) {
      if (event.key === "ArrowRight") { event.preventDefault(); go(current() + 1); }
      if (event.key === "ArrowLeft") { event.preventDefault(); go(current() - 1); }
    });
  });
})();
