// The job report's timeline and cue lists, drawn from the JSON in #report-data.
// Every string from the job reaches the page through textContent or the canvas, never as HTML.
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("report-data").textContent);
  var duration = Math.max(D.duration_s || 0, 0.001);
  var canvas = document.getElementById("timeline-canvas");
  var ctx = canvas.getContext("2d");
  var details = document.getElementById("details");
  var viewLabel = document.getElementById("view");
  var LABEL_W = 120, PAD_R = 10, MIN_SPAN = 0.05;
  var view = { t0: 0, t1: duration };
  var selected = null; // {track: index, cue: index}
  var COLORS = ["#1e88e5", "#e53935", "#43a047", "#fb8c00", "#8e24aa", "#00897b", "#6d4c41", "#3949ab", "#c0ca33", "#d81b60"];

  function fmt(t) {
    var neg = t < 0; t = Math.abs(t);
    var h = Math.floor(t / 3600), m = Math.floor(t / 60) % 60, s = t - 60 * Math.floor(t / 60);
    var text = (h ? h + ":" + String(m).padStart(2, "0") : String(m)) + ":" + s.toFixed(3).padStart(6, "0");
    return (neg ? "-" : "") + text;
  }

  // cues with QC violations, by track name and cue number (1-based, as in the SRT file)
  var badCues = {};
  (D.qc || []).forEach(function (v) { (badCues[v.track] = badCues[v.track] || {})[v.cue] = true; });

  // --- lanes: each draws itself between y and y + height, and finds the item under a time ---
  var lanes = [];
  lanes.push({ label: "time", height: 22, draw: drawRuler });
  if (D.envelope && D.envelope.peak && D.envelope.peak.length) lanes.push({ label: "audio energy", height: 64, draw: drawEnvelope });
  Object.keys(D.speech || {}).forEach(function (stage) {
    lanes.push(regionLane(stage, D.speech[stage].map(function (r) { return { s: r[0], e: r[1], text: stage + " speech" }; }), "#546e7a"));
  });
  if (D.speakers && D.speakers.turns.length) {
    var labels = [];
    D.speakers.turns.forEach(function (t) { if (labels.indexOf(t[2]) < 0) labels.push(t[2]); });
    labels.slice(0, 10).forEach(function (label, k) {
      var name = D.speakers.names[label] || label;
      var turns = D.speakers.turns.filter(function (t) { return t[2] === label; })
        .map(function (t) { return { s: t[0], e: t[1], text: "speaker " + name }; });
      lanes.push(regionLane(name, turns, COLORS[k % COLORS.length]));
    });
    if (labels.length > 10) { // one lane for the rest, each turn still named
      var rest = D.speakers.turns.filter(function (t) { return labels.indexOf(t[2]) >= 10; })
        .map(function (t) { return { s: t[0], e: t[1], text: "speaker " + (D.speakers.names[t[2]] || t[2]) }; });
      lanes.push(regionLane((labels.length - 10) + " more speakers", rest, "#9e9e9e"));
    }
  }
  if (D.songs && D.songs.length) {
    lanes.push(regionLane("songs", D.songs.map(function (r) { return { s: r[0], e: r[1], alpha: 0.35 + 0.65 * r[2], text: "song, confidence " + r[2] }; }), "#8e24aa"));
  }
  if (D.shots) lanes.push(markLane("shot cuts", D.shots.map(function (t) { return { s: t, text: "shot cut" }; }), "#37474f"));
  var marks = [];
  if (D.corrections) D.corrections.corrections.forEach(function (c) { marks.push({ s: c.start_s, e: c.end_s, text: "post-ner: " + c.original + " -> " + c.corrected, color: "#2e7d32" }); });
  (D.removals || []).forEach(function (r) { marks.push({ s: r.start_s, e: r.end_s, text: "asr removed: " + r.text + " (" + r.reason + ")", color: "#c62828" }); });
  if (marks.length) lanes.push(regionLane("corrections", marks, "#2e7d32"));
  (D.tracks || []).forEach(function (track, k) { lanes.push(trackLane(track, k)); });

  function regionLane(label, items, color) {
    return { label: label, height: 18, items: items, draw: function (y, h) {
      items.forEach(function (it) {
        if (it.e < view.t0 || it.s > view.t1) return;
        var a = x(it.s), b = Math.max(x(it.e), a + 1);
        ctx.globalAlpha = it.alpha || 0.85; ctx.fillStyle = it.color || color;
        ctx.fillRect(a, y + 2, b - a, h - 4);
      });
      ctx.globalAlpha = 1;
    }, hit: function (t) { return items.filter(function (it) { return it.s <= t && t <= it.e; })[0]; } };
  }

  function markLane(label, items, color) {
    return { label: label, height: 18, items: items, draw: function (y, h) {
      ctx.fillStyle = color;
      items.forEach(function (it) { if (it.s >= view.t0 && it.s <= view.t1) ctx.fillRect(Math.round(x(it.s)), y + 1, 2, h - 2); });
    }, hit: function (t) {
      var tol = 4 * (view.t1 - view.t0) / plotWidth();
      return items.filter(function (it) { return Math.abs(it.s - t) <= tol; })[0];
    } };
  }

  function trackLane(track, k) {
    var bad = badCues[track.name] || {};
    return { label: track.language + " " + track.kind, height: 34, track: k, draw: function (y, h) {
      ctx.font = "12px system-ui, sans-serif"; ctx.textBaseline = "middle";
      track.cues.forEach(function (c, i) {
        var s = c[0] / 1000, e = c[1] / 1000;
        if (e < view.t0 || s > view.t1) return;
        var a = x(s), b = Math.max(x(e), a + 1);
        var chosen = selected && selected.track === k && selected.cue === i;
        ctx.fillStyle = chosen ? "#ffca28" : "#90caf9"; ctx.fillRect(a, y + 3, b - a, h - 6);
        if (bad[i + 1]) { ctx.strokeStyle = "#c62828"; ctx.lineWidth = 2; ctx.strokeRect(a + 1, y + 4, b - a - 2, h - 8); }
        if (b - a > 30) {
          ctx.save(); ctx.beginPath(); ctx.rect(a + 3, y, b - a - 6, h); ctx.clip();
          ctx.fillStyle = "#0d1b2a"; ctx.fillText(c[2].replace(/\n/g, " / "), a + 4, y + h / 2); ctx.restore();
        }
      });
    }, hit: function (t) {
      for (var i = 0; i < track.cues.length; i++) {
        var c = track.cues[i];
        if (c[0] / 1000 <= t && t <= c[1] / 1000) return { cue: i, track: k };
      }
    } };
  }

  function plotWidth() { return canvas.clientWidth - LABEL_W - PAD_R; }
  function x(t) { return LABEL_W + (t - view.t0) / (view.t1 - view.t0) * plotWidth(); }
  function timeAt(px) { return view.t0 + (px - LABEL_W) / plotWidth() * (view.t1 - view.t0); }

  function drawRuler(y, h) {
    var span = view.t1 - view.t0, target = span / Math.max(1, plotWidth() / 90);
    var steps = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600];
    var step = steps.filter(function (s) { return s >= target; })[0] || 3600;
    ctx.fillStyle = "#667085"; ctx.font = "11px system-ui, sans-serif"; ctx.textBaseline = "top";
    for (var t = Math.ceil(view.t0 / step) * step; t <= view.t1; t += step) {
      var px = Math.round(x(t)), label = fmt(t);
      ctx.fillRect(px, y + h - 6, 1, 6); ctx.fillText(step >= 1 ? label.replace(/\.000$/, "") : label, px + 2, y + 2);
    }
  }

  function drawEnvelope(y, h) {
    var env = D.envelope, n = env.peak.length, w = plotWidth();
    function level(v) { return v <= 0 ? 0 : Math.max(0, 1 + Math.log10(v / 1000) / 2.4); } // 48 dB shown
    for (var px = 0; px < w; px++) {
      var a = Math.floor((view.t0 + px / w * (view.t1 - view.t0)) / env.bucket_s);
      var b = Math.max(a + 1, Math.floor((view.t0 + (px + 1) / w * (view.t1 - view.t0)) / env.bucket_s));
      if (b <= 0 || a >= n) continue;
      var peak = 0, rms = 0;
      for (var i = Math.max(0, a); i < Math.min(n, b); i++) { peak = Math.max(peak, env.peak[i]); rms = Math.max(rms, env.rms[i]); }
      var mid = y + h / 2, hp = level(peak) * (h / 2 - 1), hr = level(rms) * (h / 2 - 1);
      ctx.fillStyle = "#90a4ae"; ctx.fillRect(LABEL_W + px, mid - hp, 1, 2 * hp + 1);
      ctx.fillStyle = "#37474f"; ctx.fillRect(LABEL_W + px, mid - hr, 1, 2 * hr + 1);
    }
  }

  function layout() {
    var y = 0;
    lanes.forEach(function (lane) { lane.y = y; y += lane.height; });
    return y;
  }

  function draw() {
    var dpr = window.devicePixelRatio || 1, height = layout();
    canvas.style.height = height + "px";
    canvas.width = Math.round(canvas.clientWidth * dpr); canvas.height = Math.round(height * dpr);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = "#ffffff"; ctx.fillRect(0, 0, canvas.clientWidth, height);
    lanes.forEach(function (lane, k) {
      if (k % 2) { ctx.fillStyle = "#f7f9fc"; ctx.fillRect(0, lane.y, canvas.clientWidth, lane.height); }
      ctx.save(); ctx.beginPath(); ctx.rect(LABEL_W, lane.y, plotWidth(), lane.height); ctx.clip();
      lane.draw(lane.y, lane.height); ctx.restore();
      ctx.fillStyle = "#1d2330"; ctx.font = "12px system-ui, sans-serif"; ctx.textBaseline = "middle";
      ctx.save(); ctx.beginPath(); ctx.rect(0, lane.y, LABEL_W - 6, lane.height); ctx.clip();
      ctx.fillText(lane.label, 6, lane.y + lane.height / 2); ctx.restore();
    });
    ctx.fillStyle = "#d9dee7"; ctx.fillRect(LABEL_W - 1, 0, 1, height);
    viewLabel.textContent = fmt(view.t0) + " – " + fmt(view.t1) + " of " + fmt(duration);
  }

  function setView(t0, t1) {
    var span = Math.min(duration, Math.max(MIN_SPAN, t1 - t0));
    t0 = Math.max(0, Math.min(t0, duration - span));
    view = { t0: t0, t1: t0 + span }; draw();
  }
  function zoom(factor, at) {
    at = at === undefined ? (view.t0 + view.t1) / 2 : at;
    setView(at - (at - view.t0) * factor, at + (view.t1 - at) * factor);
  }

  function show(lines) { details.textContent = lines.filter(function (l) { return l; }).join("\n"); }
  function showCue(k, i) {
    var track = D.tracks[k], c = track.cues[i];
    var found = (D.qc || []).filter(function (v) { return v.track === track.name && v.cue === i + 1; });
    show(["track " + track.name + " (" + track.language + ", " + track.kind + "), cue " + (i + 1) + ": " + fmt(c[0] / 1000) + " – " + fmt(c[1] / 1000),
          c[2]].concat(found.map(function (v) { return "QC " + v.rule + ": " + v.measured + " (limit " + v.limit + ")" + (v.note ? ", " + v.note : ""); })));
    document.querySelectorAll("tr.cue.selected").forEach(function (row) { row.classList.remove("selected"); });
    var row = document.getElementById("cue-" + k + "-" + (i + 1));
    if (row) row.classList.add("selected");
  }

  // Jump to cue ``number`` (1-based) of the track named ``name``; its times decide when the number does not fit.
  function jumpTo(name, number, startMs, endMs, label) {
    var k = -1;
    D.tracks.forEach(function (t, j) { if (t.name === name && k < 0) k = j; });
    var i = -1;
    if (k >= 0) {
      var cues = D.tracks[k].cues;
      if (number >= 1 && number <= cues.length && (startMs === undefined || cues[number - 1][0] === startMs)) i = number - 1;
      else cues.forEach(function (c, j) { if (i < 0 && c[0] === startMs) i = j; });
    }
    if (!name) { // a time, not a cue: a correction, a removal
      selected = null; setView(startMs / 1000 - 2, endMs / 1000 + 2);
      show([fmt(startMs / 1000) + " – " + fmt(endMs / 1000) + (label ? ": " + label : "")]);
      document.getElementById("timeline").scrollIntoView({ block: "nearest" });
      return;
    }
    var s = (i >= 0 ? D.tracks[k].cues[i][0] : startMs) / 1000, e = (i >= 0 ? D.tracks[k].cues[i][1] : endMs) / 1000;
    var pad = Math.max(1, (e - s) * 1.5);
    selected = i >= 0 ? { track: k, cue: i } : null;
    setView(s - pad, e + pad);
    if (i >= 0) showCue(k, i); else show(["no such cue in the timeline: " + name + " cue " + number + " at " + fmt(s)]);
    document.getElementById("timeline").scrollIntoView({ block: "nearest" });
  }
  window.reportJumpTo = jumpTo;

  // --- interaction ---
  var drag = null;
  canvas.addEventListener("wheel", function (ev) {
    ev.preventDefault();
    zoom(ev.deltaY > 0 ? 1.25 : 0.8, timeAt(ev.offsetX));
  }, { passive: false });
  canvas.addEventListener("mousedown", function (ev) { drag = { x: ev.clientX, t0: view.t0, t1: view.t1, moved: false }; canvas.classList.add("dragging"); });
  window.addEventListener("mousemove", function (ev) {
    if (!drag) return;
    var dt = (ev.clientX - drag.x) / plotWidth() * (drag.t1 - drag.t0);
    if (Math.abs(ev.clientX - drag.x) > 3) drag.moved = true;
    if (drag.moved) setView(drag.t0 - dt, drag.t1 - dt);
  });
  window.addEventListener("mouseup", function () { canvas.classList.remove("dragging"); setTimeout(function () { drag = null; }, 0); });
  canvas.addEventListener("click", function (ev) {
    if (drag && drag.moved) return;
    var t = timeAt(ev.offsetX), lane = lanes.filter(function (l) { return ev.offsetY >= l.y && ev.offsetY < l.y + l.height; })[0];
    if (!lane || !lane.hit || ev.offsetX < LABEL_W) return;
    var found = lane.hit(t);
    if (!found) { show([lane.label + " at " + fmt(t) + ": nothing"]); return; }
    if (found.cue !== undefined) { selected = found; draw(); showCue(found.track, found.cue); return; }
    show([lane.label + ": " + fmt(found.s) + (found.e !== undefined ? " – " + fmt(found.e) : ""), found.text]);
  });
  document.getElementById("zoom-in").addEventListener("click", function () { zoom(0.5); });
  document.getElementById("zoom-out").addEventListener("click", function () { zoom(2); });
  document.getElementById("zoom-fit").addEventListener("click", function () { setView(0, duration); });
  window.addEventListener("resize", draw);
  document.querySelectorAll("[data-jump]").forEach(function (link) {
    link.addEventListener("click", function (ev) {
      ev.preventDefault();
      jumpTo(link.dataset.track, Number(link.dataset.cue), Number(link.dataset.start), Number(link.dataset.end), link.dataset.label);
    });
  });

  // --- the cue list of every track, built as text ---
  var list = document.getElementById("cue-lists");
  D.tracks.forEach(function (track, k) {
    var box = document.createElement("details"); box.className = "track"; box.open = D.tracks.length === 1;
    var summary = document.createElement("summary");
    summary.textContent = track.path + " (" + track.language + ", " + track.kind + "): " + track.cues.length + " cues";
    box.appendChild(summary);
    var table = document.createElement("table"), head = table.insertRow();
    ["#", "start", "end", "text"].forEach(function (name) { var th = document.createElement("th"); th.textContent = name; head.appendChild(th); });
    track.cues.forEach(function (c, i) {
      var row = table.insertRow(); row.className = "cue" + ((badCues[track.name] || {})[i + 1] ? " bad" : ""); row.id = "cue-" + k + "-" + (i + 1);
      [String(i + 1), fmt(c[0] / 1000), fmt(c[1] / 1000), c[2]].forEach(function (text, j) {
        var cell = row.insertCell(); cell.textContent = text; cell.className = j < 3 ? "num" : "cuetext";
      });
      row.addEventListener("click", function () { jumpTo(track.name, i + 1, c[0], c[1]); });
    });
    box.appendChild(table); list.appendChild(box);
  });
  if (!D.tracks.length) list.textContent = "no subtitle tracks in this job (yet)";

  draw();
  // report.html#qc-3 opens at the third QC entry's cue, as a click on it does
  var wanted = /^#qc-(\d+)$/.exec(window.location.hash);
  var entry = wanted && document.querySelector('a[data-qc="' + wanted[1] + '"]');
  if (entry) entry.click();
  var box = canvas.getBoundingClientRect(); // where the timeline is, for a test's screenshot
  document.body.setAttribute("data-timeline", [box.left + LABEL_W, box.top + window.scrollY, plotWidth(), box.height].map(Math.round).join(","));
  document.body.setAttribute("data-ready", "1");
})();
