"""Chart data functions: pure, tested without plotly or widgets."""

from __future__ import annotations

import math
import random
import subprocess
import sys
import time

import numpy as np
import pytest

from automl_nb._util import format_duration
from automl_nb.events import BudgetChanged, EpochEnded, SearchEnded, StateChanged, TrialEnded
from automl_nb.panel import _data as charts
from automl_nb.panel import _html
from automl_nb.record import SearchRecord
from automl_nb.testing.panel import SPACE, sample, scripted_events, started, trial_events


def fold(events, start_time: float = 1000.0) -> SearchRecord:
    """A record of events numbered and timed as a bus would (one second apart)."""
    record = SearchRecord()
    for i, event in enumerate(events):
        record.apply(type(event)(**{**_fields(event), "seq": i, "time": start_time + i}))
    return record


def _fields(event):
    import dataclasses

    return {f.name: getattr(event, f.name) for f in dataclasses.fields(event)}


def test_chart_data_imports_without_plotly_or_widgets():
    """panel._data needs numpy only; testing.panel adds nothing but ``comm``."""
    code = (
        "import sys, types, pathlib, automl_nb\n"
        "for name in ('plotly', 'ipywidgets', 'anywidget', 'IPython'):\n"
        "    sys.modules[name] = None\n"
        # load the submodules without automl_nb/panel/__init__.py (it imports the widget)
        "pkg = types.ModuleType('automl_nb.panel')\n"
        "pkg.__path__ = [str(pathlib.Path(automl_nb.__file__).parent / 'panel')]\n"
        "sys.modules['automl_nb.panel'] = pkg\n"
        "import automl_nb.panel._data as charts\n"
        "import automl_nb.testing.panel as testing\n"
        "from automl_nb.record import SearchRecord\n"
        "r = SearchRecord(list(testing.scripted_events(trials=4, epochs=3)))\n"
        "assert len(charts.objective_history(r)) == 4\n"
        "assert len(charts.importance(r)) == 4\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr


def test_objective_history_tracks_the_best_so_far():
    record = fold(
        [
            started(),
            *trial_events("0000", {"units": 32}, 2),
            *trial_events("0001", {"units": 64}, 2, status="failed"),
            *trial_events("0002", {"units": 64}, 1, status="pruned"),
            *trial_events("0003", {"units": 128}, 4),
        ]
    )
    history = charts.objective_history(record)
    assert [p.order for p in history] == [1, 3, 4]  # the failed trial has no point
    assert [p.status for p in history] == ["completed", "pruned", "completed"]
    scores = [p.score for p in history]
    assert [p.best_so_far for p in history] == [max(scores[:1]), max(scores[:2]), max(scores[:3])]
    assert history[0].is_best and history[2].is_best and not history[1].is_best


def test_objective_history_minimises_when_the_direction_is_min():
    record = fold([started(objective="val_loss", direction="min")])
    for tid, score in [("0000", 0.5), ("0001", 0.7), ("0002", 0.3)]:
        record.apply(trial_events(tid, {}, 1)[0])
        record.apply(TrialEnded(trial_id=tid, status="completed", score=score))
    assert [p.best_so_far for p in charts.objective_history(record)] == [0.5, 0.5, 0.3]


def test_learning_curve_of_a_promoted_trial_starts_at_its_parents_point():
    record = fold(
        [
            started(),
            *trial_events("0000", {"units": 32}, 4),
            *trial_events(
                "0001", {"units": 32}, 3, initial_epoch=2, parent_id="0000", source="promoted"
            ),
        ]
    )
    parent, child = charts.learning_curves(record)
    assert parent.epochs == (1, 2, 3, 4) and not parent.joined
    assert child.joined
    assert child.epochs == (2, 3, 4, 5)  # absolute epochs, from the parent's epoch 2
    assert child.values[0] == parent.values[1]


def test_learning_curve_drops_nan_and_missing_values():
    record = fold([started(), *trial_events("0000", {}, 1, status="running")])
    record.apply(EpochEnded(trial_id="0000", epoch=2, metrics={"val_accuracy": math.nan}))
    record.apply(EpochEnded(trial_id="0000", epoch=3, metrics={"loss": 1.0}))
    record.apply(EpochEnded(trial_id="0000", epoch=4, metrics={"val_accuracy": 0.9}))
    curve = charts.trial_curve(record, "0000")
    assert curve.epochs == (1, 4) and curve.values[1] == 0.9


def test_visible_curves_keep_running_and_best_trials_and_the_most_recent():
    rng = random.Random(1)
    events = [started()]
    for i in range(30):
        events += trial_events(f"{i:04d}", sample(SPACE, rng), 2, rng=rng)
    events += trial_events("0030", sample(SPACE, rng), 1, status="running")
    record = fold(events)
    shown = charts.visible_curve_ids(record, limit=10, keep_best=3)
    assert len(shown) == 10
    assert "0030" in shown  # running
    assert set(charts.best_trial_ids(record, 3)) <= set(shown)
    assert shown == sorted(shown)  # start order
    keep = {*charts.best_trial_ids(record, 3), "0030"}
    recent = [t for t in shown if t not in keep]
    others = [t for t in record.trials if t not in keep]
    assert recent == others[-len(recent) :]  # the most recent of the rest
    assert charts.visible_curve_ids(record, limit=100) == list(record.trials)


def test_curve_style_marks_running_and_pruned():
    running, pruned, done = (charts.curve_style(s) for s in ("running", "pruned", "completed"))
    assert running.width > done.width and pruned.dash == "dash" and done.dash == "solid"
    assert charts.curve_style("completed", is_best=True).width > done.width


def test_rank_and_spearman_match_known_values():
    assert charts.rank(np.array([10.0, 20.0, 20.0, 5.0])).tolist() == [1.0, 2.5, 2.5, 0.0]
    x = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    assert charts.spearman(x, x**3) == pytest.approx(1.0)
    assert charts.spearman(x, -x) == pytest.approx(-1.0)
    assert charts.spearman(x, np.ones(5)) == 0.0
    # textbook example: d = (0, 1, -1, 0, 0) -> rho = 1 - 6*2/(5*24) = 0.9
    assert charts.spearman(x, np.array([1.0, 3.0, 2.0, 4.0, 5.0])) == pytest.approx(0.9)


def test_eta_squared_is_the_between_group_share():
    y = np.array([1.0, 1.0, 5.0, 5.0])
    assert charts.eta_squared(["a", "a", "b", "b"], y) == pytest.approx(1.0)
    assert charts.eta_squared(["a", "b", "a", "b"], y) == pytest.approx(0.0)


def _scored(record_events, values_and_scores):
    events = [started(), *record_events]
    for i, (hps, score) in enumerate(values_and_scores):
        events += trial_events(f"{i:04d}", hps, 1)[:1]
        events.append(TrialEnded(trial_id=f"{i:04d}", status="completed", score=score))
    return fold(events)


def test_importance_finds_the_hyperparameter_the_score_follows():
    rng = random.Random(0)
    rows = []
    for _ in range(40):
        hps = sample(SPACE, rng)
        score = -abs(math.log10(hps["learning_rate"]) + 1) + rng.gauss(0, 0.01)  # lr only
        rows.append((hps, score))
    record = _scored([], rows)
    shares = charts.importance(record)
    assert set(shares) == {"units", "learning_rate", "activation", "batch_norm"}  # not fixed
    assert max(shares, key=shares.get) == "learning_rate"
    assert sum(shares.values()) == pytest.approx(1.0)
    details = {d.name: d for d in charts.importance_details(record)}
    assert details["learning_rate"].method == "spearman"
    assert details["activation"].method == "eta2"
    assert details["learning_rate"].n == 40


def test_importance_of_a_choice_that_decides_the_score():
    rng = random.Random(0)
    rows = []
    for _ in range(20):
        hps = sample(SPACE, rng)
        rows.append((hps, {"relu": 0.9, "tanh": 0.5, "gelu": 0.7}[hps["activation"]]))
    shares = charts.importance(_scored([], rows))
    assert max(shares, key=shares.get) == "activation"


def test_importance_needs_three_scored_trials():
    record = _scored([], [({"units": 16}, 0.5), ({"units": 32}, 0.6)])
    assert charts.importance(record) == {}


def test_parallel_coordinates_encode_choices_logs_and_missing_values():
    rows = [
        ({"units": 32, "learning_rate": 1e-3, "activation": "relu", "batch_norm": True}, 0.8),
        ({"units": 64, "learning_rate": 1e-2, "activation": "gelu", "batch_norm": False}, 0.7),
        ({"units": 128, "activation": "relu", "batch_norm": True}, 0.9),  # no learning_rate
    ]
    data = charts.parallel_coordinates_data(_scored([], rows))
    dims = {d.name: d for d in data.dimensions}
    assert list(dims) == ["units", "learning_rate", "activation", "batch_norm", "__score__"]
    assert data.scores == (0.8, 0.7, 0.9) and data.trial_ids == ("0000", "0001", "0002")
    act = dims["activation"]
    assert act.categorical and act.ticktext == ("relu", "tanh", "gelu")  # the space's order
    assert act.values == (0.0, 2.0, 0.0)
    assert dims["batch_norm"].ticktext == ("False", "True")
    lr = dims["learning_rate"]
    assert lr.label == "learning_rate (log)"
    assert lr.values[:2] == pytest.approx((-3.0, -2.0))
    assert "n/a" in lr.ticktext and lr.values[2] < -4  # below the axis (min 1e-4)
    assert dims["units"].range == (16.0, 256.0)  # the space's bounds
    assert dims["__score__"].values == data.scores


def test_status_info_counts_trials_and_estimates_time_left():
    events = [started(trials=4, epochs=5)]
    events.append(StateChanged(state="running", previous="idle"))
    events += trial_events("0000", {}, 5)  # duration_s = 0.5 in the script
    events += trial_events("0001", {}, 5)
    events += trial_events("0002", {}, 2, status="running", planned=5)
    record = fold(events)
    now = record.trials["0002"].started_at + 0.1
    info = charts.status_info(record, now)
    assert (info.state, info.done, info.total) == ("running", 2, 4)
    assert (info.running_id, info.running_epoch, info.running_target) == ("0002", 2, 5)
    assert info.progress == pytest.approx((2 + 2 / 5) / 4)  # 2 trials and 2 of 5 epochs of a third
    assert info.eta_s == pytest.approx(2 * 0.5 - 0.1)
    text = charts.status_text(info)
    assert "2 of 4 trials" in text and "trial 0002 at epoch 2/5" in text and "left" in text


def test_status_line_names_every_running_trial_and_its_worker():
    events = [started(trials=6, epochs=5, workers=2)]
    events.append(StateChanged(state="running", previous="idle"))
    events += trial_events("0000", {}, 5, info={"worker": "w0"})  # duration_s = 0.5
    events += trial_events("0001", {}, 2, status="running", planned=5, info={"worker": "w1"})
    events += trial_events("0002", {}, 1, status="running", planned=5, info={"worker": "w0"})
    record = fold(events)
    now = record.trials["0002"].started_at + 0.1
    info = charts.status_info(record, now)
    assert info.running_id == "0002"  # the latest, as with one process
    assert info.running == (
        charts.RunningTrial("0001", 2, 5, "w1"),
        charts.RunningTrial("0002", 1, 5, "w0"),
    )
    # five trials left at 0.5 s, two running side by side (their time so far: 0.5 and 0.1)
    assert info.eta_s == pytest.approx((5 * 0.5 - 0.5 - 0.1) / 2)
    text = charts.status_text(info)
    assert "trial 0001 on w1 at epoch 2/5, trial 0002 on w0 at epoch 1/5" in text
    html = _html.details_html(record, "0001")
    assert "ran on worker <code>w1</code>" in html and "training rows" not in html
    small = fold([started(), *trial_events("0000", {}, 2, info={"passes": 6})])
    assert "an epoch goes over the training rows 6 times" in _html.details_html(small, "0000")
    assert charts.header_info(record).oracle == "random (seed 0), trials in 2 worker processes"
    assert charts.header_info(fold([started()])).oracle == "random (seed 0)"


def test_status_info_with_a_time_budget_and_at_the_end():
    record = fold([started(trials=None, time_budget_s=100.0)])
    info = charts.status_info(record, record.started_at + 25)
    assert info.progress == pytest.approx(0.25) and info.eta_s == pytest.approx(75)
    record.apply(
        BudgetChanged(trials=None, time_budget_s=200.0, seq=5, time=record.started_at + 30)
    )
    assert charts.status_info(record, record.started_at + 50).eta_s == pytest.approx(150)
    record.apply(SearchEnded(state="done", seq=6, time=record.started_at + 60))
    info = charts.status_info(record, record.started_at + 1000)
    assert (info.progress, info.eta_s) == (1.0, 0.0)
    assert "left" not in charts.status_text(info)


def test_header_says_what_how_and_within_what():
    record = fold([started(trials=30, time_budget_s=600.0, epochs=27, oracle="hyperband")])
    info = charts.header_info(record)
    assert info.data == "digits · 1,437 training + 360 validation samples · shape 64 · 10 classes"
    assert info.oracle == "hyperband (seed 0)"
    assert info.objective == "val_accuracy (higher is better)"
    assert info.budget == "30 trials or 10m, whichever comes first · up to 27 epochs a trial"
    regression = {
        "name": "housing",
        "task": "regression",
        "n_train": 800,
        "n_val": 200,
        "input_shape": [8],
        "n_classes": None,
    }
    assert charts.data_text(regression).endswith("shape 8 · regression")
    assert charts.header_info(SearchRecord()).data == "waiting for the search to start"


def test_table_rows_show_a_running_trials_best_score_so_far():
    events = [started(), *trial_events("0000", {"units": 32, "optimizer": "adam"}, 3)]
    events += trial_events("0001", {"units": 64}, 2, status="running")
    record = fold(events)
    rows = charts.table_rows(record)
    assert [r["n"] for r in rows] == [1, 2]
    running = rows[1]
    assert running["status"] == "running"
    assert running["score"] == max(
        v for _, v in record.trials["0001"].objective_curve("val_accuracy")
    )
    assert (running["epochs"], running["target"]) == (2, 2)
    assert rows[0]["hp"] == {"units": 32, "optimizer": "adam"}
    assert charts.main_hyperparameters(record) == [
        "units",
        "learning_rate",
        "activation",
        "batch_norm",
    ]


def test_the_panel_writes_durations_with_the_one_helper():
    assert [format_duration(s, "—") for s in (None, 4.4, 65, 600, 3725)] == [
        "—",
        "4.4s",
        "1m 05s",
        "10m",
        "1h 02m",
    ]
    info = charts.status_info(fold([started(trials=4)]), time.time())
    assert "elapsed" in charts.status_text(info)


def test_best_info_and_scripted_search():
    record = SearchRecord(list(scripted_events(trials=6, epochs=3, prune_every=3)))
    best = charts.best_info(record)
    assert best is not None and best.trial_id == record.best().trial_id
    assert record.state == "done"
    assert charts.best_info(SearchRecord()) is None
