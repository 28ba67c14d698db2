// automl-nb "How Hyperband decides": an anywidget ES module (plain JS, no build step).
//
// Model trait (synced from Python, automl_nb/panel/teaching_tab.py), made by
// automl_nb.teaching.hyperband_diagram():
//   diagram: {max_epochs, factor, objective, direction, text, note, now, best_id,
//             planned_trials, planned_epochs, outside: [trial_id],
//             brackets: [{bracket, iteration, status, text, trials, epochs,
//                         rounds: [{round, epochs, from_epoch, size, keep, pending,
//                                   trials: [{trial_id, status, score, epochs,
//                                             parent_id, child_id, rank, fate}]}]}]}
// Each bracket is a card, its rounds columns, each trial a mark whose width grows
// with the round's epoch budget and whose colour says its fate. Clicking a mark
// sends {action: "details", trial_id}. The whole view is rebuilt on a change (a
// diagram holds at most a few hundred marks).

const FATES = {
  running: "training now",
  waiting: "finished, waiting for its round to be decided",
  advanced: "kept: trains on in the next round",
  dropped: "dropped: not among the best of its round",
  final: "trained the bracket's full budget",
  failed: "failed",
  undecided: "the search ended before its round was decided",
  pending: "not started yet",
};

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function fmtScore(v) {
  if (v === null || v === undefined) return "—";
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(3);
  return v.toFixed(4);
}

function plural(n, word) {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

function markWidth(epochs, maxEpochs) {
  // 10px for one epoch up to 44px for max_epochs, on a log scale
  if (!maxEpochs || maxEpochs <= 1) return 14;
  const f = Math.log(Math.max(1, epochs)) / Math.log(maxEpochs);
  return Math.round(10 + 34 * Math.min(1, Math.max(0, f)));
}

function ordered(trials) {
  // best first (by rank), then the unranked in start order, failed last
  return trials
    .map((t, i) => [t, i])
    .sort((a, b) => {
      const ra = a[0].fate === "failed" ? 1e9 : a[0].rank ?? 1e6;
      const rb = b[0].fate === "failed" ? 1e9 : b[0].rank ?? 1e6;
      return ra === rb ? a[1] - b[1] : ra - rb;
    })
    .map((p) => p[0]);
}

function markTitle(t, round, objective) {
  const parts = [`trial ${t.trial_id}`];
  if (t.score !== null && t.score !== undefined) parts.push(`${objective} ${fmtScore(t.score)}`);
  parts.push(`epoch ${t.epochs} of ${round.epochs}`);
  if (t.parent_id) parts.push(`goes on from trial ${t.parent_id}`);
  let fate = FATES[t.fate] || t.fate;
  if (t.fate === "advanced" && t.child_id) fate += ` (as trial ${t.child_id})`;
  parts.push(fate);
  return parts.join(" · ");
}

function render({ model, el: root }) {
  root.classList.add("amnb-hb");

  function send(trialId) {
    model.send({ action: "details", trial_id: trialId });
  }

  function mark(t, round, d) {
    const best = d.best_id === t.trial_id;
    const node = el("span", `amnb-hb-mark amnb-hb-${t.fate}${best ? " amnb-hb-best" : ""}`);
    node.style.width = `${markWidth(round.epochs, d.max_epochs)}px`;
    node.title = (best ? "★ the best trial so far · " : "") + markTitle(t, round, d.objective || "score");
    if (t.fate === "running" && round.epochs > round.from_epoch) {
      const done = Math.max(0, t.epochs - round.from_epoch);
      const fill = el("span", "amnb-hb-fill");
      fill.style.width = `${Math.round((100 * done) / (round.epochs - round.from_epoch))}%`;
      node.append(fill);
    }
    node.addEventListener("click", () => send(t.trial_id));
    return node;
  }

  function roundBox(round, d) {
    const box = el("div", "amnb-hb-round");
    const fresh = round.epochs - round.from_epoch;
    const head = el("div", "amnb-hb-rhead");
    head.append(
      el("b", "", `round ${round.round}`),
      el("span", "", ` · ${plural(round.size, "trial")} · to epoch ${round.epochs}`),
    );
    if (round.from_epoch > 0) head.append(el("span", "amnb-hb-muted", ` (+${fresh} from ${round.from_epoch})`));
    const foot = el(
      "div",
      "amnb-hb-rfoot",
      round.keep === null || round.keep === undefined ? "last round" : `best ${round.keep} go on`,
    );
    const marks = el("div", "amnb-hb-marks");
    for (const t of ordered(round.trials || [])) marks.append(mark(t, round, d));
    for (let i = 0; i < (round.pending || 0); i++) {
      const p = el("span", "amnb-hb-mark amnb-hb-pending");
      p.style.width = `${markWidth(round.epochs, d.max_epochs)}px`;
      p.title = FATES.pending;
      marks.append(p);
    }
    box.append(head, marks, foot);
    return box;
  }

  function bracketCard(b, d) {
    const card = el("div", `amnb-hb-bracket amnb-hb-status-${b.status.replace(/ /g, "-")}`);
    const title = el("div", "amnb-hb-title");
    const iteration = b.iteration ? ` (iteration ${b.iteration + 1})` : "";
    title.append(
      el("b", "", `Bracket ${b.bracket}${iteration}`),
      el("span", "amnb-hb-muted", ` · ${plural(b.trials, "trial")} · ${b.epochs} epochs · ${b.status}`),
    );
    const rounds = el("div", "amnb-hb-rounds");
    for (const r of b.rounds) rounds.append(roundBox(r, d));
    card.append(title, el("div", "amnb-hb-btext", b.text), rounds);
    return card;
  }

  function legend() {
    const box = el("div", "amnb-hb-legend");
    for (const fate of ["running", "advanced", "dropped", "final", "waiting", "failed", "pending"]) {
      const item = el("span", "amnb-hb-legend-item");
      item.append(el("span", `amnb-hb-mark amnb-hb-${fate}`), el("span", "", ` ${fate}`));
      item.title = FATES[fate];
      box.append(item);
    }
    const best = el("span", "amnb-hb-legend-item");
    best.append(el("span", "amnb-hb-mark amnb-hb-best"), el("span", "", " ★ best"));
    best.title = "the best trial so far (gold, as in every chart)";
    box.append(best);
    return box;
  }

  function update() {
    const d = model.get("diagram") || {};
    const children = [];
    if (!d.brackets || !d.brackets.length) {
      children.push(el("div", "amnb-hb-empty", "Waiting for the Hyperband search to start."));
      root.replaceChildren(...children);
      return;
    }
    children.push(el("div", "amnb-hb-text", d.text || ""));
    if (d.now) children.push(el("div", "amnb-hb-now", d.now));
    const brackets = el("div", "amnb-hb-brackets");
    for (const b of d.brackets) brackets.append(bracketCard(b, d));
    children.push(brackets, legend());
    if (d.outside && d.outside.length) {
      children.push(
        el(
          "div",
          "amnb-hb-note",
          `Outside the brackets (you promoted or queued them): ${d.outside.join(", ")}.`,
        ),
      );
    }
    if (d.note) children.push(el("div", "amnb-hb-note", d.note));
    root.replaceChildren(...children);
  }

  model.on("change:diagram", update);
  update();
  return () => {
    model.off("change:diagram", update);
  };
}

export default { render };
