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

// Frames of the ticket page (SPEC §5.2 ⑩): fold any card, hide or pin the side column, drag
// (or use the arrow keys on) the divider to resize it, and widescreen. The layout is
// remembered per user in this browser (localStorage key from data-frames-key).
(function () {
  "use strict";
  var MIN = 260, MAX = 720;

  function layout() { return document.getElementById("ticket-layout"); }

  function load(key) {
    try {
      var v = JSON.parse(window.localStorage.getItem(key) || "{}");
      return v && typeof v === "object" ? v : {};
    } catch (e) { return {}; }
  }

  function save(key, prefs) {
    try { window.localStorage.setItem(key, JSON.stringify(prefs)); } catch (e) { /* private mode */ }
  }

  function setLabel(btn, expanded) {
    var label = btn.getAttribute(expanded ? "data-label-collapse" : "data-label-expand");
    if (!label) return;
    btn.title = label;
    var hidden = btn.querySelector(".visually-hidden");
    if (hidden) hidden.textContent = label; else btn.textContent = label;
  }

  function clampWidth(w) { return Math.max(MIN, Math.min(MAX, Math.round(w))); }

  function apply(root, prefs) {
    var collapsed = prefs.collapsed || [];
    root.querySelectorAll(".frame[data-frame]").forEach(function (f) {
      var on = collapsed.indexOf(f.getAttribute("data-frame")) >= 0;
      f.classList.toggle("collapsed", on);
      var btn = f.querySelector("[data-frame-toggle]");
      if (btn) { btn.setAttribute("aria-expanded", on ? "false" : "true"); setLabel(btn, !on); }
    });
    root.classList.toggle("side-collapsed", !!prefs.sideCollapsed);
    root.classList.toggle("side-unpinned", !!prefs.unpinned);
    if (prefs.width) root.style.setProperty("--side-width", clampWidth(prefs.width) + "px");
    var pin = document.getElementById("side-pin");
    if (pin) pin.setAttribute("aria-pressed", prefs.unpinned ? "false" : "true");
    var side = document.getElementById("side-collapse");
    if (side) { side.setAttribute("aria-expanded", prefs.sideCollapsed ? "false" : "true"); setLabel(side, !prefs.sideCollapsed); }
    document.body.classList.toggle("widescreen", !!prefs.wide);
    var wide = document.getElementById("widescreen-toggle");
    if (wide) wide.setAttribute("aria-pressed", prefs.wide ? "true" : "false");
  }

  function init() {
    var root = layout();
    if (!root || root.dataset.framesReady) return;
    root.dataset.framesReady = "1";
    var key = root.getAttribute("data-frames-key") || "oc.ticketFrames";
    var prefs = load(key);
    apply(root, prefs);

    document.addEventListener("click", function (ev) {
      var t = ev.target.closest ? ev.target : null;
      if (!t) return;
      var toggle = t.closest("[data-frame-toggle]");
      if (toggle) {
        var name = toggle.closest(".frame").getAttribute("data-frame");
        var list = (prefs.collapsed || []).filter(function (n) { return n !== name; });
        if (toggle.getAttribute("aria-expanded") === "true") list.push(name);
        prefs.collapsed = list;
      } else if (t.closest("[data-side-pin]")) {
        prefs.unpinned = !prefs.unpinned;
      } else if (t.closest("[data-side-collapse]")) {
        prefs.sideCollapsed = !prefs.sideCollapsed;
      } else if (t.closest("[data-widescreen]")) {
        prefs.wide = !prefs.wide;
      } else {
        return;
      }
      save(key, prefs);
      apply(layout(), prefs);
    });

    // htmx replaces the customer card after a save: fold it again if it was folded.
    document.addEventListener("htmx:afterSettle", function () { var r = layout(); if (r) apply(r, prefs); });

    var resizer = root.querySelector("[data-frame-resizer]");
    if (!resizer) return;
    function widthAt(clientX) { return root.getBoundingClientRect().right - clientX; }
    resizer.addEventListener("pointerdown", function (ev) {
      ev.preventDefault();
      resizer.setPointerCapture(ev.pointerId);
      resizer.classList.add("dragging");
    });
    resizer.addEventListener("pointermove", function (ev) {
      if (!resizer.classList.contains("dragging")) return;
      prefs.width = clampWidth(widthAt(ev.clientX));
      root.style.setProperty("--side-width", prefs.width + "px");
    });
    function end() {
      if (!resizer.classList.contains("dragging")) return;
      resizer.classList.remove("dragging");
      save(key, prefs);
    }
    resizer.addEventListener("pointerup", end);
    resizer.addEventListener("pointercancel", end);
    resizer.addEventListener("keydown", function (ev) {
      var side = document.getElementById("ticket-side");
      var current = prefs.width || (side ? side.getBoundingClientRect().width : 340);
      if (ev.key === "ArrowLeft") prefs.width = clampWidth(current + 20);
      else if (ev.key === "ArrowRight") prefs.width = clampWidth(current - 20);
      else return;
      ev.preventDefault();
      root.style.setProperty("--side-width", prefs.width + "px");
      save(key, prefs);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
