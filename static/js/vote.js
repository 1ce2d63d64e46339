// Vote without leaving the page, and keep the count fresh while the page is open.
// Without JavaScript the form posts and the page reloads with the same result.
(function () {
  "use strict";
  const box = document.querySelector("[data-vote-box]");
  if (!box) return;
  const countEl = box.querySelector("[data-vote-count]");
  const messageEl = box.querySelector("[data-vote-message]");
  const form = box.querySelector("[data-vote-form]");

  function show(count) {
    if (countEl && typeof count === "number") countEl.textContent = count.toLocaleString(document.documentElement.lang || "vi");
  }

  if (form) {
    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      const button = form.querySelector("button");
      button.disabled = true;
      try {
        const response = await fetch(form.action, {
          method: "POST",
          body: new FormData(form),
          headers: { Accept: "application/json" },
          credentials: "same-origin",
        });
        const data = await response.json().catch(() => ({}));
        if (response.status === 401 && data.login_url) { window.location = data.login_url; return; }
        messageEl.textContent = data.message || "";
        show(data.count);
        if (data.ok || response.status === 409) form.remove();
        else button.disabled = false;
      } catch (error) {
        form.submit(); // the network failed: let the browser send the form itself
      }
    });
  }

  if (countEl) {
    setInterval(async function () {
      if (document.hidden) return;
      try {
        const response = await fetch(box.dataset.countUrl, { headers: { Accept: "application/json" } });
        if (response.ok) show((await response.json()).count);
      } catch (error) { /* offline: try again later */ }
    }, 30000);
  }
})();
