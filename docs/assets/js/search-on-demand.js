/*
 * Download the search index when the reader starts to search, not with every page.
 *
 * The theme (Material for MkDocs, or Zensical) requests its index (search/search_index.json,
 * or search.json) with XMLHttpRequest as soon as a page loads: at 400 papers that is more than half
 * of what a first visit transfers. This script, loaded before the theme's bundle, holds back the
 * send() of that one request until the reader shows an intent to search: focusing the search box,
 * opening the search dialog, pressing one of the theme's search keys (/ s f) or arriving with a
 * ?q= query. Every other request goes out untouched. From file:// the theme loads the index as a
 * script instead, and nothing here applies.
 */
(function () {
  "use strict";
  var INDEX = /\/search(\/search_index)?\.json$/;
  var proto = window.XMLHttpRequest && window.XMLHttpRequest.prototype;
  if (!proto) return;
  var open = proto.open, send = proto.send, wanted = false, held = [];

  function release() {
    if (wanted) return;
    wanted = true;
    held.splice(0).forEach(function (go) { go(); });
  }

  proto.open = function (method, url) {
    this.paSearchIndex = INDEX.test(String(url).split(/[?#]/)[0]);
    return open.apply(this, arguments);
  };
  proto.send = function () {
    if (this.paSearchIndex && !wanted) {
      var xhr = this, args = arguments;
      held.push(function () { send.apply(xhr, args); });
      return undefined;
    }
    return send.apply(this, arguments);
  };

  if (/[?&]q=/.test(location.search)) release();
  document.addEventListener("focusin", function (event) {
    var target = event.target;
    if (target && target.closest && target.closest(".md-search, [data-md-component=search]")) release();
  }, true);
  document.addEventListener("change", function (event) {
    if (event.target && event.target.id === "__search") release();
  }, true);
  document.addEventListener("click", function (event) {
    var target = event.target;
    if (target && target.closest && target.closest("label[for=__search], .md-search")) release();
  }, true);
  document.addEventListener("keydown", function (event) {
    var tag = event.target && event.target.tagName;
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT") return;
    if (event.key === "/" || event.key === "s" || event.key === "f" || event.key === "S" || event.key === "F") release();
  }, true);
})();
