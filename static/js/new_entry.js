// The entry form: only the file field the chosen category needs is shown, and the chosen
// category goes into the form's address, so that an upload too large for it is refused
// before it is sent in full (contest.entries.upload_guard).
// Without this script every file field stays visible and the server takes the one the
// chosen category needs.
(function () {
  "use strict";
  var form = document.getElementById("new-entry");
  if (!form) return;
  var action = form.getAttribute("action").split("?")[0];

  function show() {
    var chosen = form.querySelector('input[name="category"]:checked');
    var kind = chosen ? chosen.getAttribute("data-kind") : null;
    form.querySelectorAll("[data-for-kind]").forEach(function (el) {
      el.hidden = kind !== null && el.getAttribute("data-for-kind") !== kind;
    });
    form.querySelectorAll(".category-card").forEach(function (el) {
      el.classList.toggle("chosen", !!chosen && el.contains(chosen));
    });
    form.setAttribute("action", chosen ? action + "?category=" + encodeURIComponent(chosen.value) : action);
    dateWords(kind);
  }

  // A video is filmed, a photo taken: the date field's label and help follow the category.
  function dateWords(kind) {
    var box = form.querySelector("[data-date-words]");
    if (!box || kind === null) return;
    var which = kind === "video" ? "video" : "photo";
    var label = box.querySelector("label");
    var help = box.querySelector(".help");
    if (label) { label.textContent = box.getAttribute("data-" + which + "-label"); }
    if (help) { help.textContent = box.getAttribute("data-" + which + "-help"); }
  }

  form.addEventListener("change", function (event) {
    if (event.target.name === "category") { show(); }
  });
  show();
})();
