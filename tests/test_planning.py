"""Training that spends the budget well, on the scripted trainer (no TensorFlow).

Early stopping keeps the best epoch; a time budget plans shorter trials, halts the trials that
fall behind, trains the best on while it improves, and never starts a trial that cannot
finish one epoch. Time here is the scripted trainer's virtual clock (``virtual_time=True``):
each epoch costs what ``epoch_seconds`` says, exactly, so the plans are checked to the epoch.
"""

from __future__ import annotations

import math

import pytest

from automl_nb import SearchState
from automl_nb.backends.planner import (
    SAFETY,
    EarlyStop,
    NoTime,
    PlanConfig,
    Planner,
    SlowDown,
)
from automl_nb.events import EpochEnded, PlanMade, TrialEnded, TrialStarted
from automl_nb.record import SearchRecord
from automl_nb.testing import ScriptedTrainer


def peaked(values, epoch):
    """A curve that rises to its best at epoch 3, then falls."""
    acc = 0.9 - 0.05 * abs(epoch - 3)
    return {"loss": 1 - acc, "val_loss": 1 - acc, "accuracy": acc, "val_accuracy": acc}


def rising(values, epoch):
    """Better every epoch; how good depends on the learning rate (1e-3 is best)."""
    ceiling = 0.95 - 0.1 * abs(math.log10(float(values["learning_rate"])) + 3)
    acc = ceiling * (1 - math.exp(-epoch / 4))
    return {"loss": 1 - acc, "val_loss": 1 - acc, "accuracy": acc, "val_accuracy": acc}


def events_of(search, kind):
    return [e for e in search.events() if isinstance(e, kind)]


class Fed:
    """A Planner and the record it reads, fed as the engine feeds them: each epoch is in the
    record (an ``EpochEnded``) before the planner hears of it."""

    def __init__(self, config, **kwargs):
        self.record = SearchRecord()
        self.objective = kwargs["objective"]
        self.planner = Planner(config, record=self.record, **kwargs)

    def begin(self, trial_id, values, source, initial_epoch, planned_epochs):
        self.record.apply(TrialStarted(trial_id=trial_id, hyperparameters=values, source=source,
                                       initial_epoch=initial_epoch, epochs=planned_epochs))
        self.planner.begin(trial_id, planned_epochs)

    def epoch(self, trial_id, epoch, score, partial=False, can_slow=False):
        self.record.apply(EpochEnded(trial_id=trial_id, epoch=epoch, metrics={self.objective: score},
                                     score=score, partial=partial))
        return self.planner.epoch(trial_id, epoch, partial=partial, can_slow=can_slow)

    def end(self, trial_id, status):
        note = self.planner.end(trial_id, status)
        self.record.apply(TrialEnded(trial_id=trial_id, status=status))
        return note

    def __getattr__(self, name):
        return getattr(self.planner, name)


def test_early_stopping_ends_a_plateau_and_keeps_the_best_epoch(scripted):
    s = scripted(ScriptedTrainer(curve=peaked), trials=1, epochs=20, patience=2)
    assert s.wait(20) is SearchState.DONE
    (ended,) = events_of(s, TrialEnded)
    assert ended.status == "completed"
    assert ended.epochs == 5  # best at 3, no better at 4 and 5
    assert ended.best_epoch == 3
    assert ended.score == pytest.approx(0.9)
    assert "stopped early at epoch 5" in ended.reason and "best epoch (3" in ended.reason


def test_a_first_plateau_lowers_the_learning_rate_and_the_next_one_stops():
    """A trial whose trainer can change its rate trains on at 0.3 times it at its first
    plateau; the epochs without a better score then count from there, and a second plateau
    stops it with its best epoch kept. A better epoch after the slow-down counts too."""
    planner = Fed(PlanConfig(epochs=20, patience=2), objective="val_accuracy", direction="max",
                      clock=lambda: 0.0, time_budget=lambda: None)
    planner.begin("0", {}, "oracle", 0, 20)
    verdicts = {e: planner.epoch("0", e, peaked({}, e)["val_accuracy"], can_slow=True) for e in range(1, 8)}
    assert all(verdicts[e] is None for e in (1, 2, 3, 4, 6))
    slower, early = verdicts[5], verdicts[7]
    assert isinstance(slower, SlowDown) and slower.factor == 0.3 and slower.epoch == 5
    assert "learning rate times 0.3" in slower.sentence and "epoch 5" in slower.sentence
    assert isinstance(early, EarlyStop) and early.slowed and early.best_epoch == 3
    assert "at its lower learning rate" in early.sentence and "best epoch (3" in early.sentence

    planner.begin("1", {}, "oracle", 0, 20)
    scores = [0.5, 0.6, 0.6, 0.6, 0.65, 0.65, 0.65]  # better after its slow-down at 4
    verdicts = [planner.epoch("1", e, v, can_slow=True) for e, v in enumerate(scores, start=1)]
    assert isinstance(verdicts[3], SlowDown) and verdicts[4:6] == [None, None]
    assert isinstance(verdicts[6], EarlyStop) and "best epoch (5" in verdicts[6].sentence


