// The judge's panel: judge by keyboard, save as you go, lose nothing typed.
// What is typed is kept in sessionStorage until the server has it; a save that fails for
// want of a network is tried again when the connection returns. Without JavaScript the
// forms post and the pages reload with the same result.
(function () {
  "use strict";

  const DIGIT = /^(Digit|Numpad)([0-9])$/;

  // One save at a time, in order; answers {ok, status, data} or null when the network failed.
  function saver(form, say, onSaved) {
    let chain = Promise.resolve();
    return function save() {
      chain = chain.then(async function () {
        say(form.dataset.msgSaving, "");
        try {
          const response = await fetch(form.action, {
            method: "POST",
            body: new FormData(form),
            headers: { Accept: "application/json" },
            credentials: "same-origin",
          });
          const data = await response.json().catch(function () { return {}; });
          const result = { ok: response.ok && data.ok === true, status: response.status, data: data };
          if (result.ok) onSaved(result);
          else if (response.status >= 500) { say(form.dataset.msgOffline, "error"); return null; }
          else say(data.message || form.dataset.msgFailed, "error");
          return result;
        } catch (error) {
          say(form.dataset.msgOffline, "error");
          return null;
        }
      });
      return chain;
    };
  }

  function speaker(form) {
    const box = form.querySelector("[data-jury-message]");
    return function say(text, kind) {
      box.textContent = text || "";
      box.dataset.kind = kind || "";
    };
  }

  // Keep what is unsaved, and send it again when the connection comes back.
  function keeper(key, pending, save) {
    window.addEventListener("online", function () { if (pending()) save(); });
    setInterval(function () { if (pending() && navigator.onLine) save(); }, 15000);
    return {
      keep: function (value) { sessionStorage.setItem(key, JSON.stringify(value)); },
      kept: function () { const v = sessionStorage.getItem(key); return v ? JSON.parse(v) : null; },
      forget: function () { sessionStorage.removeItem(key); },
    };
  }

  // The bar's "3 of 40 judged", moved by one when this entry becomes judged (or stops being).
  function count(done) {
    const bar = document.querySelector("[data-jury-progress]");
    if (!bar || String(done) === bar.dataset.wasDone) return;
    bar.dataset.wasDone = String(done);
    bar.dataset.done = String(Number(bar.dataset.done) + (done ? 1 : -1));
    bar.textContent = bar.dataset.text.replace("{done}", bar.dataset.done).replace("{assigned}", bar.dataset.assigned);
  }

  // --- an entry: criteria, yes/no, comment ------------------------------------------------
  function judging(form) {
    const say = speaker(form);
    const criteria = Array.from(form.querySelectorAll("[data-criterion]"));
    const verdicts = Array.from(form.querySelectorAll("[data-verdict]"));
    const comment = form.querySelector("textarea[name=comment]");
    const editable = !form.querySelector("fieldset").disabled;
    let dirty = false;
    let timer = null;

    function snapshot() {
      const values = {};
      criteria.forEach(function (input) { values[input.name] = input.value; });
      const chosen = verdicts.find(function (radio) { return radio.checked; });
      values.verdict = chosen ? chosen.value : "";
      values.comment = comment ? comment.value : "";
      return values;
    }

    const save = saver(form, say, function (result) {
      if (JSON.stringify(snapshot()) === sentValues) { dirty = false; store.forget(); }
      say(result.data.message, "ok");
      count(result.data.done);
    });
    let sentValues = "";
    function send() {
      clearTimeout(timer);
      sentValues = JSON.stringify(snapshot());
      return save();
    }
    const store = keeper("jury:" + form.dataset.assignment, function () { return dirty; }, send);

    function changed() {
      dirty = true;
      store.keep(snapshot());
      clearTimeout(timer);
      timer = setTimeout(send, 1200);
    }

    function restore() {
      const values = store.kept();
      if (!values) return false;
      criteria.forEach(function (input) { if (input.name in values) input.value = values[input.name]; });
      verdicts.forEach(function (radio) { radio.checked = values.verdict === radio.value; });
      if (comment && typeof values.comment === "string") comment.value = values.comment;
      return true;
    }

    function missing() {
      const empty = criteria.find(function (input) { return input.value.trim() === ""; });
      if (empty) return { field: empty, message: form.dataset.msgIncomplete };
      if (verdicts.length && !verdicts.some(function (radio) { return radio.checked; })) {
        return { field: verdicts[0], message: form.dataset.msgVerdict };
      }
      return null;
    }

    async function saveAndGo() {
      if (!editable) return;
      const gap = missing();
      if (gap) {
        if (dirty) send();
        say(gap.message, "error");
        gap.field.focus();
        return;
      }
      const result = await send();
      if (result && result.ok && result.data.done) window.location.assign(result.data.next_url);
    }

    async function go(link) {
      if (!link) return;
      if (dirty) await send();
      if (!dirty) window.location.assign(link.href);
    }

    function setHalf(input, digit) {
      const step = Number(input.dataset.step) || 1;
      input.value = String(digit + (step < 1 ? 0.5 : 0));
      changed();
    }

    function moveCriterion(from, delta) {
      const next = criteria[criteria.indexOf(from) + delta];
      if (next) next.focus();
    }

    form.addEventListener("input", changed);
    form.addEventListener("submit", function (event) { event.preventDefault(); saveAndGo(); });
    criteria.forEach(function (input) { input.addEventListener("focus", function () { input.select(); }); });

    document.addEventListener("keydown", function (event) {
      if (event.defaultPrevented || zoom.isOpen()) return;
      const target = event.target;
      const tag = target.tagName;
      const typing = tag === "TEXTAREA" || (tag === "INPUT" && !("criterion" in target.dataset) && target.type !== "radio");
      if (event.key === "Enter") {
        if (tag === "A" || tag === "SUMMARY" || (tag === "BUTTON" && target.type !== "submit")) return;
        if (typing && !(target === comment && (event.ctrlKey || event.metaKey))) return;
        if (!target.closest("[data-jury-form]") && tag !== "BODY") return;
        event.preventDefault();
        saveAndGo();
        return;
      }
      if (typing || event.ctrlKey || event.metaKey || event.altKey || !editable) {
        if (!typing && !event.ctrlKey && !event.metaKey && !event.altKey) navigate(event);
        return;
      }
      const digit = DIGIT.exec(event.code);
      const inCriterion = criteria.includes(target);
      if (digit && criteria.length && (event.shiftKey || !inCriterion)) {
        event.preventDefault();
        const input = inCriterion ? target : criteria.find(function (i) { return i.value === ""; }) || criteria[0];
        input.focus();
        if (event.shiftKey) setHalf(input, Number(digit[2]));
        else { input.value = digit[2]; changed(); }
        return;
      }
      if (inCriterion && (event.key === "ArrowUp" || event.key === "ArrowDown")) {
        event.preventDefault();
        moveCriterion(target, event.key === "ArrowUp" ? -1 : 1);
        return;
      }
      const letter = event.key.toLowerCase();
      if (verdicts.length && (letter === "y" || letter === "n")) {
        event.preventDefault();
        const radio = verdicts.find(function (r) { return r.value === (letter === "y" ? "yes" : "no"); });
        radio.checked = true;
        radio.focus();
        changed();
        return;
      }
      navigate(event);
    });

    function navigate(event) {
      const key = event.key;
      if (event.target.tagName === "TEXTAREA" || (event.target.tagName === "INPUT" && event.target.type !== "number" && event.target.type !== "radio")) return;
      if (key === "ArrowLeft" || key === "k" || key === "K") { event.preventDefault(); go(document.querySelector("[data-jury-prev]")); }
      else if (key === "ArrowRight" || key === "j" || key === "J") { event.preventDefault(); go(document.querySelector("[data-jury-next]")); }
      else if (key === "z" || key === "Z") { event.preventDefault(); zoom.open(); }
    }

    if (editable && restore()) {
      dirty = true;
      say(form.dataset.msgRestored, "");
      send();
    }
    if (editable) {
      const first = criteria.find(function (input) { return input.value === ""; }) || criteria[0];
      if (first) first.focus();
    }
    window.addEventListener("load", function () {
      if (form.dataset.prefetch) new Image().src = form.dataset.prefetch; // the next entry's picture
    });
  }

  // --- zoom: the original at full resolution, scrolled in an overlay ------------------------
  const zoom = (function () {
    let overlay = null;
    function close() {
      if (!overlay) return;
      overlay.remove();
      overlay = null;
    }
    function open(link) {
      link = link || document.querySelector("[data-jury-zoom]");
      if (!link) return;
      close();
      overlay = document.createElement("div");
      overlay.className = "jury-zoom";
      overlay.tabIndex = -1;
      const img = new Image();
      img.src = link.href;
      img.alt = "";
      overlay.append(img);
      overlay.addEventListener("click", close);
      document.body.append(overlay);
      overlay.focus();
    }
    document.addEventListener("keydown", function (event) {
      if (overlay && (event.key === "Escape" || event.key === "z" || event.key === "Z")) {
        event.preventDefault();
        close();
      }
    });
    document.querySelectorAll("[data-jury-zoom]").forEach(function (link) {
      link.addEventListener("click", function (event) { event.preventDefault(); open(link); });
    });
    return { open: open, isOpen: function () { return overlay !== null; } };
  })();

  // --- a ranking: drag and drop, or Alt + arrows / U / D --------------------------------------
  function ranking(form) {
    const say = speaker(form);
    const list = form.querySelector(".jury-ranking");
    const order = form.querySelector("[data-jury-order]");
    const items = function () { return Array.from(list.children); };
    let dirty = false;
    let timer = null;
    const save = saver(form, say, function () { dirty = false; store.forget(); say(form.dataset.msgSaved, "ok"); });
    const store = keeper("jury-ranking:" + form.action, function () { return dirty; }, save);

    function renumber() {
      items().forEach(function (item, n) { item.querySelector(".jury-rank-number").textContent = String(n + 1); });
      order.value = items().map(function (item) { return item.dataset.assignment; }).join(",");
    }
    function changed() {
      renumber();
      dirty = true;
      store.keep(order.value);
      clearTimeout(timer);
      timer = setTimeout(save, 800);
    }
    function move(item, delta) {
      const sibling = delta < 0 ? item.previousElementSibling : item.nextElementSibling;
      if (!sibling) return;
      list.insertBefore(item, delta < 0 ? sibling : sibling.nextElementSibling);
      item.focus();
      changed();
      const rank = items().indexOf(item) + 1;
      say(form.dataset.msgMoved.replace("{code}", item.dataset.code).replace("{rank}", rank), "");
    }

    list.addEventListener("keydown", function (event) {
      const item = event.target.closest(".jury-rank-item");
      if (!item || event.target !== item) return;
      const key = event.key;
      if ((event.altKey && key === "ArrowUp") || key === "u" || key === "U") { event.preventDefault(); move(item, -1); }
      else if ((event.altKey && key === "ArrowDown") || key === "d" || key === "D") { event.preventDefault(); move(item, 1); }
      else if (key === "ArrowUp" && item.previousElementSibling) { event.preventDefault(); item.previousElementSibling.focus(); }
      else if (key === "ArrowDown" && item.nextElementSibling) { event.preventDefault(); item.nextElementSibling.focus(); }
    });
    list.addEventListener("click", function (event) {
      const button = event.target.closest("[data-jury-up], [data-jury-down]");
      if (button) move(button.closest(".jury-rank-item"), "juryUp" in button.dataset ? -1 : 1);
    });

    let dragged = null;
    list.addEventListener("dragstart", function (event) {
      dragged = event.target.closest(".jury-rank-item");
      if (dragged) event.dataTransfer.effectAllowed = "move";
    });
    list.addEventListener("dragover", function (event) {
      const over = event.target.closest(".jury-rank-item");
      if (!dragged || !over || over === dragged) return;
      event.preventDefault();
      const box = over.getBoundingClientRect();
      list.insertBefore(dragged, event.clientY < box.top + box.height / 2 ? over : over.nextElementSibling);
    });
    list.addEventListener("dragend", function () { if (dragged) { dragged = null; changed(); } });
    form.addEventListener("submit", function (event) { event.preventDefault(); clearTimeout(timer); save(); });

    const kept = store.kept();
    if (kept) {
      const byId = new Map(items().map(function (item) { return [item.dataset.assignment, item]; }));
      kept.split(",").forEach(function (id) { if (byId.has(id)) list.append(byId.get(id)); });
      changed();
    } else {
      renumber();
    }
  }

  const form = document.querySelector("[data-jury-form]");
  if (form) judging(form);
  const rankingForm = document.querySelector("[data-jury-ranking]");
  if (rankingForm) ranking(rankingForm);
})();
