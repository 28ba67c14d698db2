"""The teaching features without any UI: Hyperband's diagram, the Bayesian oracle's surrogate,
the points tried, best-so-far curves, replays of recorded searches, compare(), load()."""

from __future__ import annotations

import itertools
import json
import math
import random
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import automl_nb
from automl_nb import teaching
from automl_nb.events import (
    CommandIssued,
    EpochEnded,
    SearchEnded,
    SearchStarted,
    StateChanged,
    TrialEnded,
    TrialStarted,
)
from automl_nb.record import SearchRecord
from automl_nb.replays import NOT_STEERABLE, Replay, save_recording

ROOT = Path(__file__).resolve().parent.parent
RECORDINGS = ROOT / "automl_nb" / "recordings"

SPACE = [
    {"name": "learning_rate", "kind": "float", "default": 1e-3, "min": 1e-4, "max": 1e-1,
     "step": None, "sampling": "log", "values": None},
    {"name": "units", "kind": "int", "default": 64, "min": 16, "max": 256, "step": 16,
     "sampling": "linear", "values": None},
    {"name": "activation", "kind": "choice", "default": "relu", "min": None, "max": None,
     "step": None, "sampling": None, "values": ["relu", "tanh"]},
    {"name": "optimizer", "kind": "fixed", "default": "adam", "min": None, "max": None,
     "step": None, "sampling": None, "values": None},
]


@pytest.fixture(scope="module")
def kt():
    return pytest.importorskip("keras_tuner")


# -- event streams --------------------------------------------------------------------------


class Clock:
    def __init__(self, start: float = 1000.0):
        self.now = start

    def __call__(self, dt: float = 1.0) -> float:
        self.now += dt
        return self.now


def started(oracle="hyperband", epochs=9, objective="val_accuracy", direction="max", t=1000.0):
    return SearchStarted(
        name="t", directory="/tmp/t", data={}, oracle=oracle, objective=objective,
        direction=direction, trials=None, time_budget_s=None, epochs=epochs, seed=0,
        space=SPACE, time=t,
    )


def trial(tid, hps, first, last, score, clock, *, parent=None, info=None, status="completed",
          source="oracle", objective="val_accuracy"):
    """A trial's events: started, one epoch each from first+1 to last, ended (unless running)."""
    out = [TrialStarted(trial_id=tid, hyperparameters=hps, parent_id=parent, initial_epoch=first,
                        epochs=last, source=source, info=info or {}, time=clock(0.1))]
    for e in range(first + 1, last + 1):
        value = score * e / last
        out.append(EpochEnded(trial_id=tid, epoch=e, metrics={objective: value}, score=value,
                              time=clock(1.0)))
    if status != "running":
        out.append(TrialEnded(trial_id=tid, status=status,
                              score=None if status == "failed" else score, epochs=last,
                              duration_s=float(last - first), time=clock(0.1)))
    return out


def hyperband_events(max_epochs=9, factor=3, *, seed=0, stop_after=None, end=True):
    """A Hyperband search as KerasTuner plays it with one worker: each bracket's rounds in turn,
    the best of a round trained on (from where it stopped) in the next."""
    rng = random.Random(seed)
    clock = Clock()
    events = [started(epochs=max_epochs, t=clock(0)),
              StateChanged(state="running", previous="idle", time=clock(0))]
    scores: dict[str, tuple[float, dict]] = {}
    n = 0
    for b in range(teaching.hyperband_brackets(max_epochs, factor) - 1, -1, -1):
        previous: list[str] = []
        for r in range(b + 1):
            size = teaching.hyperband_size(b, r, max_epochs, factor)
            last = teaching.hyperband_epochs(b, r, max_epochs, factor)
            first = teaching.hyperband_epochs(b, r - 1, max_epochs, factor) if r else 0
            if r == 0:
                chosen = [(None, {"learning_rate": 10 ** rng.uniform(-4, -1),
                                  "units": 16 * rng.randint(1, 16),
                                  "activation": rng.choice(["relu", "tanh"]),
                                  "optimizer": "adam"}) for _ in range(size)]
            else:
                best = sorted(previous, key=lambda t: -scores[t][0])[:size]
                chosen = [(p, scores[p][1]) for p in best]
            current = []
            for parent, hps in chosen:
                if stop_after is not None and n >= stop_after:
                    return events
                tid = f"{n:04d}"
                n += 1
                base = scores[parent][0] if parent else 0.5 + 0.4 * rng.random()
                score = min(0.99, base + 0.02 * r)
                scores[tid] = (score, hps)
                events += trial(tid, hps, first, last, score, clock, parent=parent,
                                info={"bracket": b, "round": r})
                current.append(tid)
            previous = current
    if end:
        events += [StateChanged(state="done", previous="running", time=clock(0.1)),
                   SearchEnded(state="done", time=clock(0.1))]
    return events


