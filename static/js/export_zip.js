// The organizer's ZIP of the winners' originals: follow a job that is not finished by polling
// its JSON status every two seconds; show the download link once it is ready.
(function () {
  "use strict";
  var EVERY_MS = 2000;
  var MB = 1048576;

  function show(box, body) {
    box.querySelector("[data-role=label]").textContent = body.label;
    var bar = box.querySelector("[data-role=bar]");
    bar.value = body.percent;
    bar.textContent = body.percent + " %";
    var bytes = box.querySelector("[data-role=bytes]");
    bytes.textContent = bytes.textContent.replace(/\d+(\D+)\d+/, Math.floor(body.bytes_done / MB) + "$1" + Math.floor(body.bytes_total / MB));
    if (body.download_url) {
      var link = box.querySelector("[data-role=download]");
      link.querySelector("a").href = body.download_url;
      link.hidden = false;
    }
  }

  function follow(box) {
    fetch(box.dataset.statusUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (body) {
        if (body) { show(box, body); }
        if (!body || !body.finished) { window.setTimeout(function () { follow(box); }, EVERY_MS); }
        else { var form = box.closest("section").querySelector("form button"); if (form) { form.disabled = false; } }
      })
      .catch(function () { window.setTimeout(function () { follow(box); }, EVERY_MS * 2); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".export-job[data-finished=false]").forEach(follow);
  });
})();
