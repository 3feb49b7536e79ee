// Staff embed page: a new petition or language shows its snippet and preview at once.
(function () {
  "use strict";
  var form = document.getElementById("embed-choice");
  if (!form) return;
  form.querySelectorAll("select").forEach(function (select) {
    select.addEventListener("change", function () { form.submit(); });
  });
})();
