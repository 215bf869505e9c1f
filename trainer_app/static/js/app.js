// Behaviour that must not live inline (the CSP forbids inline script).
(function () {
  "use strict";
  // Elements with data-poll-url refresh themselves until the server stops sending data-poll-url.
  // data-poll-in is the server's estimate of when to ask again (a plan being rendered: about
  // when it should be done); without it the first checks come quickly, then back off to 3 s.
  function poll(el, delay) {
    var url = el.getAttribute("data-poll-url");
    if (!url) { return; }
    var hint = parseInt(el.getAttribute("data-poll-in") || "", 10);
    delay = hint > 0 ? hint : (delay || 500);
    window.setTimeout(function () {
      fetch(url, { headers: { "X-Requested-With": "fetch" }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
        .then(function (html) {
          // A <template> parses table rows too (a <div> would drop a bare <tr>).
          var holder = document.createElement("template");
          holder.innerHTML = html.trim();
          var fresh = holder.content.firstElementChild;
          if (fresh) { el.replaceWith(fresh); poll(fresh, Math.min(delay * 1.5, 3000)); }
        })
        .catch(function () { el.removeAttribute("data-poll-in"); poll(el, 3000); });
    }, delay);
  }
  document.querySelectorAll("[data-poll-url]").forEach(function (el) { poll(el); });
  // "Make PDF" on a version rendered ahead (data-make-in-place): send the form here and put the
  // row the server answers with into the list (ready at once, or polled as above), with no page
  // load. Any other answer (a hold, a form error, a repeat of an unchanged PDF) names the page to
  // load, with its message. Without JavaScript the form posts and the page reloads as always.
  // Load a page with its flashed message: this page too (assigning only a new #fragment would
  // scroll, not load).
  function load(location) {
    var target = new URL(location, window.location.href);
    var here = window.location;
    if (target.pathname !== here.pathname || target.search !== here.search) {
      here.assign(target.href);
      return;
    }
    if (target.hash) { here.hash = target.hash; }
    here.reload();
  }
  document.querySelectorAll("form[data-make-in-place]").forEach(function (form) {
    var card = form.closest("#documents");
    var sending = false;
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      if (sending) { return; }
      sending = true;
      fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        headers: { "X-Requested-With": "fetch", "Accept": "application/json" },
        credentials: "same-origin"
      })
        .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
        .then(function (answer) {
          if (!answer.row) { load(answer.location); return; }
          var holder = document.createElement("template");
          holder.innerHTML = answer.row.trim();
          var row = holder.content.firstElementChild;
          var same = document.getElementById(row.id);
          if (same) { same.replaceWith(row); } else { card.querySelector("tbody").prepend(row); }
          card.querySelector("[data-documents]").hidden = false;
          var empty = card.querySelector("[data-no-documents]");
          if (empty) { empty.remove(); }
          var said = card.querySelector("[data-made-message]");
          said.textContent = answer.message;
          said.hidden = false;
          form.querySelector('input[name="request_key"]').value = answer.request_key;
          poll(row);
          sending = false;
        })
        .catch(function () { form.submit(); });
    });
  });
  // A fresh sign-up form preselects the browser's time zone when the list has it.
  document.querySelectorAll("select[data-guess-time-zone]").forEach(function (select) {
    var zone = "";
    try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { return; }
    if (zone && select.querySelector('option[value="' + zone.replace(/"/g, "") + '"]')) {
      select.value = zone;
    }
  });
  // Copy buttons (data-copy-from: the id of a read-only field): hidden without JavaScript,
  // where the field's text is there to select. Where the clipboard is refused, the text is
  // selected for Ctrl+C instead.
  document.querySelectorAll("button[data-copy-from]").forEach(function (button) {
    var field = document.getElementById(button.getAttribute("data-copy-from"));
    var status = document.getElementById(button.getAttribute("data-copy-status") || "");
    if (!field) { return; }
    var label = button.textContent;
    var say = function (text) { if (status) { status.textContent = text; } };
    button.hidden = false;
    field.addEventListener("focus", function () { field.select(); });
    button.addEventListener("click", function () {
      var done = function () {
        button.textContent = "Copied";
        say("Link copied");
        window.setTimeout(function () { button.textContent = label; }, 2000);
      };
      var manual = function () { field.focus(); field.select(); say("Press Ctrl+C to copy the selected link"); };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(field.value).then(done, manual);
      } else {
        manual();
      }
    });
  });
  // Forms with data-confirm ask before submitting.
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { ev.preventDefault(); }
    });
  });
  // The program editor: leaving with unsaved edits asks first. Posting the editor itself
  // (save, search, add, move) carries the edits along, so it does not ask.
  var editor = document.getElementById("edit-form");
  if (editor) {
    var dirty = editor.getAttribute("data-unsaved-edits") === "1";
    var posting = false;
    var isEdit = function (el) { return el && el.form === editor && !el.closest("[data-search-for]") && !/^add_/.test(el.name || ""); };
    editor.addEventListener("input", function (ev) { if (isEdit(ev.target)) { dirty = true; } });
    document.addEventListener("change", function (ev) { if (isEdit(ev.target)) { dirty = true; } });
    editor.addEventListener("submit", function () { posting = true; });
    window.addEventListener("pageshow", function () { posting = false; });
    window.addEventListener("beforeunload", function (ev) {
      if (dirty && !posting) { ev.preventDefault(); ev.returnValue = ""; }
    });
    // Enter in the library search finds exercises (it would otherwise press "Save").
    document.querySelectorAll("[data-search-for] input").forEach(function (input) {
      input.addEventListener("keydown", function (ev) {
        if (ev.key !== "Enter") { return; }
        ev.preventDefault();
        var button = input.closest("[data-search-for]").querySelector("[data-search-button]");
        if (button) { button.click(); }
      });
    });
  }
})();
