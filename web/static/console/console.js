/* Sign-in, sign-out and the three tabs. Nothing about customers is fetched before sign-in. */
(function (c) {
  "use strict";

  var $ = function (id) { return document.getElementById(id); };
  var tabs = [$("tab-queue"), $("tab-dashboard"), $("tab-tickets")];

  function signedIn(me) {
    c.me = me;
    $("loading").hidden = true;
    $("signin").hidden = true;
    $("app").hidden = false;
    $("who").hidden = false;
    $("who-name").textContent = "Signed in as " + me.name;
    choose($("tab-queue"));
  }

  function signedOut() {
    c.me = null;
    c.queue.reset();
    c.tickets.reset();
    $("loading").hidden = true;
    $("app").hidden = true;
    $("who").hidden = true;
    $("signin").hidden = false;
    $("charts").replaceChildren();
    $("username").focus();
  }
  c.onSignedOut = function () { if (c.me) signedOut(); };

  $("signin-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var error = $("signin-error");
    error.textContent = "";
    c.api("POST", "login", { username: $("username").value, password: $("password").value })
      .then(function (answer) {
        $("password").value = "";
        if (answer.status !== 200) {
          error.textContent = answer.body.error || "Those details didn't work. Please try again.";
          $("password").focus();
          return;
        }
        return c.api("GET", "me").then(function (me) {
          if (me.status === 200) signedIn(me.body);
        });
      });
  });

  $("signout").addEventListener("click", function () {
    c.api("POST", "logout").then(signedOut);
  });

  // Tabs as in the WAI-ARIA authoring practices: arrows move between them.
  function choose(tab) {
    tabs.forEach(function (t) {
      var on = t === tab;
      t.setAttribute("aria-selected", String(on));
      t.tabIndex = on ? 0 : -1;
      $(t.getAttribute("aria-controls")).hidden = !on;
    });
    if (tab.id === "tab-queue") c.queue.start();
    else c.queue.stop();
    if (tab.id === "tab-dashboard") c.dashboard.load();
    if (tab.id === "tab-tickets") c.tickets.load();
  }
  tabs.forEach(function (tab, i) {
    tab.addEventListener("click", function () { choose(tab); });
    tab.addEventListener("keydown", function (event) {
      var step = event.key === "ArrowRight" ? 1 : event.key === "ArrowLeft" ? -1 : 0;
      if (!step) return;
      var next = tabs[(i + step + tabs.length) % tabs.length];
      next.focus();
      choose(next);
    });
  });

  c.api("GET", "me").then(function (answer) {
    if (answer.status === 200) signedIn(answer.body);
    else signedOut();
  });
})(HeardConsole);
