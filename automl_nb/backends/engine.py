"""The TensorFlow-free half of running a search.

:class:`Engine` decides what runs next (the queued requests first: the user's promotions and
trials, and the warm start's portfolio; then a promotion the planner asks for; then the
oracle, within the budgets), turns what happens inside a trial into events, and remembers how
each trial ended (pruned, stopped, failed, stopped early). How long trials train and when the
time is too short for another is its :class:`~automl_nb.backends.planner.Planner`'s advice.
The KerasTuner glue in ``tuner.py`` and the scripted trainer in ``automl_nb.testing`` both
drive it, so steering and planning behave the same with or without TensorFlow.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .._util import to_float
from ..control import Action, Control, Request
from ..events import EpochEnded, EventBus, PlanMade, TrialEnded, TrialStarted
from ..record import OWN_SOURCES, SCORED, SearchRecord, better
from ..status import TrialStatus
from .planner import PlanConfig, Planner


@dataclass(frozen=True)
class Verdict:
    """What a trial does after an epoch: ``stop``, or train on with its learning rate times
    ``rate_factor`` (None: unchanged)."""

    stop: bool = False
    rate_factor: float | None = None


GO_ON = Verdict()
STOP_AFTER = Verdict(stop=True)


@dataclass
class TrialPlan:
    """How one trial runs: where its epochs start and end, and what it continues from."""

    trial_id: str
    source: str = "oracle"
    parent_id: str | None = None
    initial_epoch: int = 0
    epochs: int = 0
    resume_from: str | None = None  # checkpoint to start from (promotion, Hyperband round)
    info: dict[str, Any] | None = None  # adds to TrialStarted.info (the portfolio entry's name)


def plan_config(settings: dict[str, Any], time_budget_s: float | None) -> PlanConfig:
    """A search's :class:`PlanConfig` from its settings: early stopping after ``patience``
    epochs (None: off); with a time budget, planned epochs, successive halving and promotions
    (not with Hyperband, which halves by its own brackets, nor with ``plan`` False)."""
    return PlanConfig(
        epochs=settings["epochs"],
        patience=settings.get("patience"),
        halving=time_budget_s is not None and settings.get("oracle") != "hyperband"
        and settings.get("plan", True),
    )


def planning(settings: dict[str, Any], time_budget_s: float | None, trainer: Any) -> dict[str, Any]:
    """The Engine's planning arguments for a search: its :func:`plan_config`, the warm start's
    portfolio (the trainer's, when ``warm_start`` is on) and the trainer's checkpoint test."""
    return {
        "plan": plan_config(settings, time_budget_s),
        "portfolio": trainer.portfolio() if settings.get("warm_start") else None,
        "has_checkpoint": trainer.has_checkpoint,
    }


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
        plan: PlanConfig | None = None,
        portfolio: list[tuple[str, dict[str, Any]]] | None = None,
        has_checkpoint: Callable[[str], bool] | None = None,
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
        self._early: dict[str, str] = {}  # trials the planner stopped at an epoch end, and why
        self._last_planned_promotion = False  # the trial begun last was the planner's promotion
        # the search's own trials of earlier sessions count against the budget
        self.oracle_trials = sum(1 for t in record.trials.values() if t.source in OWN_SOURCES)
        self.planner = Planner(
            plan or PlanConfig(epochs=epochs), objective=objective, direction=direction,
            clock=control.running_time, time_budget=lambda: control.time_budget_s,
        )
        self.has_checkpoint = has_checkpoint or (lambda trial_id: True)
        if portfolio and not requests_only:
            self.queue_portfolio(portfolio)

    # -- warm start ---------------------------------------------------------------
    def queue_portfolio(self, portfolio: list[tuple[str, dict[str, Any]]]) -> None:
        """Queue the portfolio entries no earlier session ran, after the user's requests."""
        ran = {t.info.get("portfolio") for t in self.record.trials.values() if t.source == "portfolio"}
        queued = {r.extra.get("portfolio") for r in self.control.pending() if r.source == "portfolio"}
        entries = [(name, values) for name, values in portfolio if name not in ran | queued]
        if not entries:
            return
        for name, values in entries:
            self.control.push(Request(source="portfolio", values=dict(values), extra={"portfolio": name}))
        names = ", ".join(name for name, _ in entries)
        self.bus.publish(PlanMade(
            decision="warm_start",
            message=f"warm start: the first trials are {names}, then the oracle's",
            detail={"portfolio": [name for name, _ in entries]},
        ))

    # -- what runs next ---------------------------------------------------------
    def stop_reason(self) -> str | None:
        """Why no trial may start now, or None."""
        if self.control.stop_requested:
            return "stopped by the user"
        if self.control.out_of_time():
            return "the time budget is spent"
        return None

    def trials_spent(self) -> bool:
        return self.trials_budget is not None and self.oracle_trials >= self.trials_budget

    def next_request(self) -> Request | None:
        """The next trial to run as a request, or None to ask the oracle.

        In order: the user's queued requests; a promotion the planner asks for (the best trial
        when it was still improving, taking turns with the search's own new trials); the warm
        start's portfolio entries; then None, the oracle's turn. Raises Stop when nothing may
        start. Portfolio entries count against the trials budget (they are the search's own
        trials) and are dropped once it is spent; a trial that cannot finish one epoch in the
        time left does not start (the user's own requests still do, until the time budget is
        spent).
        """
        reason = self.stop_reason()
        if reason:
            raise Stop(reason)
        pending = self.control.pending()
        if pending and pending[0].source != "portfolio":
            return self.control.pop_request()
        if not self.requests_only:
            promotion = self._promotion()
            if promotion is not None:
                return promotion
        while True:
            request = self.control.pop_request()
            if request is None:
                break
            if request.source != "portfolio":
                return request
            if not self.requests_only and not self.trials_spent():
                self._check_fits(request.values)
                return request
        if self.requests_only:
            raise Stop("the requested trials are done")
        if self.trials_spent():
            raise Stop(f"all {self.trials_budget} trials are done")
        self._check_fits(None)
        return None

    def _check_fits(self, values: dict[str, Any] | None) -> None:
        reason = self.planner.fits(values)
        if reason:
            self.bus.publish(PlanMade(decision="stop", message=reason))
            raise Stop(reason)

    def check_proposal(self, values: dict[str, Any]) -> None:
        """Raise Stop when the oracle's proposal cannot finish one epoch in the time left."""
        self._check_fits({k: v for k, v in values.items() if not k.startswith("tuner/")})

    def _promotion(self) -> Request | None:
        """The planner's promotion of the best trial when it was still improving, or None.

        Promotions and the oracle's trials take turns (the search keeps exploring while its
        best trains on), except once the trials budget is spent.
        """
        if self._last_planned_promotion and not self.trials_spent():
            return None
        with self.bus.lock:
            best = self.record.best()
        if best is None or best.status not in SCORED:
            return None
        answer = self.planner.promotion(best.trial_id, self.has_checkpoint)
        if answer is None:
            return None
        epochs, why = answer
        self.bus.publish(PlanMade(decision="promote", message=why, trial_id=best.trial_id,
                                  detail={"epochs": epochs}))
        return Request(
            source="promoted", values=dict(best.hyperparameters), parent_id=best.trial_id,
            epochs=epochs, initial_epoch=best.epochs, extra={"planned": True},
        )

    def note_oracle_trial(self) -> None:
        self.oracle_trials += 1

    def plan_request(self, trial_id: str, request: Request) -> TrialPlan:
        initial = request.initial_epoch
        info = dict(request.extra)
        if request.source == "portfolio":
            self.oracle_trials += 1
        if request.epochs is not None:
            epochs = request.epochs
        else:
            epochs = self._planned_epochs(trial_id, request.values, info)
        plan = TrialPlan(
            trial_id=trial_id,
            source=request.source,
            parent_id=request.parent_id,
            initial_epoch=initial,
            epochs=initial + epochs,
            resume_from=request.parent_id if request.source == "promoted" else None,
            info=info or None,
        )
        self.plans[trial_id] = plan
        return plan

    def plan_placed(self, trial_id: str, request: Request, values: dict[str, Any]) -> TrialPlan:
        """A queued trial placed in the oracle's own slot (a Hyperband bracket's first round)."""
        if request.source == "portfolio":
            self.oracle_trials += 1
        plan = TrialPlan(
            trial_id=trial_id, source=request.source, initial_epoch=0,
            epochs=int(values.get("tuner/epochs", self.epochs)),
            info={**request.extra, "placed": "hyperband"},
        )
        self.plans[trial_id] = plan
        return plan

    def plan_for(self, trial_id: str, values: dict[str, Any]) -> TrialPlan:
        """The plan of a trial: a request's, or the oracle's (Hyperband rounds carry their own)."""
        plan = self.plans.get(trial_id)
        if plan is None:
            parent = values.get("tuner/trial_id")
            initial = int(values.get("tuner/initial_epoch", 0))
            if "tuner/epochs" in values:
                epochs = int(values["tuner/epochs"])
            else:
                epochs = initial + self._planned_epochs(trial_id, values, None)
            plan = TrialPlan(
                trial_id=trial_id,
                source="oracle",
                parent_id=parent,
                initial_epoch=initial,
                epochs=epochs,
                resume_from=parent,
            )
            self.plans[trial_id] = plan
        return plan

    def _planned_epochs(self, trial_id: str, values: dict[str, Any], info: dict | None) -> int:
        epochs, why = self.planner.epochs_for(values)
        if why:
            self.bus.publish(PlanMade(decision="epochs", message=f"trial {trial_id} {why}",
                                      trial_id=trial_id, detail={"epochs": epochs}))
        return epochs

    # -- a trial's life -----------------------------------------------------------
    def begin_trial(
        self, plan: TrialPlan, values: dict[str, Any], info: dict[str, Any] | None = None
    ) -> None:
        """``info`` adds to ``TrialStarted.info`` (the worker that runs it, with workers > 1)."""
        hps = {k: v for k, v in values.items() if not k.startswith("tuner/")}
        info = {
            **{k[len("tuner/"):]: v for k, v in values.items() if k in ("tuner/bracket", "tuner/round")},
            **(plan.info or {}),
            **(info or {}),
        }
        self._outcome.pop(plan.trial_id, None)
        self._early.pop(plan.trial_id, None)
        self._last_planned_promotion = bool((plan.info or {}).get("planned"))
        self.planner.begin(plan.trial_id, hps, plan.source, plan.initial_epoch, plan.epochs)
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
                self._outcome[trial_id] = (TrialStatus.PRUNED, "pruned by the user")
            elif action is Action.STOP:
                self._outcome[trial_id] = (TrialStatus.STOPPED, "stopped by the user")
            else:
                self._outcome[trial_id] = (TrialStatus.STOPPED,
                                           "the time budget ran out during this trial")
        return action

    def epoch_end(self, trial_id: str, epoch_index: int, metrics: dict[str, Any],
                  can_slow: bool = False) -> Verdict:
        """``epoch_index`` is Keras's 0-based absolute epoch; the verdict says whether the
        trial stops after it, or trains on at a lower learning rate.

        A trial stops at an epoch end when the planner says so: no better objective for
        ``patience`` epochs, or halted by successive halving. It ends completed, with the
        reason, and its best epoch is what counts. A trial whose trainer can change its
        learning rate (``can_slow``) first trains on at a lower rate at its first plateau.
        """
        clean = {k: to_float(v) for k, v in metrics.items()}
        score = clean.get(self.objective)
        if better(score, self._best.get(trial_id), self.direction):
            self._best[trial_id] = score
            self._best_epoch[trial_id] = epoch_index + 1
        self._last_epoch[trial_id] = epoch_index + 1
        partial = trial_id in self._outcome
        self.bus.publish(
            EpochEnded(
                trial_id=trial_id,
                epoch=epoch_index + 1,
                metrics=clean,
                score=score,
                partial=partial,
            )
        )
        decision = self.planner.epoch(trial_id, epoch_index + 1, score, partial=partial,
                                      can_slow=can_slow)
        if decision is None or partial:
            return GO_ON
        kind, why = decision
        if kind == "slower":
            self.bus.publish(PlanMade(decision="slower", message=f"trial {trial_id}: {why}",
                                      trial_id=trial_id))
            return Verdict(rate_factor=self.planner.config.slow_down)
        if kind in ("planned", "replanned") and why.startswith("plans"):
            self.bus.publish(PlanMade(decision="epochs", message=f"trial {trial_id} {why}",
                                      trial_id=trial_id))
        if kind == "replanned":
            return GO_ON
        if kind != "planned":
            self._early[trial_id] = why
        return STOP_AFTER

    def outcome(self, trial_id: str) -> tuple[TrialStatus, str | None] | None:
        return self._outcome.get(trial_id)

    def fail(self, trial_id: str, reason: str) -> None:
        self._outcome[trial_id] = (TrialStatus.FAILED, reason)

    def best_score(self, trial_id: str) -> float | None:
        return self._best.get(trial_id)

    def end_trial(self, trial_id: str, score: float | None = None) -> TrialStatus:
        """Publish how the trial ended; returns its status."""
        status, reason = self._outcome.pop(trial_id, (TrialStatus.COMPLETED, None))
        early = self._early.pop(trial_id, None)
        if status is TrialStatus.COMPLETED and reason is None:
            reason = early
        if self.control.consume_prune(trial_id) and status is TrialStatus.COMPLETED:
            # the prune came after the last batch (during the final validation): too late to stop it
            reason = "finished its last epoch before the prune could take effect"
        note = self.planner.end(trial_id, status)
        if self.planner.extended(trial_id):
            self._last_planned_promotion = True  # it trained on in place: a new trial's turn
        if status is TrialStatus.COMPLETED and reason is None:
            reason = note
        if score is None or (isinstance(score, float) and math.isnan(score)):
            score = self._best.get(trial_id)
        if status is TrialStatus.FAILED:
            score = None
        started = self._started.pop(trial_id, time.monotonic())
        self.bus.publish(
            TrialEnded(
                trial_id=trial_id,
                status=status,
                score=score,
                best_epoch=(self._best_epoch.get(trial_id)
                            if status is not TrialStatus.FAILED else None),
                epochs=self._last_epoch.get(trial_id, 0),
                duration_s=round(time.monotonic() - started, 3),
                reason=reason,
            )
        )
        if self.after_trial is not None:
            self.after_trial(trial_id, status)
        return status

