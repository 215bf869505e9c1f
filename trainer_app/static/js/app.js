// Behaviour that must not live inline (the CSP forbids inline script).
(function () {
  "use strict";
  // Elements with data-poll-url refresh themselves until the server stops sending data-poll-url.
  function poll(el) {
    var url = el.getAttribute("data-poll-url");
    if (!url) { return; }
    window.setTimeout(function () {
      fetch(url, { headers: { "X-Requested-With": "fetch" }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
        .then(function (html) {
          var holder = document.createElement("div");
          holder.innerHTML = html;
          var fresh = holder.firstElementChild;
          if (fresh) { el.replaceWith(fresh); poll(fresh); }
        })
        .catch(function () { poll(el); });
    }, 1500);
  }
  document.querySelectorAll("[data-poll-url]").forEach(poll);
  // Forms with data-confirm ask before submitting.
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { ev.preventDefault(); }
    });
  });
})();
