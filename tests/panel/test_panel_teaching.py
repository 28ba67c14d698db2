"""The panel's teaching tabs and Step button, over fake searches, replays and a fake DOM."""

from __future__ import annotations

import html
import json
import pathlib
import random
import shutil
import subprocess

import pytest

from automl_nb import teaching
from automl_nb.control import CommandResult
from automl_nb.events import SearchEnded, StateChanged
from automl_nb.panel.table import asset
from automl_nb.panel.teaching_tab import TITLES, HyperbandDiagram
from automl_nb.replays import NOT_STEERABLE, Replay
from automl_nb.testing.panel import SPACE, FakeSearch, sample, started, trial_events

ROOT = pathlib.Path(__file__).resolve().parents[2]
RECORDINGS = ROOT / "automl_nb" / "recordings"


def hyperband_events(max_epochs=9, factor=3, stop_after=None):
    """A Hyperband search played as KerasTuner plays it with one worker."""
    rng = random.Random(0)
    events = [
        started(oracle="hyperband", epochs=max_epochs, trials=None),
        StateChanged(state="running", previous="idle"),
    ]
    scores: dict[str, tuple[float, dict]] = {}
    n = 0
    for b in range(teaching.hyperband_brackets(max_epochs, factor) - 1, -1, -1):
        previous: list[str] = []
        for r in range(b + 1):
            size = teaching.hyperband_size(b, r, max_epochs, factor)
            last = teaching.hyperband_epochs(b, r, max_epochs, factor)
            first = teaching.hyperband_epochs(b, r - 1, max_epochs, factor) if r else 0
            if r == 0:
                chosen = [(None, sample(SPACE, rng)) for _ in range(size)]
            else:
                best = sorted(previous, key=lambda t: -scores[t][0])[:size]
                chosen = [(p, scores[p][1]) for p in best]
            current = []
            for parent, hps in chosen:
                if stop_after is not None and n >= stop_after:
                    return events
                tid = f"{n:04d}"
                n += 1
                evs = trial_events(tid, hps, last - first, initial_epoch=first, parent_id=parent,
                                   info={"bracket": b, "round": r}, rng=rng)
                scores[tid] = (evs[-1].score, hps)
                events += evs
                current.append(tid)
            previous = current
    events += [StateChanged(state="done", previous="running"), SearchEnded(state="done")]
    return events


def test_a_hyperband_search_gets_the_hyperband_tab_filling_in_as_it_runs(fake, make_panel):
    events = hyperband_events(stop_after=10)
    fake.feed(events)
    panel = make_panel(fake)
    tabs = panel.teaching
    assert panel.sections["teaching"].children == (tabs,)
    assert tabs.titles == (TITLES["hyperband"], TITLES["points"])
    diagram = tabs.hyperband.diagram
    assert diagram == teaching.hyperband_diagram(panel.record)
    first = diagram["brackets"][0]
    assert [len(r["trials"]) for r in first["rounds"]] == [9, 1, 0]
    assert first["rounds"][1]["trials"][0]["fate"] == "waiting"
    assert diagram["now"] == "Between trials."
    assert diagram["best_id"] == panel.record.best().trial_id  # its mark gets the gold ring
    sent = len(tabs.hyperband.comm.messages)
    rest = hyperband_events()[len(events):]
    fake.feed(rest[:1])  # the next trial starts: its mark appears at once
    panel.flush()
    assert len(tabs.hyperband.comm.messages) == sent + 1
    assert tabs.hyperband.diagram["now"].startswith("Now: bracket 2, round 1: trial 0010")
    fake.feed(rest[1:])
    panel.flush()
    assert [b["status"] for b in tabs.hyperband.diagram["brackets"]] == ["done"] * 3
    tabs.hyperband.click("0003")  # a mark opens the trial's details
    assert panel.details_trial == "0003"


def test_the_teaching_tabs_keep_within_their_share_of_the_message_budget(fake, make_panel):
    from automl_nb.panel.panel import PARTS

    whole = hyperband_events()
    fake.feed(whole[:40])
    panel = make_panel(fake)
    tabs = panel.teaching

    def sent():
        widgets = [tabs.hyperband, tabs.points.widget, tabs.points.text, tabs]
        return sum(len(w.comm.messages) for w in widgets)

    before = sent()
    assert tabs.update(panel.record) == 0 and sent() == before  # nothing new, nothing sent
    fake.feed(whole[40:60])  # trials end and start
    panel.flush()
    assert 0 < sent() - before <= PARTS["teaching"][1]