def test_a_trial_that_just_slowed_down_is_still_a_candidate():
    """A trial that lowered its rate within ``patience`` epochs of its planned end has not had
    its epochs at the new rate: it is a candidate to train on, though its best came earlier.
    One whose best is as far back, with no slow-down since, is done."""
    def planner(planned):
        p = Fed(PlanConfig(epochs=planned, patience=2, halving=True), objective="val_accuracy",
                    direction="max", clock=lambda: 0.0, time_budget=lambda: 100.0)
        p.begin("0", {}, "oracle", 0, planned)
        return p

    slowed = planner(5)
    verdicts = [slowed.epoch("0", e, v, can_slow=True) for e, v in enumerate([0.5, 0.6, 0.6, 0.6, 0.6], 1)]
    assert isinstance(verdicts[3], SlowDown) and verdicts[4] is None  # slowed at 4, its last is 5
    note = slowed.end("0", "completed")
    assert slowed.candidate("0")
    assert note.startswith("still improving: it lowered its learning rate at epoch 4, 1 of 2 epochs")
    assert "(5; best at 2)" in note

    late = planner(5)  # slowed at 4, a better epoch at 5: an ordinary candidate
    [late.epoch("0", e, v, can_slow=True) for e, v in enumerate([0.5, 0.6, 0.6, 0.6, 0.7], 1)]
    assert late.end("0", "completed") == "still improving at its last epoch (5; best at 5): a candidate to train on"

    done = planner(4)  # best at 2, no slow-down, its last epoch 4: patience spent
    [done.epoch("0", e, v) for e, v in enumerate([0.5, 0.6, 0.6, 0.6], 1)]
    assert done.end("0", "completed") is None and not done.candidate("0")


def test_a_plateau_stops_a_trial_that_cannot_slow_down():
    planner = Fed(PlanConfig(epochs=20, patience=2), objective="val_accuracy", direction="max",
                      clock=lambda: 0.0, time_budget=lambda: None)
    planner.begin("0", {}, "oracle", 0, 20)
    verdicts = [planner.epoch("0", e, peaked({}, e)["val_accuracy"]) for e in range(1, 6)]
    assert verdicts[:4] == [None] * 4 and isinstance(verdicts[4], EarlyStop)
    none = Fed(PlanConfig(epochs=20, patience=2, slow_down=None), objective="val_accuracy",
                   direction="max", clock=lambda: 0.0, time_budget=lambda: None)
    none.begin("0", {}, "oracle", 0, 20)
    verdicts = [none.epoch("0", e, peaked({}, e)["val_accuracy"], can_slow=True) for e in range(1, 6)]
    assert isinstance(verdicts[4], EarlyStop) and not verdicts[4].slowed


def test_without_patience_a_trial_trains_every_epoch(scripted):
    s = scripted(ScriptedTrainer(curve=peaked), trials=1, epochs=8)
    assert s.wait(20) is SearchState.DONE
    (ended,) = events_of(s, TrialEnded)
    assert ended.epochs == 8 and ended.best_epoch == 3 and ended.reason is None


