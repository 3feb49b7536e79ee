// Small progressive enhancement: everything works without this file.
(function () {
  "use strict";
  document.querySelectorAll(".js-copy").forEach(function (button) {
    var input = document.getElementById(button.dataset.copyTarget);
    var status = button.closest(".copy-link").querySelector(".copy-status");
    if (!input || !navigator.clipboard) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(input.value).then(function () {
        status.textContent = button.dataset.copiedText;
      }, function () {
        input.select();
      });
    });
  });
})();
