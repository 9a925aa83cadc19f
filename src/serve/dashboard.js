// The dashboard's page: log in, then every few seconds the meters' power, the GPUs' power, the
// plans (with approve and reject for approvers), the data quality and the audit log, all from
// /api (docs/openapi.yaml). Text from the store goes in as text (textContent), never as HTML.
"use strict";
(function () {
  const $ = (s) => document.querySelector(s);
  const rank = { viewer: 0, operator: 1, approver: 2, admin: 3 };
  let session = null, timer = null, chart = null, twinChart = null, forecastChart = null, refreshFailed = false;
  let events = [];  // [{ms, label, kind}]: what the charts of the last hour mark

  // Events worth a mark on the charts: the detector's findings (when raised) and the plans'
  // decisions and actions from the audit log.
  function eventsOf(log, found) {
    const out = [];
    for (const a of found.anomalies || []) out.push({ ms: a.detected_ms, label: a.cause + " " + a.target, kind: "anomaly" });
    for (const e of log.entries || []) {
      if (!/^plan_(approved|rejected|applied|verified|expired)$/.test(e.action)) continue;
      out.push({ ms: e.t_ms, label: e.subject + " " + e.action.slice(5), kind: "plan" });
    }
    return out;
  }

  // A uPlot draw hook marking `events` that fall inside the chart: a dashed line and its label.
  function markEvents(u) {
    const g = u.ctx;
    g.save();
    g.font = Math.round(11 * devicePixelRatio) + "px system-ui, sans-serif";
    events.forEach((e, k) => {
      const x = e.ms / 1000;
      if (x < u.scales.x.min || x > u.scales.x.max) return;
      const px = Math.round(u.valToPos(x, "x", true));
      g.strokeStyle = g.fillStyle = e.kind === "anomaly" ? "#a1131b" : "#6a3d9a";
      g.setLineDash([4, 3]);
      g.beginPath();
      g.moveTo(px, u.bbox.top);
      g.lineTo(px, u.bbox.top + u.bbox.height);
      g.stroke();
      g.fillText(e.label, px + 3, u.bbox.top + (12 + 12 * (k % 3)) * devicePixelRatio);
    });
    g.restore();
  }

  async function api(method, path, body) {
    const headers = {};
    if (session) headers["X-CSRF-Token"] = session.csrf;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const r = await fetch(path, { method, headers, credentials: "same-origin",
                                  body: body === undefined ? undefined : JSON.stringify(body) });
    const j = await r.json().catch(() => ({}));
    if (!r.ok) {
      const e = new Error(j.error || r.status + " " + r.statusText);
      e.status = r.status;
      throw e;
    }
    return j;
  }
  function cell(row, text, cls) {
    const td = row.insertCell();
    td.textContent = text === null || text === undefined ? "" : String(text);
    if (cls) td.className = cls;
    return td;
  }
  const iso = (ms) => {
    const d = new Date(ms);
    return isNaN(d) ? String(ms) + " ms" : d.toISOString().replace("T", " ").slice(0, 19);
  };
  function say(text, bad) {
    $("#message").textContent = text;
    $("#message").className = bad ? "error" : "note";
  }

  function enter(s) {
    session = s;
    $("#login").hidden = true;
    $("#board").hidden = false;
    $("#logout").hidden = false;
    $("#who").textContent = s.user + " (" + s.role + ")";
    loop();
  }
  // Each refresh starts 1 s after the last one ended (issue #15: once a second), so slow answers
  // never pile up; the server shares its costly answers for their periods ("Cost").
  async function loop() {
    await refresh();
    if (session) timer = setTimeout(loop, 1000);
  }
  function leave() {
    session = null;
    clearTimeout(timer);
    $("#board").hidden = true;
    $("#logout").hidden = true;
    $("#login").hidden = false;
    $("#who").textContent = "";
  }

  async function power() {
    const kinds = [["facility", "site"], ["ups", "ups"], ["meter", "it-input"], ["meter", "cooling"]];
    const found = [], cut = [];
    for (const [entity, id] of kinds) {
      const t = await api("GET", "/api/telemetry?entity=" + entity + "&id=" + encodeURIComponent(id) +
                          "&quantity=power&last_s=3600&max_points=7200");
      for (const s of t.series) if (s.unit === "W") found.push(s);
      for (const s of t.series) if (s.truncated) cut.push(s.entity + "/" + s.id);
    }
    const times = [...new Set(found.flatMap((s) => s.samples.map((p) => p[0])))].sort((a, b) => a - b);
    const at = new Map(times.map((t, i) => [t, i]));
    const data = [times.map((t) => t / 1000)];
    for (const s of found) {
      const ys = new Array(times.length).fill(null);
      for (const [t, v] of s.samples) ys[at.get(t)] = v;
      data.push(ys);
    }
    $("#power-note").textContent = found.length
      ? found.length + " meters, " + times.length + " samples; newest " + (times.length ? iso(times[times.length - 1]) + " UTC" : "-") +
        (cut.length ? "; only the newest 7200 samples of " + cut.join(", ") : "") +
        "; dashed marks: the detector's findings (red) and the plans' decisions (purple)"
      : "no facility, UPS or meter power in the store";
    const colors = ["#1f5fa8", "#c2571a", "#2e8b57", "#8e44ad"];
    const opts = {
      width: Math.min(1200, $("#power").clientWidth || 960), height: 260,
      series: [{}].concat(found.map((s, k) => ({ label: s.entity + "/" + s.id + " (W)", stroke: colors[k % 4], width: 1.5, spanGaps: true }))),
      axes: [{}, { size: 70 }],
      hooks: { draw: [markEvents] },
    };
    if (chart) chart.destroy();
    $("#power").textContent = "";
    chart = new uPlot(opts, data, $("#power"));
  }

  // The facility meter against the twin's prediction, the grid limit as a line, and a "now" line
  // (the newest sample, and the browser's clock when it falls inside the chart).
  async function twin() {
    const t = await api("GET", "/api/twin?last_s=3600&max_points=1500");
    const body = $("#fits tbody");
    body.textContent = "";
    const pct = (v) => (v === null || v === undefined ? "-" : (100 * v).toFixed(1) + " %");
    for (const s of t.signals) {
      const r = body.insertRow();
      cell(r, s.name);
      cell(r, s.unit);
      cell(r, pct(s.cv_rmse), "num");
      cell(r, pct(s.nmbe), "num");
      cell(r, s.judged_on || "-");
      cell(r, s.verdict || "-", s.verdict === "fail" ? "q-poor" : s.verdict === "pass" ? "q-good" : "");
      cell(r, s.from);
    }
    const loads = $("#loads tbody");
    loads.textContent = "";
    const kw = (w) => (w / 1000).toFixed(1);
    for (const l of t.loads || []) {
      const r = loads.insertRow();
      cell(r, l.resource);
      cell(r, l.metric);
      cell(r, kw(l.peak_w), "num");
      cell(r, kw(l.last_w), "num");
      cell(r, l.units > 1 ? l.units + " x " + kw(l.rating_w) : kw(l.rating_w), "num");
      cell(r, (100 * l.utilization).toFixed(1) + " %", "num " + (l.utilization >= 1 ? "q-poor" : l.utilization >= 0.8 ? "q-fair" : "q-good"));
      cell(r, l.from);
      cell(r, l.note);
    }
    const mismatch = t.scenario_gpus !== undefined && t.scenario_gpus !== t.measured_gpus
      ? "the scenario has " + t.scenario_gpus + " GPUs, the store power of " + t.measured_gpus +
        " (the others taken as idle): is it this site's scenario? "
      : "";
    $("#loads-note").textContent = mismatch + ((t.loads && t.loads.length)
      ? "the first wall among them: " + t.loads.reduce((a, b) => (b.utilization > a.utilization ? b : a)).resource +
        "; peaks of the meters' raw samples over the last hour of each, last at " +
        iso(Math.min(...t.loads.map((l) => l.last_ms))) + " UTC or later"
      : (t.note || "no rated resource whose load a meter in the store shows"));
    const f = t.signals.find((s) => s.name === "facility_power");
    if (twinChart) { twinChart.destroy(); twinChart = null; }
    $("#twin").textContent = "";
    if (!f) {
      $("#twin-note").textContent = t.note || "the store has no facility power to compare";
      return;
    }
    const xs = t.t_ms.map((v) => v / 1000);
    const data = [xs, f.measured, f.twin];
    const series = [{}, { label: "measured (W)", stroke: "#1f5fa8", width: 1.5, spanGaps: true },
                    { label: "twin (W)", stroke: "#c2571a", width: 1.5, dash: [6, 4], spanGaps: true }];
    if (t.grid_import_limit_w !== null) {
      data.push(xs.map(() => t.grid_import_limit_w));
      series.push({ label: "grid import limit (W)", stroke: "#a1131b", width: 1 });
    }
    const marks = [t.newest_ms / 1000, Date.now() / 1000];
    const now = (u) => {
      const g = u.ctx;
      g.save();
      marks.forEach((x, k) => {
        if (x < u.scales.x.min || x > u.scales.x.max) return;
        const px = Math.round(u.valToPos(x, "x", true));
        g.strokeStyle = k === 0 ? "#5d6874" : "#136c2e";
        g.setLineDash(k === 0 ? [2, 3] : []);
        g.beginPath();
        g.moveTo(px, u.bbox.top);
        g.lineTo(px, u.bbox.top + u.bbox.height);
        g.stroke();
      });
      g.restore();
    };
    twinChart = new uPlot({ width: Math.min(1200, $("#twin").clientWidth || 960), height: 260, series,
                            axes: [{}, { size: 70 }], hooks: { draw: [now, markEvents] } }, data, $("#twin"));
    $("#twin-note").textContent = mismatch + "points of " + t.step_s + " s; GPU power from " + t.gpu_from +
      "; outdoor air from " + t.outdoor_from + "; dotted line: the newest sample (" + iso(t.newest_ms) +
      " UTC), solid: now where it falls in the chart";
  }

  // The forecast against the facility meter since its origin (forecast_view.h, AgainstMeter).
  function meterNote(m) {
    if (!m) return "";
    if (!m.samples) {
      return " Since the origin the meter sent " + m.unreadable_samples +
        " samples, none of them a number: the forecast is not checked against it.";
    }
    const pct = m.difference_pct === null ? "the meter at zero"
      : (m.difference_pct >= 0 ? "+" : "") + m.difference_pct.toFixed(1) + " %";
    const unread = m.unreadable_samples ? " (" + m.unreadable_samples + " more were not numbers and are left out)" : "";
    const text = " Since the origin the meter averaged " + (m.measured_w / 1000).toFixed(1) + " kW over " + m.samples +
      " samples" + unread + ", the forecast " + (m.forecast_w / 1000).toFixed(1) + " kW (" + pct + ").";
    return m.warning ? text + " WARNING: that far off, the scenario may not be this site's." : text;
  }

  async function forecast() {
    const t = await api("GET", "/api/forecast");
    if (forecastChart) { forecastChart.destroy(); forecastChart = null; }
    $("#forecast").textContent = "";
    if (!t.t_ms.length) {
      $("#forecast-note").textContent = t.note || "no forecast";
      return;
    }
    const newer = t.computing ? " A forecast from a newer origin is being computed." : "";
    const xs = t.t_ms.map((v) => v / 1000);
    const p = t.facility_power_w;
    const data = [xs, p.hi, p.value, p.lo];
    const series = [{}, { label: "interval top (W)", stroke: "#e3b48f", width: 1 },
                    { label: "facility, forecast (W)", stroke: "#c2571a", width: 1.5 },
                    { label: "interval bottom (W)", stroke: "#e3b48f", width: 1 }];
    if (t.grid_import_limit_w !== null) {
      data.push(xs.map(() => t.grid_import_limit_w));
      series.push({ label: "grid import limit (W)", stroke: "#a1131b", width: 1 });
    }
    forecastChart = new uPlot({ width: Math.min(1200, $("#forecast").clientWidth || 960), height: 220, series,
                                bands: [{ series: [1, 3], fill: "rgba(194, 87, 26, 0.15)" }],
                                axes: [{}, { size: 70 }] }, data, $("#forecast"));
    const kw = (w) => (w / 1000).toFixed(1);
    const pk = t.peak;
    $("#forecast-note").textContent = "from " + iso(t.origin_ms) + " UTC (the store's newest facility sample, down to a whole " +
      "hour from its first), " + t.horizon_s / 3600 + " h in steps of " + t.step_s / 60 + " min; peak " + kw(pk.facility_power_w) + " kW at " + iso(pk.at_ms) +
      " UTC, up to " + kw(pk.hi_w) + " kW within the interval" +
      (t.grid_import_limit_w !== null ? (pk.over_grid_limit ? ": OVER the grid limit" : ": below the grid limit") : "") +
      ". Weather: " + t.weather + ". Interval: " + t.interval + "." + newer + meterNote(t.against_meter);
  }

  async function anomalies(t) {
    const body = $("#anomalies tbody");
    body.textContent = "";
    for (const a of t.anomalies.slice().reverse().slice(0, 50)) {
      const r = body.insertRow();
      cell(r, iso(a.detected_ms));
      cell(r, a.target);
      cell(r, a.cause);
      cell(r, a.detector);
      cell(r, a.residual.toPrecision(4) + " " + a.residual_unit, "num");
      cell(r, a.score_sigma.toFixed(1), "num");
      cell(r, a.detail);
    }
    const n = t.anomalies.length;
    $("#anomalies-note").textContent = (n ? n + (n === 1 ? " finding; " : " findings; ") : "none found; ") + t.note;
  }

  async function heatmap() {
    // One cell a GPU, its newest finite reading.
    const { read: gpus, unread } = await newest("gpu", "power");
    const c = $("#heatmap");
    const per = Math.max(1, Math.floor(c.width / 28));
    const w = Math.floor(c.width / per), h = 26;
    c.height = Math.max(1, Math.ceil(gpus.length / per)) * h;
    const g = c.getContext("2d");
    g.fillStyle = "#ffffff";
    g.fillRect(0, 0, c.width, c.height);
    if (!gpus.length) { $("#heatmap-note").textContent = "no GPU power in the store"; return; }
    const vs = gpus.map((s) => s.v);
    const hi = Math.max(...vs, 1);
    const hot = gpus[vs.indexOf(Math.max(...vs))];
    const oldest = Math.min(...gpus.map((s) => s.t));
    gpus.forEach((s, k) => {
      const v = s.v / hi;
      g.fillStyle = "hsl(" + Math.round(220 - 220 * v) + ", 70%, 50%)";
      g.fillRect((k % per) * w + 1, Math.floor(k / per) * h + 1, w - 2, h - 2);
    });
    $("#heatmap-note").textContent = gpus.length + " GPUs" + (unread ? " (" + unread + " more without a reading)" : "") +
      ", blue to red: 0 to " + Math.round(hi) + " W; hottest " + hot.id + " at " + Math.round(hot.v) +
      " W; readings from " + iso(oldest) + " UTC on";
  }

  // The newest finite reading of each id of ENTITY's QUANTITY (the first source of an id read by
  // two): {read: [{id, unit, t, v}], unread: how many ids had none}.
  async function newest(entity, quantity) {
    const l = await api("GET", "/api/latest?entity=" + entity + "&quantity=" + quantity);
    const read = [];
    let unread = 0;
    l.ids.forEach((id, k) => {
      if (l.values[k] !== null) read.push({ id, unit: l.unit, t: l.t_ms[k], v: l.values[k] });
      else unread++;
    });
    return { read, unread };
  }

  // Racks as a heat map: each rack PDU's newest power, blue (0 W) to red (the hottest rack).
  async function racks() {
    const pdus = (await newest("pdu", "power")).read;
    const c = $("#racks");
    const w = 120, h = 40, per = Math.max(1, Math.floor(c.width / w));
    c.height = Math.max(1, Math.ceil(pdus.length / per)) * h;
    const g = c.getContext("2d");
    g.fillStyle = "#ffffff";
    g.fillRect(0, 0, c.width, c.height);
    if (!pdus.length) {
      $("#racks-note").textContent = "no rack PDU power in the store (entity pdu, quantity power in the site map)";
      return;
    }
    const hi = Math.max(...pdus.map((p) => p.v), 1);
    g.font = "12px system-ui, sans-serif";
    g.textBaseline = "middle";
    pdus.forEach((p, k) => {
      const x = (k % per) * w, y = Math.floor(k / per) * h;
      g.fillStyle = "hsl(" + Math.round(220 - 220 * p.v / hi) + ", 70%, 50%)";
      g.fillRect(x + 1, y + 1, w - 2, h - 2);
      g.fillStyle = "#ffffff";
      g.fillText(p.id + " " + (p.v / 1000).toFixed(1) + " kW", x + 6, y + h / 2);
    });
    $("#racks-note").textContent = pdus.length + " racks, blue 0 W to red " + (hi / 1000).toFixed(1) +
      " kW (the hottest); readings from " + iso(Math.min(...pdus.map((p) => p.t))) + " UTC on";
  }

  // The cooling loop's newest readings, outdoor air to the GPUs.
  async function cooling() {
    const body = $("#cooling tbody");
    body.textContent = "";
    const row = (what, id, v, unit, t) => {
      const r = body.insertRow();
      cell(r, what);
      cell(r, id);
      cell(r, v, "num");
      cell(r, unit);
      cell(r, t ? iso(t) : "-");
    };
    const [outdoor, cdus, chillers, meters, gpus] = (await Promise.all([
      newest("weather_station", "temperature"), newest("cdu", "temperature"),
      newest("chiller", "power"), newest("meter", "power"), newest("gpu", "temperature")])).map((n) => n.read);
    for (const o of outdoor) row("outdoor air", o.id, o.v.toFixed(1), o.unit, o.t);
    for (const c of cdus) row("CDU supply", c.id, c.v.toFixed(1), c.unit, c.t);
    for (const c of chillers) row("chiller electricity", c.id, (c.v / 1000).toFixed(1), "kW", c.t);
    for (const m of meters.filter((m) => m.id === "cooling")) row("cooling plant electricity", m.id, (m.v / 1000).toFixed(1), "kW", m.t);
    if (gpus.length) {
      const vs = gpus.map((g) => g.v);
      const hot = gpus[vs.indexOf(Math.max(...vs))];
      row("GPUs, mean", gpus.length + " GPUs", (vs.reduce((a, b) => a + b, 0) / vs.length).toFixed(1), gpus[0].unit,
          Math.min(...gpus.map((g) => g.t)));
      row("GPUs, hottest", hot.id, hot.v.toFixed(1), hot.unit, hot.t);
    }
    $("#cooling-note").textContent = body.rows.length
      ? "each series' newest reading, with its time"
      : "no outdoor, CDU, chiller, cooling meter or GPU temperature in the store";
  }

  async function plans() {
    const t = await api("GET", "/api/plans");
    const body = $("#plans tbody");
    body.textContent = "";
    for (const p of t.plans.slice().reverse()) {
      const r = body.insertRow();
      r.dataset.plan = p.id;
      cell(r, p.id, "num");
      cell(r, p.state, "state-" + p.state);
      cell(r, p.class);
      cell(r, p.target);
      cell(r, p.value);
      cell(r, p.predicted_effect + " \u00b1 " + p.uncertainty);
      cell(r, p.proposer);
      cell(r, p.approvers.length + " of " + p.approvals_needed + (p.approvers.length ? " (" + p.approvers.join(", ") + ")" : ""));
      cell(r, iso(p.expires_ms));
      cell(r, p.reason);
      const act = r.insertCell();
      if (p.state === "proposed" && rank[session.role] >= rank.approver && p.proposer !== session.user &&
          !p.approvers.includes(session.user)) {
        const ok = document.createElement("button");
        ok.textContent = "Approve";
        ok.className = "approve";
        ok.onclick = () => decide(p.id, "approve", {});
        const no = document.createElement("button");
        no.textContent = "Reject";
        no.className = "reject";
        no.onclick = () => {
          const why = window.prompt("Why reject plan " + p.id + "?");
          if (why) decide(p.id, "reject", { reason: why });
        };
        act.append(ok, " ", no);
      }
    }
  }
  async function decide(id, what, body) {
    for (const b of document.querySelectorAll("tr[data-plan='" + id + "'] button")) b.disabled = true;
    try {
      const t = await api("POST", "/api/plans/" + id + "/" + what, body);
      say("plan " + id + ": " + t.plan.state);
    } catch (e) {
      say("plan " + id + ": " + e.message, true);
    }
    await refresh();
  }

  async function quality() {
    const t = await api("GET", "/api/quality?worst=20");
    const body = $("#quality tbody");
    body.textContent = "";
    if (!t.entities.length) {
      const r = body.insertRow();
      cell(r, "no telemetry in the store to score");
    }
    const dims = ["timeliness", "completeness", "consistency", "accuracy", "resolution"];
    const grade = (v) => (v >= 0.95 ? "num q-good" : v >= 0.8 ? "num q-fair" : "num q-poor");
    for (const e of t.entities) {
      const r = body.insertRow();
      cell(r, e.entity + "/" + e.id);
      cell(r, e.scores.overall.toFixed(3), grade(e.scores.overall));
      for (const d of dims) {
        const td = cell(r, e.scores[d].score.toFixed(3), grade(e.scores[d].score));
        td.title = e.scores[d].reasons.join("\n");
      }
    }
  }

  async function audit(t) {
    $("#chain").textContent = t.chain.ok
      ? "hash chain verified: " + t.chain.entries + " entries, head " + t.chain.head.slice(0, 16) + "\u2026"
      : "hash chain BROKEN at entry " + t.chain.first_bad + ": " + t.chain.problem;
    const body = $("#audit tbody");
    body.textContent = "";
    for (const e of t.entries) {
      const r = body.insertRow();
      cell(r, e.seq, "num");
      cell(r, iso(e.t_ms));
      cell(r, e.actor);
      cell(r, e.action);
      cell(r, e.subject);
      cell(r, typeof e.detail === "string" ? e.detail : JSON.stringify(e.detail));
    }
  }

  async function refresh() {
    if (!session) return;
    try {
      // The audit log and the findings first: their times are the charts' event annotations.
      const [log, found] = await Promise.all([api("GET", "/api/audit?last=30"), api("GET", "/api/anomalies")]);
      events = eventsOf(log, found);
      await Promise.all([power(), twin(), forecast(), anomalies(found), cooling(), heatmap(), racks(), plans(), quality(), audit(log)]);
      if (refreshFailed) say("");
      refreshFailed = false;
    } catch (e) {
      refreshFailed = true;
      if (e.status === 401) { leave(); $("#login-error").textContent = "session ended: log in again"; return; }
      say(e.message, true);
    }
    document.body.dataset.fwReady = "1";
  }

  $("#login-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const s = await api("POST", "/api/session", { user: $("#user").value, password: $("#password").value });
      $("#password").value = "";
      $("#login-error").textContent = "";
      enter(s);
    } catch (e) {
      $("#login-error").textContent = e.message;
    }
  });
  $("#logout").addEventListener("click", async () => {
    try { await api("DELETE", "/api/session"); } catch (e) { /* the session may have ended */ }
    leave();
  });
  // A reload keeps the session (its cookie): ask for it.
  fetch("/api/session", { credentials: "same-origin" })
    .then((r) => (r.ok ? r.json() : null))
    .then((s) => { if (s && s.user) enter(s); else document.body.dataset.fwReady = "login"; })
    .catch(() => { document.body.dataset.fwReady = "login"; });
})();
