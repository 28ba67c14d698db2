"""The TensorFlow-free half of running a search.

:class:`Engine` decides what runs next (the user's requests first, then the
oracle, within the budgets), turns what happens inside a trial into events, and
remembers how each trial ended (pruned, stopped, failed). The KerasTuner glue in
``tuner.py`` and the scripted trainer in ``automl_nb.testing`` both drive it, so
steering behaves the same with or without TensorFlow.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..control import Action, Control, Request
from ..events import EpochEnded, EventBus, TrialEnded, TrialStarted
from ..record import SearchRecord, better


@dataclass
class TrialPlan:
    """How one trial runs: where its epochs start and end, and what it continues from."""

    trial_id: str
    source: str = "oracle"
    parent_id: str | None = None
    initial_epoch: int = 0
    epochs: int = 0
    resume_from: str | None = None  # checkpoint to start from (promotion, Hyperband round)


class Stop(Exception):
    """No further trial should start (budget spent or stop requested)."""


class Engine:
    """Scheduling, outcomes and events for the trials of one search."""

    def __init__(
        self,
        *,
        bus: EventBus,
        control: Control,
        record: SearchRecord,
        objective: str,
        direction: str,
        epochs: int,
        trials_budget: int | None,
        after_trial: Callable[[str, str], None] | None = None,
        requests_only: bool = False,
    ):
        self.bus = bus
        self.control = control
        self.record = record
        self.objective = objective
        self.direction = direction
        self.epochs = epochs
        self.trials_budget = trials_budget
        self.after_trial = after_trial
        self.requests_only = requests_only
        self.plans: dict[str, TrialPlan] = {}
        self._outcome: dict[str, tuple[str, str | None]] = {}
        self._best: dict[str, float | None] = {}
        self._best_epoch: dict[str, int | None] = {}
        self._last_epoch: dict[str, int] = {}
        self._started: dict[str, float] = {}
        # oracle trials already started in earlier sessions of this search count against the budget
        self.oracle_trials = sum(1 for t in record.trials.values() if t.source == "oracle")

    # -- what runs next ---------------------------------------------------------
    def stop_reason(self) -> str | None:
        """Why no trial may start now, or None."""
        if self.control.stop_requested:
            return "stopped by the user"
        if self.control.out_of_time():
            return "the time budget is spent"
        return None

    def next_request(self) -> Request | None:
        """The user's next request, or None to ask the oracle. Raises Stop when nothing may start."""
        reason = self.stop_reason()
        if reason:
            raise Stop(reason)
        request = self.control.pop_request()
        if request is not None:
            return request
        if self.requests_only:
            raise Stop("the requested trials are done")
        if self.trials_budget is not None and self.oracle_trials >= self.trials_budget:
            raise Stop(f"all {self.trials_budget} trials are done")
        return None

    def note_oracle_trial(self) -> None:
        self.oracle_trials += 1

    def plan_request(self, trial_id: str, request: Request) -> TrialPlan:
        initial = request.initial_epoch
        epochs = initial + (request.epochs if request.epochs is not None else self.epochs)
        plan = TrialPlan(
            trial_id=trial_id,
            source=request.source,
            parent_id=request.parent_id,
            initial_epoch=initial,
            epochs=epochs,
            resume_from=request.parent_id if request.source == "promoted" else None,
        )
        self.plans[trial_id] = plan
        return plan

    def plan_for(self, trial_id: str, values: dict[str, Any]) -> TrialPlan:
        """The plan of a trial: a request's, or the oracle's (Hyperband rounds carry their own)."""
        plan = self.plans.get(trial_id)
        if plan is None:
            parent = values.get("tuner/trial_id")
            plan = TrialPlan(
                trial_id=trial_id,
                source="oracle",
                parent_id=parent,
                initial_epoch=int(values.get("tuner/initial_epoch", 0)),
                epochs=int(values.get("tuner/epochs", self.epochs)),
                resume_from=parent,
            )
            self.plans[trial_id] = plan
        return plan

    # -- a trial's life -----------------------------------------------------------
    def begin_trial(
        self, plan: TrialPlan, values: dict[str, Any], info: dict[str, Any] | None = None
    ) -> None:
        """``info`` adds to ``TrialStarted.info`` (the worker that runs it, with workers > 1)."""
        hps = {k: v for k, v in values.items() if not k.startswith("tuner/")}
        info = {
            **{k[len("tuner/"):]: v for k, v in values.items() if k in ("tuner/bracket", "tuner/round")},
            **(info or {}),
        }
        self._outcome.pop(plan.trial_id, None)
        self._best[plan.trial_id] = None
        self._best_epoch[plan.trial_id] = None
        self._last_epoch[plan.trial_id] = plan.initial_epoch
        self._started[plan.trial_id] = time.monotonic()
        self.bus.publish(
            TrialStarted(
                trial_id=plan.trial_id,
                hyperparameters=hps,
                parent_id=plan.parent_id,
                initial_epoch=plan.initial_epoch,
                epochs=plan.epochs,
                source=plan.source,
                info=info,
            )
        )

    def batch_end(self, trial_id: str, loss: float | None = None) -> Action | None:
        """After each batch: obey pause/prune/stop/time; returns the action the trial takes.

        A trial already ending (pruned, stopped) is never held by a pause: it only
        has its partial epoch left to validate, and no batch runs.
        """
        if trial_id in self._outcome:
            return Action.STOP
        action = self.control.at_batch_end(trial_id)
        if action is not None and trial_id not in self._outcome:
            if action is Action.PRUNE:
                self.control.consume_prune(trial_id)
                self._outcome[trial_id] = ("pruned", "pruned by the user")
            elif action is Action.STOP:
                self._outcome[trial_id] = ("stopped", "stopped by the user")
            else:
                self._outcome[trial_id] = ("stopped", "the time budget ran out during this trial")
        return action

    def epoch_end(self, trial_id: str, epoch_index: int, metrics: dict[str, Any]) -> None:
        """``epoch_index`` is Keras's 0-based absolute epoch."""
        clean = {k: _to_float(v) for k, v in metrics.items()}
        score = clean.get(self.objective)
        if better(score, self._best.get(trial_id), self.direction):
            self._best[trial_id] = score
            self._best_epoch[trial_id] = epoch_index + 1
        self._last_epoch[trial_id] = epoch_index + 1
        self.bus.publish(
            EpochEnded(
                trial_id=trial_id,
                epoch=epoch_index + 1,
                metrics=clean,
                score=score,
                partial=trial_id in self._outcome,
            )
        )

    def outcome(self, trial_id: str) -> tuple[str, str | None] | None:
        return self._outcome.get(trial_id)

    def fail(self, trial_id: str, reason: str) -> None:
        self._outcome[trial_id] = ("failed", reason)

    def best_score(self, trial_id: str) -> float | None:
        return self._best.get(trial_id)

    def end_trial(self, trial_id: str, score: float | None = None) -> str:
        """Publish how the trial ended; returns its status."""
        status, reason = self._outcome.pop(trial_id, ("completed", None))
        if self.control.consume_prune(trial_id) and status == "completed":
            # the prune came after the last batch (during the final validation): too late to stop it
            reason = "finished its last epoch before the prune could take effect"
        if score is None or (isinstance(score, float) and math.isnan(score)):
            score = self._best.get(trial_id)
        if status == "failed":
            score = None
        started = self._started.pop(trial_id, time.monotonic())
        self.bus.publish(
            TrialEnded(
                trial_id=trial_id,
                status=status,
                score=score,
                best_epoch=self._best_epoch.get(trial_id) if status != "failed" else None,
                epochs=self._last_epoch.get(trial_id, 0),
                duration_s=round(time.monotonic() - started, 3),
                reason=reason,
            )
        )
        if self.after_trial is not None:
            self.after_trial(trial_id, status)
        return status


def _to_float(value: Any) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out
