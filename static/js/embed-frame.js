// Inside the partner embed: tell the partner's page how tall the form is, so its optional
// script (static/js/embed.js) can size the <iframe>. Only a number leaves the frame.
(function () {
  "use strict";
  if (window.parent === window) return;
  var last = 0;
  function post() {
    var height = Math.ceil(document.body.getBoundingClientRect().height);
    if (height === last) return;
    last = height;
    window.parent.postMessage({ releasenowHeight: height }, "*");
  }
  if (window.ResizeObserver) new ResizeObserver(post).observe(document.body);
  window.addEventListener("load", post);
  post();
})();
