// automl-nb trial table: an anywidget ES module (plain JS, no build step).
//
// Model traits (synced from Python, automl_nb/panel/table.py):
//   rows: [{trial_id, n, status, score, epochs, target, duration_s, parent_id,
//           source, reason, info, hp: {...}}]   every trial, start order
//   live: {trial_id: row}   running trials' newer rows, overlaid on `rows`
//   columns: [hp name]      hyperparameter columns shown
//   A "worker" column appears when a trial ran in a worker process (info.worker).
//   objective, direction ("max" | "min"), sort ("" | "score"), selected, default_epochs,
//   best: the best trial's id (a gold star by its id, as in every chart)
// Row buttons send custom messages: {action: "prune" | "promote" | "details",
//   trial_id, epochs}. Rows are updated in place, keyed by trial id, so an open
//   epochs box keeps its value and focus while the table refreshes.

const FINISHED_PROMOTABLE = new Set(["completed", "pruned", "stopped"]);

function fmtNumber(v) {
  if (v === null || v === undefined) return "—";
  if (typeof v !== "number") return String(v);
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(2);
  return String(Number(v.toPrecision(4)));
}

function fmtScore(v) {
  if (v === null || v === undefined) return "—";
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(3);
  return v.toFixed(4);
}

function fmtDuration(s) {
  if (s === null || s === undefined) return "—";
  s = Math.round(s);
  if (s >= 3600) return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, "0")}s`;
  return `${s}s`;
}

function fmtValue(v) {
  if (v === true) return "yes";
  if (v === false) return "no";
  return fmtNumber(v);
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

function render({ model, el: root }) {
  root.classList.add("amnb-table");
  const scroll = el("div", "amnb-table-scroll");
  const table = el("table");
  const thead = el("thead");
  const tbody = el("tbody");
  table.append(thead, tbody);
  scroll.append(table);
  const empty = el("div", "amnb-table-empty", "No trials yet.");
  root.append(scroll, empty);

  const entries = new Map(); // trial_id -> {tr, cells, actionsKey, epochsInput}
  let headerKey = null;
  let workerColumn = false; // shown once a trial ran in a worker process

  function send(action, trialId, epochs) {
    const msg = { action, trial_id: trialId };
    if (epochs !== undefined) msg.epochs = epochs;
    model.send(msg);
  }

  function hasWorkers() {
    return (model.get("rows") || []).some((r) => r.info && r.info.worker);
  }

  function buildHeader() {
    const columns = model.get("columns") || [];
    const sort = model.get("sort");
    const workers = hasWorkers();
    const key = JSON.stringify([columns, sort, model.get("objective"), model.get("direction"), workers]);
    if (key === headerKey) return false;
    headerKey = key;
    workerColumn = workers;
    thead.replaceChildren();
    const tr = el("tr");
    tr.append(el("th", "amnb-num", "#"), el("th", "", "trial"), el("th", "", "status"));
    const scoreTh = el("th", "amnb-num amnb-sortable");
    const arrow = sort === "score" ? " ▾" : " ↕";
    scoreTh.textContent = `${model.get("objective") || "score"}${arrow}`;
    scoreTh.title =
      sort === "score"
        ? "Sorted best first; click for start order"
        : `Click to sort by ${model.get("objective")}, best first (${model.get("direction") === "min" ? "lowest" : "highest"})`;
    scoreTh.addEventListener("click", () => {
      model.set("sort", model.get("sort") === "score" ? "" : "score");
      model.save_changes();
    });
    tr.append(scoreTh, el("th", "amnb-num", "epochs"), el("th", "amnb-num", "time"));
    if (workers) {
      const th = el("th", "amnb-worker", "worker");
      th.title = "The worker process that ran the trial";
      tr.append(th);
    }
    for (const name of columns) tr.append(el("th", "amnb-hp", name));
    tr.append(el("th", "amnb-actions-head", ""));
    thead.append(tr);
    // columns changed: rebuild the rows' cells
    for (const entry of entries.values()) entry.tr.remove();
    entries.clear();
    return true;
  }

  function makeEntry(row) {
    const tr = el("tr");
    const cells = {
      n: el("td", "amnb-num"),
      id: el("td", "amnb-id"),
      status: el("td"),
      score: el("td", "amnb-num amnb-score"),
      epochs: el("td", "amnb-num"),
      time: el("td", "amnb-num"),
      worker: workerColumn ? el("td", "amnb-worker") : null,
      hps: [],
      actions: el("td", "amnb-actions"),
    };
    tr.append(cells.n, cells.id, cells.status, cells.score, cells.epochs, cells.time);
    if (cells.worker) tr.append(cells.worker);
    for (const _ of model.get("columns") || []) {
      const td = el("td", "amnb-hp");
      cells.hps.push(td);
      tr.append(td);
    }
    tr.append(cells.actions);
    const badge = el("span", "amnb-badge");
    cells.status.append(badge);
    cells.badge = badge;
    return { tr, cells, actionsKey: null, epochsInput: null, trialId: row.trial_id };
  }

  function buildActions(entry, row) {
    const key = row.status;
    if (entry.actionsKey === key) return;
    entry.actionsKey = key;
    const td = entry.cells.actions;
    td.replaceChildren();
    entry.epochsInput = null;
    if (row.status === "running") {
      const b = el("button", "amnb-btn amnb-btn-warn", "Prune");
      b.title = `Stop trial ${row.trial_id} at its next batch and keep its score so far`;
      b.addEventListener("click", () => send("prune", row.trial_id));
      td.append(b);
    } else if (FINISHED_PROMOTABLE.has(row.status)) {
      const input = el("input", "amnb-epochs");
      input.type = "number";
      input.min = "1";
      input.step = "1";
      input.value = String(model.get("default_epochs") || 5);
      input.title = "epochs to train on";
      const b = el("button", "amnb-btn", "Promote");
      b.title = `Train trial ${row.trial_id} on from its best checkpoint, as a new trial`;
      b.addEventListener("click", () => {
        const n = parseInt(input.value, 10);
        send("promote", row.trial_id, Number.isFinite(n) && n > 0 ? n : model.get("default_epochs") || 5);
      });
      entry.epochsInput = input;
      td.append(input, b);
    }
    const d = el("button", "amnb-btn amnb-btn-quiet", "Details");
    d.addEventListener("click", () => send("details", row.trial_id));
    td.append(d);
  }

  function fill(entry, row) {
    const c = entry.cells;
    let id = row.trial_id;
    if (row.parent_id) id += ` ← ${row.parent_id}`;
    setText(c.id, id);
    const best = model.get("best") === row.trial_id;
    c.n.title = best ? "the best trial so far" : "";
    setText(c.n, best ? `★ ${row.n ?? ""}` : String(row.n ?? ""));
    const info = row.info || {};
    c.id.title =
      (row.source && row.source !== "oracle" ? `${row.source}` : "") +
      (info.bracket !== undefined ? ` Hyperband bracket ${info.bracket}, round ${info.round}` : "");
    c.badge.className = `amnb-badge amnb-status-${row.status}`;
    setText(c.badge, row.status);
    c.badge.title = row.reason || "";
    setText(c.score, fmtScore(row.score));
    const epochs = row.status === "running" && row.target ? `${row.epochs}/${row.target}` : String(row.epochs ?? "—");
    setText(c.epochs, epochs);
    setText(c.time, row.status === "running" ? "…" : fmtDuration(row.duration_s));
    if (c.worker) setText(c.worker, info.worker ? String(info.worker) : "—");
    const columns = model.get("columns") || [];
    const hp = row.hp || {};
    columns.forEach((name, i) => {
      if (c.hps[i]) setText(c.hps[i], fmtValue(hp[name]));
    });
    entry.tr.className = [
      row.status === "running" ? "amnb-row-running" : "",
      best ? "amnb-row-best" : "",
      model.get("selected") === row.trial_id ? "amnb-row-selected" : "",
    ]
      .join(" ")
      .trim();
    buildActions(entry, row);
  }

  function ordered() {
    const live = model.get("live") || {};
    const data = (model.get("rows") || []).map((r) => live[r.trial_id] || r);
    if (model.get("sort") !== "score") return data;
    const sign = model.get("direction") === "min" ? 1 : -1;
    return data
      .map((r, i) => [r, i])
      .sort((a, b) => {
        const sa = a[0].score, sb = b[0].score;
        if (sa === null || sa === undefined) return sb === null || sb === undefined ? a[1] - b[1] : 1;
        if (sb === null || sb === undefined) return -1;
        return sa === sb ? a[1] - b[1] : sign * (sa - sb);
      })
      .map((p) => p[0]);
  }

  function update() {
    buildHeader();
    const data = ordered();
    const seen = new Set();
    data.forEach((row, i) => {
      let entry = entries.get(row.trial_id);
      if (!entry) {
        entry = makeEntry(row);
        entries.set(row.trial_id, entry);
      }
      fill(entry, row);
      seen.add(row.trial_id);
      const at = tbody.children[i];
      if (at !== entry.tr) tbody.insertBefore(entry.tr, at || null);
    });
    for (const [id, entry] of entries) {
      if (!seen.has(id)) {
        entry.tr.remove();
        entries.delete(id);
      }
    }
    empty.style.display = data.length ? "none" : "";
  }

  const events = ["rows", "live", "columns", "sort", "selected", "objective", "direction", "best"];
  for (const name of events) model.on(`change:${name}`, update);
  update();
  return () => {
    for (const name of events) model.off(`change:${name}`, update);
  };
}

export default { render };