def test_a_short_time_budget_plans_shorter_trials(scripted):
    # 1 s an epoch, 60 s: a new trial plans at most 60 / 6 = 10 s, so 10 of its 40 epochs
    trainer = ScriptedTrainer(curve=rising, epoch_seconds=lambda v: 1.0, virtual_time=True)
    s = scripted(trainer, trials=None, epochs=40, time=60)
    assert s.wait(20) is SearchState.DONE
    started = events_of(s, TrialStarted)
    ended = {e.trial_id: e for e in events_of(s, TrialEnded)}
    first = started[0]
    assert first.epochs == 40  # nothing known yet: the whole plan...
    # ...cut to 10 after its second epoch; then, the best and still improving, it trains on in
    # place for 10 more (a promotion's turn, without building its model again)
    assert ended[first.trial_id].epochs == 20
    assert started[1].source == "oracle"  # and a new trial takes the next turn
    later = [t for t in started[1:] if t.source == "oracle"]
    assert later and all(t.epochs <= 10 for t in later)
    plans = [e for e in events_of(s, PlanMade) if e.decision == "epochs"]
    assert plans and "plans 10 epochs" in plans[0].message and "about 1.00 s" in plans[0].message
    assert len(started) >= 5  # many short trials, not one long one


def test_no_trial_starts_that_cannot_finish_one_epoch(scripted):
    # 4 s an epoch, 14 s in all: the first trial plans 2 epochs once it knows the cost (a sixth
    # of the budget is less than one epoch), then, improving, trains on in place for 1 more;
    # then 2 s are left
    trainer = ScriptedTrainer(curve=rising, epoch_seconds=lambda v: 4.0, virtual_time=True)
    s = scripted(trainer, trials=None, epochs=3, time=14)
    assert s.wait(20) is SearchState.DONE
    ended = events_of(s, TrialEnded)
    assert [(e.status, e.epochs) for e in ended] == [("completed", 3)]
    assert trainer.now == pytest.approx(12.0)
    (stop,) = [e for e in events_of(s, PlanMade) if e.decision == "stop"]
    assert stop.message == (
        "not starting another trial: 2.0 s left, and one epoch with its start-up takes about 4.0 s"
    )
    assert s.record.end_reason == stop.message


def test_the_planner_prices_a_configuration_by_the_trials_most_like_it():
    now = [0.0]
    planner = Fed(PlanConfig(epochs=10), objective="val_accuracy", direction="max",
                      clock=lambda: now[0], time_budget=lambda: None)
    for trial_id, block, seconds in (("0", "conv", 1.0), ("1", "gru", 5.0)):
        planner.begin(trial_id, {"block_type": block, "lr": 0.01}, "oracle", 0, 3)
        for epoch in (1, 2, 3):
            now[0] += seconds + (2.0 if epoch == 1 else 0.0)  # the first epoch also builds
            planner.epoch(trial_id, epoch, 0.5)
    assert planner.epoch_cost({"block_type": "gru", "lr": 0.5}) == pytest.approx(5.0)
    assert planner.epoch_cost({"block_type": "conv", "lr": 0.5}) == pytest.approx(1.0)
    assert planner.epoch_cost() == pytest.approx(3.0)  # nothing alike: the median of all
    assert planner.startup_cost() == pytest.approx(2.0)


def test_a_trial_that_cannot_fit_is_refused_with_its_figures():
    now = [0.0]
    planner = Fed(PlanConfig(epochs=10, halving=True), objective="val_loss", direction="min",
                      clock=lambda: now[0], time_budget=lambda: 20.0)
    planner.begin("0", {"units": 8}, "oracle", 0, 10)
    for epoch in (1, 2):
        now[0] += 4.0
        planner.epoch("0", epoch, 1.0 / epoch)
    assert planner.fits({"units": 8}) is None  # 12 s left >= 1.25 x 4 s
    now[0] = 20.0 - SAFETY * 4.0 + 0.1
    refused = planner.fits({"units": 8})
    assert isinstance(refused, NoTime) and refused.left == pytest.approx(4.9)
    assert refused.sentence.startswith("not starting another trial: 4.9 s left")


