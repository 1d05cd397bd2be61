// The ticket console: a "select all" box for the batch form's checkboxes (rows polled in later
// included). Without JavaScript each row is ticked by hand.
(function () {
  "use strict";
  document.addEventListener("change", function (ev) {
    var all = ev.target.closest && ev.target.closest("input[data-check-all]");
    if (!all) return;
    var form = all.getAttribute("data-check-all");
    document.querySelectorAll("input[type=checkbox][name=t][form='" + form + "']").forEach(function (box) {
      box.checked = all.checked;
    });
  });
  // "Clear selection" resets the form; its checkboxes outside the form follow, the header box too.
  document.addEventListener("reset", function (ev) {
    if (!ev.target || ev.target.id !== "batch-form") return;
    document.querySelectorAll("input[data-check-all='batch-form']").forEach(function (box) { box.checked = false; });
  });
})();
