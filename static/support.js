// The support page refreshes itself while the customer's 5-minute window is open.
(function () {
  "use strict";
  if (document.querySelector("[data-live-refresh]")) {
    setTimeout(function () { window.location.reload(); }, 5000);
  }
})();
