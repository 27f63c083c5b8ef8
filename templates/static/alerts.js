// Sportello alert pages: the live segment counter and preview of the composer, and the live
// progress bar of an alert (Server-Sent Events, with polling when the stream is not available).
// Plain JavaScript, no build step; texts reach the page only through textContent.
(function () {
  "use strict";

  var S = window.Sportello;
  var t = S.labels("alert-labels"), fmt = S.fmt, csrf = S.csrf, segments = S.segments;

  function describe(cost) {
    if (!cost || cost.segments === 0) { return t("segments_none"); }
    return fmt(t("segments"), cost.units, cost.segments, cost.encoding);
  }

  // ---- Composer.
  var form = document.getElementById("alert-form");
  if (form) {
    var message = document.getElementById("alert-message");
    var counter = document.getElementById("alert-counter");
    var ucs2 = document.getElementById("alert-ucs2");
    var gsm7 = document.getElementById("alert-gsm7");
    var comune = document.getElementById("alert-comune");
    var preview = document.getElementById("alert-preview");
    var previewCost = document.getElementById("alert-preview-cost");
    var recipients = document.getElementById("alert-recipients");
    var previewErr = document.getElementById("alert-preview-error");
    var when = document.getElementById("alert-when");
    var timer = null, seq = 0;

    var count = function () {
      var c = segments(message.value.trim());
      counter.textContent = describe(c);
      ucs2.textContent = c.encoding === "UCS-2" && !gsm7.checked ? fmt(t("ucs2_warning"), c.nonGSM.join(" ")) : "";
    };
    var showTopics = function () {
      document.querySelectorAll("#alert-topics [data-comune]").forEach(function (l) {
        var mine = l.getAttribute("data-comune") === comune.value;
        l.hidden = !mine;
        if (!mine) { l.querySelector("input").checked = false; }
      });
    };
    var askPreview = function () {
      var mySeq = ++seq;
      var body = new URLSearchParams(new FormData(form));
      fetch(form.getAttribute("data-preview"), {
        method: "POST", body: body, credentials: "same-origin",
        headers: { "X-CSRF-Token": csrf(), "X-Requested-With": "fetch", "Accept": "application/json" }
      }).then(function (r) {
        return r.json().then(function (j) { return { ok: r.ok, j: j }; });
      }).then(function (res) {
        if (mySeq !== seq) { return; }
        if (!res.ok) {
          previewErr.hidden = false;
          previewErr.textContent = res.j && res.j.error ? res.j.error.message : "";
          return;
        }
        previewErr.hidden = true;
        previewErr.textContent = "";
        preview.textContent = res.j.text;
        previewCost.textContent = describe(res.j.cost);
        recipients.textContent = String(res.j.recipients);
        if (when) { when.textContent = res.j.when || ""; }
      }).catch(function () { /* the preview is a help: the form still works */ });
    };
    var changed = function () {
      count();
      clearTimeout(timer);
      timer = setTimeout(askPreview, 350);
    };
    form.addEventListener("input", changed);
    form.addEventListener("change", function (e) {
      if (e.target === comune) { showTopics(); }
      changed();
    });
    showTopics();
    count();
    if (message.value.trim() !== "") { askPreview(); }
  }

  // ---- Progress of one alert.
  var detail = document.getElementById("alert-detail");
  if (detail) {
    var bar = document.getElementById("alert-progress");
    var label = document.getElementById("alert-progress-label");
    var status = document.getElementById("alert-status");
    var live = document.getElementById("alert-live");
    var base = detail.getAttribute("data-live");
    var poller = null;
    var apply = function (p) {
      bar.max = Math.max(p.recipients, 1);
      bar.value = p.done;
      label.textContent = p.label;
      var stalled = document.getElementById("alert-stalled");
      if (stalled) {
        stalled.textContent = p.stalled || "";
        stalled.hidden = !p.stalled;
      }
      status.textContent = p.status_text || p.status;
      Object.keys(p.counts).forEach(function (k) {
        var cell = detail.querySelector("[data-count='" + k + "']");
        if (cell) { cell.textContent = String(p.counts[k]); }
      });
      live.textContent = t("live_updated") + " " + new Date().toLocaleTimeString();
      if (p.status !== "scheduled" && p.status !== "sending") {
        var cancel = document.getElementById("alert-cancel");
        if (cancel) { cancel.hidden = true; }
      }
    };
    var poll = function () {
      if (poller) { return; }
      poller = setInterval(function () {
        fetch(base + "/progress", { credentials: "same-origin", headers: { "Accept": "application/json", "X-Requested-With": "fetch" } })
          .then(function (r) { return r.ok ? r.json() : null; })
          .then(function (p) { if (p) { apply(p); } })
          .catch(function () {});
      }, 2000);
    };
    if (detail.hasAttribute("data-active") || bar.value < bar.max) {
      if (window.EventSource) {
        var es = new EventSource(base + "/events");
        es.addEventListener("progress", function (e) {
          try { apply(JSON.parse(e.data)); } catch (err) { /* a broken event is skipped */ }
        });
        es.addEventListener("done", function () { es.close(); });
        es.onerror = function () {
          if (es.readyState === EventSource.CLOSED) { poll(); }
        };
      } else {
        poll();
      }
    }
  }
})();
