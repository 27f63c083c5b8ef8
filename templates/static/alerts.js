// Sportello alert pages: the live segment counter and preview of the composer, and the live
// progress bar of an alert (Server-Sent Events, with polling when the stream is not available).
// Plain JavaScript, no build step; texts reach the page only through textContent.
(function () {
  "use strict";

  var labels = {};
  var labelsEl = document.getElementById("alert-labels");
  if (labelsEl) {
    try { labels = JSON.parse(labelsEl.textContent || "{}"); } catch (e) { labels = {}; }
  }
  function t(key) { return Object.prototype.hasOwnProperty.call(labels, key) ? labels[key] : key; }
  function fmt(s) {
    var args = Array.prototype.slice.call(arguments, 1);
    return s.replace(/%[sd]/g, function () { return args.length ? String(args.shift()) : ""; });
  }
  function csrf() {
    var m = document.querySelector("meta[name=csrf-token]");
    return m ? m.getAttribute("content") : "";
  }

  // ---- Segments: the rules of adapters/twilio/segments.go (GSM-7 160/153, UCS-2 70/67).
  var GSM_BASIC = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  var GSM_EXT = "\f^{}\\[~]|€";
  var septets = {};
  Array.from(GSM_BASIC).forEach(function (c) { septets[c] = 1; });
  Array.from(GSM_EXT).forEach(function (c) { septets[c] = 2; });

  function segments(body) {
    var chars = Array.from(body);
    if (chars.length === 0) { return { segments: 0, encoding: "GSM-7", units: 0, nonGSM: [] }; }
    var nonGSM = [];
    var gsmUnits = 0, ucsUnits = 0;
    chars.forEach(function (c) {
      if (septets[c]) { gsmUnits += septets[c]; } else if (nonGSM.indexOf(c) < 0) { nonGSM.push(c); }
      ucsUnits += c.codePointAt(0) > 0xFFFF ? 2 : 1;
    });
    var ucs = nonGSM.length > 0;
    var single = ucs ? 70 : 160, split = ucs ? 67 : 153;
    var widths = chars.map(function (c) { return ucs ? (c.codePointAt(0) > 0xFFFF ? 2 : 1) : septets[c]; });
    var total = ucs ? ucsUnits : gsmUnits;
    var n = 1;
    if (total > single) {
      var room = split;
      widths.forEach(function (w) { if (w > room) { n++; room = split; } room -= w; });
    }
    return { segments: n, encoding: ucs ? "UCS-2" : "GSM-7", units: total, nonGSM: nonGSM };
  }

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
