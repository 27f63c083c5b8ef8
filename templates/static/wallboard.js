// The wallboard redraws its figures from each picture the server streams (Server-Sent
// Events); EventSource reconnects by itself when the stream breaks.
(function () {
  "use strict";
  var live = document.getElementById("wallboard-live");
  if (!live || !window.EventSource) { return; }
  var es = new EventSource(live.getAttribute("data-src"));
  es.addEventListener("board", function (ev) {
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
  });
})();
