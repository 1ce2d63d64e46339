// An entry page's visit, counted by the figures (contest.figures.visits): where it came from
// (the share parameter the share buttons add, else the referring page), sent once as a beacon,
// and each press of a share button. No cookie, no identifier: the server keeps a daily counter.
(function () {
  "use strict";

  const script = document.currentScript;
  const url = script && script.dataset.visitUrl;
  if (!url || !navigator.sendBeacon) return;

  function send(fields) {
    try { navigator.sendBeacon(url, new URLSearchParams(fields)); } catch (error) { /* not counted */ }
  }

  const query = new URLSearchParams(window.location.search);
  const src = query.get("src") || (query.has("fbclid") ? "facebook" : query.has("zarsrc") ? "zalo" : "");
  send({ kind: "visit", src: src, ref: document.referrer });

  document.querySelectorAll("[data-share]").forEach(function (panel) {
    const buttons = [
      [".share-facebook", "facebook"],
      ["[data-share-zalo]", "zalo"],
      ["[data-copy-link]", "link"],
    ];
    buttons.forEach(function (pair) {
      const button = panel.querySelector(pair[0]);
      if (button) button.addEventListener("click", function () { send({ kind: "share", src: pair[1] }); });
    });
  });
})();