def test_a_random_search_shows_the_points_it_tried_and_the_axes_can_change(fake, make_panel):
    fake.publish(started(oracle="random", epochs=3))
    rng = random.Random(1)
    for i in range(6):
        fake.feed(trial_events(f"{i:04d}", sample(SPACE, rng), 3, rng=rng))
    fake.feed(trial_events("0006", sample(SPACE, rng), 1, status="running", planned=3))
    panel = make_panel(fake)
    tabs = panel.teaching
    assert tabs.titles == (TITLES["random"],)
    assert tabs.hyperband is None and tabs.bayesian is None
    points = tabs.points
    assert list(points.x_dropdown.options) == ["units", "learning_rate", "activation",
                                                "batch_norm"]
    scored, other, best = points.widget.data
    assert len(scored["x"]) == 6 and len(other["x"]) == 1 and len(best["x"]) == 1
    assert best["marker"]["symbol"] == "star"  # the best trial's mark in every chart
    layout = points.widget.plot_layout
    assert layout["xaxis"]["title"]["text"] == "units"
    assert layout["xaxis"]["tickformat"] == "d"  # an int hyperparameter: whole-number ticks
    # a log axis gets few round ticks: decades of the space's 1e-4..1e-1
    assert layout["yaxis"]["type"] == "log"
    assert layout["yaxis"]["ticktext"] == ["1e-4", "1e-3", "0.01", "0.1"]
    assert "Random search drew 7 trials independently" in points.text.value
    points.x_dropdown.value = "activation"
    assert points.widget.plot_layout["xaxis"]["type"] == "category"
    assert set(points.widget.data[0]["x"]) <= {"relu", "tanh", "gelu"}


def test_a_bayesian_search_gets_the_bayesian_tab_and_waits_for_its_oracle(fake, make_panel):
    fake.publish(started(oracle="bayesian", epochs=3))
    fake.feed(trial_events("0000", sample(SPACE, random.Random(2)), 3))
    panel = make_panel(fake)
    view = panel.teaching.bayesian
    assert panel.teaching.titles == (TITLES["bayesian"], TITLES["points"])
    view.refresh(wait=True)  # a fake search has no oracle: the view says where it will come from
    assert "lives in the running search's oracle" in html.unescape(view.text.value)
    assert list(view.dropdown.options) == ["units", "learning_rate", "activation", "batch_norm"]


class Recorded(FakeSearch):
    """A fake search that, like a replay of a recording, has Bayesian snapshots."""

    def __init__(self, slices, **kwargs):
        super().__init__(**kwargs)
        self.slices = slices

    def surrogate_names(self):
        return list(self.slices)

    def surrogate(self, name):
        return self.slices.get(name) if self.record.trials else None


def surrogate(name, xs, categorical=False):
    mean = [0.8 + 0.01 * i for i in range(len(xs))]
    std = [0.05] * len(xs)
    return {
        "hyperparameter": name, "kind": "choice" if categorical else "float",
        "categorical": categorical, "discrete": categorical, "log": not categorical,
        "objective": "val_accuracy", "direction": "max", "beta": 2.6, "phase": "model",
        "completed": 3, "initial_points": 3, "held": {}, "held_from": "0001", "x": xs,
        "mean": mean, "std": std, "lower": [m - 0.098 for m in mean],
        "upper": [m + 0.098 for m in mean], "acquisition": [m + 0.13 for m in mean],
        "observed": [{"trial_id": "0000", "x": xs[0], "score": 0.8}],
        "next": {"x": xs[-1], "values": {name: xs[-1]}, "trial_id": None, "running": False,
                 "random": False, "mean": mean[-1], "std": 0.05, "acquisition": mean[-1] + 0.13},
        "ready": True, "message": "", "text": f"The story of {name}.",
    }