def test_successive_halving_halts_a_trial_behind_the_best_third(scripted):
    # four fast trials first (lr far from 1e-3 is worse), then the rungs at epochs 2 and 6
    portfolio = [(f"lr{lr:g}", {"learning_rate": lr}) for lr in (1e-3, 2e-3, 1e-4)]
    trainer = ScriptedTrainer(curve=rising, epoch_seconds=lambda v: 0.1, virtual_time=True,
                              portfolio=portfolio)
    s = scripted(trainer, trials=8, epochs=9, time=1000, warm_start=True)
    assert s.wait(20) is SearchState.DONE
    ended = events_of(s, TrialEnded)
    halted = [e for e in ended if e.reason and e.reason.startswith("halted at epoch")]
    assert halted, [(e.trial_id, e.epochs, e.reason) for e in ended]
    assert all(e.epochs in (2, 6) and e.status == "completed" for e in halted)
    by_id = {t.trial_id: t for t in s.record.trials.values()}
    lr_of = {tid: by_id[tid].hyperparameters["learning_rate"] for tid in by_id}
    # the default (1e-3, the best) is never halted
    assert all(lr_of[e.trial_id] != pytest.approx(1e-3) for e in halted)


def test_the_best_trial_still_improving_trains_on(scripted):
    trainer = ScriptedTrainer(curve=rising, epoch_seconds=lambda v: 1.0, virtual_time=True)
    s = scripted(trainer, trials=2, epochs=4, time=200, warm_start=True)
    assert s.wait(20) is SearchState.DONE
    started = events_of(s, TrialStarted)
    promoted = [t for t in started if t.source == "promoted"]
    assert promoted, [(t.trial_id, t.source) for t in started]
    first = promoted[0]
    assert first.info.get("planned") is True
    assert first.initial_epoch == 4  # continues its parent's epochs
    parent = s.record.trials[first.parent_id]
    assert "still improving" in parent.reason
    why = [e for e in events_of(s, PlanMade) if e.decision == "promote"]
    assert why[0].trial_id == first.parent_id and "still improving" in why[0].message
    # the chain goes on while the trial improves and time is left; promotions do not count
    # against the trials budget
    assert sum(t.source in ("oracle", "portfolio") for t in started) == 2


def test_no_promotion_without_a_time_budget(scripted):
    s = scripted(ScriptedTrainer(curve=rising), trials=2, epochs=4)
    assert s.wait(20) is SearchState.DONE
    assert [t.source for t in events_of(s, TrialStarted)] == ["oracle", "oracle"]
    assert all("candidate" in (e.reason or "") for e in events_of(s, TrialEnded))


@pytest.mark.slow
def test_early_stopping_keeps_the_best_epochs_weights(tmp_path, searches):
    """Validation labels are the training labels flipped: the more the model learns, the worse
    it scores, so its first epochs are its best and a plateau of them stops it. The objective
    is val_loss, a continuous score: the last epoch is strictly worse than the best (accuracy
    ties, 0.03 at both, and could not tell the two epochs' weights apart)."""
    import numpy as np

    import automl_nb

    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    s = automl_nb.search((x[:300], y[:300]), validation=(x[300:], 1 - y[300:]), trials=1,
                         epochs=30, seed=0, objective="val_loss", warm_start=False,
                         directory=tmp_path / "e")
    searches.append(s)
    assert s.wait(240) is SearchState.DONE, s.error
    (ended,) = events_of(s, TrialEnded)
    assert ended.status == "completed" and ended.epochs < 30
    # its first plateau (3 epochs) lowered its learning rate; the second (3 more) stopped it
    (slower,) = [p for p in events_of(s, PlanMade) if p.decision == "slower"]
    assert f"at epoch {ended.best_epoch + 3}" in slower.message
    assert ended.epochs - ended.best_epoch == 6 and "stopped early" in ended.reason
    assert "at its lower learning rate" in ended.reason
    trial = s.record.trials[ended.trial_id]
    last = trial.curve[-1][1]["val_loss"]
    assert ended.score < last  # the best epoch was better than where it stopped
    model = s.best_model()
    loss = model.evaluate(x[300:], 1 - y[300:], verbose=0, return_dict=True)["loss"]
    assert loss == pytest.approx(ended.score, rel=1e-4)  # the best epoch's weights
    assert abs(loss - ended.score) < abs(loss - last)


