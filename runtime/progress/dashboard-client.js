/*
 * The dashboard's script (browser JavaScript, inlined into dashboard-assets.ts by
 * scripts/generate-dashboard-assets.mjs; uPlot is loaded before it as the global `uPlot`).
 *
 * Contract: polls `status` and `progress?after=LAST` (relative URLs, so it works behind a proxy
 * path) every second, keeps the newest MAX_BATCHES batches, and draws one uPlot chart per entry
 * of CHARTS against the batches' end times. A chart whose series change (a new operator, a new
 * dead-letter reason) is rebuilt; otherwise its data is replaced. Rates are derived as
 * runtime/progress/derived-figures.ts derives them: the input rate over the time since the
 * previous batch started (Spark's), the processing rate over the batch's own duration.
 * `window.streamcDashboard` exposes the charts (uPlot instances by id), their series colours, the palette and a count
 * of polls, for tests and for the curious.
 */
"use strict";
(function () {
  var PALETTE = ["#2563eb", "#f97316", "#16a34a", "#9333ea", "#dc2626", "#0891b2", "#ca8a04", "#db2777"];
  var MAX_BATCHES = 600;
  var POLL_MS = 1000;
  var CHART_HEIGHT = 200;

  var batches = [];
  var status = null;
  var charts = {};
  var exposed = { charts: {}, colors: {}, palette: PALETTE, polls: 0, failures: 0 };
  window.streamcDashboard = exposed;

  function startMs(p) { return Date.parse(p.timestamp) - p.durationMs.triggerExecution; }

  /** Input rows/s of batches[i]: since the previous batch of the same run started (Spark's input rate). */
  function inputRate(i) {
    var p = batches[i], prev = batches[i - 1];
    var interval = prev && prev.runId === p.runId && prev.batchId === p.batchId - 1 ? startMs(p) - startMs(prev) : 0;
    if (!(interval > 0)) interval = p.durationMs.triggerExecution;
    return p.numInputRows / (Math.max(interval, 1) / 1000);
  }

  function watermarkDelay(p) {
    if (!p.eventTime || !p.eventTime.watermark) return null;
    var w = Date.parse(p.eventTime.watermark);
    return isNaN(w) ? null : (Date.parse(p.timestamp) - w) / 1000;
  }

  /** Distinct names over every batch, in order of first appearance. */
  function namesOf(list) {
    var seen = [];
    batches.forEach(function (p) { list(p).forEach(function (n) { if (seen.indexOf(n) < 0) seen.push(n); }); });
    return seen;
  }

  var CHARTS = [
    {
      id: "rates", title: "Input rate and processing rate", unit: "rows/s", format: formatCount,
      note: "rows arriving per second against rows a batch handles per second of work; input near processing means it barely keeps up",
      build: function () {
        return { names: ["input rate", "processing rate"], columns: [batches.map(function (_, i) { return inputRate(i); }), batches.map(function (p) { return p.processedRowsPerSecond; })] };
      },
    },
    {
      id: "duration", title: "Batch duration and trigger interval", unit: "", format: formatMs,
      note: "a batch longer than the trigger interval means batches run back to back and the pipeline falls behind",
      build: function () {
        var interval = status && status.trigger && status.trigger.intervalMs !== undefined ? status.trigger.intervalMs : null;
        return {
          names: ["batch duration", interval === null ? "trigger interval (none)" : "trigger interval"],
          columns: [batches.map(function (p) { return p.durationMs.triggerExecution; }), batches.map(function () { return interval; })],
          dash: [false, true],
        };
      },
    },
    {
      id: "watermark", title: "Watermark delay", unit: "", format: formatSeconds, fromZero: false, tick: formatSpan,
      note: "end of each batch minus its watermark: how far behind real time the event-time clock is",
      build: function () { return { names: ["watermark delay"], columns: [batches.map(watermarkDelay)] }; },
    },
    {
      id: "state", title: "State size", unit: "rows", format: formatCount,
      note: "rows (or groups) each stateful operator holds",
      build: function () {
        var names = namesOf(function (p) { return p.stateOperators.map(function (o) { return o.operatorName; }); });
        return {
          names: names,
          columns: names.map(function (n) { return batches.map(function (p) { var o = p.stateOperators.find(function (s) { return s.operatorName === n; }); return o ? o.numRowsTotal : null; }); }),
          empty: "this pipeline has no stateful operator",
        };
      },
    },
    {
      id: "deadletters", title: "Dead letters", unit: "per batch", format: formatCount, bars: true,
      note: "records rejected per batch, by reason (late rows included), stacked",
      build: function () {
        var names = namesOf(function (p) { return Object.keys(p.deadLetters); });
        if (names.length === 0) return { names: ["none"], columns: [batches.map(function () { return 0; })] };
        var raw = names.map(function (n) { return batches.map(function (p) { return p.deadLetters[n] || 0; }); });
        var stacked = raw.map(function (_, i) { return batches.map(function (_, j) { var sum = 0; for (var k = 0; k <= i; k++) sum += raw[k][j]; return sum; }); });
        // The tallest stack is drawn first, each lower one over it; the legend shows each reason's own count.
        var order = names.map(function (_, i) { return names.length - 1 - i; });
        return {
          names: order.map(function (i) { return names[i]; }),
          columns: order.map(function (i) { return stacked[i]; }),
          raw: order.map(function (i) { return raw[i]; }),
          colors: order.map(function (i) { return PALETTE[i % PALETTE.length]; }),
        };
      },
    },
    {
      id: "behind", title: "Behind latest", unit: "records", format: formatCount,
      note: "records (or files) each source has that are not read yet, after each batch",
      build: function () {
        var names = namesOf(function (p) { return p.sources.map(function (s) { return s.name; }); });
        return { names: names, columns: names.map(function (n) { return batches.map(function (p) { var s = p.sources.find(function (x) { return x.name === n; }); return s ? s.metrics.offsetsBehindLatest : null; }); }) };
      },
    },
  ];

  function formatCount(v) {
    if (v === null || v === undefined || isNaN(v)) return "–";
    var a = Math.abs(v);
    if (a >= 1e9) return (v / 1e9).toFixed(1) + "G";
    if (a >= 1e6) return (v / 1e6).toFixed(1) + "M";
    if (a >= 1e4) return (v / 1e3).toFixed(1) + "k";
    return a >= 100 || Number.isInteger(v) ? Math.round(v).toLocaleString("en") : v.toFixed(1);
  }
  function formatMs(v) { return v === null || v === undefined ? "–" : v >= 1000 ? formatSeconds(v / 1000) : (v >= 10 ? Math.round(v) : v.toFixed(1)) + " ms"; }
  function formatSeconds(s) {
    if (s === null || s === undefined || isNaN(s)) return "–";
    var sign = s < 0 ? "−" : "";
    s = Math.abs(s);
    if (s < 1) return sign + Math.round(s * 1000) + " ms";
    if (s < 60) return sign + s.toFixed(1) + " s";
    if (s < 3600) return sign + Math.floor(s / 60) + " m " + pad(Math.floor(s % 60)) + " s";
    if (s < 86400) return sign + Math.floor(s / 3600) + " h " + pad(Math.floor((s % 3600) / 60)) + " m";
    if (s < 864000) return sign + Math.floor(s / 86400) + " d " + Math.floor((s % 86400) / 3600) + " h";
    return sign + Math.floor(s / 86400).toLocaleString("en") + " d";
  }
  /** A tick of a span axis, in units down to the tick increment's, so that neighbouring ticks differ: `1,055 d 3 h 52 m`. */
  function formatSpan(s, increment) {
    if (!(increment >= 1) || Math.abs(s) < 60) return formatSeconds(s);
    var units = [[86400, " d"], [3600, " h"], [60, " m"], [1, " s"]];
    var parts = [], rest = Math.abs(s);
    for (var k = 0; k < units.length; k++) {
      var n = Math.floor(rest / units[k][0]);
      rest -= n * units[k][0];
      if (n || parts.length) parts.push(n.toLocaleString("en") + units[k][1]);
      if (units[k][0] <= increment) break;
    }
    return (s < 0 ? "−" : "") + (parts.length ? parts.join(" ") : "0 s");
  }
  function pad(n) { return n < 10 ? "0" + n : String(n); }

  function layout() {
    var main = document.getElementById("charts");
    CHARTS.forEach(function (spec) {
      var card = document.createElement("section");
      card.className = "card";
      card.id = "card-" + spec.id;
      var h = document.createElement("h2");
      h.textContent = spec.title + (spec.unit ? " (" + spec.unit + ")" : "");
      var p = document.createElement("p");
      p.textContent = spec.note;
      var area = document.createElement("div");
      area.className = "chart";
      area.id = "chart-" + spec.id;
      card.appendChild(h);
      card.appendChild(p);
      card.appendChild(area);
      main.appendChild(card);
    });
  }

  function colorsOf(built) {
    return built.colors || built.names.map(function (_, i) { return PALETTE[i % PALETTE.length]; });
  }

  function makePlot(spec, built, area, chart) {
    var colors = colorsOf(built);
    var series = [{}].concat(built.names.map(function (name, i) {
      var s = {
        label: name, stroke: colors[i], width: 2, points: { show: false },
        // Stacked series show their own count, not the stack's top.
        value: function (u, v, si, idx) { return spec.format(chart.raw && idx !== null && idx !== undefined ? chart.raw[si - 1][idx] : v); },
      };
      if (built.dash && built.dash[i]) s.dash = [6, 4];
      if (spec.bars) { s.paths = uPlot.paths.bars({ size: [0.7, 24] }); s.fill = colors[i]; s.width = 1; }
      return s;
    }));
    var fromZero = spec.fromZero !== false;
    return new uPlot({
      width: Math.max(area.clientWidth, 300),
      height: CHART_HEIGHT,
      series: series,
      scales: { x: { time: true }, y: fromZero ? { range: function (u, min, max) { return [0, max > 0 ? max * 1.1 : 1]; } } : {} },
      axes: [
        { stroke: "#64748b", grid: { stroke: "#eef2f7" }, ticks: { stroke: "#e2e8f0" } },
        {
          stroke: "#64748b", grid: { stroke: "#eef2f7" }, ticks: { stroke: "#e2e8f0" },
          values: function (u, vals, axis, space, increment) { return vals.map(function (v) { return spec.tick ? spec.tick(v, increment) : spec.format(v); }); },
          // Wide enough for the longest tick label.
          size: function (u, values) { return 24 + 7 * (values || []).reduce(function (a, v) { return Math.max(a, String(v).length); }, 4); },
        },
      ],
      cursor: { drag: { x: false, y: false } },
      legend: { live: true },
    }, [[]].concat(built.names.map(function () { return []; })), area);
  }

  function draw() {
    var xs = batches.map(function (p) { return Date.parse(p.timestamp) / 1000; });
    CHARTS.forEach(function (spec) {
      var built = spec.build();
      var area = document.getElementById("chart-" + spec.id);
      var chart = charts[spec.id];
      var key = built.names.join("\u0000");
      if (!chart || chart.key !== key) {
        if (chart) chart.plot.destroy();
        chart = charts[spec.id] = { key: key, raw: null, plot: null };
        chart.plot = makePlot(spec, built, area, chart);
        exposed.charts[spec.id] = chart.plot;
        exposed.colors[spec.id] = colorsOf(built);
      }
      chart.raw = built.raw || null;
      chart.plot.setData([xs].concat(built.columns));
      var empty = area.querySelector(".empty");
      var message = built.names.length === 0 ? built.empty || "no data yet" : batches.length === 0 ? "waiting for the first batch" : "";
      if (message && !empty) { empty = document.createElement("div"); empty.className = "empty"; area.appendChild(empty); }
      if (empty) empty.textContent = message;
    });
  }

  function text(id, value) { document.getElementById(id).textContent = value; }

  function showStatus(connected) {
    var badge = document.getElementById("state");
    var state = connected && status ? status.state : "disconnected";
    badge.textContent = state;
    badge.className = "badge " + state;
    if (!status) return;
    text("pipeline", status.pipeline.name);
    document.title = "streamc · " + status.pipeline.name;
    var trigger = status.trigger.kind === "every" ? "every " + formatMs(status.trigger.intervalMs) : status.trigger.kind.replace("_", " ");
    var facts = [
      ["batch", status.lastBatch ? String(status.lastBatch.batchId) : "none yet"],
      ["trigger", trigger],
      ["up", formatSeconds(status.uptimeSeconds)],
      ["checkpoint", status.checkpoint || "none"],
    ];
    var el = document.getElementById("facts");
    el.textContent = "";
    facts.forEach(function (f, i) {
      if (i) el.appendChild(document.createTextNode(" · "));
      el.appendChild(document.createTextNode(f[0] + " "));
      var b = document.createElement("b");
      b.textContent = f[1];
      el.appendChild(b);
    });
    var last = status.lastBatch;
    text("tile-input", last ? formatCount(last.inputRowsPerSecond) : "–");
    text("tile-processed", last ? formatCount(last.processedRowsPerSecond) : "–");
    text("tile-duration", last ? formatMs(last.durationMs) : "–");
    text("tile-watermark", status.watermarkLagSeconds === null ? "none" : formatSeconds(status.watermarkLagSeconds));
    text("tile-behind", last ? formatCount(status.sources.reduce(function (a, s) { return a + (s.offsetsBehindLatest || 0); }, 0)) : "–");
    var dead = Object.keys(status.deadLetters).reduce(function (a, k) { return a + status.deadLetters[k]; }, 0);
    text("tile-dead", formatCount(dead));
  }

  function getJson(url) {
    return fetch(url, { cache: "no-store" }).then(function (r) {
      if (!r.ok) throw new Error(url + ": HTTP " + r.status);
      return r.json();
    });
  }

  function poll() {
    var last = batches.length ? batches[batches.length - 1].batchId : null;
    Promise.all([getJson("status"), getJson(last === null ? "progress" : "progress?after=" + last)])
      .then(function (answers) {
        status = answers[0];
        answers[1].forEach(function (p) { batches.push(p); });
        if (batches.length > MAX_BATCHES) batches.splice(0, batches.length - MAX_BATCHES);
        exposed.polls++;
        showStatus(true);
        draw();
      })
      .catch(function () {
        exposed.failures++;
        showStatus(false);
      })
      .then(function () { setTimeout(poll, POLL_MS); });
  }

  window.addEventListener("resize", function () {
    Object.keys(charts).forEach(function (id) {
      var area = document.getElementById("chart-" + id);
      charts[id].plot.setSize({ width: Math.max(area.clientWidth, 300), height: CHART_HEIGHT });
    });
  });

  layout();
  draw();
  poll();
})();