def test_the_bayesian_view_draws_recorded_snapshots_and_follows_the_dropdown(tmp_path, make_panel):
    slices = {"learning_rate": surrogate("learning_rate", [1e-4, 1e-3, 1e-2]),
              "activation": surrogate("activation", ["relu", "tanh"], categorical=True)}
    search = Recorded(slices, directory=tmp_path)
    search.publish(started(oracle="bayesian", epochs=3))
    panel = make_panel(search)
    view = panel.teaching.bayesian
    assert "appears once the first trial of the recording starts" in view.text.value
    search.feed(trial_events("0000", {"learning_rate": 1e-4, "activation": "relu"}, 3))
    panel.flush()
    assert list(view.dropdown.options) == ["learning_rate", "activation"]
    _upper, lower, mean, acq, observed, nxt, best = view.widget.data
    assert mean["x"] == [1e-4, 1e-3, 1e-2] and acq["y"] == pytest.approx([0.93, 0.94, 0.95])
    assert lower["fill"] == "tonexty" and observed["y"] == [0.8]
    assert nxt["x"] == [1e-2] and nxt["name"] == "next trial"
    assert best["x"] == [1e-4] and best["marker"]["symbol"] == "star"
    xaxis = view.widget.plot_layout["xaxis"]
    assert xaxis["type"] == "log" and xaxis["ticktext"] == ["1e-4", "1e-3", "0.01"]
    assert "The story of learning_rate" in view.text.value and view.widget.empty == ""
    view.dropdown.value = "activation"
    assert view.widget.data[2]["x"] == ["relu", "tanh"]
    assert view.widget.plot_layout["xaxis"]["type"] == "category"
    assert view.widget.data[3]["name"] == "acquisition: mean + 2.6σ"


def test_the_step_button_calls_step_and_a_search_without_it_says_so(fake, make_panel):
    class Stepping(FakeSearch):
        def step(self):
            self.calls.append(("step",))
            return CommandResult("step", True, "running one trial, then pausing")

    stepping = Stepping(directory=fake.directory)
    stepping.publish(started())
    stepping.publish(StateChanged(state="paused", previous="running", reason="step mode"))
    panel = make_panel(stepping)
    assert not panel.step_button.disabled
    assert panel.step_button in panel.controls.children
    panel.step_button.click()
    assert stepping.calls == [("step",)]
    assert panel.status_message.value == "running one trial, then pausing"
    stepping.publish(StateChanged(state="done", previous="paused"))
    panel.flush()
    assert panel.step_button.disabled
    plain = make_panel(fake)
    plain.step_button.click()
    assert plain.status_message.value == "this search has no step mode"


@pytest.mark.parametrize("name", ["digits-hyperband", "digits-bayesian"])
def test_a_replay_plays_into_the_panel_and_refuses_every_command(name, make_panel):
    replayed = Replay(RECORDINGS / name, speed=float("inf"))
    replayed.wait(10)
    panel = make_panel(replayed)
    assert panel.record.rows() == replayed.record.rows()
    for button in (panel.pause_button, panel.step_button, panel.stop_button,
                   panel.add_trials_button):
        button.click()
        assert panel.status_message.value == NOT_STEERABLE
    panel.table.click("promote", "0001")
    assert panel.status_message.value == NOT_STEERABLE
    panel.export_button.click()
    assert panel.status_message.value.startswith("a replay has no models to export")
    if name == "digits-hyperband":
        assert panel.teaching.hyperband.diagram["brackets"][0]["status"] == "done"
    else:
        view = panel.teaching.bayesian
        assert view.data is not None and view.data["ready"]
        assert view.data["hyperparameter"] == view.dropdown.value