def record_of(events) -> SearchRecord:
    return SearchRecord([e.__class__(**{**e.__dict__, "seq": i}) for i, e in enumerate(events)])


# -- Hyperband -------------------------------------------------------------------------------


def test_hyperband_formulas_are_kerastuners(kt):
    for max_epochs in (1, 2, 3, 5, 9, 10, 27, 30, 81, 100):
        oracle = kt.oracles.HyperbandOracle(objective="val_loss", max_epochs=max_epochs, factor=3)
        brackets = oracle._get_num_brackets()
        assert teaching.hyperband_brackets(max_epochs) == brackets
        for b in range(brackets):
            for r in range(b + 1):
                assert teaching.hyperband_size(b, r, max_epochs) == oracle._get_size(b, r)
                assert teaching.hyperband_epochs(b, r, max_epochs) == oracle._get_epochs(b, r)
    assert [teaching.hyperband_size(3, r, 27) for r in range(4)] == [27, 9, 3, 1]


def test_diagram_of_a_finished_search_shows_every_fate_and_the_numbers():
    d = teaching.hyperband_diagram(record_of(hyperband_events(9)))
    assert d["max_epochs"] == 9 and d["factor"] == 3
    assert [b["bracket"] for b in d["brackets"]] == [2, 1, 0]
    assert [b["status"] for b in d["brackets"]] == ["done"] * 3
    assert d["planned_trials"] == 23 and d["planned_epochs"] == 21 + 27 + 27
    assert d["text"].startswith(
        "max 9 epochs, factor 3: the first bracket starts 9 trials for 1 epoch and keeps the "
        "best 3 for 3 epochs, then the best 1 for 9 epochs."
    )
    first = d["brackets"][0]
    assert first["text"] == (
        "Bracket 2: starts 9 trials for 1 epoch each and keeps the best 3 for 3 epochs, "
        "then the best 1 for 9 epochs."
    )
    r0, r1, r2 = first["rounds"]
    assert (r0["size"], r0["epochs"], r0["from_epoch"], r0["keep"]) == (9, 1, 0, 3)
    assert (r1["size"], r1["epochs"], r1["from_epoch"], r1["keep"]) == (3, 3, 1, 1)
    assert r2["keep"] is None and r2["pending"] == 0
    fates = [m["fate"] for m in r0["trials"]]
    assert fates.count("advanced") == 3 and fates.count("dropped") == 6
    # the advanced ones are the best three of the round, each linked to the trial it became
    advanced = sorted((m for m in r0["trials"] if m["fate"] == "advanced"), key=lambda m: m["rank"])
    assert [m["rank"] for m in advanced] == [1, 2, 3]
    assert {m["child_id"] for m in advanced} == {m["trial_id"] for m in r1["trials"]}
    assert [m["fate"] for m in r2["trials"]] == ["final"]
    assert d["brackets"][2]["text"].startswith("Bracket 0: 3 trials, each trained for all 9 epochs")
    assert "3 of 3 brackets" in d["now"]


def test_diagram_fills_in_live_with_running_waiting_and_pending_marks():
    events = hyperband_events(9, end=False, stop_after=10)
    clock = Clock(10_000)
    # trial 0010: the second trial of bracket 2's round 1, still running
    record = record_of(events)
    best = sorted(
        (t for t in record.trials.values() if t.info.get("round") == 0),
        key=lambda t: -t.score,
    )
    running_parent = best[1].trial_id
    events += trial("0010", best[1].hyperparameters, 1, 3, 0.9, clock, parent=running_parent,
                    info={"bracket": 2, "round": 1}, status="running")[:2]
    d = teaching.hyperband_diagram(record_of(events))
    r0, r1, r2 = d["brackets"][0]["rounds"]
    assert [m["fate"] for m in r1["trials"]] == ["waiting", "running"]
    assert r1["pending"] == 1 and r2["pending"] == 1
    fates = [m["fate"] for m in r0["trials"]]
    assert fates.count("advanced") == 2 and fates.count("waiting") == 7  # round 1 not full yet
    assert d["brackets"][0]["status"] == "running"
    assert d["brackets"][1]["status"] == "not started"
    assert d["brackets"][1]["rounds"][0]["pending"] == 5
    assert d["now"] == (
        f"Now: bracket 2, round 1: trial 0010 trains epochs 2–3, going on from trial "
        f"{running_parent}, one of the best of round 0."
    )


