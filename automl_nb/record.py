"""A search's state folded from its events.

:class:`SearchRecord` is what every view reads: ``Search.results``, the panel,
the command line's leaderboard and ``automl_nb.open()``. It is rebuilt by
replaying the journal, so a live search and a reopened one show the same truth.
It is also the one home of the search's :class:`~automl_nb.settings.Budget`: the one each
``SearchStarted`` says, changed by ``BudgetChanged`` (``extend()``); the Control, the engine
and its planner read it from here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from ._util import to_float
from .events import (
    BudgetChanged,
    CommandIssued,
    EpochEnded,
    Event,
    PlanMade,
    SearchEnded,
    SearchStarted,
    SpaceDefined,
    StateChanged,
    TrialEnded,
    TrialMeasured,
    TrialStarted,
)
from .settings import Budget
from .status import FINAL_STATES, SCORED, SearchState, TrialStatus

RESULT_COLUMNS = ("trial_id", "status", "score", "epochs", "duration_s", "parent_id", "params")
#: Where a trial came from when it is the search's own (what the trials budget counts): the
#: oracle's proposals and the warm start's portfolio; promoted and enqueued ones run on top.
OWN_SOURCES = ("oracle", "portfolio")


def finite(value: Any) -> float | None:
    """``value`` as a float, or None when it is missing, NaN or infinite (JSON-safe)."""
    return to_float(value, finite=True)


class BestEpoch(NamedTuple):
    """A trial's best epoch so far and its score."""

    epoch: int
    score: float


@dataclass
class TrialRecord:
    """One trial as the user sees it."""

    trial_id: str
    hyperparameters: dict[str, Any]
    parent_id: str | None = None
    source: str = "oracle"
    initial_epoch: int = 0
    planned_epochs: int = 0
    info: dict[str, Any] = field(default_factory=dict)
    status: TrialStatus = TrialStatus.RUNNING
    score: float | None = None
    best_epoch: int | None = None
    reason: str | None = None
    started_at: float = 0.0
    ended_at: float | None = None
    duration_s: float | None = None
    params: int | None = None  #: its model's parameters (``TrialMeasured``; None: not measured)
    curve: list[tuple[int, dict[str, float]]] = field(default_factory=list)

    @property
    def epochs(self) -> int:
        """The last epoch number reached (continuing a parent's numbering)."""
        return self.curve[-1][0] if self.curve else self.initial_epoch

    @property
    def finished(self) -> bool:
        return self.status != TrialStatus.RUNNING

    def objective_curve(self, objective: str) -> list[tuple[int, float]]:
        return [(e, m[objective]) for e, m in self.curve if m.get(objective) is not None]

    def best(self, objective: str | None, direction: str) -> BestEpoch | None:
        """Its best epoch so far by ``objective`` (the first of equals), or None before one
        with a finite score. This is the one place a trial's best is worked out: the engine's
        ``TrialEnded``, the planner, the results table and the panel all read it."""
        found: BestEpoch | None = None
        if objective is None:
            return None
        for epoch, metrics in self.curve:
            value = finite(metrics.get(objective))
            if value is not None and better(value, found.score if found else None, direction):
                found = BestEpoch(epoch, value)
        return found


def better(a: float | None, b: float | None, direction: str) -> bool:
    """Whether score ``a`` beats ``b`` (None and NaN never beat anything)."""
    if a is None or (isinstance(a, float) and math.isnan(a)):
        return False
    if b is None or (isinstance(b, float) and math.isnan(b)):
        return True
    return a > b if direction == "max" else a < b


