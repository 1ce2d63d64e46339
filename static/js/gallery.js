// The entry page: the photo series' prev/next and the share buttons (the zoom: viewer.js).
// Without JavaScript every part still works: the image links to its 1600 px JPEG, the
// series' arrows are anchors, the link to share is in a visible field.
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

  // --- sharing ----------------------------------------------------------------------------------
  const message = document.querySelector("[data-share-message]");
  const field = document.querySelector("[data-share-url]");

  function say(key) {
    if (message) message.textContent = message.dataset[key] || "";
  }

  function copyLink(url) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(url).then(function () { return true; }, function () { return legacyCopy(); });
    }
    return Promise.resolve(legacyCopy());
  }

  function legacyCopy() {
    if (!field) return false;
    field.focus();
    field.select();
    try { return document.execCommand("copy"); } catch (error) { return false; }
  }

  const copyButton = document.querySelector("[data-copy-link]");
  if (copyButton && field) {
    copyButton.hidden = false;
    copyButton.addEventListener("click", function () {
      copyLink(field.value).then(function (ok) { say(ok ? "copied" : "copyFailed"); if (!ok) field.select(); });
    });
  }

  // Zalo has no share URL: a phone's share sheet lists Zalo; with the site's Zalo Official
  // Account id, Zalo's own button is loaded on the first tap; otherwise the link is copied.
  const zalo = document.querySelector("[data-share-zalo]");
  if (zalo) {
    zalo.addEventListener("click", function () {
      const url = zalo.dataset.url;
      if (navigator.share) {
        navigator.share({ title: zalo.dataset.title, url: url }).catch(function () { /* cancelled */ });
      } else if (zalo.dataset.oaid && zalo.dataset.sdk) {
        loadZaloButton(zalo, url);
      } else {
        copyLink(url).then(function (ok) { say(ok ? "zaloCopied" : "copyFailed"); });
      }
    });
  }

  function loadZaloButton(button, url) {
    const holder = document.createElement("span");
    holder.className = "zalo-share-button";
    holder.dataset.href = url;
    holder.dataset.oaid = button.dataset.oaid;
    holder.dataset.layout = "1";
    holder.dataset.color = "blue";
    holder.dataset.customize = "false";
    button.replaceWith(holder);
    const script = document.createElement("script");
    script.src = button.dataset.sdk;
    script.async = true;
    document.body.appendChild(script);
    say("zaloReady");
  }
})();
