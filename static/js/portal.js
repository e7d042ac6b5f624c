// DaVinci Lock portal: small progressive enhancements. Every action works without this file.
(function () {
  "use strict";

  // Copy buttons: <button data-copy-target="#element-id">. The text of the target is copied.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy-target]");
    if (!button) return;
    var target = document.querySelector(button.getAttribute("data-copy-target"));
    if (!target || !navigator.clipboard) return;
    var text = (target.value !== undefined ? target.value : target.textContent).trim();
    navigator.clipboard.writeText(text).then(function () {
      var label = button.getAttribute("data-copied-label") || "Copied";
      var original = button.textContent;
      button.textContent = label;
      setTimeout(function () { button.textContent = original; }, 1500);
    });
  });

  // Confirmation for destructive forms: <form data-confirm="Are you sure?">.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var message = form.getAttribute && form.getAttribute("data-confirm");
    if (message && !window.confirm(message)) event.preventDefault();
  });

  // Toggles that submit their form at once: <input type="checkbox" data-autosubmit>.
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (input.matches && input.matches("[data-autosubmit]") && input.form) input.form.requestSubmit();
  });

  // Their submit buttons (<button data-autosubmit-fallback>) are only needed without JavaScript.
  document.querySelectorAll("[data-autosubmit-fallback]").forEach(function (button) {
    button.hidden = true;
  });
})();
