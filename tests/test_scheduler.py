"""The one scheduler and what it and the tuner ask of the engine (no TensorFlow).

The Engine satisfies the protocols in ``backends/scheduler.py``, and ``tuner.py`` and the
scheduler ask the engine for nothing outside them (an AST scan of ``engine.X`` uses); the
scheduler's rules (queued trials first, Hyperband's first-round place, a refused portfolio
entry skipped, IDLE with trials side by side) are checked on a real Engine with a stand-in
oracle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from automl_nb.backends import scheduler as scheduling
from automl_nb.backends.engine import Engine
from automl_nb.backends.scheduler import (
    Scheduler,
    SchedulingEngine,
    TrialEngine,
    TunerEngine,
)
from automl_nb.control import Control, Request, SearchState
from automl_nb.errors import SpaceError
from automl_nb.events import EventBus, PlanMade
from automl_nb.record import SearchRecord
from automl_nb.settings import Budget

BACKENDS = Path(scheduling.__file__).parent


def engine(trials_budget: int | None = None, **kwargs) -> Engine:
    bus, record = EventBus(), SearchRecord()
    bus.subscribe(record.apply)
    budget = Budget(trials=trials_budget, epochs=4)
    args = {"bus": bus, "control": Control(lambda: budget), "record": record,
            "objective": "val_loss", "direction": "min", "epochs": 4}
    return Engine(**{**args, **kwargs})


def members(protocol) -> set[str]:
    """The methods a Protocol names, its bases' included."""
    names: set[str] = set()
    for cls in protocol.__mro__:
        if cls in (object,) or cls.__name__ in ("Protocol", "Generic"):
            continue
        names |= {n for n, v in vars(cls).items() if not n.startswith("_") and callable(v)}
    return names


def engine_uses(path: Path) -> set[str]:
    """Every ``engine.X`` and ``self.engine.X`` attribute a module reads."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Attribute):
            continue
        owner = node.value
        named = isinstance(owner, ast.Name) and owner.id == "engine"
        held = isinstance(owner, ast.Attribute) and owner.attr == "engine" and isinstance(owner.value, ast.Name)
        if named or held:
            found.add(node.attr)
    return found


def test_the_engine_satisfies_what_the_tuner_and_the_scheduler_ask_of_it():
    e = engine()
    assert isinstance(e, TrialEngine) and isinstance(e, TunerEngine) and isinstance(e, SchedulingEngine)
    assert {"plan_for", "begin_trial", "batch_end", "epoch_end", "fail"} <= members(TrialEngine)
    assert {"outcome", "end_trial"} <= members(TunerEngine)
    assert not isinstance(object(), TrialEngine)  # the check can fail


def test_the_tuner_and_the_scheduler_ask_the_engine_only_what_their_protocols_name():
    tuner = engine_uses(BACKENDS / "tuner.py")
    assert tuner and tuner <= members(TunerEngine), tuner - members(TunerEngine)
    scheduler = engine_uses(BACKENDS / "scheduler.py")
    assert scheduler and scheduler <= members(SchedulingEngine), scheduler - members(SchedulingEngine)


def test_a_workers_link_offers_what_a_trial_asks_of_the_engine():
    """The worker's tuner talks to a link to the chief's engine instead (its on_trial_end
    ends nothing itself: the chief does)."""
    from automl_nb.backends.workers.worker import _Link  # imports no grpc until one is made

    assert all(callable(getattr(_Link, name, None)) for name in members(TrialEngine))


class Oracle:
    """A stand-in for KerasTuner's oracle: proposes the given responses in turn."""

    def __init__(self, *responses):
        self.responses = list(responses)
        self.asked = []

    def __call__(self, trial_id):
        self.asked.append(trial_id)
        return self.responses.pop(0) if self.responses else {"status": "STOPPED", "values": None}


def test_queued_trials_run_before_the_oracle_and_a_refused_entry_is_skipped():
    e = engine()
    e.control.push(Request(source="portfolio", values={"units": -1}, extra={"portfolio": "bad"}))
    e.control.push(Request(source="portfolio", values={"units": 8}, extra={"portfolio": "good"}))

    def complete(values):
        if values["units"] < 0:
            raise SpaceError("units must be positive")
        return {"lr": 0.1, **values}

    oracle = Oracle({"status": "RUNNING", "values": {"units": 4, "lr": 0.5}})
    s = Scheduler(e, complete=complete)
    first = s.next("0000", oracle)
    assert first == {"status": "RUNNING", "values": {"lr": 0.1, "units": 8}} and not oracle.asked
    assert e.plans["0000"].source == "portfolio" and e.plans["0000"].info == {"portfolio": "good"}
    second = s.next("0001", oracle)
    assert second["values"] == {"units": 4, "lr": 0.5} and oracle.asked == ["0001"]
    assert e.oracle_trials == 2  # the portfolio entry and the oracle's own count
    assert s.next("0002", oracle)["status"] == "STOPPED"
    assert s.stop_reason == "the oracle has no more trials to propose"


