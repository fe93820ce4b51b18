// Dashboard: loads the views once, then refreshes them whenever the gateway reports an event (server-sent events).
"use strict";

const views = {
  fleet: { url: "/api/fleet", render: renderFleet },
  placements: { url: "/api/placements", render: renderPlacements },
  inference: { url: "/api/inference", render: renderInference },
  rounds: { url: "/api/rounds", render: renderRounds },
  ledger: { url: "/api/ledger/totals", render: renderLedger },
  audit: { url: "/api/unlearning/audit", render: renderAudit },
};

// Which views an event kind can change.
const affected = {
  "device-registered": ["fleet"], "device-offline": ["fleet"],
  "round-started": ["rounds"], "round-aggregated": ["rounds", "ledger"], "round-failed": ["rounds", "ledger"],
  "message-rejected": ["ledger"], "deployment-changed": ["fleet", "placements"],
  "unlearning-started": [], "unlearning-verified": ["audit", "fleet", "rounds"], "unlearning-failed": ["audit"],
};

function cell(row, text, className) {
  const td = document.createElement("td");
  td.textContent = text === null || text === undefined ? "–" : String(text);
  if (className) td.className = className;
  row.appendChild(td);
  return td;
}

function fill(tableId, items, addCells) {
  const body = document.querySelector(`#${tableId} tbody`);
  body.replaceChildren();
  for (const item of items) {
    const row = document.createElement("tr");
    addCells(row, item);
    body.appendChild(row);
  }
  body.classList.remove("flash");
  void body.offsetWidth;
  body.classList.add("flash");
}

const time = (value) => value ? new Date(value).toLocaleTimeString() : null;
const percent = (value) => typeof value === "number" ? `${(value * 100).toFixed(1)} %` : null;

// Round metrics are the coordinator's JSON; losses and byte counts are shown when it has them.
function metric(metrics, ...names) {
  if (!metrics || typeof metrics !== "object") return null;
  for (const name of names) {
    for (const [key, value] of Object.entries(metrics)) {
      if (key.toLowerCase() === name.toLowerCase()) return value;
    }
  }
  return null;
}

// What each device holds (loaded variants) and its scheduler backlog, joined into the fleet table by device id.
let holdings = {};
let backlogs = {};
let lastFleet = [];

function renderPlacements(placements) {
  holdings = {};
  for (const p of placements) (holdings[p.deviceId] ??= []).push(p.state === "loaded" ? p.variantId : `${p.variantId} (${p.state})`);
  renderFleet(lastFleet);
}

function renderFleet(devices) {
  lastFleet = devices;
  fill("fleet", devices, (row, d) => {
    cell(row, d.deviceId);
    cell(row, d.tier);
    cell(row, d.boardId);
    const badge = document.createElement("span");
    badge.className = `badge ${d.status === "online" ? "online" : "offline"}`;
    badge.textContent = d.status;
    cell(row, "").replaceChildren(badge);
    cell(row, d.maxLoraRank, "number");
    cell(row, d.queueLength, "number");
    const backlog = backlogs[d.deviceId];
    cell(row, backlog ? backlog.backlogMilliseconds.toFixed(1) : null, "number");
    cell(row, percent(d.load), "number");
    cell(row, typeof d.temperatureCelsius === "number" ? `${d.temperatureCelsius.toFixed(1)} °C` : null, "number");
    cell(row, (holdings[d.deviceId] ?? []).join(", ") || null, "holds");
    cell(row, time(d.lastSeen));
  });
}

// The round reports each device's final local loss ({deviceId: loss}); the gateway evaluates no global accuracy.
function meanDeviceLoss(losses) {
  if (!losses || typeof losses !== "object") return null;
  const values = Object.values(losses).filter((value) => typeof value === "number");
  return values.length === 0 ? null : values.reduce((sum, value) => sum + value, 0) / values.length;
}

function renderRounds(rounds) {
  fill("rounds", [...rounds].reverse(), (row, r) => {
    const loss = meanDeviceLoss(metric(r.metrics, "trainingLoss"));
    cell(row, r.round, "number");
    cell(row, r.strategy);
    cell(row, r.state);
    cell(row, time(r.startedAt));
    cell(row, metric(r.metrics, "accepted"), "number");
    cell(row, loss === null ? null : loss.toFixed(3), "number");
    cell(row, metric(r.metrics, "uplinkBytes"), "number");
    cell(row, metric(r.metrics, "downlinkBytes"), "number");
    const seconds = metric(r.metrics, "seconds");
    cell(row, typeof seconds === "number" ? seconds.toFixed(1) : null, "number");
  });
}

