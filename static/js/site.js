// Small progressive enhancements: every page and form works without this file.
(function () {
  "use strict";

  // Copy the page link.
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

  // The phone's "Sign" button steps aside while the form itself is on screen.
  var dock = document.querySelector(".sign-dock");
  var panel = document.getElementById("sign");
  if (dock && panel && window.IntersectionObserver) {
    new IntersectionObserver(function (entries) {
      dock.classList.toggle("is-away", entries[0].isIntersecting);
    }).observe(panel);
  }

  var form = document.querySelector(".sign-form");
  if (!form) return;

  // After a failed submit the error summary takes the focus (autofocus does it without script
  // in most browsers); its links lead to the fields.
  var summary = form.querySelector("#form-errors");
  if (summary && document.activeElement !== summary) summary.focus();

  // Belarus: show the warning and switch to "not listed" as soon as the country is picked.
  // The server does the same without JavaScript; choosing "listed" again afterwards is respected.
  var country = form.querySelector("#id_country");
  var warning = form.querySelector("#belarus-warning");
  var seen = form.querySelector("[name=belarus_warning_seen]");
  var status = form.querySelector("#belarus-status");
  var alwaysWarn = warning && !warning.hidden;
  if (country && warning) {
    country.addEventListener("change", function () {
      var belarus = country.value === "BY";
      warning.hidden = !(belarus || alwaysWarn);
      if (belarus && seen.value !== "1") {
        var anonymous = form.querySelector("[name=visibility][value=anonymous]");
        if (anonymous) anonymous.checked = true;
        seen.value = "1";
        if (status) status.textContent = status.dataset.message;  // read out by screen readers
      }
    });
  }

  // Mail providers under Russian or Belarusian jurisdiction: warn before submitting and ask
  // how to sign (another address, not listed, or this address anyway). The server asks the
  // same once without JavaScript; nobody is refused.
  var email = form.querySelector("#id_email");
  var advice = form.querySelector("#email-warning");
  var warned = form.querySelector("[name=email_warned]");
  var risky = (form.dataset.riskyDomains || "").split(" ").filter(Boolean);
  function riskyProvider() {
    var domain = (email.value.split("@")[1] || "").trim().toLowerCase().replace(/\.$/, "");
    if (!domain) return "";
    var hit = risky.some(function (entry) {
      if (entry.slice(-2) === ".*") {
        var name = entry.slice(0, -2);
        return domain.indexOf(name + ".") === 0 || domain.indexOf("." + name + ".") !== -1;
      }
      return domain === entry || domain.slice(-entry.length - 1) === "." + entry;
    });
    return hit ? domain : "";
  }
  function showAdvice(domain) {
    advice.hidden = !domain;
    if (domain) {
      form.querySelector("#email-warning-domain").textContent = domain;
      warned.value = domain;
    }
  }
  if (email && advice && warned && risky.length) {
    email.addEventListener("change", function () { showAdvice(riskyProvider()); });
    form.addEventListener("submit", function (event) {
      var chosen = event.submitter && event.submitter.name === "email_advice";
      var domain = riskyProvider();
      if (domain && !chosen) {
        event.preventDefault();
        event.stopImmediatePropagation();
        showAdvice(domain);
        advice.focus();
      }
    });
  }

  // Proof of work (ALTCHA protocol): find n with SHA-256(salt + n) == challenge.
  var field = form.querySelector("[name=altcha]");
  if (!field || !window.crypto || !window.crypto.subtle || !window.fetch) return;
  function hex(buffer) {
    return Array.prototype.map.call(new Uint8Array(buffer), function (b) {
      return b.toString(16).padStart(2, "0");
    }).join("");
  }
  async function solve(c) {
    var encoder = new TextEncoder();
    var max = c.maxNumber || c.maxnumber || 0;
    for (var n = 0; n <= max; n++) {
      var digest = await crypto.subtle.digest("SHA-256", encoder.encode(c.salt + n));
      if (hex(digest) === c.challenge) return n;
    }
    return null;
  }
  fetch(form.dataset.challengeUrl, { credentials: "omit" })
    .then(function (r) { return r.json(); })
    .then(function (c) {
      return solve(c).then(function (n) {
        if (n === null) return;
        field.value = btoa(JSON.stringify({
          algorithm: c.algorithm, challenge: c.challenge, number: n, salt: c.salt, signature: c.signature,
        }));
      });
    })
    .catch(function () { /* unsolved: the signature is reviewed by staff, never refused */ });
})();
