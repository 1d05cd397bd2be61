// Help center inside an iframe (?iframe=true): tell the parent page how tall the content is so
// it can resize the frame (SPEC §3.13; the parent listens for "opencontact:height" messages).
(function () {
  "use strict";
  if (window.parent === window) return;
  var last = 0;
  function post() {
    var height = Math.ceil(document.documentElement.scrollHeight);
    if (height === last) return;
    last = height;
    window.parent.postMessage({ type: "opencontact:height", height: height }, "*");
  }
  window.addEventListener("load", post);
  window.addEventListener("resize", post);
  if (window.ResizeObserver) { new window.ResizeObserver(post).observe(document.body); }
  document.addEventListener("DOMContentLoaded", post);
})();
