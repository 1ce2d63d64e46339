/* The moderation queue by keyboard: J/K next/previous entry, X tick it, A approve it,
   R go to its reason (then Enter rejects), O open its page. Keys typed in a field are the
   field's. Also counts the ticked entries for the bulk form. */
(function () {
  "use strict";
  var entries = Array.prototype.slice.call(document.querySelectorAll("[data-entry]"));
  if (!entries.length) return;
  var current = -1;

  function select(index) {
    if (index < 0 || index >= entries.length) return;
    if (current >= 0) entries[current].classList.remove("current");
    current = index;
    var entry = entries[current];
    entry.classList.add("current");
    entry.scrollIntoView({ block: "start" });
  }

  function inField(target) {
    return Boolean(target && (/^(INPUT|SELECT|TEXTAREA|BUTTON)$/.test(target.tagName) || target.isContentEditable));
  }

  function countTicked() {
    var shown = document.querySelector("[data-ticked]");
    if (shown) shown.textContent = document.querySelectorAll("[data-tick]:checked").length;
  }

  function act(key) {
    var entry = entries[current];
    if (key === "j") return select(current + 1);
    if (key === "k") return select(Math.max(current - 1, 0));
    if (!entry) return;
    if (key === "x") {
      var tick = entry.querySelector("[data-tick]");
      if (tick) { tick.checked = !tick.checked; countTicked(); }
    } else if (key === "a") {
      var approve = entry.querySelector("[data-approve]");
      if (approve) approve.requestSubmit();
    } else if (key === "r") {
      var reason = entry.querySelector("[data-reject] select, [data-reject] input[type=text]");
      if (reason) reason.focus();
    } else if (key === "o") {
      var page = entry.querySelector("[data-entry-page]");
      if (page) window.location.assign(page.href);
    }
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || inField(event.target)) return;
    var key = event.key.toLowerCase();
    if ("jkxaro".indexOf(key) === -1 || key.length !== 1) return;
    event.preventDefault();
    act(key);
  });
  entries.forEach(function (entry, index) {
    entry.addEventListener("focusin", function () {
      if (current !== index) {
        if (current >= 0) entries[current].classList.remove("current");
        current = index;
        entry.classList.add("current");
      }
    });
  });
  document.addEventListener("change", function (event) {
    if (event.target.matches("[data-tick]")) countTicked();
    // A reason picked from the list: Enter now rejects.
    if (event.target.matches("[data-reject] select") && event.target.value !== "0") {
      event.target.form.querySelector("button[type=submit]").focus();
    }
  });
})();
