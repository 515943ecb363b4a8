// Support's "Copy the link to where she left off": with JavaScript, the button puts
// the link on the clipboard and tells the server in the background (the copy goes on
// her Activity page). Without it, or if the clipboard refuses, the form is sent and
// the page comes back with the link ready to copy by hand.
(function () {
  "use strict";
  var form = document.querySelector("[data-copy-link]");
  if (!form || !navigator.clipboard || !window.fetch) { return; }
  var input = form.querySelector("input[readonly]");
  var button = form.querySelector("button");
  var status = form.querySelector("[data-copy-link-status]");
  var label = button.textContent;
  var copied = button.getAttribute("data-copied") || label;

  function record() {
    // The form's own fields (its CSRF token); JSON asked for, so no page comes back.
    return fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { Accept: "application/json" },
      credentials: "same-origin"
    }).catch(function () { /* the copy worked; only its record was lost */ });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    navigator.clipboard.writeText(input.value).then(function () {
      button.textContent = copied;
      status.textContent = copied;
      record();
      setTimeout(function () {
        button.textContent = label;
        status.textContent = "";
      }, 5000);
    }, function () {
      form.submit();  // no clipboard: the page without JavaScript's way
    });
  });
})();
