"""Real TensorFlow for what users hit first: a promoted trial in the kernel, a time budget in
one process, a space named ``module:build``, ``--workers 2`` from the command line. Tiny data,
few epochs, seeded; seconds each. (Final fit then export: tests/test_search_real.py; a
``module:build`` space in workers: tests/test_workers.py.)

Batches are counted as Keras trains them (the ``batches`` fixture of conftest.py), not as
the number of times a batch consults the engine.
"""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

import automl_nb
from automl_nb import SearchState
from automl_nb.events import read_journal

from .conftest import dense_units

pytestmark = pytest.mark.slow

def test_a_promoted_trial_trains_on_from_its_parent_in_the_kernel(tmp_path, searches, batches):
    # on val_loss, which falls epoch after epoch here, the parent's best epoch is a late one (on
    # val_accuracy iris can peak at its first epoch: then there is no "trained" state to tell
    # from a fresh model's)
    s = automl_nb.search("iris", oracle="random", trials=1, epochs=6, seed=3, objective="val_loss",
                         directory=tmp_path / "k")
    searches.append(s)
    assert s.wait(240) is SearchState.DONE, s.error
    assert s.workers is None  # trained here, in this process
    parent = s.record.trials["0000"]
    assert s.promote("0000", epochs=2)
    assert s.wait(240) is SearchState.DONE, s.error
    child = next(t for t in s.record.trials.values() if t.parent_id == "0000")
    assert child.source == "promoted" and child.status == "completed"
    assert [e for e, _ in child.curve] == [parent.epochs + 1, parent.epochs + 2]
    # the optimizer's state came back with the weights: its step count goes on from the
    # parent's best epoch (where its checkpoint is), not from zero
    assert parent.best_epoch > 1, parent.curve
    at_best = [b for b in batches["0000"] if b.epoch == parent.best_epoch - 1][-1]
    first = batches[child.trial_id][0]
    assert first.epoch == parent.epochs
    assert first.iterations == at_best.iterations + 1
    # ...and its loss continues the parent's at that epoch, not a fresh model's. Epoch means
    # (Keras logs the epoch's running mean, so an epoch's last batch has it): one batch of
    # iris is too noisy to tell the two apart
    def epoch_mean(trial_id, epoch):
        return [b for b in batches[trial_id] if b.epoch == epoch][-1].loss

    fresh = epoch_mean("0000", 0)
    own = epoch_mean(child.trial_id, parent.epochs)
    assert at_best.loss < fresh
    assert abs(own - at_best.loss) < abs(own - fresh) / 2, (own, at_best.loss, fresh)


def test_a_time_budget_in_one_process(tmp_path, searches, batches, monkeypatch):
    """No trial starts after the budget, and a trial running when it is spent stops at its next
    batch (the budget spent mid-trial on cue: the next test)."""
    from automl_nb.backends.engine import Engine
    from automl_nb.control import Control

    starts = []  # (trial id, seconds of budget left) as each trial begins
    begin = Engine.begin_trial

    def begin_trial(self, plan, values, info=None):
        starts.append((plan.trial_id, self.control.time_left()))
        return begin(self, plan, values, info)

    spent_at = {}  # trial id -> batches it had trained when the budget was first seen spent
    out_of_time = Control.out_of_time

    def noted(self):
        out = out_of_time(self)
        if out and not spent_at:
            spent_at.update({tid: len(b) for tid, b in batches.items()})
        return out

    monkeypatch.setattr(Engine, "begin_trial", begin_trial)
    monkeypatch.setattr(Control, "out_of_time", noted)
    s = automl_nb.search("iris", oracle="random", trials=None, epochs=40, time=6, seed=6,
                         directory=tmp_path / "t")
    searches.append(s)
    assert s.wait(240) is SearchState.DONE, s.error
    # Either the clock ran out, or the planner saw that no further trial's first epoch fits
    # in what was left (it plans each trial's epochs to the budget, so this is common).
    reason = s.record.end_reason
    assert reason == "the time budget is spent" or reason.startswith(
        "not starting another trial: "), reason
    assert starts and all(left > 0 for _, left in starts)  # every trial began within the budget
    assert [tid for tid, _ in starts] == list(s.record.trials)
    # the last trial may have been cut by the clock (stopped) or planned to end in time
    *before, last = s.record.trials.values()
    assert all(t.status == "completed" for t in before)
    assert last.status in ("completed", "stopped")
    assert set(spent_at) <= set(s.record.trials)
    assert all(len(batches[tid]) - n <= 1 for tid, n in spent_at.items())


