// "My entries": reload the page as soon as one of the entries being processed changes state.
// The entries to watch and the interval are in the list's data-pending and data-poll-ms.
(function () {
  "use strict";
  var list = document.querySelector("[data-pending]");
  if (!list) return;
  var pending = JSON.parse(list.getAttribute("data-pending"));
  var every = parseInt(list.getAttribute("data-poll-ms"), 10);

  function changed(before, now) {
    return !now || now.status !== before.status || now.job_state !== before.job_state;
  }

  function poll() {
    Promise.all(pending.map(function (p) {
      return fetch(p.url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (r) { return r.ok ? r.json() : null; });
    })).then(function (results) {
      if (results.some(function (now, i) { return changed(pending[i], now); })) {
        window.location.reload();
      } else {
        window.setTimeout(poll, every);
      }
    }, function () { window.setTimeout(poll, every); });
  }

  window.setTimeout(poll, every);
})();
