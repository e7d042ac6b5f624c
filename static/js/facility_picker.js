// The facility picker (templates/facilities/includes/facility_picker.html). Without this file
// the picker works by posting its form (Search, Add, Remove, Next). With it, the search box is
// a combobox whose options add a facility in place, the chosen facilities are chips with
// Remove buttons, and the text area of Facility IDs (the one value posted) follows them.
(function () {
  "use strict";

  var PER_PAGE = 50;
  var SEPARATORS = /[\s,;]+/;

  function parseIds(text) {
    var seen = {};
    var ids = [];
    text.split(SEPARATORS).forEach(function (token) {
      var id = token.toLowerCase();
      if (id && !seen[id]) {
        seen[id] = true;
        ids.push(id);
      }
    });
    return ids;
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }

  function init(root, index) {
    var textarea = root.querySelector("textarea");
    var input = root.querySelector("[data-picker-query]");
    var searchButton = root.querySelector("[data-picker-search]");
    var status = root.querySelector("[data-picker-status]");
    var results = root.querySelector("[data-picker-results]");
    var chips = root.querySelector("[data-picker-chips]");
    var count = root.querySelector("[data-picker-count]");
    var plural = root.querySelector("[data-picker-plural]");
    var chosenBox = root.querySelector("[data-picker-chosen]");
    var url = root.getAttribute("data-search-url");
    var noteExcluded = root.hasAttribute("data-note-excluded");
    var listboxId = "facility-picker-" + index + "-listbox";
    var labels = {}; // Facility ID -> {name, address, include_in_api}
    var ids = parseIds(textarea.value);
    var page = 0;
    var options = []; // the facilities the listbox shows
    var active = -1;
    var timer = null;
    var request = null;
    var wanted = {}; // Facility IDs whose names were asked for

    // The server's chips carry their facility's name; later pages are asked for.
    root.querySelectorAll(".picker-chip[data-name]").forEach(function (chip) {
      labels[chip.getAttribute("data-facility-id")] = {
        name: chip.getAttribute("data-name"),
        address: chip.getAttribute("data-address") || "",
        include_in_api: !chip.hasAttribute("data-excluded"),
      };
    });

    // The live search replaces the Search button; the box's text is no longer posted, so
    // Enter elsewhere in the form saves it.
    searchButton.hidden = true;
    input.removeAttribute("name");
    var searched = root.querySelector("input[type=hidden][name$='_searched']");
    if (searched) searched.remove();
    results.textContent = "";
    var listbox = element("ul", "picker-listbox");
    listbox.id = listboxId;
    listbox.setAttribute("role", "listbox");
    listbox.setAttribute("aria-label", "Matching facilities");
    listbox.hidden = true;
    results.appendChild(listbox);
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", listboxId);
    var pager = element("div", "picker-pages d-flex flex-wrap align-items-center gap-2 small");
    var oldPager = root.querySelector("[data-picker-pages]");
    if (oldPager) oldPager.remove();
    chosenBox.appendChild(pager);

    function announce(text) {
      status.textContent = text;
    }

    function describe(facility) {
      var parts = [];
      if (facility.address) parts.push(facility.address);
      parts.push(facility.facility_id);
      if (noteExcluded && !facility.include_in_api) parts.push("excluded from the API");
      return parts.join(" · ");
    }

    function isChosen(id) {
      return ids.indexOf(id) !== -1;
    }

    function sync() {
      textarea.value = ids.join("\n");
      count.textContent = ids.length.toLocaleString("en-US");
      plural.textContent = ids.length === 1 ? "y" : "ies";
    }

    function renderChips() {
      var pages = Math.max(1, Math.ceil(ids.length / PER_PAGE));
      page = Math.min(Math.max(page, 0), pages - 1);
      var shown = ids.slice(page * PER_PAGE, (page + 1) * PER_PAGE);
      chips.textContent = "";
      chips.hidden = shown.length === 0;
      var missing = [];
      shown.forEach(function (id) {
        var label = labels[id];
        var chip = element("li", "picker-chip");
        chip.setAttribute("data-facility-id", id);
        var text = element("span", "picker-label");
        if (label) {
          text.appendChild(element("span", "picker-name", label.name));
        } else if (wanted[id] === "unknown") {
          text.appendChild(element("span", "picker-unknown", "Unknown Facility ID"));
        } else {
          text.appendChild(element("span", "picker-meta", "Loading…"));
          missing.push(id);
        }
        text.appendChild(document.createTextNode(" "));
        text.appendChild(element("code", "", id));
        if (label && noteExcluded && !label.include_in_api) {
          text.appendChild(document.createTextNode(" "));
          text.appendChild(element("span", "picker-meta", "excluded from the API"));
        }
        var remove = element("button", "btn btn-sm btn-link picker-remove", "Remove");
        remove.type = "button";
        remove.setAttribute("aria-label", "Remove " + (label ? label.name : id));
        remove.addEventListener("click", function () {
          removeId(id);
        });
        chip.appendChild(text);
        chip.appendChild(remove);
        chips.appendChild(chip);
      });
      pager.textContent = "";
      if (pages > 1) {
        if (page > 0) pager.appendChild(pageButton("Previous", page - 1));
        pager.appendChild(
          element(
            "span",
            "",
            (page * PER_PAGE + 1).toLocaleString("en-US") + "–" +
              (page * PER_PAGE + shown.length).toLocaleString("en-US") + " of " +
              ids.length.toLocaleString("en-US")
          )
        );
        if (page < pages - 1) pager.appendChild(pageButton("Next", page + 1));
      }
      if (missing.length) fetchNames(missing);
    }

    function pageButton(text, target) {
      var button = element("button", "btn btn-sm btn-outline-secondary", text);
      button.type = "button";
      button.addEventListener("click", function () {
        page = target;
        renderChips();
        announce("Chosen facilities, page " + (page + 1) + ".");
      });
      return button;
    }

    function fetchNames(missing) {
      missing.forEach(function (id) {
        wanted[id] = "asked";
      });
      get("ids=" + encodeURIComponent(missing.join(",")), function (data) {
        data.results.forEach(function (facility) {
          labels[facility.facility_id] = facility;
        });
        missing.forEach(function (id) {
          if (!labels[id]) wanted[id] = "unknown";
        });
        renderChips();
      });
    }

    function get(query, done) {
      var xhr = new XMLHttpRequest();
      xhr.open("GET", url + "?" + query);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.onload = function () {
        var data = null;
        try {
          data = JSON.parse(xhr.responseText);
        } catch (error) {
          data = null;
        }
        if (xhr.status === 200 && data && data.results) {
          done(data);
        } else {
          announce(
            (data && data.error) || "The search did not answer. Reload the page and try again."
          );
        }
      };
      xhr.onerror = function () {
        announce("The search did not answer. Check your connection and try again.");
      };
      xhr.send();
      return xhr;
    }

    function addId(facility) {
      labels[facility.facility_id] = facility;
      if (isChosen(facility.facility_id)) {
        announce(facility.name + " is already chosen.");
        return;
      }
      ids.unshift(facility.facility_id);
      page = 0;
      sync();
      renderChips();
      renderOptions();
      announce("Added " + facility.name + ". " + ids.length.toLocaleString("en-US") + " chosen.");
    }

    function removeId(id) {
      var at = ids.indexOf(id);
      if (at === -1) return;
      ids.splice(at, 1);
      sync();
      renderChips();
      renderOptions();
      var name = labels[id] ? labels[id].name : id;
      announce("Removed " + name + ". " + ids.length.toLocaleString("en-US") + " chosen.");
      // Keep the keyboard where it was: the next chip's button, or the search box.
      var buttons = chips.querySelectorAll(".picker-remove");
      var next = buttons[Math.min(at - page * PER_PAGE, buttons.length - 1)];
      (next || input).focus();
    }

    function setActive(position) {
      active = position;
      var nodes = listbox.children;
      for (var i = 0; i < nodes.length; i++) {
        nodes[i].setAttribute("aria-selected", i === active ? "true" : "false");
      }
      if (active >= 0 && nodes[active]) {
        input.setAttribute("aria-activedescendant", nodes[active].id);
        nodes[active].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function renderOptions() {
      listbox.textContent = "";
      options.forEach(function (facility, position) {
        var chosen = isChosen(facility.facility_id);
        var option = element("li", "picker-option");
        option.id = listboxId + "-" + position;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        if (chosen) option.setAttribute("aria-disabled", "true");
        var text = element("span", "picker-label");
        text.appendChild(element("span", "picker-name", facility.name));
        text.appendChild(document.createTextNode(" "));
        text.appendChild(element("span", "picker-meta", describe(facility)));
        option.appendChild(text);
        option.appendChild(element("span", "small text-body-secondary", chosen ? "Chosen" : "Add"));
        option.addEventListener("mousedown", function (event) {
          event.preventDefault(); // keep the focus in the search box
        });
        option.addEventListener("click", function () {
          if (!isChosen(facility.facility_id)) addId(facility);
        });
        listbox.appendChild(option);
      });
      var open = options.length > 0;
      listbox.hidden = !open;
      input.setAttribute("aria-expanded", open ? "true" : "false");
      setActive(Math.min(active, options.length - 1));
    }

    function close() {
      options = [];
      active = -1;
      renderOptions();
    }

    function search() {
      var query = input.value.trim();
      if (request) request.abort();
      request = get("q=" + encodeURIComponent(query), function (data) {
        options = data.results;
        active = -1;
        renderOptions();
        var n = options.length;
        var words = n === 0
          ? "No facility you can choose matches “" + query + "”."
          : data.more
            ? "The first " + n + " matches: type more of the name to narrow them."
            : n + (n === 1 ? " match." : " matches.");
        if (n) words += " Use the arrow keys, then Enter to add.";
        announce(words);
      });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(search, 200);
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        if (!options.length) {
          search();
          return;
        }
        var step = event.key === "ArrowDown" ? 1 : -1;
        setActive((active + step + options.length) % options.length);
      } else if (event.key === "Enter") {
        event.preventDefault(); // Enter here searches or adds; it never saves the form
        if (active >= 0 && options[active]) {
          if (!isChosen(options[active].facility_id)) addId(options[active]);
        } else {
          clearTimeout(timer);
          search();
        }
      } else if (event.key === "Escape" && options.length) {
        event.preventDefault();
        close();
      }
    });
    input.addEventListener("blur", function () {
      setTimeout(function () {
        if (document.activeElement !== input) close();
      }, 150);
    });
    textarea.addEventListener("change", function () {
      var typed = parseIds(textarea.value);
      if (typed.join(" ") === ids.join(" ")) return;
      ids = typed;
      page = 0;
      sync();
      renderChips();
      announce(ids.length.toLocaleString("en-US") + " chosen.");
    });

    sync();
    renderChips();
  }

  document.querySelectorAll("[data-facility-picker]").forEach(init);
})();
