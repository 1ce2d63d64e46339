// The entry page: zoom, the photo series' prev/next, and the share buttons.
// Without JavaScript every part still works: the image links to its 1600 px JPEG, the
// series' arrows are anchors, the link to share is in a visible field.
(function () {
  "use strict";

  // --- zoom: a tap shows the full-size image over the page, another tap closes it ----------
  function setZoom(link, on) {
    link.classList.toggle("zoomed", on);
    document.body.classList.toggle("has-zoom", on);
    link.setAttribute("aria-expanded", on ? "true" : "false");
    // Ask for the largest candidate while zoomed (a phone would otherwise keep the small one).
    link.querySelectorAll("img, source").forEach(function (el) {
      if (!el.dataset.sizes) el.dataset.sizes = el.getAttribute("sizes") || "";
      if (el.dataset.sizes) el.setAttribute("sizes", on ? "1600px" : el.dataset.sizes);
    });
  }

  document.querySelectorAll("[data-zoom]").forEach(function (link) {
    link.setAttribute("role", "button");
    link.setAttribute("aria-expanded", "false");
    link.addEventListener("click", function (event) {
      event.preventDefault();
      setZoom(link, !link.classList.contains("zoomed"));
    });
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    document.querySelectorAll("[data-zoom].zoomed").forEach(function (link) { setZoom(link, false); });
  });

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
      });
    });
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
