// The support page's Right now box updates itself every few seconds, in place: the
// server sends the box alone. A 204 means the agent's view is no longer on record
// (half an hour passed): reloading the page records it again.
(function () {
  "use strict";
  var box = document.querySelector("[data-right-now]");
  if (!box) { return; }
  var url = box.getAttribute("data-right-now");

  function update() {
    fetch(url, { headers: { Accept: "text/html" }, credentials: "same-origin" })
      .then(function (response) {
        if (response.status === 204) { window.location.reload(); return null; }
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        if (!html) { return; }
        var parsed = new DOMParser().parseFromString(html, "text/html");
        var next = parsed.querySelector("[data-right-now]");
        if (next) { box.innerHTML = next.innerHTML; }
      })
      .catch(function () { /* the next update tries again */ });
  }

  setInterval(update, 5000);
})();
