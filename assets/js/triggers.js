// The trigger form (Service Management → Triggers): each action row shows only the fields of
// its kind, and each condition row offers a list of values for targets that have one (status,
// group, customer grade, …) instead of the free-text box. Without JavaScript every field stays
// visible and the text box works for every target.
(function () {
  "use strict";
  var form = document.getElementById("trigger-form");
  if (!form) return;

  function syncAction(row) {
    var kind = row.querySelector("select[name$='_kind']");
    var value = kind ? kind.value : "";
    row.querySelectorAll("[data-kinds]").forEach(function (el) {
      el.hidden = value === "" || el.getAttribute("data-kinds").split(" ").indexOf(value) < 0;
    });
  }

  function syncCondition(row) {
    var target = row.querySelector("select[name$='_target']");
    var value = target ? target.value : "";
    var listed = false;
    row.querySelectorAll("[data-for-target]").forEach(function (sel) {
      var mine = sel.getAttribute("data-for-target") === value;
      sel.hidden = !mine;
      if (mine) listed = true;
    });
    var text = row.querySelector(".cond-text");
    if (text) text.hidden = listed;
  }

  form.querySelectorAll("[data-action]").forEach(function (row) {
    syncAction(row);
    row.addEventListener("change", function (ev) {
      if (ev.target.name && /_kind$/.test(ev.target.name)) syncAction(row);
    });
  });
  form.querySelectorAll("[data-condition]").forEach(function (row) {
    syncCondition(row);
    row.addEventListener("change", function (ev) {
      if (ev.target.name && /_target$/.test(ev.target.name)) syncCondition(row);
    });
  });
})();
