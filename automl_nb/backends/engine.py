"""The TensorFlow-free half of running a search.

:class:`Engine` keeps the order of what runs next (the queued requests first: the user's
promotions and trials, and the warm start's portfolio; then a promotion the planner asks for;
then the oracle, within the budgets), which the one
:class:`~automl_nb.backends.scheduler.Scheduler` asks for every trainer, and turns what
happens inside a trial into events. A trial's state is the record's (the fold of those
events): the engine reads its epochs and best score there, and keeps only what is not a fact
yet (how a running trial is set to end). How long trials train and when the time is too short
for another is its :class:`~automl_nb.backends.planner.Planner`'s advice, given as typed
decisions the engine matches on. The KerasTuner glue in ``tuner.py`` and the scripted trainer
in ``automl_nb.testing`` both drive it, so steering and planning behave the same with or
without TensorFlow.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .._util import to_float
from ..control import Action, Control, Request, SearchState
from ..events import EpochEnded, EventBus, PlanMade, TrialEnded, TrialMeasured, TrialStarted
from ..oracles import kind_of
from ..record import OWN_SOURCES, SCORED, SearchRecord
from ..settings import Budget, Settings
from ..status import TrialStatus
from .planner import EarlyStop, Halted, PlanConfig, PlanDone, Planner, Replanned, SlowDown


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


def plan_config(settings: Settings, budget: Budget) -> PlanConfig:
    """A search's :class:`PlanConfig` from its settings: early stopping after ``patience``
    epochs (None: off); with a time budget, planned epochs, successive halving and promotions
    (not with Hyperband, which halves by its own brackets, nor with ``plan`` False)."""
    return PlanConfig(
        epochs=budget.epochs,
        patience=settings.patience,
        halving=budget.time_budget_s is not None and not kind_of(settings.oracle).bracketed
        and settings.plan,
    )


def planning(settings: Settings, budget: Budget, trainer: Any) -> dict[str, Any]:
    """The Engine's planning arguments for a search: its :func:`plan_config`, the warm start's
    portfolio (the trainer's, when ``warm_start`` is on) and the trainer's checkpoint test."""
    return {
        "plan": plan_config(settings, budget),
        "portfolio": trainer.portfolio() if settings.warm_start else None,
        "has_checkpoint": trainer.has_checkpoint,
    }


class Stop(Exception):
    """No further trial should start (budget spent or stop requested)."""


@dataclass
class _Live:
    """What only this process knows of a trial between its start and its ``TrialEnded``.

    Everything else about a trial (its epochs, best score and epoch, status) is the record's,
    folded from the events the engine publishes. These three are not facts yet: the end a
    trial is heading for (a prune, a stop or a failure is decided at a batch and becomes a
    fact when the trial ends), the planner's reason for stopping it early, and a monotonic
    start for its duration (a wall clock can jump, and a monotonic one means nothing to
    another process, so it has no place in the journal). Gone when the trial ends.
    """

    started: float = field(default_factory=time.monotonic)
    outcome: tuple[str, str | None] | None = None
    early: str | None = None


class Engine:
    """The order of what runs next, outcomes and events for the trials of one search."""

    def __init__(
        self,
        *,
        bus: EventBus,
        control: Control,
        record: SearchRecord,
        objective: str,
        direction: str,
        epochs: int,
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
        self.after_trial = after_trial
        self.requests_only = requests_only
        # what each trial was scheduled to do, made before it starts (a worker asks for it)
        self.plans: dict[str, TrialPlan] = {}
        self._live: dict[str, _Live] = {}
        self._last_planned_promotion = False  # the trial begun last was the planner's promotion
        # the ids of the search's own trials (earlier sessions' included), which count against
        # the trials budget: a set, so a trial the oracle retries after a crash counts once
        self._own = {t.trial_id for t in record.trials.values() if t.source in OWN_SOURCES}
        self.planner = Planner(
            plan or PlanConfig(epochs=epochs), record=record, objective=objective, direction=direction,
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

    @property
    def trials_budget(self) -> int | None:
        """The search's own trials it may run: the budget's, read from the Control each time
        (``extend()`` raises it while the search runs)."""
        return self.control.budget.trials

    def trials_spent(self) -> bool:
        budget = self.trials_budget
        return budget is not None and self.oracle_trials >= budget

    def next_request(self) -> Request | None:
        """The next trial to run as a request, or None to ask the oracle (the Scheduler's
        first question; no trainer asks it directly).

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
        no_time = self.planner.fits(values)
        if no_time is not None:
            self.bus.publish(PlanMade(decision="stop", message=no_time.sentence))
            raise Stop(no_time.sentence)

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
        promotion = self.planner.promotion(best.trial_id, self.has_checkpoint)
        if promotion is None:
            return None
        self.bus.publish(PlanMade(decision="promote", message=promotion.sentence,
                                  trial_id=best.trial_id, detail={"epochs": promotion.epochs}))
        return Request(
            source="promoted", values=dict(best.hyperparameters), parent_id=best.trial_id,
            epochs=promotion.epochs, initial_epoch=best.epochs, extra={"planned": True},
        )

    @property
    def oracle_trials(self) -> int:
        """How many of the search's own trials (the oracle's and the portfolio's) were begun."""
        return len(self._own)

    def note_oracle_trial(self, trial_id: str) -> None:
        self._own.add(trial_id)

    def requeue(self, request: Request) -> None:
        """Put a request back at the front of the queue (it waits for a better place)."""
        self.control.push_front(request)

    def hold_while_paused(self) -> None:
        """At a trial boundary: block while the search is paused."""
        self.control.wait_while_paused()

    def paused(self) -> bool:
        """Whether the search is paused (and not being stopped): no trial may start."""
        return self.control.state is SearchState.PAUSED and not self.control.stop_requested

    def plan_request(self, trial_id: str, request: Request) -> TrialPlan:
        initial = request.initial_epoch
        info = dict(request.extra)
        if request.source == "portfolio":
            self._own.add(trial_id)
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
            self._own.add(trial_id)
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
        epochs, fewer = self.planner.epochs_for(values)
        if fewer is not None:
            self.bus.publish(PlanMade(decision="epochs", message=f"trial {trial_id} {fewer.sentence}",
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
        self._live[plan.trial_id] = _Live()
        if plan.source in OWN_SOURCES:
            # counted once more here: a trial the oracle made and a crash cut off before it
            # began (its retry is a new trial to the journal) counts when it runs
            self._own.add(plan.trial_id)
        self._last_planned_promotion = bool((plan.info or {}).get("planned"))
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
        with self.bus.lock:  # the planner reads the trial from the record
            self.planner.begin(plan.trial_id, plan.epochs)

    def batch_end(self, trial_id: str, loss: float | None = None) -> Action | None:
        """After each batch: obey pause/prune/stop/time; returns the action the trial takes.

        A trial already ending (pruned, stopped) is never held by a pause: it only
        has its partial epoch left to validate, and no batch runs.
        """
        live = self._live.get(trial_id)
        if live is not None and live.outcome is not None:
            return Action.STOP
        action = self.control.at_batch_end(trial_id)
        if action is None:
            return None  # the hot path: nothing asked
        live = self._live.setdefault(trial_id, _Live())
        if live.outcome is None:
            if action is Action.PRUNE:
                self.control.consume_prune(trial_id)
                live.outcome = (TrialStatus.PRUNED, "pruned by the user")
            elif action is Action.STOP:
                live.outcome = (TrialStatus.STOPPED, "stopped by the user")
            else:
                live.outcome = (TrialStatus.STOPPED, "the time budget ran out during this trial")
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
        live = self._live.setdefault(trial_id, _Live())
        partial = live.outcome is not None
        self.bus.publish(
            EpochEnded(
                trial_id=trial_id,
                epoch=epoch_index + 1,
                metrics=clean,
                score=score,
                partial=partial,
            )
        )
        with self.bus.lock:  # the planner reads the epoch just published from the record
            decision = self.planner.epoch(trial_id, epoch_index + 1, partial=partial,
                                          can_slow=can_slow)
        if decision is None or partial:
            return GO_ON
        match decision:
            case SlowDown():
                self.bus.publish(PlanMade(decision="slower",
                                          message=f"trial {trial_id}: {decision.sentence}",
                                          trial_id=trial_id))
                return Verdict(rate_factor=decision.factor)
            case Replanned():
                self.bus.publish(PlanMade(decision="epochs",
                                          message=f"trial {trial_id} {decision.sentence}",
                                          trial_id=trial_id))
                return STOP_AFTER if decision.ends_now else GO_ON
            case PlanDone():
                return STOP_AFTER  # it ran its plan: its end says nothing more
            case EarlyStop() | Halted():
                live.early = decision.sentence
                return STOP_AFTER
        raise TypeError(f"the planner decided {decision!r}, which the engine does not know")

    def outcome(self, trial_id: str) -> tuple[TrialStatus, str | None] | None:
        """How a running trial is set to end (status, reason), when a command or a failure
        decided it; None: it ends as its training does."""
        live = self._live.get(trial_id)
        return None if live is None else live.outcome

    def measured(self, trial_id: str, params: int | None = None) -> None:
        """Publish what a running trial's model costs (its parameters, once it is built)."""
        self.bus.publish(TrialMeasured(trial_id=trial_id, params=params))

    def fail(self, trial_id: str, reason: str) -> None:
        self._live.setdefault(trial_id, _Live()).outcome = (TrialStatus.FAILED, reason)

    def end_trial(self, trial_id: str, score: float | None = None) -> TrialStatus:
        """Publish how the trial ended; returns its status."""
        live = self._live.pop(trial_id, None) or _Live()
        status, reason = live.outcome or (TrialStatus.COMPLETED, None)
        early = live.early
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
        with self.bus.lock:
            trial = self.record.trials.get(trial_id)
            best = trial.best(self.objective, self.direction) if trial is not None else None
            last_epoch = trial.epochs if trial is not None else 0
        if score is None or (isinstance(score, float) and math.isnan(score)):
            score = best.score if best is not None else None
        if status is TrialStatus.FAILED:
            score = None
        self.bus.publish(
            TrialEnded(
                trial_id=trial_id,
                status=status,
                score=score,
                best_epoch=best.epoch if best is not None and status is not TrialStatus.FAILED else None,
                epochs=last_epoch,
                duration_s=round(time.monotonic() - live.started, 3),
                reason=reason,
            )
        )
        if self.after_trial is not None:
            self.after_trial(trial_id, status)
        return status

