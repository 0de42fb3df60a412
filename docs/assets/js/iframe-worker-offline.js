/*
 * The offline copy of the site (opened from file://) cannot start web workers: browsers refuse a
 * worker script from a file URL, and the theme runs its search in a worker. This stand-in for
 * window.Worker runs the worker script in a hidden, same-origin iframe instead, and passes messages
 * both ways as the real thing would: each message is a structured clone made in the receiver's
 * window, never the sender's object (Zensical's search keeps its query state in the object it
 * posts, and a shared object emptied the search box after every keystroke). Our own
 * implementation; only the offline build loads it (its name tells the offline plugin that a worker
 * shim is present, so the plugin adds none from a CDN).
 */
(function () {
  "use strict";
  if (location.protocol !== "file:") return;

  function FrameWorker(url) {
    var worker = this, listeners = [], inbox = [], ready = false;
    var frame = document.createElement("iframe");
    frame.hidden = true;
    frame.setAttribute("aria-hidden", "true");
    frame.setAttribute("tabindex", "-1");
    frame.title = "search worker";
    (document.body || document.documentElement).appendChild(frame);
    var scope = frame.contentWindow;
    this.onmessage = null;
    this.onerror = null;

    function toPage(data) {
      var copy = window.structuredClone(data);
      window.setTimeout(function () {
        var event = { data: copy, target: worker };
        if (typeof worker.onmessage === "function") worker.onmessage(event);
        listeners.slice().forEach(function (fn) { fn.call(worker, event); });
      }, 0);
    }
    function toWorker(copy) {
      scope.dispatchEvent(new scope.MessageEvent("message", { data: copy }));
    }
    scope.postMessage = toPage;
    scope.importScripts = function () {
      throw new Error("importScripts is not available to the offline search");
    };
    var script = scope.document.createElement("script");
    script.src = new URL(String(url), location.href).href;
    script.onload = function () {
      ready = true;
      inbox.splice(0).forEach(toWorker);
    };
    script.onerror = function () {
      if (typeof worker.onerror === "function") worker.onerror(new Error("cannot load " + script.src));
    };
    (scope.document.head || scope.document.documentElement).appendChild(script);

    this.postMessage = function (data) {
      var copy = scope.structuredClone(data);  // cloned now, as a worker does: later changes stay here
      if (ready) window.setTimeout(function () { toWorker(copy); }, 0);
      else inbox.push(copy);
    };
    this.addEventListener = function (type, fn) { if (type === "message") listeners.push(fn); };
    this.removeEventListener = function (type, fn) {
      var i = listeners.indexOf(fn);
      if (type === "message" && i >= 0) listeners.splice(i, 1);
    };
    this.terminate = function () { frame.remove(); };
  }

  window.Worker = FrameWorker;
})();
