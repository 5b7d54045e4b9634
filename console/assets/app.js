// The Partita console: one page per hash route, each rendering the admin
// endpoint's JSON. No framework, no build step, nothing fetched from
// anywhere but this node. Every page refreshes itself every few seconds;
// tables are paged, so a cluster of thousands of partitions keeps a small
// DOM.
"use strict";

const REFRESH_MS = 5000;
const PAGE_SIZE = 50;
const TOKEN_KEY = "partita.adminToken";

const state = { page: "", params: {}, timer: 0, seq: 0, pages: {}, filters: {} };

// ---- helpers ----

function esc(v) {
  return String(v ?? "").replace(/[&<>"']/g, c => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}
function pill(v) { return `<span class="pill ${esc(v)}">${esc(v)}</span>`; }
// replication describes the replication factor a node acts on
// (admin.Replication): the cluster's record, or what stands in for it.
function replication(r) {
  return `replication factor <b>${r.factor}</b>` + (r.fallback ? ` ${pill("no record")} (${esc(r.source)})` : "");
}
function fmtNum(v, digits = 1) {
  if (v == null || isNaN(v)) return "-";
  if (Math.abs(v) >= 1e6) return (v / 1e6).toFixed(digits) + "M";
  if (Math.abs(v) >= 1e3) return (v / 1e3).toFixed(digits) + "k";
  return Number(v).toFixed(v % 1 === 0 ? 0 : digits);
}
function fmtBytes(b) {
  if (!b) return "0 B";
  const u = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (b >= 1024 && i < u.length - 1) { b /= 1024; i++; }
  return b.toFixed(i ? 1 : 0) + " " + u[i];
}
function fmtDur(ns) {
  if (ns == null) return "-";
  const ms = ns / 1e6;
  if (ms < 1) return (ns / 1e3).toFixed(0) + " µs";
  if (ms < 1000) return ms.toFixed(1) + " ms";
  const s = ms / 1000;
  if (s < 120) return s.toFixed(1) + " s";
  if (s < 7200) return (s / 60).toFixed(0) + " min";
  return (s / 3600).toFixed(1) + " h";
}
function fmtSecs(s) { return s ? fmtDur(s * 1e9) : "0"; }
function fmtTime(t) {
  if (!t || t.startsWith("0001")) return "-";
  const d = new Date(t);
  return d.toLocaleTimeString([], { hour12: false }) + (Date.now() - d > 864e5 ? " " + d.toLocaleDateString() : "");
}
function ago(t) {
  if (!t || t.startsWith("0001")) return "-";
  return fmtDur((Date.now() - new Date(t)) * 1e6) + " ago";
}

function token() { return sessionStorage.getItem(TOKEN_KEY) || ""; }

class HTTPError extends Error {
  constructor(status, msg) { super(msg); this.status = status; }
}

// api calls the admin endpoint with the admin token, if one was given.
async function api(path, method = "GET") {
  const headers = {};
  if (token()) headers["Authorization"] = "Bearer " + token();
  const resp = await fetch(path, { method, headers, cache: "no-store" });
  const text = await resp.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch (e) { body = text; }
  if (!resp.ok) {
    const msg = body && (body.error && (body.error.message || body.error)) || text || resp.statusText;
    if (resp.status === 401 || resp.status === 403) showBanner(`${resp.status}: ${msg}. Enter an admin token above.`, true);
    throw new HTTPError(resp.status, `${method} ${path}: ${resp.status} ${msg}`);
  }
  return body;
}
// tryApi is api, null on failure (a section that cannot load says so).
async function tryApi(path) {
  try { return await api(path); } catch (e) { return { __error: e.message }; }
}
function failed(v) { return v && v.__error ? `<p class="banner error">${esc(v.__error)}</p>` : ""; }

function showBanner(msg, error) {
  const b = document.getElementById("banner");
  b.hidden = !msg;
  b.className = "banner" + (error ? " error" : "");
  b.textContent = msg || "";
}

// pager renders one page of rows and its controls; key names the table.
function pager(key, rows, render) {
  const pages = Math.max(1, Math.ceil(rows.length / PAGE_SIZE));
  let p = Math.min(state.pages[key] || 0, pages - 1);
  state.pages[key] = p;
  const slice = rows.slice(p * PAGE_SIZE, (p + 1) * PAGE_SIZE);
  const controls = pages > 1 ? `<div class="pager" data-pager="${esc(key)}">
      <button data-step="-1" ${p === 0 ? "disabled" : ""}>&lt; prev</button>
      <span>page ${p + 1} of ${pages} (${rows.length} rows)</span>
      <button data-step="1" ${p === pages - 1 ? "disabled" : ""}>next &gt;</button></div>` :
    `<div class="pager muted">${rows.length} rows</div>`;
  return controls + render(slice);
}
document.addEventListener("click", ev => {
  const b = ev.target.closest("[data-pager] button");
  if (!b) return;
  const key = b.parentElement.dataset.pager;
  state.pages[key] = (state.pages[key] || 0) + Number(b.dataset.step);
  refresh();
});

// chart draws series ({name, color, pts: [[ms, value]]}) as an SVG line chart.
function chart(title, series, fmt) {
  const W = 600, H = 140, L = 52, B = 18;
  const all = series.flatMap(s => s.pts);
  if (!all.length) return `<div class="chart"><h3>${esc(title)}</h3><p class="muted">no samples yet</p></div>`;
  const t0 = Math.min(...all.map(p => p[0])), t1 = Math.max(...all.map(p => p[0]), t0 + 1);
  const vmax = Math.max(...all.map(p => p[1]), 1e-9) * 1.1;
  const x = t => L + (W - L - 4) * (t - t0) / (t1 - t0);
  const y = v => 4 + (H - B - 8) * (1 - v / vmax);
  const lines = series.map(s => `<polyline fill="none" stroke="${s.color}" stroke-width="1.5" points="${
    s.pts.map(p => x(p[0]).toFixed(1) + "," + y(p[1]).toFixed(1)).join(" ")}"/>`).join("");
  const grid = [0, 0.5, 1].map(f => `<line x1="${L}" x2="${W}" y1="${y(vmax * f / 1.1)}" y2="${y(vmax * f / 1.1)}" stroke="#e6e9f0"/>
    <text x="${L - 4}" y="${y(vmax * f / 1.1) + 4}" font-size="10" text-anchor="end" fill="#6b7487">${esc(fmt(vmax * f / 1.1))}</text>`).join("");
  const axis = `<text x="${L}" y="${H - 4}" font-size="10" fill="#6b7487">${esc(new Date(t0).toLocaleTimeString([], { hour12: false }))}</text>
    <text x="${W}" y="${H - 4}" font-size="10" text-anchor="end" fill="#6b7487">${esc(new Date(t1).toLocaleTimeString([], { hour12: false }))}</text>`;
  const legend = series.map(s => `<span><i style="background:${s.color}"></i>${esc(s.name)}</span>`).join("");
  return `<div class="chart"><h3>${esc(title)}</h3><svg viewBox="0 0 ${W} ${H}" preserveAspectRatio="none">${grid}${lines}${axis}</svg><div class="legend">${legend}</div></div>`;
}
const COLORS = ["#2756b3", "#d0453c", "#2f8a4c", "#b8860b", "#7b3fb3", "#1b8a8a", "#a0522d", "#555"];

// clusterSeries sums (or maxes) a per-point value over the nodes, by time bucket.
// The nodes sample apart, so their points are aligned on the sampling step.
function clusterSeries(nodes, pick, combine = "sum") {
  const byT = new Map();
  const step = samplingStep(nodes);
  for (const n of nodes) for (const p of n.points || []) {
    const t = Math.round(new Date(p.t) / step) * step;
    const v = pick(p);
    const cur = byT.get(t);
    byT.set(t, cur == null ? v : combine === "sum" ? cur + v : Math.max(cur, v));
  }
  return [...byT.entries()].sort((a, b) => a[0] - b[0]);
}
// samplingStep is the median time between a node's samples (at least 100 ms).
function samplingStep(nodes) {
  const gaps = [];
  for (const n of nodes) {
    const ts = (n.points || []).map(p => new Date(p.t).getTime());
    for (let i = 1; i < ts.length; i++) gaps.push(ts[i] - ts[i - 1]);
  }
  gaps.sort((a, b) => a - b);
  return Math.max(100, gaps.length ? gaps[gaps.length >> 1] : 5000);
}
function sumMap(m) { return Object.values(m || {}).reduce((a, b) => a + b, 0); }

// ---- pages ----

const pages = {};

pages.overview = async () => {
  const [nodes, metrics, status, gates, awaiting, failedOps] = await Promise.all([
    tryApi("/cluster/nodes"), tryApi("/console/api/cluster/metrics?since=1h"), tryApi("/doctor/status"),
    tryApi("/doctor/gates"), tryApi("/doctor/timeline?state=awaiting-approval&limit=50"),
    tryApi("/doctor/timeline?state=failed&since=1h&limit=20")]);
  const byNode = new Map((Array.isArray(metrics) ? metrics : []).map(m => [m.node, m]));
  let html = "<h2>Nodes</h2>" + failed(nodes);
  if (Array.isArray(nodes)) {
    const zones = new Map();
    for (const n of nodes) { if (!zones.has(n.zone)) zones.set(n.zone, []); zones.get(n.zone).push(n); }
    html += `<div class="cards">` + [...zones.entries()].sort().map(([zone, ns]) => `<div class="card zone" data-zone="${esc(zone)}">
      <h3>zone ${esc(zone || "(none)")}</h3><table><tr><th>node</th><th>status</th><th>version</th><th class="num">uptime</th><th class="num">disk</th><th class="num">CPU</th></tr>
      ${ns.map(n => {
        const m = byNode.get(n.id) || {};
        const last = (m.points || []).slice(-1)[0] || {};
        return `<tr data-node="${n.id}"><td>node ${n.id}<br><span class="muted mono">${esc(n.admin_addr)}</span></td><td>${pill(n.status)}${n.decommissioning ? " " + pill("decommissioning") : ""}${n.draining ? " " + pill("draining") : ""}</td>
          <td>${esc(m.version || n.version)}</td><td class="num">${m.started ? fmtDur((Date.now() - new Date(m.started)) * 1e6) : "-"}</td>
          <td class="num">${fmtBytes(last.disk_bytes)}</td><td class="num">${last.cpu != null ? last.cpu.toFixed(2) : "-"}</td></tr>`;
      }).join("")}</table></div>`).join("") + "</div>";
  }
  // Alerts: nodes not alive, failed operations, operations awaiting approval.
  const alerts = [];
  if (Array.isArray(nodes)) for (const n of nodes) if (n.status !== "alive") alerts.push(`node ${n.id} is ${esc(n.status)} (last heartbeat ${ago(n.heartbeat)})`);
  if (Array.isArray(nodes)) for (const n of nodes) if (n.decommissioning) alerts.push(`node ${n.id} is decommissioning (marked ${ago(n.decommissioning)}${n.decommission_by ? ", by " + esc(n.decommission_by) : ""}): the Doctor moves its replicas, then removes it`);
  if (Array.isArray(failedOps)) for (const e of failedOps) alerts.push(`operation ${e.id} (${esc(e.kind)} of partition ${e.partition}) failed: ${esc(e.outcome)}`);
  if (Array.isArray(awaiting) && awaiting.length) alerts.push(`${awaiting.length} operation(s) await approval at a red gate: <a href="#/doctor">review</a>`);
  for (const m of byNode.values()) if (m.error) alerts.push(`node ${m.node}: ${esc(m.error)}`);
  html += `<h2>Alerts</h2>` + (alerts.length ? `<ul class="alerts">${alerts.map(a => `<li>${a}</li>`).join("")}</ul>` : `<p class="muted">none firing</p>`);
  html += `<h2>Doctor</h2>` + failed(status) + (status && !status.__error ? `<p>active Doctor on node <b>${status.holder || "none"}</b> (epoch ${status.epoch});
     ${status.replication ? replication(status.replication) + ";" : ""}
     ${gates && !gates.__error ? (gates.paused ? pill("paused") : pill("running")) + " gates: " +
       Object.entries(gates.gates || {}).map(([k, c]) => `${esc(k)} ${pill(c)}`).join(" ") : ""}</p>` : "");
  const all = Array.isArray(metrics) ? metrics : [];
  const ops = new Set(all.flatMap(n => (n.points || []).flatMap(p => Object.keys(p.ops || {}))));
  const perOp = (field) => [...ops].sort().slice(0, COLORS.length).map((op, i) => ({ name: op, color: COLORS[i],
    pts: clusterSeries(all, p => (p[field] || {})[op] || 0) }));
  html += `<h2>Last hour</h2>` + failed(metrics) + `<div class="charts">
    ${chart("Throughput (requests/s)", [{ name: "all operations", color: COLORS[0], pts: clusterSeries(all, p => sumMap(p.ops)) }, ...perOp("ops").slice(0, 5)], v => fmtNum(v))}
    ${chart("Latency (worst node)", [{ name: "p50", color: COLORS[2], pts: clusterSeries(all, p => p.p50, "max") }, { name: "p99", color: COLORS[1], pts: clusterSeries(all, p => p.p99, "max") }], fmtSecs)}
    ${chart("Errors per operation (/s)", perOp("errors").length ? perOp("errors") : [{ name: "errors", color: COLORS[1], pts: clusterSeries(all, p => sumMap(p.errors)) }], v => fmtNum(v, 2))}
    ${chart("Raft proposals (/s)", [{ name: "proposals", color: COLORS[3], pts: clusterSeries(all, p => p.proposals) }], v => fmtNum(v))}
    ${chart("CPU (cores)", all.map((n, i) => ({ name: "node " + n.node, color: COLORS[i % COLORS.length], pts: clusterSeries([n], p => p.cpu) })), v => v.toFixed(2))}
    ${chart("Disk", all.map((n, i) => ({ name: "node " + n.node, color: COLORS[i % COLORS.length], pts: clusterSeries([n], p => p.disk_bytes) })), fmtBytes)}
  </div>`;
  return html;
};

pages.tables = async () => {
  const tables = await tryApi("/cluster/tables");
  if (tables.__error) return failed(tables);
  const names = tables.map(t => t.name);
  const table = state.params.table && names.includes(state.params.table) ? state.params.table : names[0];
  let html = `<h2>Tables</h2><table><tr><th>table</th><th>status</th><th class="num">partitions</th><th>created</th></tr>
    ${tables.map(t => `<tr data-table="${esc(t.name)}"><td><a href="#/tables?table=${encodeURIComponent(t.name)}">${esc(t.name)}</a></td><td>${pill(t.status)}</td>
      <td class="num">${t.partitions}</td><td>${fmtTime(t.created)}</td></tr>`).join("")}</table>`;
  if (!table) return html + `<p class="muted">No tables yet.</p>`;
  const key = "partitions:" + table;
  const [pp, changes] = await Promise.all([
    tryApi(`/console/api/partitions?table=${encodeURIComponent(table)}&page=${state.pages[key] || 0}&size=${PAGE_SIZE}`),
    tryApi("/doctor/timeline?limit=100")]);
  html += `<h2>Partitions of ${esc(table)}</h2>` + failed(pp);
  if (pp.__error) return html;
  state.pages[key] = pp.page;
  const pages = Math.max(1, Math.ceil(pp.total / pp.size));
  html += `<h3>Load over the key space</h3><canvas class="heat" id="heat" width="1000" height="36"></canvas>
    <p class="muted">Each band is a partition's hash range; the darker, the more requests per second (reads + writes)${pp.load_error ? ". Load unavailable: " + esc(pp.load_error) : ""}.</p>`;
  html += `<div class="pager" data-pager="${esc(key)}"><button data-step="-1" ${pp.page === 0 ? "disabled" : ""}>&lt; prev</button>
    <span>page ${pp.page + 1} of ${pages} (${pp.total} partitions)</span><button data-step="1" ${pp.page >= pages - 1 ? "disabled" : ""}>next &gt;</button></div>`;
  html += `<table id="partitions"><tr><th>partition</th><th>key range (hash)</th><th class="num">items</th><th class="num">size</th>
      <th class="num">reads/s</th><th class="num">writes/s</th><th>replicas</th><th>leader</th><th class="num">max lag</th><th class="num">log entries</th><th>generation</th></tr>
    ${(pp.rows || []).map(p => {
      const l = p.load || {};
      const lag = Math.max(0, ...(p.status || []).map(r => r.lag || 0));
      const logs = Math.max(0, ...(p.status || []).map(r => r.log_entries || 0));
      return `<tr data-partition="${p.id}"><td><a href="#/raft?partition=${p.id}">${p.id}</a></td><td class="mono">${esc(p.start)} - ${esc(p.end)}</td>
        <td class="num">${fmtNum(l.items || 0)}</td><td class="num">${fmtBytes(l.size_bytes || 0)}</td><td class="num">${fmtNum(l.reads_per_sec || 0)}</td>
        <td class="num">${fmtNum(l.writes_per_sec || 0)}</td><td>${(p.voters || p.replicas || []).join(", ")}${(p.learners || []).length ? " +learners " + p.learners.join(", ") : ""}</td>
        <td>${p.leader ? "node " + p.leader : pill("none")}</td><td class="num">${lag}</td><td class="num">${logs}</td><td>${p.generation}</td></tr>`;
    }).join("")}</table>`;
  const sm = Array.isArray(changes) ? changes.filter(e => (e.kind === "split" || e.kind === "merge") && (!e.table || e.table === table)) : [];
  html += `<h3>Splits and merges</h3>` + (sm.length ? `<table><tr><th>when</th><th>kind</th><th>partition</th><th>state</th><th>outcome</th></tr>
    ${sm.slice(0, 20).map(e => `<tr><td>${fmtTime(e.updated)}</td><td>${esc(e.kind)}</td><td>${e.partition}</td><td>${pill(e.state)}</td><td>${esc(e.outcome)}</td></tr>`).join("")}</table>`
    : `<p class="muted">none recorded by the Doctor in its recent timeline</p>`);
  state.afterRender = () => drawHeat(pp.heat || []);
  return html;
};

// drawHeat paints each partition's hash range, shaded by its load, on one canvas.
function drawHeat(cells) {
  const c = document.getElementById("heat");
  if (!c) return;
  const ctx = c.getContext("2d");
  const max = Math.max(1e-9, ...cells.map(h => h.r));
  ctx.clearRect(0, 0, c.width, c.height);
  for (const h of cells) {
    const f = h.r / max;
    ctx.fillStyle = `rgb(${Math.round(238 - 30 * f)}, ${Math.round(241 - 180 * f)}, ${Math.round(247 - 190 * f)})`;
    ctx.fillRect(h.f * c.width, 0, Math.max(1, (h.t - h.f) * c.width), c.height);
    ctx.fillStyle = "#fff";
    ctx.fillRect(h.f * c.width, 0, 1, c.height);
  }
}

pages.doctor = async () => {
  const f = state.filters.doctor || {};
  const q = new URLSearchParams({ limit: "200" });
  for (const k of ["partition", "node", "kind", "state"]) if (f[k]) q.set(k, f[k]);
  const [gates, plan, awaiting, timeline] = await Promise.all([tryApi("/doctor/gates"), tryApi("/console/api/doctor/plan"),
    tryApi("/doctor/timeline?state=awaiting-approval&limit=100"), tryApi("/doctor/timeline?" + q)]);
  let html = `<h2>Awaiting approval</h2>` + failed(awaiting);
  if (Array.isArray(awaiting)) html += awaiting.length ? `<table id="awaiting"><tr><th>op</th><th>kind</th><th>partition</th><th>from → to</th><th>reasons</th><th>gate</th><th></th></tr>
    ${awaiting.map(e => `<tr data-op="${e.id}"><td>${e.id}</td><td>${esc(e.kind)}</td><td>${e.partition}</td><td>${e.from || "-"} → ${e.to || "-"}</td>
      <td>${esc((e.reasons || []).join("; "))}</td><td>${pill(e.gate)}</td>
      <td><button class="approve" data-decide="approve" data-id="${e.id}">Approve</button> <button class="reject" data-decide="reject" data-id="${e.id}">Reject</button></td></tr>`).join("")}</table>`
    : `<p class="muted">nothing waits at a red gate</p>`;
  const running = plan && !plan.__error ? plan.running || [] : [];
  html += `<h2>In flight</h2>` + (plan && plan.__error ? failed(plan) : running.length ? `<table id="running"><tr><th>op</th><th>kind</th><th>partition</th><th>current step</th><th>since</th></tr>
    ${running.map(e => { const s = (e.steps || []).slice(-1)[0] || {}; return `<tr><td>${e.id}</td><td>${esc(e.kind)}</td><td>${e.partition}</td><td>${esc(s.Name || "")}</td><td>${ago(e.created)}</td></tr>`; }).join("")}</table>`
    : `<p class="muted">no operation running</p>`);
  if (gates && !gates.__error) {
    html += `<h2>Gates ${gates.paused ? pill("paused") : pill("running")} <button data-pause="${gates.paused ? "resume" : "pause"}">${gates.paused ? "Resume" : "Pause"} the Doctor</button></h2>
      <table id="gates"><tr><th>kind</th><th>colour</th><th>override</th><th>change</th></tr>${Object.keys(gates.gates || {}).sort().map(k => `<tr data-kind="${esc(k)}"><td>${esc(k)}</td><td>${pill(gates.gates[k])}</td>
        <td>${esc((gates.overrides || {})[k] || "")}</td><td><select data-gate="${esc(k)}"><option value="">set…</option>${["green", "yellow", "red", "default"].map(c => `<option>${c}</option>`).join("")}</select></td></tr>`).join("")}</table>`;
    if (gates.replication) html += `<h2>Replication</h2><p id="replication">${replication(gates.replication)}${gates.replication.recorded
      ? ` (set by ${esc(gates.replication.changed_by || "?")}${gates.replication.reason ? ": " + esc(gates.replication.reason) : ""})` : ""}.
      Change it with <code>partita ctl doctor replication-factor N</code>.</p>`;
  } else html += failed(gates);
  html += `<h2>Timeline</h2><form class="filters" id="tl-filters">
      <input name="partition" placeholder="partition" size="8" value="${esc(f.partition || "")}">
      <input name="node" placeholder="node" size="6" value="${esc(f.node || "")}">
      <input name="kind" placeholder="kind (split, add-replica...)" size="20" value="${esc(f.kind || "")}">
      <select name="state"><option value="">any outcome</option>${["succeeded", "failed", "running", "awaiting-approval", "rejected", "aborted"].map(s => `<option ${f.state === s ? "selected" : ""}>${s}</option>`).join("")}</select>
      <button type="submit">Filter</button></form>` + failed(timeline);
  if (Array.isArray(timeline)) html += pager("timeline", timeline, rows => `<table id="timeline"><tr><th>op</th><th>updated</th><th>kind</th><th>partition</th><th>from → to</th><th>checker / reasons</th>
      <th>gate</th><th>validation</th><th>steps</th><th>state</th><th>outcome</th><th class="num">duration</th><th>decided by</th></tr>
    ${rows.map(e => `<tr data-op="${e.id}" data-kind="${esc(e.kind)}" data-state="${esc(e.state)}"><td>${e.id || ""}</td><td>${fmtTime(e.updated)}</td><td>${esc(e.kind)}</td><td>${e.partition || ""}</td>
      <td>${e.from || ""}${e.to ? " → " + e.to : ""}</td><td><b>${esc(e.checker)}</b> ${esc((e.reasons || []).join("; "))}${e.inputs ? `<br><span class="muted mono">${esc(e.inputs)}</span>` : ""}</td>
      <td>${pill(e.gate)}</td><td>${esc(e.validation)}</td><td>${(e.steps || []).map(s => esc(s.Name || "")).join(" → ")}</td><td>${pill(e.state)}</td>
      <td>${esc(e.outcome)}</td><td class="num">${fmtDur((new Date(e.updated) - new Date(e.created)) * 1e6)}</td><td>${esc(e.decided_by)}</td></tr>`).join("")}</table>`);
  return html;
};

document.addEventListener("click", async ev => {
  const d = ev.target.closest("[data-decide]");
  const p = ev.target.closest("[data-pause]");
  try {
    if (d) {
      d.disabled = true;
      await api(`/doctor/operations/${d.dataset.id}/${d.dataset.decide}?reason=${encodeURIComponent("from the console")}`, "POST");
      showBanner(`operation ${d.dataset.id}: ${d.dataset.decide}d`);
    } else if (p) {
      await api(`/doctor/${p.dataset.pause}?reason=${encodeURIComponent("from the console")}`, "POST");
    } else return;
  } catch (e) { showBanner(e.message, true); }
  refresh();
});
document.addEventListener("change", async ev => {
  const g = ev.target.closest("[data-gate]");
  if (!g || !g.value) return;
  try {
    await api(`/doctor/gates/${encodeURIComponent(g.dataset.gate)}?color=${g.value}&reason=${encodeURIComponent("from the console")}`, "POST");
    showBanner(`gate ${g.dataset.gate}: ${g.value}`);
  } catch (e) { showBanner(e.message, true); }
  refresh();
});
document.addEventListener("submit", ev => {
  if (ev.target.id !== "tl-filters") return;
  ev.preventDefault();
  state.filters.doctor = Object.fromEntries(new FormData(ev.target).entries());
  state.pages.timeline = 0;
  refresh();
});

pages.traces = async () => {
  if (state.params.id) return traceView(state.params.id);
  const traces = await tryApi("/console/api/traces");
  if (traces.__error) return failed(traces);
  return `<h2>Recent traces</h2><p class="muted">Each node keeps its slow and failed requests and a few of its latest (in memory, bounded); the list merges every node's.</p>` +
    pager("traces", traces, rows => `<table id="traces"><tr><th>started</th><th>request</th><th>node</th><th class="num">duration</th><th class="num">spans</th><th>kind</th><th>error</th></tr>
    ${rows.map(t => `<tr data-trace="${esc(t.trace_id)}"><td>${fmtTime(t.start)}</td><td><a href="#/traces?id=${esc(t.trace_id)}">${esc(t.root)}</a></td><td>${t.node}</td>
      <td class="num">${fmtDur(t.duration_ns)}</td><td class="num">${t.spans}</td><td>${t.failed ? pill("failed") : ""} ${t.slow ? pill("slow") : ""}</td><td>${esc(t.error)}</td></tr>`).join("")}</table>`);
};

async function traceView(id) {
  const spans = await tryApi("/console/api/traces/" + encodeURIComponent(id));
  if (spans.__error) return failed(spans);
  if (!spans.length) return `<p>Trace ${esc(id)} is no longer kept. <a href="#/traces">Back</a></p>`;
  const start = Math.min(...spans.map(s => new Date(s.start).getTime()));
  const end = Math.max(...spans.map(s => new Date(s.start).getTime() + s.duration_ns / 1e6));
  const total = Math.max(end - start, 0.001);
  // Depth from the parent links, so the waterfall indents children.
  const byID = new Map(spans.map(s => [s.span_id, s]));
  const depth = s => { let d = 0; for (let p = byID.get(s.parent_id); p && d < 20; p = byID.get(p.parent_id)) d++; return d; };
  return `<h2>Trace <span class="mono">${esc(id)}</span></h2><p><a href="#/traces">← all traces</a> · ${spans.length} spans over ${fmtDur(total * 1e6)}</p>
    <table class="waterfall" id="waterfall"><tr><th>span</th><th>node</th><th class="num">duration</th><th style="width:45%">timeline</th><th>attributes</th></tr>
    ${spans.slice(0, 500).map(s => {
      const off = (new Date(s.start).getTime() - start) / total * 100, w = s.duration_ns / 1e6 / total * 100;
      return `<tr data-span="${esc(s.name)}"><td style="padding-left:${8 + depth(s) * 14}px">${esc(s.name)}</td><td>${s.node}</td><td class="num">${fmtDur(s.duration_ns)}</td>
        <td><div class="bar"><i class="${s.failed ? "failed" : ""}" style="left:${off.toFixed(2)}%;width:${w.toFixed(2)}%"></i></div></td>
        <td class="mono">${esc(Object.entries(s.attrs || {}).map(([k, v]) => k + "=" + v).join(" "))}${s.error ? " " + pill("error") + esc(s.error) : ""}</td></tr>`;
    }).join("")}</table>`;
}

pages.jobs = async () => {
  const jobs = await tryApi("/debug/jobs/");
  if (jobs.__error) return failed(jobs);
  return `<h2>Background jobs of this node</h2><table id="jobs"><tr><th>job</th><th>kind</th><th>state</th><th class="num">interval</th><th>last outcome</th>
    <th>last success</th><th>next run</th><th class="num">runs</th><th class="num">failures</th><th>last error</th></tr>
    ${(jobs.jobs || []).map(j => `<tr data-job="${esc(j.name)}"><td>${esc(j.name)}</td><td>${esc(j.kind)}</td><td>${pill(j.paused ? "paused" : j.state)}</td>
      <td class="num">${j.interval ? fmtDur(j.interval) : "-"}</td><td>${esc(j.last_outcome)}</td><td>${ago(j.last_success)}</td><td>${fmtTime(j.next_run)}</td>
      <td class="num">${j.runs}</td><td class="num">${j.failures}</td><td>${esc(j.last_error)}</td></tr>`).join("")}</table>`;
};

pages.config = async () => {
  const [eff, over] = await Promise.all([tryApi("/debug/config"), tryApi("/config")]);
  if (eff.__error) return failed(eff);
  return `<h2>Effective settings of node ${eff.node}${eff.zone ? " (zone " + esc(eff.zone) + ")" : ""}</h2><p class="muted">overrides version ${eff.version}</p>` +
    pager("config", eff.settings || [], rows => `<table id="settings"><tr><th>setting</th><th>value</th><th>source</th></tr>
    ${rows.map(s => `<tr data-setting="${esc(s.name)}"><td class="mono">${esc(s.name)}</td><td class="mono">${esc(s.value)}</td><td>${esc(s.source)}</td></tr>`).join("")}</table>`) +
    (over && !over.__error ? `<h3>Overrides in force</h3><pre class="mono">${esc(JSON.stringify(over.overrides || over, null, 1))}</pre>` : failed(over));
};

pages.raft = async () => {
  const id = Number(state.params.partition || 0);
  const form = `<h2>Raft state of a partition</h2><form class="filters" id="raft-form"><input name="partition" placeholder="partition id" size="10" value="${id || ""}"><button type="submit">Show</button></form>`;
  if (!id) return form + `<p class="muted">Pick a partition: follow a link of the <a href="#/tables">partitions tables</a>, or see the <a href="#/raft?partition=1">meta partition (1)</a>.</p>`;
  const pp = await tryApi("/console/api/partitions?id=" + id);
  if (pp.__error) return form + failed(pp);
  const p = (pp.rows || [])[0];
  if (!p) return form + `<p class="muted">No partition ${id}.</p>`;
  const leader = (p.status || []).find(r => r.role === "leader") || {};
  return form + `<p id="raft-summary">partition <b>${p.id}</b> of <b>${esc(p.table)}</b>, generation ${p.generation}, range <span class="mono">${esc(p.start)} - ${esc(p.end)}</span>;
    leader node ${p.leader || "none"} at term ${leader.term ?? "-"}; voters ${(p.voters || []).join(", ")}${(p.learners || []).length ? "; learners " + p.learners.join(", ") : ""}; directory lists ${(p.replicas || []).join(", ")}</p>
    <table id="members"><tr><th>node</th><th>role</th><th class="num">term</th><th class="num">applied (match)</th><th class="num">lag</th><th class="num">log entries</th><th>error</th></tr>
    ${(p.status || []).map(r => `<tr data-member="${r.node}"><td>node ${r.node}</td><td>${pill(r.role)}</td><td class="num">${r.term}</td><td class="num">${r.applied}</td>
      <td class="num">${r.lag}</td><td class="num">${r.log_entries}</td><td>${esc(r.error)}</td></tr>`).join("")}</table>`;
};
document.addEventListener("submit", ev => {
  if (ev.target.id !== "raft-form") return;
  ev.preventDefault();
  location.hash = "#/raft?partition=" + encodeURIComponent(new FormData(ev.target).get("partition"));
});

// ---- routing and refresh ----

function route() {
  const h = location.hash.replace(/^#\/?/, "");
  const [page, query] = h.split("?");
  state.page = pages[page] ? page : "overview";
  state.params = Object.fromEntries(new URLSearchParams(query || ""));
  for (const a of document.querySelectorAll("#nav a")) a.classList.toggle("active", a.dataset.page === state.page);
  document.getElementById("view").innerHTML = `<p class="muted">Loading...</p>`;
  showBanner(""); // a message belongs to the page it was given on
  refresh();
}

// refresh re-renders the current page; a slower answer of an older
// refresh never overwrites a newer one.
async function refresh() {
  clearTimeout(state.timer);
  const seq = ++state.seq;
  const page = state.page;
  try {
    state.afterRender = null;
    const html = await pages[page]();
    if (seq !== state.seq) return;
    const view = document.getElementById("view");
    // Keep focus and typing in a form field across refreshes.
    const active = document.activeElement;
    if (!(active && view.contains(active) && (active.tagName === "INPUT" || active.tagName === "SELECT"))) view.innerHTML = html;
    if (state.afterRender) state.afterRender();
    document.body.dataset.rendered = page;
    if (!document.body.dataset.firstRenderMs) document.body.dataset.firstRenderMs = performance.now().toFixed(0);
    document.getElementById("status").textContent = "updated " + new Date().toLocaleTimeString([], { hour12: false });
  } catch (e) {
    if (seq === state.seq) showBanner(e.message, true);
  }
  if (seq === state.seq) state.timer = setTimeout(refresh, REFRESH_MS);
}

document.getElementById("auth").addEventListener("submit", ev => {
  ev.preventDefault();
  const v = document.getElementById("token").value.trim();
  if (v) sessionStorage.setItem(TOKEN_KEY, v); else sessionStorage.removeItem(TOKEN_KEY);
  document.getElementById("token").value = "";
  document.getElementById("who").textContent = v ? "token set" : "";
  showBanner("");
  refresh();
});
document.getElementById("who").textContent = token() ? "token set" : "";
window.addEventListener("hashchange", route);
route();
