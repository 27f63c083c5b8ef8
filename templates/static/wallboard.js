// The wallboard redraws its figures from each picture the server streams (Server-Sent
// Events); EventSource reconnects by itself when the stream breaks.
(function () {
  "use strict";
  var live = document.getElementById("wallboard-live");
  if (!live || !window.EventSource) { return; }
  var es = null;
  function start() {
    es = new EventSource(live.getAttribute("data-src"));
    es.addEventListener("board", draw);
  }
  // Pausing closes the stream, so nothing changes on the page until the operator resumes.
  var pause = document.getElementById("wallboard-pause");
  if (pause) {
    pause.addEventListener("click", function () {
      var paused = pause.getAttribute("aria-pressed") === "true";
      if (paused) {
        start();
      } else if (es) {
        es.close();
        es = null;
      }
      pause.setAttribute("aria-pressed", paused ? "false" : "true");
      pause.textContent = pause.getAttribute(paused ? "data-pause" : "data-resume");
      live.textContent = live.getAttribute(paused ? "data-live" : "data-paused");
    });
  }
  start();
  function draw(ev) {
    var b = JSON.parse(ev.data);
    document.querySelectorAll("[data-board]").forEach(function (el) {
      var v = b[el.getAttribute("data-board")];
      if (v !== undefined) { el.textContent = String(v); }
    });
    document.querySelectorAll("[data-presence]").forEach(function (el) {
      el.textContent = String(b.presence[el.getAttribute("data-presence")] || 0);
    });
    (b.queues || []).forEach(function (q) {
      var row = document.querySelector('tr[data-queue="' + CSS.escape(q.id) + '"]');
      if (!row) { return; }
      row.querySelector('[data-field="waiting"]').textContent = String(q.waiting);
      row.querySelector('[data-field="oldest_wait_seconds"]').textContent = String(q.oldest_wait_seconds);
    });
    document.body.setAttribute("data-board-updated", String(Date.now()));
  }
})();
