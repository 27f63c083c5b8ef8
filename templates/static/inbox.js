// Sportello inbox: live updates over Server-Sent Events, the SMS segment counter, canned
// answers and the resolve dialog. Plain JavaScript, no build step. Citizen data only ever
// reaches the page through textContent and DOM methods, never as HTML.
(function () {
  "use strict";

  var labels = {};
  var labelsEl = document.getElementById("labels");
  if (labelsEl) {
    try { labels = JSON.parse(labelsEl.textContent || "{}"); } catch (e) { labels = {}; }
  }
  function t(key) { return Object.prototype.hasOwnProperty.call(labels, key) ? labels[key] : key; }
  // fmt fills %s and %d in order.
  function fmt(s) {
    var args = Array.prototype.slice.call(arguments, 1);
    return s.replace(/%[sd]/g, function () { return args.length ? String(args.shift()) : ""; });
  }
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    if (attrs) { Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); }); }
    if (text !== undefined && text !== null) { e.textContent = text; }
    return e;
  }
  function announce(text) {
    var live = document.getElementById("live-status");
    if (live) { live.textContent = text; }
  }

  // ---- SMS segments: the same rules as adapters/twilio/segments.go (GSM-7 160/153, UCS-2 70/67).
  var GSM_BASIC = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  var GSM_EXT = "\f^{}\\[~]|€";
  var septets = {};
  Array.from(GSM_BASIC).forEach(function (c) { septets[c] = 1; });
  Array.from(GSM_EXT).forEach(function (c) { septets[c] = 2; });

  function segmentCount(body) {
    if (body === "") { return { segments: 0, encoding: "GSM-7", length: 0 }; }
    var chars = Array.from(body);
    var widths = [];
    var encoding = "GSM-7";
    for (var i = 0; i < chars.length; i++) {
      var w = septets[chars[i]];
      if (!w) { encoding = "UCS-2"; break; }
      widths.push(w);
    }
    var single = 160, split = 153;
    if (encoding === "UCS-2") {
      single = 70; split = 67;
      widths = chars.map(function (c) { return c.codePointAt(0) > 0xFFFF ? 2 : 1; });
    }
    var total = widths.reduce(function (a, b) { return a + b; }, 0);
    if (total <= single) { return { segments: 1, encoding: encoding, length: total }; }
    var segments = 1, room = split;
    widths.forEach(function (w) {
      if (w > room) { segments++; room = split; }
      room -= w;
    });
    return { segments: segments, encoding: encoding, length: total };
  }
  window.sportelloSegments = segmentCount;

  function setupCounter() {
    var box = document.getElementById("reply-body");
    var out = document.getElementById("reply-counter");
    if (!box || !out) { return; }
    var update = function () {
      var chars = Array.from(box.value).length;
      if (box.hasAttribute("data-sms")) {
        var s = segmentCount(box.value);
        out.textContent = fmt(t("js_segments"), chars, s.segments, s.encoding);
      } else {
        out.textContent = fmt(t("js_chars"), chars);
      }
    };
    box.addEventListener("input", update);
    update();
  }

  function setupCanned() {
    var sel = document.getElementById("canned");
    var btn = document.getElementById("canned-insert");
    var box = document.getElementById("reply-body");
    if (!sel || !btn || !box) { return; }
    btn.addEventListener("click", function () {
      var opt = sel.options[sel.selectedIndex];
      if (!opt || !opt.value) { return; }
      var text = opt.getAttribute("data-body") || "";
      box.value = box.value ? box.value.replace(/\s*$/, "") + "\n" + text : text;
      box.dispatchEvent(new Event("input"));
      box.focus();
    });
  }

  function setupDialogs() {
    document.querySelectorAll("[data-dialog]").forEach(function (a) {
      var d = document.getElementById(a.getAttribute("data-dialog"));
      if (!d || typeof d.showModal !== "function") { return; }
      a.addEventListener("click", function (ev) {
        ev.preventDefault();
        if (!d.open) { d.showModal(); }
        var first = d.querySelector("input, select, textarea");
        if (first) { first.focus(); }
      });
    });
    document.querySelectorAll("[data-close]").forEach(function (a) {
      var d = document.getElementById(a.getAttribute("data-close"));
      if (!d) { return; }
      a.addEventListener("click", function (ev) {
        ev.preventDefault();
        d.close();
        var opener = document.querySelector("[data-dialog='" + d.id + "']");
        if (opener) { opener.focus(); }
      });
    });
    // A dialog the server rendered open (after an error) becomes modal, so focus stays in it.
    document.querySelectorAll("dialog[open]").forEach(function (d) {
      if (typeof d.showModal === "function") {
        d.close();
        d.showModal();
        var err = d.querySelector("[role=alert]");
        var first = d.querySelector("input, select, textarea");
        if (first) { first.focus(); }
        if (err) { announce(err.textContent); }
      }
    });
  }

  function setupPreviews() {
    document.querySelectorAll("img[data-hide-broken]").forEach(function (img) {
      var hide = function () { img.hidden = true; };
      img.addEventListener("error", hide);
      if (img.complete && img.naturalWidth === 0) { hide(); }
    });
  }

  // ---- Live updates.
  var source = null;
  function connect(onContact, onQueues) {
    if (!window.EventSource) { return; }
    source = new EventSource("/inbox/events");
    var wasDown = false;
    source.addEventListener("open", function () {
      if (wasDown) { announce(t("js_live_on")); wasDown = false; }
      document.body.setAttribute("data-live", "on");
    });
    source.addEventListener("error", function () {
      wasDown = true;
      document.body.setAttribute("data-live", "off");
      announce(t("js_live_off"));
    });
    source.addEventListener("contact", function (ev) {
      var data;
      try { data = JSON.parse(ev.data); } catch (e) { return; }
      if (onContact) { onContact(data); }
    });
    source.addEventListener("queues", function () { if (onQueues) { onQueues(); } });
    // Screen pop: the operator answered a call on their phone (PBX or Twilio): show the caller.
    // A call in the browser softphone opens its contact itself; leaving the page would end it.
    source.addEventListener("screenpop", function (ev) {
      var data;
      try { data = JSON.parse(ev.data); } catch (e) { return; }
      if (!data.url || data.url.indexOf("/inbox/contacts/") !== 0) { return; }
      if (document.querySelector("#softphone[data-state=ringing], #softphone[data-state=talking]")) { return; }
      if (location.pathname !== data.url) { location.assign(data.url); }
    });
  }

  function buildRow(r) {
    var tr = el("tr", { id: "c-" + r.id, "data-id": r.id });
    var td = el("td");
    td.appendChild(el("time", { datetime: r.received_at }, r.received));
    tr.appendChild(td);
    td = el("td");
    td.appendChild(el("span", { "class": "chan chan-" + r.channel }, t("channel_" + r.channel)));
    tr.appendChild(td);
    td = el("td");
    td.appendChild(el("a", { href: r.url }, r.who));
    tr.appendChild(td);
    tr.appendChild(el("td", { "class": "summary" }, r.summary));
    td = el("td");
    if (r.comune) { td.textContent = r.comune; } else { td.appendChild(el("span", { "class": "muted" }, t("comune_unknown"))); }
    tr.appendChild(td);
    tr.appendChild(el("td", null, r.category));
    tr.appendChild(el("td", null, r.queue));
    td = el("td");
    td.appendChild(el("span", { "class": "status status-" + r.status }, t("status_" + r.status)));
    if (r.escalated) {
      td.appendChild(document.createTextNode(" "));
      td.appendChild(el("span", { "class": "badge late" }, t("escalated")));
    }
    if (r.delivery_overdue) {
      td.appendChild(document.createTextNode(" "));
      td.appendChild(el("span", { "class": "badge late", "data-overdue": "1" }, t("delivery_overdue")));
    }
    tr.appendChild(td);
    tr.appendChild(el("td", null, r.assignee));
    return tr;
  }

  function matches(tbody, r) {
    var pairs = [["queue", r.queue_id], ["channel", r.channel], ["comune", r.comune_id], ["status", r.status],
      ["category", r.category_id], ["assignee", r.assignee]];
    return pairs.every(function (p) {
      var want = tbody.getAttribute("data-" + p[0]) || "";
      return want === "" || want === p[1];
    });
  }

  function setupList() {
    var tbody = document.getElementById("contact-rows");
    if (!tbody || !tbody.hasAttribute("data-live")) { return; }
    connect(function (data) {
      var r = data.row;
      if (!r || !r.id) { return; }
      var existing = document.getElementById("c-" + r.id);
      if (tbody.getAttribute("data-q")) {
        // A text search is the server's job: say there is news rather than guess.
        if (!existing) { announce(t("js_new_hidden")); }
        return;
      }
      var ok = matches(tbody, r);
      if (existing) {
        if (ok) { tbody.replaceChild(buildRow(r), existing); } else { existing.remove(); }
        announce(fmt(t("js_changed_contact"), r.who));
        return;
      }
      if (!ok) { return; }
      var row = buildRow(r);
      row.classList.add("fresh");
      tbody.insertBefore(row, tbody.firstChild);
      var empty = document.getElementById("empty");
      if (empty) { empty.remove(); }
      announce(fmt(t("js_new_contact"), r.who));
    });
  }

  function setupContact() {
    var box = document.querySelector("[data-contact]");
    if (!box) { return; }
    var id = box.getAttribute("data-contact");
    connect(function (data) {
      if (data.contact && data.contact.id === id) { announce(t("js_thread_changed")); }
    });
  }

  function setupQueues() {
    var table = document.getElementById("queues");
    if (!table) { return; }
    var url = table.getAttribute("data-live");
    var tbody = document.getElementById("queue-rows");
    var pending = null;
    function wait(s) {
      s = Math.max(0, Math.floor(s));
      var h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60, sec = s % 60;
      var mm = (h > 0 && m < 10 ? "0" : "") + m, ss = (sec < 10 ? "0" : "") + sec;
      return (h > 0 ? h + ":" : "") + mm + ":" + ss;
    }
    function refresh() {
      pending = null;
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json", "X-Requested-With": "fetch" } })
        .then(function (res) { if (!res.ok) { throw new Error(res.status); } return res.json(); })
        .then(function (data) {
          var rows = document.createDocumentFragment();
          (data.items || []).forEach(function (q) {
            var tr = el("tr", { "data-id": q.id });
            var th = el("th", { scope: "row" });
            th.appendChild(el("a", { href: "/inbox?queue=" + encodeURIComponent(q.id) }, q.name));
            tr.appendChild(th);
            tr.appendChild(el("td", { "class": "num" }, String(q.waiting)));
            tr.appendChild(el("td", { "class": "num" }, wait(q.oldest_wait_seconds)));
            tr.appendChild(el("td", { "class": "num" }, String(q.operators_available)));
            rows.appendChild(tr);
          });
          while (tbody.firstChild) { tbody.removeChild(tbody.firstChild); }
          tbody.appendChild(rows);
          table.setAttribute("data-updated", String(Date.now()));
        })
        .catch(function () { announce(t("js_live_off")); });
    }
    function soon() { if (!pending) { pending = setTimeout(refresh, 300); } }
    connect(soon, soon);
    setInterval(refresh, 15000);
  }

  function start() {
    setupCounter();
    setupCanned();
    setupDialogs();
    setupPreviews();
    setupList();
    setupContact();
    setupQueues();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
