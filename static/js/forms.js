// A form that came back with errors: its first invalid field takes the focus (its label and
// error are read out, aria-describedby), and the error summary's links move focus to their field.
(function () {
  "use strict";

  function focusable(element) {
    // A group (radio buttons) is marked as a whole: its first control takes the focus.
    return element.matches("input, select, textarea, button")
      ? element
      : element.querySelector("input, select, textarea, button");
  }

  function focusField(element) {
    const control = element && focusable(element);
    if (!control) return false;
    control.focus({ preventScroll: true });
    control.scrollIntoView({ block: "center" });
    return true;
  }

  document.addEventListener("DOMContentLoaded", function () {
    focusField(document.querySelector("[aria-invalid='true']"));
  });

  document.addEventListener("click", function (event) {
    const link = event.target.closest("[data-error-summary] a[href^='#']");
    if (!link) return;
    if (focusField(document.getElementById(decodeURIComponent(link.hash.slice(1))))) event.preventDefault();
  });
})();
