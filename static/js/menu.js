// The site's menu (templates/base.html) is a <details>: it opens and closes without JavaScript.
// This adds what a menu is expected to do besides: Escape closes it and gives the focus back
// to its button; a click elsewhere, or the focus leaving it, closes it.
(function () {
  "use strict";

  function setUp(menu) {
    const button = menu.querySelector("summary");

    function close(returnFocus) {
      if (!menu.open) return;
      menu.open = false;
      if (returnFocus) button.focus();
    }

    menu.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && menu.open) {
        event.preventDefault();
        close(true);
      }
    });
    document.addEventListener("click", function (event) {
      if (!menu.contains(event.target)) close(false);
    });
    menu.addEventListener("focusout", function (event) {
      if (event.relatedTarget && !menu.contains(event.relatedTarget)) close(false);
    });
  }

  document.querySelectorAll("[data-menu]").forEach(setUp);
})();