function renderInference(view) {
  backlogs = Object.fromEntries(view.backlog.map((b) => [b.deviceId, b]));
  const latency = view.latency;
  document.getElementById("latency-summary").textContent = latency.requests === 0 ? "no requests served yet"
    : `${latency.requests} requests: p50 ${latency.p50Milliseconds.toFixed(1)} ms, p95 ${latency.p95Milliseconds.toFixed(1)} ms, p99 ${latency.p99Milliseconds.toFixed(1)} ms`;
  const histogram = document.getElementById("latency-histogram");
  const most = Math.max(1, ...latency.buckets.map((b) => b.requests));
  histogram.replaceChildren(...latency.buckets.map((b, i) => {
    const bar = document.createElement("div");
    bar.className = "bar";
    bar.title = `${b.requests} requests`;
    const fill = document.createElement("div");
    fill.className = "fill";
    fill.style.height = `${(85 * b.requests) / most}%`;
    const label = document.createElement("span");
    label.className = "label";
    label.textContent = b.upToMilliseconds === null ? `>${latency.buckets[i - 1].upToMilliseconds}` : `≤${b.upToMilliseconds}`;
    bar.append(fill, label);
    return bar;
  }));
  document.getElementById("queues").textContent =
    `drift-plus-penalty virtual queues: latency ${view.latencyVirtualQueue.toFixed(1)}, accuracy ${view.accuracyVirtualQueue.toFixed(3)}`;
  fill("decisions", view.decisions, (row, d) => {
    cell(row, d.requestId, "number");
    cell(row, time(d.at));
    cell(row, d.strategy);
    cell(row, d.succeeded ? d.stages.map((s) => `${s.variantId} @ ${s.deviceId}`).join(" → ") : d.failure);
    cell(row, d.latencyMilliseconds.toFixed(1), "number");
    cell(row, d.qosMet ? "met" : "missed", d.qosMet ? null : "missed");
  });
  renderFleet(lastFleet);
}

function renderLedger(totals) {
  fill("ledger", Object.entries(totals), (row, [outcome, bytes]) => {
    cell(row, outcome);
    cell(row, bytes, "number");
  });
}

function renderAudit(audit) {
  fill("audit", [...audit].reverse(), (row, a) => {
    cell(row, a.id, "number");
    cell(row, time(a.at));
    cell(row, a.deviceId);
    cell(row, a.method);
    cell(row, a.requestedBy);
  });
}

async function refresh(name) {
  const view = views[name];
  try {
    const response = await fetch(view.url, { headers: { Accept: "application/json" } });
    if (response.ok) view.render(await response.json());
  } catch (error) {
    console.warn(`refreshing ${name} failed`, error);
  }
}

function logEvent(event) {
  const list = document.getElementById("events");
  const item = document.createElement("li");
  const who = [event.deviceId, event.round ? `round ${event.round}` : null].filter(Boolean).join(", ");
  item.textContent = `${time(event.at)}  ${event.kind}${who ? ` (${who})` : ""}${event.detail ? `: ${event.detail}` : ""}`;
  list.prepend(item);
  while (list.children.length > 200) list.lastChild.remove();
}

function connect() {
  const state = document.getElementById("stream-state");
  const source = new EventSource("/api/events");
  source.onopen = () => { state.textContent = "events: live"; state.className = "badge online"; };
  source.onerror = () => { state.textContent = "events: reconnecting"; state.className = "badge offline"; };
  const onEvent = (message) => {
    const event = JSON.parse(message.data);
    logEvent(event);
    for (const name of affected[event.kind] ?? []) refresh(name);
  };
  for (const kind of Object.keys(affected)) source.addEventListener(kind, onEvent);
  source.addEventListener("connected", onEvent);
}

for (const name of Object.keys(views)) refresh(name);
// Heartbeats (load, temperature) and scheduler decisions are not gateway events; those views poll.
setInterval(() => refresh("fleet"), 5000);
setInterval(() => refresh("inference"), 2000);
connect();
