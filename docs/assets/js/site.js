/*
 * Sorting and filtering for the tables of the generated pages. Plain JavaScript: no library, no
 * request, works from file:// too (all data is in the page, as data-* attributes).
 *
 *   table[data-pa-sortable] th[data-pa-sort=text|number]   click (or Enter) a header to sort
 *   input[data-pa-filter=TABLE_ID]                          keep the rows containing every word
 *   form[data-pa-papers-filter=TABLE_ID]                    the All papers filter (facets, kind,
 *       year, text); its state is mirrored in the query string, so a filtered view is a link:
 *       papers/?method=vp-learnable&year=2023&text=clip (not "q":
 *       Material opens its search box for ?q=)
 *   input[data-pa-vision-only]                              "vision only": hides rows marked
 *       data-pa-textual (prompts on the text encoder only) on every table; remembered across pages
 *       and visits (localStorage), and ?vision=only opens that view
 * Also: the skip link of a paper page lands on its title, and the theme's search dialog gets an
 * accessible name.
 */
(function () {
  "use strict";

  function each(list, fn) { Array.prototype.forEach.call(list, fn); }

  function words(text) {
    return text.toLowerCase().split(/\s+/).filter(function (w) { return w.length > 0; });
  }

  function sortKey(row, index, type) {
    var cell = row.cells[index];
    var raw = cell ? (cell.getAttribute("data-pa-value") || cell.textContent.trim()) : "";
    if (type === "number") {
      var n = parseFloat(raw.replace(/[^0-9.eE+-]/g, ""));
      return isNaN(n) ? -Infinity : n;
    }
    return raw.toLowerCase();
  }

  function makeSortable(table) {
    if (table.getAttribute("data-pa-ready")) return;
    table.setAttribute("data-pa-ready", "1");
    if (!table.tHead || !table.tBodies.length) return;
    var headers = table.tHead.rows[0].cells;
    each(table.tBodies[0].rows, function (row, i) { row.setAttribute("data-pa-index", String(i)); });
    each(headers, function (th, index) {
      var type = th.getAttribute("data-pa-sort");
      if (!type) return;
      th.classList.add("pa-sortable");
      th.tabIndex = 0;
      th.setAttribute("aria-sort", "none");
      th.title = "Sort by this column";
      function sort() {
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        each(headers, function (h) { if (h.hasAttribute("aria-sort")) h.setAttribute("aria-sort", "none"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = sortKey(a, index, type), y = sortKey(b, index, type);
          var c = x < y ? -1 : x > y ? 1 : 0;
          if (!ascending) c = -c;
          // Ties keep the page's original order, whatever the direction.
          return c || (+a.getAttribute("data-pa-index")) - (+b.getAttribute("data-pa-index"));
        });
        rows.forEach(function (row) { body.appendChild(row); });
      }
      th.addEventListener("click", sort);
      th.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") { event.preventDefault(); sort(); }
      });
    });
  }

  // --- "Vision only": one switch for every table, stored in localStorage -------------------------
  var VISION_KEY = "pa-vision-only";

  function visionOnly() {
    return document.documentElement.classList.contains("pa-vision-only");
  }

  function setVisionOnly(on, remember) {
    document.documentElement.classList.toggle("pa-vision-only", on);
    each(document.querySelectorAll("input[data-pa-vision-only]"), function (box) { box.checked = on; });
    if (remember) {
      try { window.localStorage.setItem(VISION_KEY, on ? "1" : "0"); } catch (e) { /* storage off */ }
    }
    recount();
  }

  function storedVisionOnly() {
    if (/[?&]vision=only(&|$)/.test(location.search)) return true;
    try { return window.localStorage.getItem(VISION_KEY) === "1"; } catch (e) { return false; }
  }

  function shownRow(row) {
    return !row.hidden && !(visionOnly() && row.hasAttribute("data-pa-textual"));
  }

  var counters = {};

  function recount() {
    Object.keys(counters).forEach(function (id) { counters[id](); });
  }

  function showCount(id, shown, total) {
    var out = document.querySelector('[data-pa-count="' + id + '"]');
    if (!out) return;
    var text = (shown === total ? total : shown + " of " + total) + " papers";
    out.textContent = visionOnly() ? text + " (vision only)" : text;
  }

  function countRows(id, table) {
    var rows = table.tBodies[0].rows, shown = 0;
    each(rows, function (row) { if (shownRow(row)) shown += 1; });
    showCount(id, shown, rows.length);
  }

  function makeFilter(input) {
    if (input.getAttribute("data-pa-ready")) return;
    input.setAttribute("data-pa-ready", "1");
    var id = input.getAttribute("data-pa-filter");
    var table = document.getElementById(id);
    if (!table || !table.tBodies.length) return;
    counters[id] = function () { countRows(id, table); };
    input.addEventListener("input", function () {
      var wanted = words(input.value);
      each(table.tBodies[0].rows, function (row) {
        var text = row.textContent.toLowerCase();
        row.hidden = !wanted.every(function (w) { return text.indexOf(w) >= 0; });
      });
      countRows(id, table);
    });
  }

  function makePapersFilter(form) {
    if (form.getAttribute("data-pa-ready")) return;
    form.setAttribute("data-pa-ready", "1");
    var id = form.getAttribute("data-pa-papers-filter");
    var table = document.getElementById(id);
    if (!table || !table.tBodies.length) return;
    var facets = form.querySelectorAll("select[data-pa-facet]");
    var fields = form.querySelectorAll("select[data-pa-field]");
    var text = form.querySelector("input[data-pa-text]");

    counters[id] = function () { countRows(id, table); };

    function apply() {
      var wanted = text ? words(text.value) : [], rows = table.tBodies[0].rows;
      each(rows, function (row) {
        var ok = true;
        each(facets, function (select) {
          var ids = " " + (row.getAttribute("data-" + select.getAttribute("data-pa-facet")) || "") + " ";
          if (select.value && ids.indexOf(" " + select.value + " ") < 0) ok = false;
        });
        each(fields, function (select) {
          if (select.value && row.getAttribute("data-" + select.getAttribute("data-pa-field")) !== select.value) ok = false;
        });
        var haystack = (row.getAttribute("data-text") || "") + " " + row.textContent.toLowerCase();
        if (ok) ok = wanted.every(function (w) { return haystack.indexOf(w) >= 0; });
        row.hidden = !ok;
      });
      countRows(id, table);
      writeQuery();
    }

    function controls() {
      var list = [];
      each(facets, function (s) { list.push([s.getAttribute("data-pa-facet"), s]); });
      each(fields, function (s) { list.push([s.getAttribute("data-pa-field"), s]); });
      if (text) list.push(["text", text]);
      return list;
    }

    function writeQuery() {
      if (!window.history || !window.history.replaceState || location.protocol === "file:") return;
      var parts = /[?&]vision=only(&|$)/.test(location.search) && visionOnly() ? ["vision=only"] : [];
      controls().forEach(function (c) {
        if (c[1].value) parts.push(encodeURIComponent(c[0]) + "=" + encodeURIComponent(c[1].value));
      });
      var query = parts.length ? "?" + parts.join("&") : "";
      if (query !== location.search) {
        window.history.replaceState(window.history.state, "", location.pathname + query + location.hash);
      }
    }

    function readQuery() {
      var params = {};
      location.search.replace(/^\?/, "").split("&").forEach(function (pair) {
        if (!pair) return;
        var kv = pair.split("=");
        params[decodeURIComponent(kv[0])] = decodeURIComponent((kv[1] || "").replace(/\+/g, " "));
      });
      controls().forEach(function (c) {
        if (params[c[0]] === undefined) return;
        var value = params[c[0]];
        if (c[1].tagName === "SELECT" && !c[1].querySelector('option[value="' + value.replace(/"/g, "") + '"]')) return;
        c[1].value = value;
      });
    }

    form.addEventListener("input", function (event) { if (!isVisionBox(event.target)) apply(); });
    form.addEventListener("change", function (event) { if (!isVisionBox(event.target)) apply(); });
    form.addEventListener("reset", function () {
      window.setTimeout(function () { setVisionOnly(false, true); apply(); }, 0);
    });
    readQuery();
    apply();
  }

  function isVisionBox(element) {
    return element && element.hasAttribute && element.hasAttribute("data-pa-vision-only");
  }

  function makeVisionToggle(box) {
    if (box.getAttribute("data-pa-ready")) return;
    box.setAttribute("data-pa-ready", "1");
    box.checked = visionOnly();
    box.addEventListener("change", function () { setVisionOnly(box.checked, true); });
  }

  // The theme's skip link goes to the first heading of the table of contents, which on a paper page
  // comes after its title, authors and summary: land on the title instead.
  function fixSkipLink() {
    var header = document.getElementById("pa-paper"), skip = document.querySelector("a.md-skip");
    if (header && skip) skip.setAttribute("href", "#pa-paper");
  }

  // The theme's search dialog has no accessible name; give it one (the theme offers no setting).
  function nameSearchDialog() {
    each(document.querySelectorAll(".md-search[role=dialog]:not([aria-label])"), function (dialog) {
      dialog.setAttribute("aria-label", "Search the site");
    });
  }

  // Scrolling regions (wide tables, the diagram) must be reachable by keyboard.
  function focusableScrollers() {
    each(document.querySelectorAll(".md-typeset__scrollwrap"), function (wrap) {
      if (!wrap.hasAttribute("tabindex")) {
        wrap.setAttribute("tabindex", "0");
        wrap.setAttribute("role", "region");
        wrap.setAttribute("aria-label", "Table (scrolls sideways)");
      }
    });
  }

  var visionStarted = false;

  function init() {
    if (!visionStarted) {
      visionStarted = true;
      document.documentElement.classList.toggle("pa-vision-only", storedVisionOnly());
    }
    counters = {};
    each(document.querySelectorAll("table[data-pa-sortable]"), makeSortable);
    each(document.querySelectorAll("input[data-pa-filter]"), makeFilter);
    each(document.querySelectorAll("form[data-pa-papers-filter]"), makePapersFilter);
    each(document.querySelectorAll("input[data-pa-vision-only]"), makeVisionToggle);
    each(document.querySelectorAll("table[data-pa-sortable]"), function (table) {
      if (table.id && !counters[table.id] && document.querySelector('[data-pa-count="' + table.id + '"]')) {
        counters[table.id] = function () { countRows(table.id, table); };
      }
    });
    recount();
    fixSkipLink();
    nameSearchDialog();
    focusableScrollers();
  }

  // Material (and Zensical) swap pages without reloading (instant navigation) and announce every
  // new page on document$; without it, run once the page is parsed.
  if (window.document$ && typeof window.document$.subscribe === "function") {
    window.document$.subscribe(init);
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