def test_the_trial_running_when_the_budget_is_spent_stops_at_that_batch(tmp_path, searches,
                                                                         batches, monkeypatch):
    """The search's clock (the one its budget and planner read) jumps past the budget during
    the third batch of the second trial's second epoch: that batch is the trial's last, it ends
    stopped with the score of the epoch it finished, and no trial starts after it."""
    from automl_nb.backends import tuner
    from automl_nb.backends.local import LocalTrainer

    jump = [0.0]
    monkeypatch.setattr(LocalTrainer, "clock", staticmethod(lambda: time.monotonic() + jump[0]))
    counting = tuner._StreamCallback.on_train_batch_end  # the batches fixture's
    first_epoch: dict[str, int] = {}
    at_jump: dict[str, int] = {}  # the trial cut -> batches it had trained before that one

    def spend_the_budget(self, batch, logs=None):
        first = first_epoch.setdefault(self.trial_id, self.epoch)
        if len(first_epoch) == 2 and self.epoch == first + 1 and batch == 2 and not at_jump:
            at_jump[self.trial_id] = len(batches[self.trial_id])
            jump[0] = 1e6
        return counting(self, batch, logs)

    monkeypatch.setattr(tuner._StreamCallback, "on_train_batch_end", spend_the_budget)
    s = automl_nb.search("iris", oracle="random", trials=None, epochs=4, time=60, seed=6,
                         patience=None, ensemble=False, directory=tmp_path / "cut")
    searches.append(s)
    assert s.wait(240) is SearchState.DONE, s.error
    assert len(at_jump) == 1, "the second trial never reached its second epoch"
    assert s.record.end_reason == "the time budget is spent"
    (cut_id, trained), = at_jump.items()
    assert list(s.record.trials)[-1] == cut_id and len(s.record.trials) == 2
    first, cut = s.record.trials.values()
    assert first.status == "completed"
    assert cut.status == "stopped" and cut.reason == "the time budget ran out during this trial"
    assert cut.score is not None and cut.epochs - cut.initial_epoch < 4
    assert len(batches[cut_id]) == trained + 1  # the batch the budget ran out in, no other


def test_a_space_named_module_colon_build(tmp_path, searches, tiny_space):
    """In this process (with workers: tests/test_workers.py::test_two_workers_finish_a_search)."""
    s = automl_nb.search("iris", space=tiny_space, oracle="random", trials=3, epochs=2, seed=9,
                         directory=tmp_path / "m")
    searches.append(s)
    assert s.wait(240) is SearchState.DONE, s.error
    r = s.results
    assert len(r) == 3 and set(r.status) == {"completed"}
    assert {"units", "lr"} <= set(r.columns) and r.units.isin([4, 8, 12, 16]).all()
    assert s.workers is None and all("worker" not in t.info for t in s.record.trials.values())
    model = s.best_model()  # rebuilt from the module, at its best epoch
    assert model.output_shape == (None, 3)
    assert dense_units(model) == [s.record.best().hyperparameters["units"], 3]
    reopened = automl_nb.open(s.directory, space=tiny_space)  # reopened by the same name
    assert reopened.best_model().output_shape == (None, 3)


def test_workers_from_the_command_line(tmp_path):
    directory = tmp_path / "cli"
    done = subprocess.run(
        [sys.executable, "-m", "automl_nb", "search", "iris", "--workers", "2", "--trials", "2",
         "--epochs", "1", "--seed", "0", "--dir", str(directory)],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    events = read_journal(directory)
    assert next(e for e in events if e.kind == "search_started").workers == 2
    workers = {e.trial_id: e.info.get("worker") for e in events if e.kind == "trial_started"}
    assert sorted(workers) == ["0000", "0001"] and set(workers.values()) == {"w0", "w1"}
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("trial ")]
    assert len(lines) == 2
    for line in lines:  # each finished trial's line says where it ran
        tid = line.split()[1]
        assert "completed" in line and f"  on {workers[tid]}  " in line
