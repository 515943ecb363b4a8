// Small enhancements only: the pages work without this file.
(function () {
  "use strict";

  // Copy buttons: shown only when the browser can copy, announce "Copied".
  document.querySelectorAll("[data-copy-target]").forEach(function (button) {
    if (!navigator.clipboard) { return; }
    var targetId = button.getAttribute("data-copy-target");
    var target = document.getElementById(targetId);
    var status = document.querySelector('[data-copy-status="' + targetId + '"]');
    var label = button.textContent;
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(target.textContent.trim()).then(function () {
        button.textContent = "Copied";
        if (status) { status.textContent = "Copied"; }
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