HARNESS = r"""
class Node {
  constructor(tag) {
    this.tagName = tag; this.children = []; this.parent = null; this._text = "";
    this.className = ""; this.style = {}; this.title = ""; this.listeners = {};
    this.classList = { add: (c) => { this.className = `${this.className} ${c}`.trim(); } };
  }
  get textContent() {
    return this.children.length ? this.children.map((c) => c.textContent).join("") : this._text;
  }
  set textContent(v) { this.children = []; this._text = String(v); }
  append(...nodes) { for (const n of nodes) { n.parent = this; this.children.push(n); } }
  replaceChildren(...nodes) { this.children = []; this.append(...nodes); }
  addEventListener(type, fn) { (this.listeners[type] ||= []).push(fn); }
  click() { for (const fn of this.listeners.click || []) fn(); }
  findAll(pred, out = []) { if (pred(this)) out.push(this); for (const c of this.children) c.findAll(pred, out); return out; }
}
globalThis.document = { createElement: (tag) => new Node(tag) };
const state = JSON.parse(process.argv[3]);
const handlers = {};
const sent = [];
const model = {
  get: (k) => state[k],
  set: (k, v) => { state[k] = v; for (const f of handlers[`change:${k}`] || []) f(); },
  on: (e, f) => { (handlers[e] ||= []).push(f); },
  off: (e, f) => { handlers[e] = (handlers[e] || []).filter((g) => g !== f); },
  send: (m) => sent.push(m),
};
const mod = await import(process.argv[2]);
const root = new Node("div");
const empty = JSON.parse(JSON.stringify(state));
state.diagram = {};
const cleanup = mod.default.render({ model, el: root });
const out = { emptyText: root.textContent };
model.set("diagram", empty.diagram);
const cls = (c) => (n) => n.className.split(" ").includes(c);
out.brackets = root.findAll(cls("amnb-hb-bracket")).length;
out.rounds = root.findAll(cls("amnb-hb-round")).map((r) => r.findAll(cls("amnb-hb-mark")).length);
out.fates = root.findAll(cls("amnb-hb-marks"))[0].children.map((m) => m.className.split(" ")[1]);
out.running = root.findAll(cls("amnb-hb-running")).map((m) => [m.style.width, m.children.length]);
out.titles = root.findAll(cls("amnb-hb-marks"))[0].children.map((m) => m.title);
out.text = root.findAll(cls("amnb-hb-text"))[0].textContent;
root.findAll(cls("amnb-hb-advanced"))[0].click();
out.sent = sent;
cleanup();
out.handlersLeft = Object.values(handlers).reduce((n, fs) => n + fs.length, 0);
console.log(JSON.stringify(out));
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run the ES module")
def test_hyperband_module_draws_brackets_rounds_and_marks(tmp_path):
    fake = FakeSearch(directory=tmp_path)
    events = hyperband_events(stop_after=10)
    fake.feed(events)
    fake.feed(hyperband_events()[len(events):len(events) + 2])  # 0010 starts, one epoch in
    diagram = teaching.hyperband_diagram(fake.record)
    module = tmp_path / "hyperband.mjs"
    module.write_text(asset("hyperband.js"))
    harness = tmp_path / "harness.mjs"
    harness.write_text(HARNESS)
    done = subprocess.run(
        ["node", str(harness), module.as_uri(), json.dumps({"diagram": diagram})],
        capture_output=True, text=True, timeout=30, check=False,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["emptyText"] == "Waiting for the Hyperband search to start."
    assert out["brackets"] == 3
    # marks a round: trials and dashed places still to come (the legend's are outside rounds)
    assert out["rounds"] == [9, 3, 1, 5, 2, 3]
    assert out["fates"][:2] == ["amnb-hb-advanced", "amnb-hb-advanced"]
    assert out["fates"].count("amnb-hb-waiting") == 7
    # the running trial (3 epochs of 9 on a log scale, with its progress fill), then the legend's
    assert out["running"] == [["27px", 1], [None, 0]]
    assert out["titles"][0].startswith("trial ") and "kept: trains on in the next round" in (
        out["titles"][0])
    assert out["text"] == diagram["text"]
    assert out["sent"] == [{"action": "details", "trial_id": out["sent"][0]["trial_id"]}]
    assert out["handlersLeft"] == 0


def test_the_hyperband_widget_loads_its_module_and_styles_from_the_package():
    assert HyperbandDiagram._esm == asset("hyperband.js")
    assert HyperbandDiagram._esm == (ROOT / "widgets" / "hyperband.js").read_text()
    assert HyperbandDiagram._css == (ROOT / "widgets" / "hyperband.css").read_text()
    for fate in ("running", "advanced", "dropped", "final", "waiting", "failed", "pending",
                 "undecided"):
        assert f".amnb-hb-{fate}" in HyperbandDiagram._css
