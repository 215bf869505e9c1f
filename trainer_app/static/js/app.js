// Behaviour that must not live inline (the CSP forbids inline script).
(function () {
  "use strict";
  // Elements with data-poll-url refresh themselves until the server stops sending data-poll-url.
  // The first checks come quickly (a cached plan is ready at once), then back off to 3 s.
  function poll(el, delay) {
    var url = el.getAttribute("data-poll-url");
    if (!url) { return; }
    delay = delay || 500;
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
        .catch(function () { poll(el, 3000); });
    }, delay);
  }
  document.querySelectorAll("[data-poll-url]").forEach(function (el) { poll(el); });
  // A fresh sign-up form preselects the browser's time zone when the list has it.
  document.querySelectorAll("select[data-guess-time-zone]").forEach(function (select) {
    var zone = "";
    try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { return; }
    if (zone && select.querySelector('option[value="' + zone.replace(/"/g, "") + '"]')) {
      select.value = zone;
    }
  });
  // Forms with data-confirm ask before submitting.
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { ev.preventDefault(); }
    });
  });
})();
