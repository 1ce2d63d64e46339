// An entry's share panels ([data-share], templates/gallery/_share.html): copy the link, and Zalo.
// Each panel works on its own ("My entries" has one per public entry). Without JavaScript the
// Facebook link works and the link to share is in a visible field.
(function () {
  "use strict";

  function panel(root) {
    const message = root.querySelector("[data-share-message]");
    const field = root.querySelector("[data-share-url]");

    function say(key) {
      if (message) message.textContent = message.dataset[key] || "";
    }

    function legacyCopy() {
      if (!field) return false;
      field.focus();
      field.select();
      try { return document.execCommand("copy"); } catch (error) { return false; }
    }

    function copyLink(url) {
      if (navigator.clipboard && window.isSecureContext) {
        return navigator.clipboard.writeText(url).then(function () { return true; }, function () { return legacyCopy(); });
      }
      return Promise.resolve(legacyCopy());
    }

    const copyButton = root.querySelector("[data-copy-link]");
    if (copyButton && field) {
      copyButton.hidden = false;
      copyButton.addEventListener("click", function () {
        copyLink(field.value).then(function (ok) { say(ok ? "copied" : "copyFailed"); if (!ok) field.select(); });
      });
    }

    // Zalo has no share URL: a phone's share sheet lists Zalo; with the site's Zalo Official
    // Account id, Zalo's own button is loaded on the first tap; otherwise the link is copied.
    const zalo = root.querySelector("[data-share-zalo]");
    if (!zalo) return;
    zalo.addEventListener("click", function () {
      const url = zalo.dataset.url;
      if (navigator.share) {
        navigator.share({ title: zalo.dataset.title, url: url }).catch(function () { /* cancelled */ });
      } else if (zalo.dataset.oaid && zalo.dataset.sdk) {
        loadZaloButton(zalo, url);
        say("zaloReady");
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
  }

  document.querySelectorAll("[data-share]").forEach(panel);
})();