def test_diagram_places_trials_without_info_and_leaves_promotions_outside():
    events = [e for e in hyperband_events(9, stop_after=12, end=False)]
    stripped = []
    for e in events:  # a journal from before TrialStarted carried info
        if isinstance(e, TrialStarted):
            e = TrialStarted(**{**e.__dict__, "info": {}})
        stripped.append(e)
    clock = Clock(20_000)
    stripped += trial("0012", {"learning_rate": 1e-3}, 3, 8, 0.95, clock, parent="0009",
                      source="promoted")
    stripped += [StateChanged(state="done", previous="running", time=clock()),
                 SearchEnded(state="done", time=clock())]
    d = teaching.hyperband_diagram(record_of(stripped))
    r0, r1, _ = d["brackets"][0]["rounds"]
    assert len(r0["trials"]) == 9 and len(r1["trials"]) == 3
    assert d["outside"] == ["0012"]
    assert d["brackets"][0]["status"] == "ended early"
    assert {m["fate"] for m in r1["trials"]} == {"undecided"}


def test_diagram_says_the_numbers_of_the_brackets_example_and_checks_arguments():
    record = record_of([started(epochs=27)])
    d = teaching.hyperband_diagram(record)
    assert d["text"].startswith(
        "max 27 epochs, factor 3: the first bracket starts 27 trials for 1 epoch and keeps the "
        "best 9 for 3 epochs, then the best 3 for 9 epochs, then the best 1 for 27 epochs."
    )
    assert "ceil(4/(b+1) · 3^(b−r))" in d["note"]
    assert d["now"] == "Waiting for the first trial."
    with pytest.raises(ValueError, match="factor must be a whole number of at least 2; got 1"):
        teaching.hyperband_diagram(record, factor=1)
    with pytest.raises(ValueError, match="max_epochs is not known before the search starts"):
        teaching.hyperband_diagram(SearchRecord())


# -- points tried and best so far --------------------------------------------------------------


def test_sampled_points_over_two_hyperparameters():
    clock = Clock()
    events = [started(oracle="random", epochs=2, t=clock(0))]
    events += trial("0000", {"learning_rate": 1e-3, "units": 32, "activation": "relu",
                             "optimizer": "adam"}, 0, 2, 0.8, clock)
    events += trial("0001", {"learning_rate": 1e-2, "units": 64, "activation": "tanh",
                             "optimizer": "adam"}, 0, 2, 0.9, clock)
    events += trial("0002", {"learning_rate": 3e-2, "units": 16, "activation": "tanh",
                             "optimizer": "adam"}, 0, 1, 0.0, clock, status="running")
    record = record_of(events)
    assert teaching.axis_names(record) == ["learning_rate", "units", "activation"]
    d = teaching.sampled_points(record)
    assert d["x"]["name"] == "learning_rate" and d["x"]["log"] and not d["x"]["categorical"]
    assert d["y"]["name"] == "units"
    assert [(p["x"], p["y"], p["score"]) for p in d["points"]] == [
        (1e-3, 32, 0.8), (1e-2, 64, 0.9), (3e-2, 16, None)]
    assert d["best_id"] == "0001" and d["text"].startswith("Random search drew 3 trials")
    d = teaching.sampled_points(record, "activation", "units")
    assert d["x"]["categorical"] and d["x"]["categories"] == ["relu", "tanh"]
    with pytest.raises(ValueError, match="x='optimizer' is not a hyperparameter of this search"):
        teaching.sampled_points(record, "optimizer", "units")


