// Sportello inbox: live updates over Server-Sent Events, the SMS segment counter, canned
// answers and the resolve dialog; the operator conveniences (a desktop notification and an
// optional sound when a contact is assigned to me, keyboard shortcuts, the count of new contacts
// in the tab title while it is not in view) with their switches on the help page. Plain JavaScript, no build step. Citizen data only ever
// reaches the page through textContent and DOM methods, never as HTML.
(function () {
  "use strict";

  var S = window.Sportello;
  var t = S.labels("labels"), fmt = S.fmt, el = S.el, segmentCount = S.segments;
  function announce(text) {
    var live = document.getElementById("live-status");
    if (live) { live.textContent = text; }
  }

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

  // Any textarea with data-segments="ID" shows its SMS cost in the element ID (the canned
  // answers' form).
  function setupSegmentFields() {
    document.querySelectorAll("textarea[data-segments]").forEach(function (box) {
      var out = document.getElementById(box.getAttribute("data-segments"));
      if (!out) { return; }
      var update = function () {
        var s = segmentCount(box.value);
        out.textContent = box.value ? fmt(t("js_segments"), Array.from(box.value).length, s.segments, s.encoding) : "";
      };
      box.addEventListener("input", update);
      update();
    });
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


  // ---- Operator conveniences. Preferences live in this browser (localStorage): shortcuts on
  // unless turned off, sound off unless turned on.
  function pref(name, dflt) {
    try {
      var v = window.localStorage.getItem("sportello." + name);
      return v === null ? dflt : v === "on";
    } catch (e) { return dflt; }
  }
  function setPref(name, on) {
    try { window.localStorage.setItem("sportello." + name, on ? "on" : "off"); } catch (e) { /* private mode: not kept */ }
  }
  var me = (document.querySelector("meta[name=sportello-user]") || { content: "" }).content;

  // The tab title counts new contacts, and contacts assigned to me, that arrived while the tab
  // was not in view; it goes back to the page's own title on return.
  var baseTitle = document.title;
  var unseen = 0;
  var away = document.hidden === true;
  function showCount() { document.title = unseen > 0 ? "(" + unseen + ") " + baseTitle : baseTitle; }
  function back() { away = false; unseen = 0; showCount(); }
  document.addEventListener("visibilitychange", function () { if (document.hidden) { away = true; } else { back(); } });
  window.addEventListener("blur", function () { away = true; });
  window.addEventListener("focus", back);
  function countUnseen() { if (away) { unseen++; showCount(); } }
  window.sportelloUnseen = function () { return unseen; };

  function beep() {
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) { return; }
    try {
      var ctx = new Ctx();
      var osc = ctx.createOscillator(), gain = ctx.createGain();
      osc.frequency.value = 880;
      gain.gain.setValueAtTime(0.15, ctx.currentTime);
      gain.gain.exponentialRampToValueAtTime(0.001, ctx.currentTime + 0.4);
      osc.connect(gain);
      gain.connect(ctx.destination);
      osc.start();
      osc.stop(ctx.currentTime + 0.4);
      osc.onended = function () { ctx.close(); };
    } catch (e) { /* no audio device: the notification is enough */ }
  }

  // assignees remembers each contact's last known assignee (from the page, then the events),
  // so only a change to me notifies.
  var assignees = {};
  document.querySelectorAll("[data-assignee]").forEach(function (n) {
    var id = n.getAttribute("data-id") || n.getAttribute("data-contact");
    if (id) { assignees[id] = n.getAttribute("data-assignee") || ""; }
  });
  function seeContact(data) {
    var r = data && data.row;
    if (!r || !r.id) { return; }
    var before = Object.prototype.hasOwnProperty.call(assignees, r.id) ? assignees[r.id] : null;
    assignees[r.id] = r.assignee || "";
    if (before === null) { countUnseen(); }
    if (!me || r.assignee !== me || before === me) { return; }
    if (before !== null) { countUnseen(); }
    announce(fmt(t("js_assigned_to_me"), r.who));
    if (window.Notification && Notification.permission === "granted") {
      try {
        var n = new Notification(t("js_notify_title"), { body: r.who + (r.summary ? ": " + r.summary : ""), tag: "sportello-" + r.id });
        n.onclick = function () { window.focus(); if (r.url) { location.assign(r.url); } n.close(); };
      } catch (e) { /* some browsers allow notifications only from a service worker */ }
    }
    if (pref("sound", false)) { beep(); }
  }
  window.sportelloSeeContact = seeContact;

  function typing(target) {
    if (!target || !target.tagName) { return false; }
    var tag = target.tagName.toLowerCase();
    return tag === "textarea" || tag === "select" || (tag === "input" && target.type !== "checkbox" && target.type !== "radio") || target.isContentEditable;
  }

  // Keyboard shortcuts of the reply flow (listed on /aiuto). Single keys act only outside form
  // fields and can be turned off there (WCAG 2.1.4); Ctrl+Enter sends from the reply box.
  function setupShortcuts() {
    document.addEventListener("keydown", function (ev) {
      var box = document.getElementById("reply-body");
      if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey) && box && ev.target === box) {
        ev.preventDefault();
        var form = document.getElementById("reply-form");
        if (form && box.value.trim() !== "") {
          if (typeof form.requestSubmit === "function") { form.requestSubmit(); } else { form.submit(); }
        }
        return;
      }
      if (ev.key === "Escape" && box && ev.target === box) { box.blur(); return; }
      if (ev.ctrlKey || ev.metaKey || ev.altKey || typing(ev.target) || !pref("shortcuts", true)) { return; }
      if (document.querySelector("dialog[open]")) { return; }
      var el2;
      switch (ev.key) {
        case "r":
          if (box) { ev.preventDefault(); box.focus(); }
          break;
        case "c":
          el2 = document.getElementById("canned");
          if (el2) { ev.preventDefault(); el2.focus(); }
          break;
        case "i":
          el2 = document.getElementById("canned-insert");
          if (el2) { ev.preventDefault(); el2.click(); }
          break;
        case "e":
          el2 = document.getElementById("resolve-open");
          if (el2) { ev.preventDefault(); el2.click(); }
          break;
        case "j":
        case "k":
          moveRow(ev, ev.key === "j" ? 1 : -1);
          break;
        case "o":
          var cur = document.querySelector("#contact-rows tr.current a");
          if (cur) { ev.preventDefault(); cur.click(); }
          break;
        case "?":
          ev.preventDefault();
          location.assign("/aiuto");
          break;
      }
    });
  }

  function moveRow(ev, step) {
    var rows = Array.prototype.slice.call(document.querySelectorAll("#contact-rows tr[data-id]"));
    if (!rows.length) { return; }
    ev.preventDefault();
    var i = rows.findIndex(function (r) { return r.classList.contains("current"); });
    if (i >= 0) { rows[i].classList.remove("current"); rows[i].removeAttribute("aria-current"); }
    i = Math.min(rows.length - 1, Math.max(0, i + step));
    rows[i].classList.add("current");
    rows[i].setAttribute("aria-current", "true");
    var link = rows[i].querySelector("a");
    if (link) { link.focus(); }
  }

  // The help page's switches: notification permission (asked on the click, as browsers
  // require), sound and shortcuts.
  function setupHelp() {
    var state = document.getElementById("notify-state");
    var btn = document.getElementById("notify-enable");
    var saved = document.getElementById("pref-saved");
    function showState() {
      if (!state) { return; }
      var key = window.Notification ? Notification.permission : "unsupported";
      state.textContent = fmt(state.getAttribute("data-fmt") || "%s", state.getAttribute("data-" + key) || key);
      if (btn) { btn.disabled = !window.Notification || Notification.permission !== "default"; }
    }
    if (btn) {
      btn.addEventListener("click", function () {
        if (!window.Notification) { return; }
        var p = Notification.requestPermission(showState);
        if (p && typeof p.then === "function") { p.then(showState); }
      });
    }
    showState();
    document.querySelectorAll("input[data-pref]").forEach(function (box) {
      var name = box.getAttribute("data-pref");
      box.checked = pref(name, name === "shortcuts");
      box.addEventListener("change", function () {
        setPref(name, box.checked);
        if (saved) { saved.textContent = saved.getAttribute("data-text") || ""; }
      });
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
      seeContact(data);
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
    var tr = el("tr", { id: "c-" + r.id, "data-id": r.id, "data-assignee": r.assignee || "" });
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
    setupSegmentFields();
    setupCanned();
    setupShortcuts();
    setupHelp();
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
