// Sportello's shared page helpers, loaded before every page script: the labels a page hands its
// script, %s/%d formatting, DOM building (citizen data only ever through textContent), the CSRF
// token, and the SMS segment count. Plain JavaScript, no build step.
(function () {
  "use strict";

  // labels returns t(key) over the JSON object in the element with that id (key itself when absent).
  function labels(id) {
    var table = {};
    var node = document.getElementById(id);
    if (node) {
      try { table = JSON.parse(node.textContent || "{}"); } catch (e) { table = {}; }
    }
    return function (key) { return Object.prototype.hasOwnProperty.call(table, key) ? table[key] : key; };
  }

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

  function csrf() {
    var m = document.querySelector("meta[name=csrf-token]");
    return m ? m.getAttribute("content") : "";
  }

  // ---- SMS segments: the rules of the gsm7 package (GSM-7 160/153, UCS-2 70/67).
  var GSM_BASIC = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  var GSM_EXT = "\f^{}\\[~]|€";
  var septets = {};
  Array.from(GSM_BASIC).forEach(function (c) { septets[c] = 1; });
  Array.from(GSM_EXT).forEach(function (c) { septets[c] = 2; });

  // segments says how many SMS a text costs: {segments, encoding, units, nonGSM}, where units
  // are septets (GSM-7) or UTF-16 code units (UCS-2) and nonGSM lists the characters that force UCS-2.
  function segments(body) {
    var chars = Array.from(body);
    if (chars.length === 0) { return { segments: 0, encoding: "GSM-7", units: 0, nonGSM: [] }; }
    var nonGSM = [];
    chars.forEach(function (c) {
      if (!septets[c] && nonGSM.indexOf(c) < 0) { nonGSM.push(c); }
    });
    var ucs = nonGSM.length > 0;
    var single = ucs ? 70 : 160, split = ucs ? 67 : 153;
    var widths = chars.map(function (c) { return ucs ? (c.codePointAt(0) > 0xFFFF ? 2 : 1) : septets[c]; });
    var total = widths.reduce(function (a, b) { return a + b; }, 0);
    var n = 1;
    if (total > single) {
      var room = split;
      widths.forEach(function (w) { if (w > room) { n++; room = split; } room -= w; });
    }
    return { segments: n, encoding: ucs ? "UCS-2" : "GSM-7", units: total, nonGSM: nonGSM };
  }

  window.Sportello = { labels: labels, fmt: fmt, el: el, csrf: csrf, segments: segments };
  window.sportelloSegments = segments;
})();
