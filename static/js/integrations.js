// Integrations tabs. Everything works without this file; it only tidies the forms.
(function () {
  "use strict";

  // <div data-hidden-when-checked="#id_all_facilities">: the facility list is irrelevant while
  // "All Facilities" is on, so it is hidden (its checkboxes keep their values).
  document.querySelectorAll("[data-hidden-when-checked]").forEach(function (region) {
    var toggle = document.querySelector(region.getAttribute("data-hidden-when-checked"));
    if (!toggle) return;
    function sync() { region.hidden = toggle.checked; }
    toggle.addEventListener("change", sync);
    sync();
  });
})();
