// The browser softphone: Twilio's Voice JavaScript SDK (vendored as twilio-voice.min.js) with a
// token from GET /api/v1/voice/token. A call the routing core offers to this operator rings
// here; answer, mute, hold and hang-up work with the buttons and the keyboard (Alt+Shift+A
// answer, Alt+Shift+M mute, Alt+Shift+H hold, Alt+Shift+X hang up / decline). Answering opens
// the caller's contact page (with the citizen's history) in its own window, so this page and
// its call stay up. Hold is server-side: the call waits in a queue of its own and resuming
// makes this softphone ring again.
(function () {
  "use strict";
  var root = document.getElementById("softphone");
  if (!root || !window.fetch) { return; }
  // The texts come from the pages' catalogue (sp_ keys), in the page's language.
  var L = {};
  try {
    var raw = JSON.parse(document.getElementById("softphone-labels").textContent);
    Object.keys(raw).forEach(function (k) { L[k.replace(/^sp_/, "")] = raw[k]; });
  } catch (e) { return; }
  function fmt(s, v) { return s.replace(/%[sd]/, String(v)); }
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = csrfMeta ? csrfMeta.getAttribute("content") : "";

  function api(method, url, body) {
    var opts = { method: method, credentials: "same-origin", headers: { "Accept": "application/json" } };
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.headers["X-CSRF-Token"] = csrf;
      opts.body = JSON.stringify(body);
    }
    return fetch(url, opts).then(function (res) {
      if (!res.ok) { throw new Error(method + " " + url + ": " + res.status); }
      return res.json();
    });
  }

  function button(action, label, key) {
    var b = document.createElement("button");
    b.type = "button";
    b.setAttribute("data-action", action);
    b.setAttribute("aria-keyshortcuts", "Alt+Shift+" + key);
    b.textContent = label;
    b.hidden = true;
    return b;
  }
  var heading = document.createElement("h2");
  heading.textContent = L.title;
  heading.id = "softphone-title";
  var status = document.createElement("p");
  status.className = "softphone-status";
  status.setAttribute("role", "status");
  status.setAttribute("aria-live", "assertive");
  var caller = document.createElement("p");
  caller.className = "softphone-caller";
  var buttons = {
    answer: button("answer", L.answer, "A"),
    decline: button("decline", L.decline, "X"),
    mute: button("mute", L.mute, "M"),
    hold: button("hold", L.hold, "H"),
    hangup: button("hangup", L.hangup, "X")
  };
  var bar = document.createElement("div");
  bar.className = "softphone-buttons";
  Object.keys(buttons).forEach(function (k) { bar.appendChild(buttons[k]); });
  root.appendChild(heading);
  root.appendChild(status);
  root.appendChild(caller);
  root.appendChild(bar);

  var device = null, call = null, contactID = "", from = "", muted = false, held = false;

  function show(names) {
    Object.keys(buttons).forEach(function (k) { buttons[k].hidden = names.indexOf(k) < 0; });
    root.setAttribute("data-state", names.length ? (names.indexOf("answer") >= 0 ? "ringing" : "talking") : "idle");
  }
  function say(text) { status.textContent = text; }

  function showCaller(id) {
    while (caller.firstChild) { caller.removeChild(caller.firstChild); }
    if (!id) { caller.textContent = from; return; }
    var a = document.createElement("a");
    a.href = "/inbox/contacts/" + encodeURIComponent(id);
    a.target = "sportello-contact";
    a.textContent = L.contact + " (" + from + ")";
    caller.appendChild(a);
    api("GET", "/api/v1/contacts/" + encodeURIComponent(id)).then(function (c) {
      var who = (c.citizen && c.citizen.name) ? c.citizen.name + " · " : "";
      a.textContent = L.contact + " (" + who + (c.from || from) + ")";
      caller.setAttribute("data-citizen", (c.citizen && c.citizen.id) || "");
    }).catch(function () { /* the link is enough */ });
  }

  function reset(text) {
    call = null; muted = false;
    buttons.mute.textContent = L.mute;
    if (!held) { contactID = ""; from = ""; caller.textContent = ""; }
    show(held ? ["hold"] : []);
    say(text || L.ready);
  }

  function incoming(c) {
    if (call) { c.reject(); return; }
    call = c;
    from = (c.parameters && c.parameters.From) || "";
    var params = c.customParameters;
    var id = params && typeof params.get === "function" ? params.get("contact") : "";
    if (id) { contactID = id; }
    held = false;
    buttons.hold.textContent = L.hold;
    say(fmt(L.incoming, from));
    showCaller(contactID);
    show(["answer", "decline"]);
    c.on("disconnect", function () { reset(held ? fmt(L.held, from) : L.ended); });
    c.on("cancel", function () { reset(L.ended); });
    c.on("reject", function () { reset(L.ended); });
  }

  function answer() {
    if (!call || buttons.answer.hidden) { return; }
    call.accept();
    say(fmt(L.talking, from));
    show(["mute", "hold", "hangup"]);
    if (contactID) {
      // A window of its own: navigating this page would end the call.
      window.open("/inbox/contacts/" + encodeURIComponent(contactID), "sportello-contact");
    }
  }
  function decline() { if (call && !buttons.decline.hidden) { call.reject(); } }
  function hangup() { if (call && !buttons.hangup.hidden) { call.disconnect(); } }
  function mute() {
    if (!call || buttons.mute.hidden) { return; }
    muted = !muted;
    call.mute(muted);
    buttons.mute.textContent = muted ? L.unmute : L.mute;
    buttons.mute.setAttribute("aria-pressed", String(muted));
  }
  function hold() {
    if (!contactID || buttons.hold.hidden) { return; }
    var on = !held;
    buttons.hold.disabled = true;
    api("POST", "/api/v1/contacts/" + encodeURIComponent(contactID) + "/hold", { hold: on }).then(function () {
      held = on;
      buttons.hold.textContent = held ? L.resume : L.hold;
      buttons.hold.setAttribute("aria-pressed", String(held));
      if (held) { say(fmt(L.held, from)); }
    }).catch(function (err) { say(String(err.message)); }).then(function () { buttons.hold.disabled = false; });
  }

  var actions = { answer: answer, decline: decline, mute: mute, hold: hold, hangup: hangup };
  bar.addEventListener("click", function (ev) {
    var b = ev.target.closest("button[data-action]");
    if (b && actions[b.getAttribute("data-action")]) { actions[b.getAttribute("data-action")](); }
  });
  document.addEventListener("keydown", function (ev) {
    if (!ev.altKey || !ev.shiftKey) { return; }
    var k = ev.key.toUpperCase();
    var f = { A: answer, M: mute, H: hold, X: function () { if (!buttons.decline.hidden) { decline(); } else { hangup(); } } }[k];
    if (f) { ev.preventDefault(); f(); }
  });

  function start() {
    if (!window.Twilio || !window.Twilio.Device) { say(L.off); return; }
    api("GET", "/api/v1/voice/token").then(function (tok) {
      device = new window.Twilio.Device(tok.token, { closeProtection: true, codecPreferences: ["opus", "pcmu"] });
      device.on("registered", function () { root.setAttribute("data-ready", "true"); say(L.ready); });
      device.on("error", function (err) { say(L.off + ": " + (err && err.message ? err.message : err)); });
      device.on("incoming", incoming);
      device.on("tokenWillExpire", function () {
        api("GET", "/api/v1/voice/token").then(function (t) { device.updateToken(t.token); });
      });
      device.register();
    }).catch(function () {
      // Not configured (503) or signed out: the inbox works without the phone.
      root.hidden = true;
    });
    root.hidden = false;
    show([]);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
