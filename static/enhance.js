// Small enhancements only: the pages work without this file.
(function () {
  "use strict";

  // Remember the computer's time zone, so the next pages show local times.
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    var current = document.cookie.split("; ").filter(function (part) {
      return part.indexOf("wizard_tz=") === 0;
    })[0];
    // Zone names (America/Mexico_City) are cookie-safe as they are; the server checks them.
    if (zone && /^[A-Za-z0-9_\/+-]{1,64}$/.test(zone) && current !== "wizard_tz=" + zone) {
      document.cookie = "wizard_tz=" + zone + "; path=/; max-age=31536000; samesite=lax" +
        (window.location.protocol === "https:" ? "; secure" : "");
    }
  } catch (error) { /* no Intl: times stay in UTC, labelled as such */ }

  // Copy buttons: shown only when the browser can copy, announce the page's "Copied".
  document.querySelectorAll("[data-copy-target]").forEach(function (button) {
    if (!navigator.clipboard) { return; }
    var targetId = button.getAttribute("data-copy-target");
    var target = document.getElementById(targetId);
    var status = document.querySelector('[data-copy-status="' + targetId + '"]');
    var label = button.textContent;
    var copied = button.getAttribute("data-copied") || label;
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(target.textContent.trim()).then(function () {
        button.textContent = copied;
        if (status) { status.textContent = copied; }
        setTimeout(function () {
          button.textContent = label;
          if (status) { status.textContent = ""; }
        }, 5000);
      });
    });
  });

  // Move focus to the error summary so screen readers hear it first.
  var summary = document.querySelector("[data-focus]");
  if (summary) { summary.focus(); }

  // Stop a second click sending a once-only form twice.
  document.querySelectorAll("[data-prevent-double-click]").forEach(function (button) {
    var form = button.form;
    if (!form) { return; }
    form.addEventListener("submit", function (event) {
      if (form.dataset.submitted) { event.preventDefault(); return; }
      form.dataset.submitted = "1";
    });
  });
})();
