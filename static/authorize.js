// Step 4: a countdown right even after the tab sleeps, minute announcements, and
// status checks that notice an approval. An ended attempt's page (data-listen-only)
// only checks: an earlier code may still be allowed until its own expiry.
(function () {
  "use strict";
  var root = document.querySelector("[data-attempt]");
  if (!root) { return; }
  var statusUrl = root.getAttribute("data-status-url");
  var listenOnly = root.hasAttribute("data-listen-only");
  var listeningNote = root.querySelector("[data-listening]");
  if (listeningNote) { listeningNote.hidden = false; }
  var checks = null;
  // The deadline comes from the server's seconds left, not the computer's clock.
  var deadline = Date.now() + Number(root.getAttribute("data-seconds-left")) * 1000;
  var countdown = root.querySelector("[data-countdown]");
  var announce = root.querySelector("[data-announce]");
  var warning = root.querySelector("[data-warning]");
  var note = root.querySelector("[data-note]");
  // Words come from the page, already in the reader's language; {n} is the number.
  var sayMinute = root.getAttribute("data-say-minute") || "";
  var sayMinutes = root.getAttribute("data-say-minutes") || "";
  var sayLastMinute = root.getAttribute("data-say-last-minute") || "";
  var lastLeft = null;
  var finished = false;
  // An answer's signed ticket, sent back, spares a database read.
  var ticket = null;
  // Once she sends a form, nothing here navigates (it would cancel her form's page).
  var sent = false;
  // A late answer never undoes a newer one.
  var asked = 0, applied = 0;

  function secondsLeft() {
    return Math.max(0, Math.round((deadline - Date.now()) / 1000));
  }

  function say(text) {
    if (announce) { announce.textContent = text; }
  }

  function tick() {
    if (!countdown) { return; }
    var left = secondsLeft();
    var minutes = Math.floor(left / 60);
    var seconds = left % 60;
    countdown.textContent = minutes + ":" + (seconds < 10 ? "0" : "") + seconds;
    // Each minute mark once, even if a check skipped its second; a resync, never.
    if (left > 0 && lastLeft !== null && lastLeft > left && lastLeft - left <= 3) {
      var mark = Math.floor((lastLeft - 1) / 60);
      if (mark >= 1 && mark * 60 >= left) {
        say((mark === 1 ? sayMinute : sayMinutes).replace("{n}", String(mark)));
      }
    }
    lastLeft = left;
    if (left <= 60 && warning && warning.hidden) {
      warning.hidden = false;
      say(sayLastMinute);
    }
    if (left === 0 && !finished) {
      finished = true;
      // The server decides what expiry means; show its page.
      setTimeout(function () { if (!sent) { window.location.reload(); } }, 1500);
    }
  }

  function check() {
    if (finished) { return; }
    var mine = ++asked;
    var headers = { Accept: "application/json" };
    if (ticket) { headers["X-Status-Ticket"] = ticket; }
    fetch(statusUrl, { headers: headers, credentials: "same-origin" })
      // 429 (too many checks) carries a note saying when checks resume.
      .then(function (response) {
        return response.ok || response.status === 429 ? response.json() : null;
      })
      .then(function (status) {
        // She sent a form meanwhile (Get a new code): its answer is where she goes.
        if (sent || mine < applied) { return; }
        applied = mine;
        if (!status) { ticket = null; return; }
        ticket = status.ticket || null;
        if (listenOnly && status.state === "ended") {
          // This page already says how the attempt ended; stop once no code is left.
          if (!status.listening) { stopChecking(); }
          return;
        }
        if (status.state === "done") {
          finished = true;
          showDone(status.next);
          return;
        }
        if (status.state === "ended") {
          finished = true;
          window.location.assign(status.next);
          return;
        }
        if (typeof status.seconds_left === "number") {
          deadline = Date.now() + status.seconds_left * 1000;
        }
        if (note) {
          note.textContent = status.note || "";
          note.hidden = !status.note;
        }
      })
      .catch(function () { /* a missed check is retried on the next one */ });
  }

  // Allowed: show the success page here (address, title, main) and focus its heading
  // for screen readers; anything unexpected goes there instead.
  function showDone(url) {
    stopChecking();
    clearInterval(ticking);
    fetch(url, { headers: { Accept: "text/html" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error("status " + response.status); }
        return response.text();
      })
      .then(function (html) {
        var next = new DOMParser().parseFromString(html, "text/html");
        var main = next.querySelector("main");
        var here = document.querySelector("main");
        if (!main || !here) { throw new Error("no main"); }
        here.innerHTML = main.innerHTML;
        document.title = next.title;
        window.history.replaceState(null, "", url);
        var heading = here.querySelector("h1");
        if (heading) {
          heading.setAttribute("tabindex", "-1");
          heading.focus();
        }
      })
      .catch(function () { window.location.assign(url); });
  }

  function stopChecking() {
    finished = true;
    clearInterval(checks);
    if (listeningNote) { listeningNote.hidden = true; }
  }

  document.addEventListener("submit", function () {
    sent = true;
    stopChecking();
  }, true);

  tick();
  var ticking = setInterval(tick, 1000);
  checks = setInterval(check, 2000);
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) { tick(); check(); }
  });
})();
