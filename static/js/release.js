// The overlock-release page's facility search (templates/release/release_page.html). Without
// this file the tenant types and presses Find (a GET that redraws the page); with it, the
// matching facilities appear as they type, and Enter in the box never leaves the page.
(function () {
  "use strict";

  var box = document.querySelector("[data-release-facility]");
  if (!box) return;
  var input = box.querySelector("[data-release-find]");
  var carried = box.querySelector("[data-release-find-carried]");
  var status = box.querySelector("[data-release-status]");
  var choices = box.querySelector("[data-release-choices]");
  var url = box.getAttribute("data-search-url");
  var timer = null;
  var request = null;

  function render(results, more, query) {
    var checked = choices.querySelector("input:checked");
    var keep = checked ? checked.value : "";
    choices.textContent = "";
    results.forEach(function (facility, index) {
      var row = document.createElement("div");
      row.className = "form-check";
      var radio = document.createElement("input");
      radio.type = "radio";
      radio.className = "form-check-input";
      radio.name = "facility";
      radio.id = "id_facility_" + index;
      radio.value = facility.facility_id;
      radio.checked = facility.facility_id === keep || results.length === 1;
      var label = document.createElement("label");
      label.className = "form-check-label";
      label.htmlFor = radio.id;
      label.textContent = facility.label;
      row.appendChild(radio);
      row.appendChild(label);
      choices.appendChild(row);
    });
    var n = results.length;
    if (!query && !n) {
      status.textContent = "Type part of your facility’s name or city.";
    } else if (!n) {
      status.textContent = "No facility matches “" + query + "”. Try fewer letters, or the city.";
    } else if (more) {
      status.textContent = "The first " + n + " matches: type more of the name to narrow them.";
    } else {
      status.textContent = n + (n === 1 ? " match" : " matches") + (query ? " for “" + query + "”." : ".");
    }
  }

  function search() {
    var query = input.value.trim();
    carried.value = query;
    if (request) request.abort();
    var xhr = new XMLHttpRequest();
    request = xhr;
    xhr.open("GET", url + "?find=" + encodeURIComponent(query));
    xhr.onload = function () {
      var data = null;
      try {
        data = xhr.status === 200 || xhr.status === 429 ? JSON.parse(xhr.responseText) : null;
      } catch (error) {
        data = null;
      }
      if (data && data.results) render(data.results, data.more, query);
      else if (data && data.message) status.textContent = data.message; // e.g. too many searches
      // else Find still works
    };
    xhr.send();
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(search, 250);
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter") {
      event.preventDefault(); // keep what was typed below; search in place
      clearTimeout(timer);
      search();
    }
  });
})();
