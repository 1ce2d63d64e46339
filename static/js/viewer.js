// The viewer: a picture's zoom (PhotoSwipe, loaded on the first zoom) and a video's qualities.
// Without JavaScript a zoomable picture links to its large JPEG and the video plays with the
// browser's own controls. The texts come from this script's data-* attributes (translated).
(function () {
  "use strict";

  const script = document.currentScript;
  const texts = script ? script.dataset : {};
  const vendor = new URL("../vendor/photoswipe/", script ? script.src : location.href).href;
  const FULL_EDGE = 1600; // the large JPEG's long edge, when a link does not say its size

  // --- zoom: a dialog over the page, fitted to the screen, then pinch, pan, next, previous ---
  let loading = null;

  function loadPhotoSwipe() {
    if (!loading) {
      const style = new Promise(function (resolve, reject) {
        const link = document.createElement("link");
        link.rel = "stylesheet";
        link.href = vendor + "photoswipe.css";
        link.addEventListener("load", resolve);
        link.addEventListener("error", reject);
        document.head.appendChild(link);
      });
      loading = Promise.all([import(vendor + "photoswipe.esm.min.js"), style]).then(
        function (loaded) { return loaded[0].default; },
        function (error) { loading = null; throw error; }
      );
    }
    return loading;
  }

  function preload() {
    loadPhotoSwipe().catch(function () { /* tried again on the click */ });
  }

  function slideOf(link) {
    const img = link.querySelector("img");
    let width = Number(link.dataset.zoomWidth);
    let height = Number(link.dataset.zoomHeight);
    if (!width || !height) {
      const w = Number(img && (img.getAttribute("width") || img.naturalWidth)) || 3;
      const h = Number(img && (img.getAttribute("height") || img.naturalHeight)) || 2;
      const scale = FULL_EDGE / Math.max(w, h);
      width = Math.round(w * scale);
      height = Math.round(h * scale);
    }
    return {
      src: link.href,
      width: width,
      height: height,
      alt: img ? img.alt : "",
      msrc: img ? img.currentSrc || img.src : undefined,
      element: link,
    };
  }

  function groupOf(link) {
    const track = link.closest("[data-series-track], .series-track");
    return track ? Array.prototype.slice.call(track.querySelectorAll("[data-zoom]")) : [link];
  }

  function options(links, index) {
    return {
      dataSource: links.map(slideOf),
      index: index,
      bgOpacity: 0.94,
      returnFocus: false, // done on close: the photo shown last, not the one opened first
      closeTitle: texts.textClose,
      zoomTitle: texts.textZoom,
      arrowPrevTitle: texts.textPrev,
      arrowNextTitle: texts.textNext,
      errorMsg: texts.textError,
      indexIndicatorSep: " / ",
    };
  }

  function open(link) {
    const links = groupOf(link);
    loadPhotoSwipe().then(function (PhotoSwipe) {
      const pswp = new PhotoSwipe(options(links, links.indexOf(link)));
      let last = links.indexOf(link);
      pswp.on("change", function () { last = pswp.currIndex; });
      pswp.on("destroy", function () { focusAfterClose(links[last]); });
      pswp.on("keydown", function (event) { keepTabInside(pswp, event); });
      pswp.init();
      pswp.element.setAttribute("aria-modal", "true");
      if (texts.textDialog) pswp.element.setAttribute("aria-label", texts.textDialog);
    }, function () {
      location.href = link.href; // the viewer could not load: the large JPEG itself
    });
  }

  // Tab and Shift+Tab go round the dialog's buttons (PhotoSwipe lets the focus out past the last).
  function keepTabInside(pswp, event) {
    const key = event.originalEvent;
    if (key.key !== "Tab" || key.altKey || key.ctrlKey || key.metaKey) return;
    const stops = Array.prototype.filter.call(pswp.element.querySelectorAll("button"), function (button) {
      return !button.disabled && button.getClientRects().length > 0;
    });
    if (!stops.length) return;
    const at = stops.indexOf(document.activeElement);
    const step = key.shiftKey ? -1 : 1;
    const to = at < 0 ? (key.shiftKey ? stops.length - 1 : 0) : (at + step + stops.length) % stops.length;
    key.preventDefault();
    event.preventDefault();
    stops[to].focus();
  }

  // Focus goes back to the picture shown last; a series' track scrolls to it first.
  function focusAfterClose(link) {
    const slide = link.closest("[data-series-slide], .series-slide");
    const track = slide && slide.parentElement;
    if (track) track.scrollTo({ left: slide.offsetLeft - track.offsetLeft, behavior: "instant" });
    link.focus({ preventScroll: Boolean(track) });
  }

  document.querySelectorAll("a[data-zoom]").forEach(function (link) {
    link.setAttribute("role", "button");
    link.setAttribute("aria-haspopup", "dialog");
    link.addEventListener("click", function (event) {
      if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
      event.preventDefault();
      open(link);
    });
    // A hand on the way to the picture starts the download (nothing before: a phone's first view).
    ["pointerenter", "touchstart", "focus"].forEach(function (type) {
      link.addEventListener(type, preload, { once: true, passive: true });
    });
    link.addEventListener("keydown", function (event) {
      if (event.key !== " ") return; // Enter clicks a link already
      event.preventDefault();
      open(link);
    });
  });

  // --- video: the qualities in a menu inside the player, best first -------------------------
  function setUpPlayer(player) {
    const video = player.querySelector("video");
    const box = player.querySelector("[data-quality]");
    if (!video || !box) return;
    const button = box.querySelector("[data-quality-button]");
    const menu = box.querySelector("[data-quality-menu]");
    const shown = box.querySelector("[data-quality-current]");
    const items = Array.prototype.slice.call(menu.querySelectorAll("[data-src]"));
    function urlOf(item) { return new URL(item.dataset.src, location.href).href; }

    function checked() {
      return items.filter(function (item) { return item.getAttribute("aria-checked") === "true"; })[0] || items[0];
    }
    function mark(chosen) {
      items.forEach(function (item) { item.setAttribute("aria-checked", String(item === chosen)); });
      shown.textContent = chosen.dataset.label;
    }
    function showMenu(on) {
      menu.hidden = !on;
      button.setAttribute("aria-expanded", String(on));
      if (on) checked().focus();
    }
    function choose(item) {
      if (video.currentSrc === urlOf(item)) return;
      const time = video.currentTime;
      const playing = !video.paused && !video.ended;
      video.addEventListener("loadedmetadata", function () {
        if (time) video.currentTime = time;
        if (playing) video.play().catch(function () { /* the visitor presses play */ });
      }, { once: true });
      video.src = item.dataset.src; // takes over from the <source> list
      mark(item);
    }
    function move(by) {
      const at = items.indexOf(document.activeElement);
      items[(at + by + items.length) % items.length].focus();
    }

    button.addEventListener("click", function () { showMenu(menu.hidden); });
    items.forEach(function (item) {
      item.addEventListener("click", function () { choose(item); showMenu(false); button.focus(); });
    });
    menu.addEventListener("keydown", function (event) {
      const keys = { ArrowDown: 1, ArrowUp: -1 };
      if (event.key in keys) { event.preventDefault(); move(keys[event.key]); }
      if (event.key === "Home") { event.preventDefault(); items[0].focus(); }
      if (event.key === "End") { event.preventDefault(); items[items.length - 1].focus(); }
      if (event.key === "Escape") { event.preventDefault(); showMenu(false); button.focus(); }
      if (event.key === "Tab") showMenu(false);
    });
    document.addEventListener("click", function (event) {
      if (!menu.hidden && !box.contains(event.target)) showMenu(false);
    });
    // The browser picks the first source it can play: the menu says which.
    video.addEventListener("loadedmetadata", function () {
      const playing = items.filter(function (item) { return urlOf(item) === video.currentSrc; })[0];
      if (playing) mark(playing);
    });
    setUpFullScreen(player, video, box.querySelector("[data-fullscreen]"));
    box.hidden = false;
  }

  // The frame goes full screen, the quality menu with it. Where a page's element cannot (an
  // iPhone), the browser's own button stays.
  function setUpFullScreen(player, video, button) {
    if (!button || !document.fullscreenEnabled || !player.requestFullscreen) return;
    if (video.controlsList) video.controlsList.add("nofullscreen");
    function toggle() {
      if (document.fullscreenElement === player) document.exitFullscreen();
      else player.requestFullscreen().catch(function () { /* refused: the page stays as it is */ });
    }
    button.addEventListener("click", toggle);
    video.addEventListener("dblclick", toggle);
    document.addEventListener("fullscreenchange", function () {
      button.setAttribute("aria-pressed", String(document.fullscreenElement === player));
    });
    button.hidden = false;
  }

  document.querySelectorAll("[data-player]").forEach(setUpPlayer);
})();