def test_a_trial_the_oracle_retries_after_a_crash_counts_against_the_budget_once():
    """A chief killed after its oracle made trial 0002 but before 0002 began: the reopened
    oracle retries 0002 and the interrupted 0000 (neither passes the scheduler). 0002 is new to
    the journal and counts when it begins; 0000 had counted already."""
    e = engine(trials_budget=4)
    for trial_id in ("0000", "0001"):
        e.begin_trial(e.plan_request(trial_id, Request(source="portfolio", values={"units": 4})),
                      {"units": 4})
    assert e.oracle_trials == 2
    for trial_id in ("0002", "0000"):  # KerasTuner's retry queue: no scheduler, no plan
        e.begin_trial(e.plan_for(trial_id, {"units": 8}), {"units": 8})
    assert e.oracle_trials == 3
    s = Scheduler(e, complete=dict)
    oracle = Oracle({"status": "RUNNING", "values": {"units": 2}}, {"status": "RUNNING", "values": {"units": 6}})
    assert s.next("0003", oracle)["status"] == "RUNNING"
    assert s.next("0004", oracle) == {"status": "STOPPED", "values": None}
    assert s.stop_reason == "all 4 trials are done"


def test_the_trials_budget_stops_the_schedule_with_its_reason():
    e = engine(trials_budget=1)
    s = Scheduler(e, complete=dict)
    oracle = Oracle({"status": "RUNNING", "values": {"units": 4}})
    assert s.next("0000", oracle)["status"] == "RUNNING"
    assert s.next("0001", oracle) == {"status": "STOPPED", "values": None}
    assert s.stop_reason == "all 1 trials are done"


def test_hyperband_gives_a_queued_trial_the_next_first_round_place():
    e = engine()
    e.control.push(Request(source="enqueued", values={"units": 16}))
    later = {"status": "RUNNING", "values": {"units": 4, "tuner/round": 1, "tuner/trial_id": "0000",
                                             "tuner/epochs": 4, "tuner/initial_epoch": 2}}
    first = {"status": "RUNNING", "values": {"units": 2, "tuner/round": 0, "tuner/epochs": 2,
                                             "tuner/bracket": 1}}
    labelled = []
    s = Scheduler(e, complete=dict, bracketed=True, label=lambda tid, r: labelled.append(tid))
    oracle = Oracle(later, first)
    # a later round comes first: the request waits at the queue's head, the round runs
    assert s.next("0001", oracle) is later and e.control.pending()[0].values == {"units": 16}
    placed = s.next("0002", oracle)
    assert placed["values"] == {"units": 16, "tuner/round": 0, "tuner/epochs": 2, "tuner/bracket": 1}
    assert e.plans["0002"].info == {"placed": "hyperband"} and e.plans["0002"].epochs == 2
    assert labelled == ["0001", "0002"] and not e.control.pending()


def test_trials_side_by_side_are_told_to_wait_while_paused_or_while_others_run():
    e = engine(trials_budget=0)
    running = [True]
    s = Scheduler(e, complete=dict, others_running=lambda: running[0])
    oracle = Oracle()
    assert s.next("0000", oracle) == {"status": "IDLE", "values": None}  # spent, one still runs
    running[0] = False
    assert s.next("0000", oracle)["status"] == "STOPPED"
    e.control.set_state(SearchState.PAUSED)
    assert s.next("0000", oracle) == {"status": "IDLE", "values": None}
    s.boundary()  # side by side: never blocks
    assert not oracle.asked


def test_a_time_budget_too_short_for_the_proposal_stops_with_the_planners_sentence():
    now = [0.0]
    control = Control(lambda: Budget(time_budget_s=10.0), clock=lambda: now[0])
    control.set_state(SearchState.RUNNING)  # the running clock counts from here
    e = engine(control=control)
    s = Scheduler(e, complete=dict)
    oracle = Oracle(*[{"status": "RUNNING", "values": {"units": 4}}] * 3)
    values = s.next("0000", oracle)["values"]
    e.begin_trial(e.plan_for("0000", values), values)
    for epoch in range(2):
        now[0] += 4.0
        e.epoch_end("0000", epoch, {"val_loss": 1.0 / (epoch + 1)})
    e.end_trial("0000")
    answer = s.next("0001", oracle)
    assert answer["status"] == "STOPPED"
    assert s.stop_reason.startswith("not starting another trial: 2.0 s left")
    (stop,) = [ev for ev in e.bus.history if isinstance(ev, PlanMade) and ev.decision == "stop"]
    assert stop.message == s.stop_reason


@pytest.mark.parametrize("name", ["tuner.py", "scripted.py", "workers/chief.py"])
def test_every_trainer_schedules_through_the_one_scheduler(name):
    """No trainer asks the engine for the next request itself: the Scheduler does."""
    text = (BACKENDS / name).read_text()
    assert "next_request" not in text and ("Scheduler(" in text or "steer_oracle(" in text)
