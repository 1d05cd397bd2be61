// Ticket processing helpers (loaded by the ticket page and the template/layout editors):
// - "Insert" on a reply template: htmx loads the rendered template into #template-buffer; this
//   moves it into the reply editor at the cursor (Quill), or appends it to the plain textarea;
// - a double-click (or click) on a substitution code in the code list inserts it into the last
//   edited field (the rich-text editor or a plain text field).
(function () {
  "use strict";

  function editorOf(area) {
    var holder = area && area.previousElementSibling;
    if (!holder || !window.Quill || !window.Quill.find) return null;
    var q = window.Quill.find(holder);
    return q && q.clipboard ? q : null;
  }

  function insertHtml(area, html) {
    var quill = editorOf(area);
    if (quill) {
      var range = quill.getSelection();
      var index = range ? range.index : Math.max(quill.getLength() - 1, 0);
      quill.clipboard.dangerouslyPasteHTML(index, html);
      quill.focus();
    } else if (area) {
      area.value = area.value + html;
    }
  }

  document.addEventListener("htmx:afterSwap", function (ev) {
    var buf = document.getElementById("template-buffer");
    if (!buf || ev.detail.target !== buf) return;
    var body = buf.querySelector(".template-body");
    var html = body ? body.innerHTML : buf.innerHTML;
    buf.innerHTML = "";
    insertHtml(document.querySelector("#process-form textarea[name=body]"), html);
  });

  // The last field the author typed in: a plain input/textarea, or a rich editor's textarea.
  var lastField = null;
  document.addEventListener("focusin", function (ev) {
    var t = ev.target;
    if (!t || !t.closest) return;
    var rich = t.closest(".rich-editor");
    if (rich && rich.nextElementSibling && rich.nextElementSibling.tagName === "TEXTAREA") {
      lastField = rich.nextElementSibling;
    } else if (t.tagName === "TEXTAREA" || (t.tagName === "INPUT" && t.type === "text")) {
      lastField = t;
    }
  });

  function insertCode(code) {
    var field = lastField || document.querySelector("textarea[data-rich-editor]");
    if (!field) return;
    var quill = editorOf(field);
    if (quill) {
      var range = quill.getSelection(true);
      quill.insertText(range ? range.index : quill.getLength() - 1, code, "user");
      return;
    }
    var start = field.selectionStart || field.value.length;
    var end = field.selectionEnd || start;
    field.value = field.value.slice(0, start) + code + field.value.slice(end);
    field.focus();
    field.selectionStart = field.selectionEnd = start + code.length;
  }

  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest && ev.target.closest("[data-code]");
    if (!btn) return;
    ev.preventDefault();
    insertCode(btn.getAttribute("data-code"));
  });
  // Clicking the code button moves focus away; remember the field before that happens.
  document.addEventListener("mousedown", function (ev) {
    if (ev.target.closest && ev.target.closest("[data-code]")) ev.preventDefault();
  });
})();
