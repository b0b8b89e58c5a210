// Live parts of a page over Server-Sent Events (the session cookie authenticates the
// EventSource). An element with data-stream (the SSE URL), data-live (event names) and
// data-fragment (its HTML fragment's URL) is re-fetched on each such event, with the
// event's position as ?after= so the server waits for its views to include it; with
// data-match="key=value" only events whose JSON data has that value count. One
// EventSource per URL is shared by the page. Polling (every 2 s) only when the stream fails.
(function () {
  "use strict";
  var sources = {};
  function source(url) {
    if (!sources[url]) {
      sources[url] = new EventSource(url);
    }
    return sources[url];
  }
  function refresh(id, fragment, position) {
    var el = document.getElementById(id);
    if (!el) { return; }
    var sep = fragment.indexOf("?") < 0 ? "?" : "&";
    htmx.ajax("GET", fragment + sep + "after=" + encodeURIComponent(position || "0"),
      {target: el, swap: el.dataset.swap || "outerHTML"});
  }
  function matches(el, event) {
    var rule = el.dataset.match;
    if (!rule) { return true; }
    var parts = rule.split("=");
    try {
      return String(JSON.parse(event.data)[parts[0]]) === parts[1];
    } catch (e) {
      return false;
    }
  }
  function follow(el) {
    var id = el.id, fragment = el.dataset.fragment, polling = null;
    var stream = source(el.dataset.stream);
    el.dataset.following = "sse";
    el.dataset.live.split(" ").forEach(function (kind) {
      stream.addEventListener(kind, function (event) {
        var current = document.getElementById(id);
        if (current && matches(current, event)) { refresh(id, fragment, event.lastEventId); }
      });
    });
    stream.addEventListener("error", function () {
      // CLOSED: the browser gave up (no SSE, or refused): fall back to polling.
      if (stream.readyState === EventSource.CLOSED && polling === null) {
        el.dataset.following = "poll";
        polling = window.setInterval(function () { refresh(id, fragment, "0"); }, 2000);
      }
    });
  }
  document.querySelectorAll("[data-stream]").forEach(follow);
})();