class SearchRecord:
    """Fold of a search's events: config, trials in start order, state, commands."""

    def __init__(self, events: list[Event] | None = None):
        self.config: SearchStarted | None = None
        self.space: list[dict[str, Any]] = []
        self.trials: dict[str, TrialRecord] = {}
        self.state: SearchState = SearchState.IDLE
        self.state_reason: str | None = None
        #: The budget now (None until an event says it): a ``SearchStarted``'s, as raised
        #: by the ``BudgetChanged`` events after it.
        self.budget: Budget | None = None
        self.started_at: float | None = None
        self.ended_at: float | None = None
        self.end_reason: str | None = None
        self.last_command: CommandIssued | None = None
        self.last_plan: PlanMade | None = None  # the search's latest decision about its budget
        #: The decision on the model handed back (an ensemble of the best trials, or the best
        #: alone) made when the search last ended; None once a trial starts after it.
        self.ensemble: PlanMade | None = None
        #: The yardstick of a table search: gradient-boosted trees' validation score on the
        #: same rows (:mod:`automl_nb.referee`).
        self.referee: PlanMade | None = None
        self.running_time_s: float = 0.0  # time spent running in earlier sessions
        self._session_start: float | None = None
        self.last_seq = -1
        for event in events or ():
            self.apply(event)

    # -- folding ---------------------------------------------------------
    def apply(self, event: Event) -> None:
        if event.seq <= self.last_seq and event.seq >= 0:
            return  # already folded (a replay overlapping a live stream)
        self.last_seq = max(self.last_seq, event.seq)
        if isinstance(event, SearchStarted):
            if self._session_start is not None and self.ended_at is None:
                # the earlier session never ended cleanly (a crash): count what we know
                last = max((t.ended_at or t.started_at for t in self.trials.values()), default=None)
                if last is not None:
                    self.running_time_s += max(0.0, last - self._session_start)
            self.config = event
            if event.space:
                self.space = list(event.space)
            self.budget = Budget(event.trials, event.time_budget_s, event.epochs)
            self.started_at = self.started_at or event.time
            self._session_start = event.time
            self.ended_at = None
            self.end_reason = None
            self.mark_interrupted()
        elif isinstance(event, SpaceDefined):
            self.space = list(event.space)
        elif isinstance(event, TrialStarted):
            self.ensemble = None  # weighed without this trial
            self.trials[event.trial_id] = TrialRecord(
                trial_id=event.trial_id,
                hyperparameters=dict(event.hyperparameters),
                parent_id=event.parent_id,
                source=event.source,
                initial_epoch=event.initial_epoch,
                planned_epochs=event.epochs,
                info=dict(event.info),
                started_at=event.time,
            )
        elif isinstance(event, EpochEnded):
            trial = self.trials.get(event.trial_id)
            if trial is not None:
                trial.curve.append((event.epoch, event.metrics))  # events are frozen: no copy
        elif isinstance(event, TrialEnded):
            trial = self.trials.get(event.trial_id)
            if trial is not None:
                trial.status = TrialStatus(event.status)
                trial.score = event.score
                trial.best_epoch = event.best_epoch
                trial.reason = event.reason
                trial.ended_at = event.time
                trial.duration_s = event.duration_s
        elif isinstance(event, TrialMeasured):
            trial = self.trials.get(event.trial_id)
            if trial is not None and event.params is not None:
                trial.params = int(event.params)
        elif isinstance(event, StateChanged):
            self.state = SearchState(event.state)
            self.state_reason = event.reason
        elif isinstance(event, BudgetChanged):  # an older journal's has no epochs
            epochs = event.epochs if event.epochs is not None else (
                self.budget.epochs if self.budget else None)
            self.budget = Budget(event.trials, event.time_budget_s, epochs)
        elif isinstance(event, CommandIssued):
            self.last_command = event
        elif isinstance(event, PlanMade):
            self.last_plan = event
            if event.decision == "ensemble":
                self.ensemble = event
            elif event.decision == "referee":
                self.referee = event
        elif isinstance(event, SearchEnded):
            self.state = SearchState(event.state)
            self.end_reason = event.reason
            self.ended_at = event.time
            if self._session_start is not None:
                self.running_time_s += max(0.0, event.time - self._session_start)
            self._session_start = None

    @classmethod
    def reopened(cls, events: list[Event]) -> SearchRecord:
        """The fold of a journal read back from its file: its sessions have ended, so a
        trial it left running was interrupted, and a search it left running (or paused,
        stopping) is idle now, until it is started again."""
        record = cls(events)
        record.mark_interrupted()
        if record.state not in FINAL_STATES:
            record.state = SearchState.IDLE
        return record

    def mark_interrupted(self) -> None:
        """Trials left running by a session that died (a crash, a killed kernel) are lost."""
        for trial in self.trials.values():
            if trial.status == TrialStatus.RUNNING:
                trial.status = TrialStatus.FAILED
                trial.reason = "interrupted: the search process ended during this trial"

    # -- views -----------------------------------------------------------
    @property
    def objective(self) -> str | None:
        return self.config.objective if self.config else None

    @property
    def direction(self) -> str:
        return self.config.direction if self.config else "max"

    def elapsed(self, now: float) -> float:
        """Seconds spent running, across sessions (a continued search adds up)."""
        extra = (now - self._session_start) if self._session_start is not None else 0.0
        return self.running_time_s + max(0.0, extra)

    @property
    def running(self) -> TrialRecord | None:
        for trial in reversed(self.trials.values()):
            if trial.status == TrialStatus.RUNNING:
                return trial
        return None

    def finished_trials(self) -> list[TrialRecord]:
        return [t for t in self.trials.values() if t.finished]

    def best(self) -> TrialRecord | None:
        """The best finished trial with a score (failed trials never count)."""
        best: TrialRecord | None = None
        for trial in self.trials.values():
            if trial.status in SCORED and better(
                trial.score, best.score if best else None, self.direction
            ):
                best = trial
        return best

    def best_so_far(self, trial: TrialRecord) -> float | None:
        """A trial's best score so far by the search's objective (a running trial's score)."""
        best = trial.best(self.objective, self.direction)
        return None if best is None else best.score

    def hyperparameter_names(self) -> list[str]:
        names = [spec["name"] for spec in self.space if "name" in spec]
        for trial in self.trials.values():
            for name in trial.hyperparameters:
                if name not in names and not name.startswith("tuner/"):
                    names.append(name)
        return names

    def results(self):
        """``rows()`` as a pandas DataFrame with the documented column order."""
        import pandas as pd

        return pd.DataFrame(self.rows(), columns=[*RESULT_COLUMNS, *self.hyperparameter_names()])

    def best_hyperparameters(self) -> dict[str, Any]:
        best = self.best()
        if best is None:
            raise RuntimeError("no trial has finished with a score yet; wait for one first")
        return dict(best.hyperparameters)

    def rows(self) -> list[dict[str, Any]]:
        """One plain dict a trial, in start order: the results table's rows."""
        names = self.hyperparameter_names()
        out = []
        for t in self.trials.values():
            row: dict[str, Any] = {
                "trial_id": t.trial_id,
                "status": str(t.status),  # the plain word, as before the enum
                "score": t.score if t.finished else self.best_so_far(t),
                "epochs": t.epochs,
                "duration_s": t.duration_s,
                "parent_id": t.parent_id,
                "params": t.params,
            }
            for name in names:
                row[name] = t.hyperparameters.get(name)
            out.append(row)
        return out