def test_best_so_far_counts_running_time_and_caps_long_gaps():
    clock = Clock()
    events = [started(t=clock(0))]
    events += trial("0000", {"learning_rate": 1e-3}, 0, 2, 0.7, clock)  # 0.1 to start, 2.1 long
    events += trial("0001", {"learning_rate": 1e-3}, 0, 1, 0.0, clock, status="failed")
    clock(500)  # a pause, or a kernel closed and the search reopened later
    events += trial("0002", {"learning_rate": 1e-3}, 0, 2, 0.9, clock)
    events += trial("0003", {"learning_rate": 1e-3}, 0, 2, 0.8, clock)
    points = teaching.best_so_far(record_of(events))
    assert [p.trial_index for p in points] == [1, 2, 3, 4]
    assert [p.best for p in points] == [0.7, 0.7, 0.9, 0.9]
    assert points[0].elapsed_s == pytest.approx(2.2)
    assert points[1].elapsed_s == pytest.approx(2.2 + 0.1 + 1.1)
    assert points[2].elapsed_s == pytest.approx(3.4 + teaching.GAP_CAP_S + 2.1)
    assert points[0] == (points[0].elapsed_s, 1, 0.7)  # a plain tuple too

    lower = [started(objective="val_loss", direction="min", t=1000)]
    c2 = Clock()
    lower += trial("0000", {}, 0, 1, 0.5, c2, objective="val_loss")
    lower += trial("0001", {}, 0, 1, 0.3, c2, objective="val_loss")
    lower += trial("0002", {}, 0, 1, 0.4, c2, objective="val_loss")
    assert [p.best for p in teaching.best_so_far(record_of(lower))] == [0.5, 0.3, 0.3]


# -- replay --------------------------------------------------------------------------------------


@pytest.fixture
def recorded(scripted, tmp_path):
    """A finished scripted search, saved as a recording (JSON only)."""
    s = scripted(trials=4, epochs=3)
    s.wait(20)
    s.prune  # noqa: B018 - the search exists
    return s, save_recording(s.directory, tmp_path / "rec")


def test_replay_plays_the_journal_into_the_same_record(recorded):
    search, path = recorded
    assert sorted(p.name for p in path.iterdir()) == ["events.jsonl", "search.json"]
    r = automl_nb.replay(path, speed=float("inf"))
    assert r.wait(10).value == "done" and r.finished and r.progress == 1.0
    assert r.record.rows() == search.record.rows()
    assert [e.seq for e in r.events()] == [e.seq for e in search.events()]
    assert list(r.results.trial_id) == list(search.results.trial_id)
    assert r.name == search.name and r.directory == path
    seen = []
    r.subscribe(seen.append, replay=True)
    assert len(seen) == len(search.events())
    assert "100% played" in repr(r)


def test_replay_keeps_the_pace_and_moves_times_to_now(recorded):
    search, path = recorded
    original = search.events()
    span = original[-1].time - original[0].time
    speed = max(1.0, span / 0.3)  # about 0.3 s of playback
    begun = time.time()
    r = Replay(path, speed=speed)
    assert not r.finished or span == 0
    r.wait(10)
    took = time.time() - begun
    assert took >= 0.8 * min(span, 5.0) / speed
    played = r.events()
    assert played[0].time >= begun - 1
    gaps = [b.time - a.time for a, b in itertools.pairwise(original)]
    assert [b.time - a.time for a, b in itertools.pairwise(played)] == pytest.approx(gaps)


def test_a_replay_cannot_be_steered(recorded):
    _, path = recorded
    r = Replay(path, speed=float("inf"))
    r.wait(10)
    for answer in (r.pause(), r.resume(), r.step(), r.stop(), r.prune("0001"),
                   r.promote("0001", epochs=2), r.enqueue({"units": 32}), r.extend(trials=2)):
        assert answer.accepted is False and not answer
        assert str(answer) == NOT_STEERABLE
        assert str(answer).startswith("a replay cannot be steered")
    with pytest.raises(RuntimeError, match="a replay has no models to export"):
        r.export("x.keras")
    with pytest.raises(RuntimeError, match="a replay has no models"):
        r.best_model()
    assert not any(isinstance(e, CommandIssued) for e in r.events())  # nothing was journaled


def test_replay_finds_shipped_recordings_by_name_from_anywhere(tmp_path, monkeypatch):
    from automl_nb.replays import recordings

    monkeypatch.chdir(tmp_path)
    assert {"digits-random", "digits-bayesian", "digits-hyperband"} <= set(recordings())
    r = automl_nb.replay("digits-random", speed=float("inf"))
    assert r.directory.resolve() == (RECORDINGS / "digits-random").resolve()
    r.wait(10)
    with pytest.raises(ValueError, match="recordings shipped with automl-nb: digits-bayesian"):
        automl_nb.replay("digits-nothing")


