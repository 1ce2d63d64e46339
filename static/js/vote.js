// Vote without leaving the page, and keep the count fresh while the page is open.
// Without JavaScript the form posts and the page reloads with the same result.
// After a vote the box says what the page loaded again says (the <template data-vote-after>
// rendered beside the button), and focus moves to the status line that announces it.
(function () {
  "use strict";
  const box = document.querySelector("[data-vote-box]");
  if (!box) return;
  const countEl = box.querySelector("[data-vote-count]");
  const wordEl = box.querySelector("[data-vote-word]");
  const messageEl = box.querySelector("[data-vote-message]");
  const stateEl = box.querySelector("[data-vote-state]");
  const form = box.querySelector("[data-vote-form]");
  let floor = 0; // after the visitor's own vote, a refresh never shows a smaller count
  let sending = false;

  function show(count) {
    if (!countEl || typeof count !== "number" || count < floor) return;
    countEl.textContent = count.toLocaleString(document.documentElement.lang || "vi");
    if (wordEl) wordEl.textContent = count === 1 ? wordEl.dataset.one : wordEl.dataset.other;
  }

  function announce(text) {
    messageEl.textContent = text;
    messageEl.focus();
  }

  function settle(data, voted) {
    const after = stateEl.querySelector("template[data-vote-after]");
    stateEl.replaceChildren();
    if (voted && after) stateEl.append(after.content.cloneNode(true));
    if (typeof data.count === "number") floor = data.count;
    show(data.count);
    announce(data.message || "");
  }

  if (form) {
    const button = form.querySelector("button");
    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      if (sending) return;
      // aria-disabled, not disabled: a disabled button would drop the keyboard's focus.
      sending = true;
      button.setAttribute("aria-disabled", "true");
      try {
        const response = await fetch(form.action, {
          method: "POST",
          body: new FormData(form),
          headers: { Accept: "application/json" },
          credentials: "same-origin",
        });
        const data = await response.json().catch(() => ({}));
        if (response.status === 401 && data.login_url) { window.location = data.login_url; return; }
        if (data.ok || response.status === 409) {
          settle(data, data.ok || data.state === "voted");
          return;
        }
        messageEl.textContent = data.message || box.dataset.failed;
        show(data.count);
      } catch (error) {
        form.submit(); // the network failed: let the browser send the form itself
        return;
      }
      sending = false;
      button.removeAttribute("aria-disabled");
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
