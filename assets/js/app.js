// OpenContact's own small script: confirmations, copy buttons and drag-and-drop ordering.
// Everything works without it (forms post normally); it only makes pages nicer.
(function () {
  "use strict";

  // <form data-confirm="…"> asks before submitting (CSP forbids inline handlers).
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    var msg = form.getAttribute && form.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) { ev.preventDefault(); ev.stopImmediatePropagation(); }
  }, true);

  // <button data-copy="#selector"> copies the text of an element.
  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest && ev.target.closest("[data-copy]");
    if (!btn) return;
    var el = document.querySelector(btn.getAttribute("data-copy"));
    if (!el || !navigator.clipboard) return;
    navigator.clipboard.writeText(el.textContent.trim()).then(function () {
      var done = btn.getAttribute("data-copied");
      if (done) { var old = btn.textContent; btn.textContent = done; setTimeout(function () { btn.textContent = old; }, 1500); }
    });
  });

  // [data-sortable] lists: after a drag, the enclosing form (whose hidden inputs follow the
  // list order) is submitted with htmx, or natively when htmx is missing.
  function initSortables(root) {
    if (!window.Sortable) return;
    root.querySelectorAll("[data-sortable]").forEach(function (list) {
      if (list.dataset.sortableReady) return;
      list.dataset.sortableReady = "1";
      window.Sortable.create(list, {
        animation: 150,
        // Pointer events instead of HTML5 drag and drop: the same for users, and it also works
        // for touch screens and WebDriver-driven browser tests.
        forceFallback: true,
        handle: list.querySelector(".drag-handle") ? ".drag-handle" : undefined,
        ghostClass: "sortable-ghost",
        onEnd: function () {
          // The list sits in its form, or names it (data-form="id") when its rows hold forms.
          var form = list.closest("form") || (list.dataset.form && document.getElementById(list.dataset.form));
          if (!form || list.hasAttribute("data-no-autosave")) return;
          if (window.htmx && form.hasAttribute("hx-post")) { window.htmx.trigger(form, "sorted"); }
          else { form.requestSubmit ? form.requestSubmit() : form.submit(); }
        }
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { initSortables(document); });
  document.addEventListener("htmx:afterSettle", function (ev) { initSortables(ev.target); });

  // Escape inside <form data-escape-cancel> follows its [data-cancel] link (an htmx request that
  // restores what the form replaced, or a plain link without htmx).
  document.addEventListener("keydown", function (ev) {
    if (ev.key !== "Escape") return;
    var form = ev.target.closest && ev.target.closest("form[data-escape-cancel]");
    var cancel = form && form.querySelector("[data-cancel]");
    if (cancel) { ev.preventDefault(); cancel.click(); }
  });
  // <textarea data-rich-editor> becomes a Quill editor when Quill is loaded (the help-center
  // authoring pages load it); the editor's HTML is written back into the textarea on submit, and
  // the server sanitises it. Without JavaScript the plain textarea is posted as it is.
  function initEditors(root) {
    if (!window.Quill) return;
    root.querySelectorAll("textarea[data-rich-editor]").forEach(function (area) {
      if (area.dataset.editorReady || area.disabled) return;
      area.dataset.editorReady = "1";
      var holder = document.createElement("div");
      holder.className = "rich-editor";
      area.parentNode.insertBefore(holder, area);
      var quill = new window.Quill(holder, {
        theme: "snow",
        modules: {
          toolbar: [
            [{ header: [2, 3, false] }],
            ["bold", "italic", "underline", "strike"],
            [{ list: "ordered" }, { list: "bullet" }],
            [{ align: [] }],
            ["link", "blockquote", "code-block"],
            ["clean"]
          ]
        }
      });
      if (area.value.trim()) { quill.clipboard.dangerouslyPasteHTML(area.value); }
      area.hidden = true;
      var label = document.querySelector("label[for='" + area.id + "']");
      if (label) { quill.root.setAttribute("aria-label", label.textContent.trim()); }
      var form = area.closest("form");
      if (form) {
        form.addEventListener("submit", function () {
          // Quill 2's semantic HTML writes every space as &nbsp;; keep only the ones that
          // matter (runs of spaces).
          var html = quill.getLength() > 1 ? quill.getSemanticHTML() : "";
          area.value = html.replace(/([^\s;>])&nbsp;(?=[^\s&<])/g, "$1 ");
        });
      }
    });
  }
  document.addEventListener("DOMContentLoaded", function () { initEditors(document); });

  // Close open <details> menus when clicking elsewhere.
  document.addEventListener("click", function (ev) {
    document.querySelectorAll("details[open]").forEach(function (d) { if (!d.contains(ev.target)) d.removeAttribute("open"); });
  });
})();

// Inquiry-surge alerts: a server-sent event stream per service console; each alert becomes a
// browser notification (when the agent allowed them) and an on-page toast. Only one tab of a
// browser holds the stream (a Web Lock elects it) and passes alerts to the other tabs over a
// BroadcastChannel, so many open console tabs never use up the browser's connections.
(function () {
  var holder = document.getElementById("oc-alerts");
  if (!holder || !window.EventSource) return;
  if (window.Notification && Notification.permission === "default") {
    document.addEventListener("click", function ask() {
      Notification.requestPermission();
      document.removeEventListener("click", ask);
    });
  }
  var url = holder.getAttribute("data-stream");
  var title = holder.getAttribute("data-title") || "";

  function toast(data) {
    var el = document.createElement("div");
    el.className = "toast surge-toast";
    el.setAttribute("role", "alert");
    el.textContent = title + ": " + data.message;
    document.body.appendChild(el);
    setTimeout(function () { el.remove(); }, 15000);
  }

  function notify(data) {
    if (window.Notification && Notification.permission === "granted") {
      new Notification(title, { body: data.message });
    }
  }

  var channel = window.BroadcastChannel ? new BroadcastChannel("oc-alerts " + url) : null;
  if (channel) channel.onmessage = function (ev) { if (ev.data && ev.data.message) toast(ev.data); };

  var source = null;
  var release = null;
  function open() {
    source = new EventSource(url);
    source.addEventListener("surge", function (ev) {
      var data = {};
      try { data = JSON.parse(ev.data); } catch (e) { return; }
      notify(data);
      toast(data);
      if (channel) channel.postMessage(data);
    });
  }
  function connect() {
    if (source || release) return;
    if (navigator.locks && channel) {
      navigator.locks.request("oc-alerts " + url, function () {
        return new Promise(function (resolve) { release = resolve; open(); });
      });
    } else {
      open();
    }
  }
  // Close the stream when the page is left (also into the back-forward cache): a stream left
  // open holds one of the browser's few connections to the server and stalls the next pages;
  // another tab then takes the lock and the stream over.
  window.addEventListener("pagehide", function () {
    if (source) { source.close(); source = null; }
    if (release) { release(); release = null; }
  });
  window.addEventListener("pageshow", connect);
  connect();
})();
