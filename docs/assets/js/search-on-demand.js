/*
 * Download the search index when the reader starts to search, not with every page.
 *
 * The theme (Material for MkDocs, or Zensical) requests its index (search/search_index.json,
 * or search.json) with XMLHttpRequest as soon as a page loads: at 400 papers that is more than half
 * of what a first visit transfers. This script, loaded before the theme's bundle, holds back the
 * send() of that one request until the reader shows an intent to search: focusing the search box,
 * opening the search dialog, pressing one of the theme's search keys (/ s f) or arriving with a
 * ?q= query. Every other request goes out untouched. The search worker is started at that moment
 * too (a stand-in queues what the theme sends it until then), so its script is not downloaded
 * either. From file:// the theme loads the index as a script instead, and nothing here applies.
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

  // The theme's search worker, started on release: until then a stand-in keeps the listeners and
  // the messages it is given, then hands them to the real worker in order.
  var RealWorker = window.Worker;
  if (RealWorker && location.protocol !== "file:") {
    window.Worker = function (url, options) {
      if (!/\/workers\/search\.[^/]*\.js/.test(String(url)) || wanted) return new RealWorker(url, options);
      var listeners = [], inbox = [], real = null, stub = this;
      this.onmessage = null;
      this.onerror = null;
      this.addEventListener = function (type, fn, opts) {
        if (real) real.addEventListener(type, fn, opts); else listeners.push([type, fn, opts]);
      };
      this.removeEventListener = function (type, fn, opts) {
        if (real) real.removeEventListener(type, fn, opts);
        else listeners = listeners.filter(function (l) { return l[0] !== type || l[1] !== fn; });
      };
      this.postMessage = function (data) { if (real) real.postMessage(data); else inbox.push(data); };
      this.terminate = function () { if (real) real.terminate(); inbox = []; };
      held.push(function () {
        real = new RealWorker(url, options);
        listeners.forEach(function (l) { real.addEventListener(l[0], l[1], l[2]); });
        real.onmessage = function (event) { if (typeof stub.onmessage === "function") stub.onmessage(event); };
        real.onerror = function (event) { if (typeof stub.onerror === "function") stub.onerror(event); };
        inbox.splice(0).forEach(function (data) { real.postMessage(data); });
      });
    };
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