def test_replay_checks_its_arguments(tmp_path):
    with pytest.raises(ValueError, match="directory .* does not exist"):
        automl_nb.replay(tmp_path / "nope")
    with pytest.raises(ValueError, match="holds no recording: there is no events.jsonl"):
        automl_nb.replay(tmp_path)
    (tmp_path / "events.jsonl").write_text("")
    with pytest.raises(ValueError, match="has no events"):
        automl_nb.replay(tmp_path)
    with pytest.raises(ValueError, match=r"speed must be a number above 0 .*; got 0"):
        Replay(RECORDINGS / "digits-random", speed=0)


@pytest.mark.parametrize("name", ["digits-random", "digits-bayesian", "digits-hyperband"])
def test_shipped_recordings_replay_whole_searches(name):
    path = RECORDINGS / name
    assert {p.name for p in path.iterdir()} <= {"events.jsonl", "search.json", "teaching.json"}
    r = Replay(path, speed=float("inf"))
    assert r.wait(10).value == "done"
    record = r.record
    assert len(record.finished_trials()) >= 5
    assert record.config.epochs == 9 and record.best() is not None
    if name == "digits-hyperband":
        d = teaching.hyperband_diagram(record)
        assert d["brackets"][0]["status"] == "done" and not d["outside"]
    if name == "digits-bayesian":
        names = r.surrogate_names()
        assert "learning_rate" in names
        data = r.surrogate("learning_rate")
        assert data["ready"] and data["next"]["trial_id"] is None  # the final preview
        assert len(data["x"]) == len(data["mean"]) == len(data["acquisition"])


