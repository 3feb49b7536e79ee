// Optional, for partner pages that embed the Release NO:W sign form: sizes each
// <iframe data-releasenow-embed> to its content. Listens only to messages from the frame's
// own window and from this script's origin; sends nothing, stores nothing.
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) return;
  var origin = new URL(script.src, location.href).origin;
  window.addEventListener("message", function (event) {
    var data = event.data;
    if (event.origin !== origin || !data || typeof data.releasenowHeight !== "number") return;
    var frames = document.querySelectorAll("iframe[data-releasenow-embed]");
    Array.prototype.forEach.call(frames, function (frame) {
      if (frame.contentWindow === event.source) {
        frame.style.height = Math.max(200, Math.min(6000, Math.ceil(data.releasenowHeight))) + "px";
      }
    });
  });
})();