@pytest.mark.slow
def test_the_best_epoch_is_written_once_when_the_trial_ends(tmp_path, searches, monkeypatch):
    """Each epoch that improves is kept in memory; the checkpoint file is written once, at
    the trial's end, whole (no partial file left), and holds the best epoch."""
    import keras
    import numpy as np

    import automl_nb

    writes = []
    save_weights = keras.Model.save_weights

    def counted(model, path, *args, **kwargs):
        writes.append(str(path))
        return save_weights(model, path, *args, **kwargs)

    monkeypatch.setattr(keras.Model, "save_weights", counted)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 4)).astype("float32")
    y = (x[:, 0] + x[:, 1] > 0).astype("int64")
    s = automl_nb.search((x[:300], y[:300]), validation=(x[300:], y[300:]), trials=1, epochs=4,
                         seed=0, objective="val_loss", patience=None, warm_start=False,
                         directory=tmp_path / "w")
    searches.append(s)
    assert s.wait(240) is SearchState.DONE, s.error
    (ended,) = events_of(s, TrialEnded)
    scores = [m["val_loss"] for _, m in s.record.trials[ended.trial_id].curve]
    assert ended.epochs == 4 and len(set(scores)) == 4  # four epochs, each its own score
    assert len(writes) == 1 and writes[0].endswith(".partial.weights.h5"), writes
    files = {p.name for p in (tmp_path / "w").rglob("*.weights.h5")}
    assert files == {"checkpoint.weights.h5"}
    loss = s.best_model().evaluate(x[300:], y[300:], verbose=0, return_dict=True)["loss"]
    assert loss == pytest.approx(min(scores), rel=1e-4)


@pytest.mark.slow
def test_the_trial_callback_lowers_a_float_rate_and_leaves_a_schedule_alone():
    """The planner's "slower" verdict multiplies the optimizer's rate; a trial whose optimizer
    computes its rate (a schedule) says it cannot slow down, so its plateau stops it."""
    import keras

    from automl_nb.backends.engine import STOP_AFTER, TrialPlan, Verdict
    from automl_nb.backends.tuner import _rate_settable, _StreamCallback

    asked = []

    class Engine:
        verdict = Verdict(rate_factor=0.3)

        def epoch_end(self, trial_id, epoch, logs, can_slow=False):
            asked.append(can_slow)
            return self.verdict

    class Tuner:
        engine = Engine()

    def model(rate):
        m = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        m.compile(optimizer=keras.optimizers.Adam(rate), loss="mse")
        return m

    callback = _StreamCallback(Tuner(), TrialPlan(trial_id="0"))
    callback.set_model(model(1e-3))
    callback.on_train_begin()
    callback.on_epoch_end(0, {"loss": 1.0})
    assert asked == [True]
    assert float(keras.ops.convert_to_numpy(callback.model.optimizer.learning_rate)) == pytest.approx(3e-4)
    Tuner.engine.verdict = STOP_AFTER
    callback.on_epoch_end(1, {"loss": 1.0})
    assert callback.model.stop_training

    schedule = keras.optimizers.schedules.ExponentialDecay(1e-3, decay_steps=10, decay_rate=0.9)
    assert not _rate_settable(model(schedule)) and _rate_settable(model(1e-3))


def test_the_record_keeps_the_latest_plan(scripted):
    trainer = ScriptedTrainer(curve=rising, epoch_seconds=lambda v: 4.0, virtual_time=True)
    s = scripted(trainer, trials=None, epochs=3, time=14)
    assert s.wait(20) is SearchState.DONE
    with s.lock:
        assert s.record.last_plan.decision == "stop"


def test_a_trials_best_is_worked_out_once_by_its_record():
    """TrialRecord.best is the one computation: the first of equal scores, NaN and missing
    values skipped, by the direction given; the results table's running score is it."""
    from automl_nb.events import SearchStarted

    record = SearchRecord()
    record.apply(SearchStarted(name="s", directory="d", data={}, oracle="random", objective="val_loss",
                               direction="min", trials=None, time_budget_s=None, epochs=5, seed=0))
    record.apply(TrialStarted(trial_id="0", hyperparameters={}, epochs=5))
    for epoch, loss in enumerate([0.5, float("nan"), 0.3, 0.3, None], 1):
        record.apply(EpochEnded(trial_id="0", epoch=epoch, metrics={"val_loss": loss}, score=loss))
    trial = record.trials["0"]
    assert trial.best("val_loss", "min") == (3, 0.3)
    assert trial.best("val_loss", "max") == (1, 0.5)
    assert trial.best("val_accuracy", "max") is None and trial.best(None, "max") is None
    assert record.rows()[0]["score"] == 0.3 == record.best_so_far(trial)