def test_recordings_are_small_and_replay_without_tensorflow():
    total = sum(p.stat().st_size for p in RECORDINGS.glob("*/*"))
    assert total < 400_000, f"the recordings hold {total // 1024} KB; keep them a few hundred KB"
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys, automl_nb
            r = automl_nb.replay({str(RECORDINGS / "digits-hyperband")!r}, speed=float("inf"))
            r.wait(10)
            heavy = [m for m in ("tensorflow", "keras", "keras_tuner", "ipywidgets", "plotly")
                     if m in sys.modules]
            print(r.state.value, len(r.record.trials), heavy)
        """)],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert out.returncode == 0, out.stderr
    state, n, heavy = out.stdout.split(maxsplit=2)
    assert state == "done" and int(n) > 10 and heavy.strip() == "[]"


# -- compare ---------------------------------------------------------------------------------------


def test_compare_takes_live_reopened_and_replayed_searches(recorded, scripted):
    from automl_nb.comparison import comparison_data

    search, path = recorded
    other = scripted(trials=2, epochs=2)
    other.wait(20)
    reopened = automl_nb.open(search.directory)
    replayed = Replay(path, speed=float("inf"))
    replayed.wait(10)
    data = comparison_data([search, reopened, replayed, other], labels=["a", "b", "c", "d"])
    assert [d["label"] for d in data] == ["a", "b", "c", "d"]
    assert data[0]["points"] == data[1]["points"]
    assert [p.best for p in data[2]["points"]] == [p.best for p in data[0]["points"]]
    assert [p.trial_index for p in data[3]["points"]] == [1, 2]
    fig = automl_nb.compare([search, replayed, other])
    assert len(fig.data) == 6  # two panels a search
    assert fig.data[0].name == "scripted" and fig.data[2].name.endswith("[replay]")
    assert list(fig.data[1].x) == [1, 2, 3, 4]
    assert "Best val_accuracy so far" in fig.layout.title.text
    with pytest.raises(ValueError, match="labels has 1 names for 2 searches"):
        comparison_data([search, other], labels=["x"])
    with pytest.raises(TypeError, match="item 0 is str"):
        comparison_data(["nope"])


def test_compare_refuses_searches_with_different_objectives(scripted):
    a = scripted(trials=1, epochs=1)
    b = scripted(trials=1, epochs=1, objective="val_loss", direction="min")
    a.wait(20), b.wait(20)
    with pytest.raises(ValueError, match=r"different objectives \(val_accuracy, val_loss\)"):
        automl_nb.compare([a, b])


# -- the Bayesian oracle's surrogate (a real KerasTuner oracle, no training) -------------------


def make_oracle(kt, tmp_path, direction="max", scores=(0.81, 0.88, 0.91, 0.87), initial=3):
    hp = kt.HyperParameters()
    hp.Float("learning_rate", 1e-4, 1e-1, sampling="log")
    hp.Int("units", 16, 256, step=2, sampling="log")
    hp.Choice("activation", ["relu", "tanh"])
    hp.Fixed("optimizer", "adam")
    oracle = kt.oracles.BayesianOptimizationOracle(
        objective=kt.Objective("score", direction), max_trials=None,
        num_initial_points=initial, seed=1, hyperparameters=hp,
    )
    oracle._set_project_dir(str(tmp_path), "p")
    oracle.verbose = 0
    for score in scores:
        finish(oracle, oracle.create_trial("tuner0"), score)
    return oracle


def finish(oracle, trial, score):
    oracle.update_trial(trial.trial_id, {"score": score})
    trial.status = "COMPLETED"
    oracle.end_trial(trial)


def test_surrogate_previews_exactly_the_trial_the_oracle_proposes_next(kt, tmp_path):
    oracle = make_oracle(kt, tmp_path)
    before = json.dumps(oracle.get_state(), sort_keys=True, default=str)
    random_state = oracle._random_state.get_state()[1].copy()
    gpr, fitted_on = oracle.gpr, oracle.gpr.X_train_.copy()
    data = teaching.bayesian_surrogate(oracle, "learning_rate", n=25)
    # the live oracle is untouched
    assert json.dumps(oracle.get_state(), sort_keys=True, default=str) == before
    assert (oracle._random_state.get_state()[1] == random_state).all()
    assert oracle.gpr is gpr and (oracle.gpr.X_train_ == fitted_on).all()
    assert len(oracle.trials) == 4 and "populate_space" not in oracle.__dict__
    assert data["phase"] == "model" and data["completed"] == 4 and data["ready"]
    assert data["held_from"] == "0002" and set(data["held"]) == {"units", "activation"}
    assert len(data["x"]) == 25 and data["log"] and not data["discrete"]
    assert data["x"][0] == pytest.approx(1e-4) and data["x"][-1] == pytest.approx(0.1)
    for m, s, a, lo, hi in zip(data["mean"], data["std"], data["acquisition"], data["lower"],
                               data["upper"]):
        assert a == pytest.approx(m + data["beta"] * s)  # UCB, in the objective's own frame
        assert lo == pytest.approx(m - 1.96 * s) and hi == pytest.approx(m + 1.96 * s)
    assert sorted(o["score"] for o in data["observed"]) == [0.81, 0.87, 0.88, 0.91]
    nxt = data["next"]
    assert nxt["trial_id"] is None and not nxt["random"]
    proposed = oracle.create_trial("tuner0")
    assert proposed.hyperparameters.values == nxt["values"]
    assert nxt["x"] == proposed.hyperparameters.values["learning_rate"]
    assert "Next, the oracle tries the point where that bound is highest" in data["text"]


def test_surrogate_while_a_trial_runs_shows_the_decision_that_chose_it(kt, tmp_path):
    oracle = make_oracle(kt, tmp_path)
    running = oracle.create_trial("tuner0")
    state = teaching.bayesian_state(oracle)
    assert state.next_trial == running.trial_id and state.completed == 4
    data = state.slice("units")
    assert data["next"]["values"] == running.hyperparameters.values and data["next"]["running"]
    assert data["discrete"] and data["x"] == [16, 32, 64, 128, 256]
    assert f"It chose trial {running.trial_id} (running now)" in data["text"]
    choice = state.slice("activation")
    assert choice["categorical"] and choice["x"] == ["relu", "tanh"]
    # a recording's snapshot of an earlier decision: fitted on the trials before it
    early = teaching.bayesian_state(oracle, until="0002")
    assert early.completed == 2 and early.phase == "random"
    assert early.next_values == oracle.trials["0002"].hyperparameters.values
    assert "samples at random" in early.slice("learning_rate")["text"]
    with pytest.raises(ValueError, match="until='9999' is not a trial of this oracle"):
        teaching.bayesian_state(oracle, until="9999")


def test_surrogate_in_a_minimising_frame_and_its_errors(kt, tmp_path):
    oracle = make_oracle(kt, tmp_path, direction="min", scores=(0.5, 0.3))
    data = teaching.bayesian_surrogate(oracle, "learning_rate", n=5)
    assert data["direction"] == "min" and data["phase"] == "random"
    for m, s, a in zip(data["mean"], data["std"], data["acquisition"]):
        assert a == pytest.approx(m - data["beta"] * s)
    assert data["held_from"] == "0001"  # the lowest score is the best
    one = make_oracle(kt, tmp_path / "one", scores=(0.5,))
    early = teaching.bayesian_surrogate(one, "units")
    assert not early["ready"] and early["mean"] == []
    assert "needs at least 2 finished trials" in early["text"]
    with pytest.raises(ValueError, match="hp_name 'optimizer' is not a tuned hyperparameter"):
        teaching.bayesian_surrogate(oracle, "optimizer")
    with pytest.raises(TypeError, match="must be a KerasTuner BayesianOptimizationOracle"):
        teaching.bayesian_surrogate(kt.oracles.RandomSearchOracle(objective="val_loss"), "x")


def test_surrogate_takes_a_search_and_says_when_it_has_no_oracle_yet(kt, tmp_path, scripted):
    oracle = make_oracle(kt, tmp_path)

    class Live:  # what the view reads of a running Search
        record, state = SearchRecord(), "running"

    Live.oracle = oracle

    last = teaching.bayesian_state(Live(), preview=False)
    assert last.next_trial == "0003" and last.completed == 3
    s = scripted(trials=1, epochs=1, start=False)
    with pytest.raises(RuntimeError, match="this search has no oracle yet"):
        teaching.bayesian_surrogate(s, "units")


def test_surrogate_holds_the_oracles_lock(kt, tmp_path):
    from keras_tuner.src.engine.oracle import LOCKS

    oracle = make_oracle(kt, tmp_path, scores=(0.5, 0.6))
    lock = LOCKS[oracle]
    lock.acquire()
    try:
        with pytest.raises(TimeoutError, match="the oracle stayed busy"):
            teaching.bayesian_state(oracle, timeout=0.05)
    finally:
        lock.release()
    assert teaching.bayesian_state(oracle).completed == 2


# -- load(): predict from raw rows ------------------------------------------------------------------


def test_load_predicts_labels_from_raw_rows(tmp_path, kt):
    import keras
    import numpy as np
    import pandas as pd

    from automl_nb.data import load_data
    from automl_nb.data.layers import compose

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({
        "size": rng.normal(size=60),
        "colour": rng.choice(["red", "blue", None], size=60),
        "label": rng.choice(["cat", "dog", "eel"], size=60),
    })
    frame.loc[3, "size"] = np.nan
    data = load_data(frame, target="label", seed=0)
    inner = keras.Sequential([keras.Input(data.input_shape), keras.layers.Dense(3, activation="softmax")])
    inner.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model = compose(inner, data.preprocessing)  # the model takes the raw columns
    path = tmp_path / "m.keras"
    model.save(path)
    Path(str(path) + ".json").write_text(json.dumps({
        "class_names": data.class_names, "label_dtype": data.label_dtype, "task": data.task,
        "inputs": {"kind": "columns", "columns": [
            {"name": c["name"], "input": c["input"], "kind": c["kind"]} for c in data.preprocessing["columns"]]},
    }))
    predictor = automl_nb.load(path)
    raw = frame.drop(columns=["label"]).head(5)
    labels = predictor.predict(raw)
    indices = model.predict(predictor.features(raw), verbose=0).argmax(axis=1)
    assert labels == [data.class_names[i] for i in indices]
    assert set(labels) <= {"cat", "dog", "eel"}
    assert predictor.predict(raw.to_dict("records")) == labels  # a list of row dicts too
    assert "3 classes, predicts from rows of a table" in repr(predictor)
    with pytest.raises(ValueError, match="data must be rows of a table"):
        predictor.predict(np.zeros((2, 7)))
    with pytest.raises(ValueError, match="path must be a .keras file"):
        automl_nb.load(tmp_path / "m.h5")
    with pytest.raises(ValueError, match="does not exist; export a model first"):
        automl_nb.load(tmp_path / "none.keras")
    assert math.isfinite(float(predictor.predict_proba(raw).sum()))
    Path(str(path) + ".json").write_text(json.dumps({"preprocessing": {"columns": []}}))
    with pytest.raises(ValueError, match="exported by an older automl-nb"):
        automl_nb.load(path)
