// Help-center member integration (API.md §7.7.4): ask the customer's login-status URL with the
// visitor's cookies for that site, then report the outcome so the help center can continue as
// the member, send the visitor to the customer's login page, or continue as a guest.
(function () {
  "use strict";
  var el = document.getElementById("member-check");
  if (!el) { return; }
  var d = el.dataset;
  var headers = {};
  try { headers = JSON.parse(d.headers || "{}"); } catch (e) { headers = {}; }
  var done = false;
  function go(state) {
    if (done) { return; }
    done = true;
    window.location.href = d["continue"] + "&state=" + state;
  }
  var timer = window.setTimeout(function () { go("error"); }, 5000);
  window.fetch(d.status, { credentials: "include", headers: headers })
    .then(function (r) { return r.json(); })
    .then(function (j) {
      window.clearTimeout(timer);
      var login = !!j && (j.login === true || j.login === "true");
      var code = j && j.usercode ? String(j.usercode) : "";
      if (login && code && code === d.usercode) { go("member"); }
      else if (login) { go("login"); }
      else { go("guest"); }
    })
    .catch(function () { window.clearTimeout(timer); go("error"); });
})();
