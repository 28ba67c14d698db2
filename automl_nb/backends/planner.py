"""Planning a search's time: how long a trial trains, when it stops, what trains on.

The :class:`Planner` is the engine's adviser (no TensorFlow, no KerasTuner): the
:class:`~automl_nb.backends.engine.Engine` asks it at a trial's start, at every epoch end and
before each new trial, and publishes what it decided as a
:class:`~automl_nb.events.PlanMade` event (the status line and the journal say why).

- **Early stopping.** A trial whose objective has not improved for ``patience`` epochs first
  trains on at a lower learning rate (``slow_down`` times it, once, when its trainer can
  change the rate: a plateau is often the rate's noise, not the model's limit), and stops at
  its next plateau (completed; its checkpoint holds its best epoch, which is what the trial's
  score, ``best_model()`` and a promotion use).
- **Cost.** It learns each configuration's cost in seconds an epoch (running time, paused
  time excluded) and its start-up (build and first trace); a configuration it has not seen
  is priced by the trials most like it (the most equal non-float hyperparameters).
- **With a time budget** (``halving``): a new trial plans at most ``epochs`` epochs and at most
  a ``share`` of the budget; at the rungs ``first_rung * eta**k`` a trial that is not among
  the best ``1/eta`` of the trials that reached that epoch stops (successive halving, in
  place, as ASHA); a trial still improving at its last planned epoch (its best epoch, or its
  slow-down, within the last ``patience`` epochs) is a *candidate*, and when it is the best
  trial so far the search trains it on (a promotion from its best checkpoint) before asking
  the oracle for more; no trial starts that cannot finish one epoch in the time left.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..record import SearchRecord, TrialRecord, better, finite
from ..status import TrialStatus

#: A trial starts only when the time left holds its start-up and one epoch this many times over
#: (estimates are medians of a few epochs on a machine whose load moves).
SAFETY = 1.25


@dataclass(frozen=True)
class PlanConfig:
    """How a search spends its epochs and time.

    Attributes:
        epochs: the most epochs a new trial plans (the search's ``epochs``).
        patience: epochs without a better objective before a trial stops; None: never.
        halving: successive halving, planned epochs and promotions (a time budget).
        eta: the halving factor: the best 1/eta of the trials at a rung train on.
        first_rung: the epoch of the first rung.
        share: the most of the time budget one new trial plans for.
        min_delta: how much better (relative to the score's size) counts as better.
        slow_down: at a trial's first plateau its learning rate is multiplied by this and it
            trains on (when its trainer can change the rate); None: a plateau stops it.
    """

    epochs: int
    patience: int | None = None
    halving: bool = False
    eta: int = 3
    first_rung: int = 2
    share: float = 1 / 6
    min_delta: float = 1e-4
    slow_down: float | None = 0.3


# -- what the planner decides: the engine matches on these types, users read ``sentence`` --------
class Decision:
    """A decision of the planner; ``sentence`` says it in the words the journal and panel show."""

    @property
    def sentence(self) -> str:
        raise NotImplementedError

    def __str__(self) -> str:
        return self.sentence


@dataclass(frozen=True)
class SlowDown(Decision):
    """A trial's first plateau: it trains on with its learning rate times ``factor``."""

    objective: str
    patience: int
    epoch: int
    factor: float

    @property
    def sentence(self) -> str:
        return (
            f"no better {self.objective} for {self.patience} epochs at epoch {self.epoch}: it "
            f"trains on with its learning rate times {self.factor:g}"
        )


@dataclass(frozen=True)
class EarlyStop(Decision):
    """A plateau: the trial stops after this epoch, its best epoch kept."""

    objective: str
    patience: int
    epoch: int
    best_epoch: int | None
    best: float | None
    slowed: bool  # it had lowered its learning rate at an earlier plateau

    @property
    def sentence(self) -> str:
        slowed = " (and at its lower learning rate)" if self.slowed else ""
        return (
            f"stopped early at epoch {self.epoch}: no better {self.objective} for {self.patience} "
            f"epochs{slowed}; its best epoch ({self.best_epoch}, {_fmt(self.best)}) is kept"
        )


@dataclass(frozen=True)
class Halted(Decision):
    """Successive halving: the trial is not among the best ``keep`` at this rung and stops."""

    epoch: int
    best: float | None
    keep: int
    of: int
    needed: float

    @property
    def sentence(self) -> str:
        return (
            f"halted at epoch {self.epoch} (successive halving): {_fmt(self.best)} is not among "
            f"the best {self.keep} of the {self.of} trials at this epoch ({_fmt(self.needed)} needed)"
        )


@dataclass(frozen=True)
class PlanDone(Decision):
    """The trial ran the epochs planned for it (knowing their cost) and stops: it may be a
    candidate to train on."""

    epochs: int

    @property
    def sentence(self) -> str:
        return f"ran the {self.epochs} epochs planned for it"


@dataclass(frozen=True)
class Replanned(Decision):
    """A trial begun before any epoch's cost was known plans ``planned`` epochs now; it stops
    after this epoch when ``ends_now`` (its new plan is already run)."""

    planned: int
    cost: float
    per_trial_s: float
    left: float
    ends_now: bool

    @property
    def sentence(self) -> str:
        return (
            f"plans {self.planned} epochs now that an epoch is known to take about {self.cost:.2f} s "
            f"(at most {self.per_trial_s:.0f} s a trial, {max(self.left, 0):.0f} s left)"
        )


#: What :meth:`Planner.epoch` may decide at an epoch's end (None: train on, nothing to say).
EpochDecision = SlowDown | EarlyStop | Halted | PlanDone | Replanned


@dataclass(frozen=True)
class FewerEpochs(Decision):
    """A new trial plans ``planned`` of the search's ``epochs``: ``limit`` (the time left, or
    a share of the budget: ``window_s`` seconds) holds no more."""

    planned: int
    epochs: int
    cost: float
    limit: str
    window_s: float

    @property
    def sentence(self) -> str:
        return (
            f"plans {self.planned} of {self.epochs} epochs: about {self.cost:.2f} s an epoch, and "
            f"{self.limit} ({self.window_s:.0f} s) fits {self.planned}"
        )


@dataclass(frozen=True)
class NoTime(Decision):
    """No trial may start: ``left`` seconds hold less than one epoch with its start-up."""

    left: float
    need: float

    @property
    def sentence(self) -> str:
        return (
            f"not starting another trial: {self.left:.1f} s left, and one epoch with its start-up "
            f"takes about {self.need:.1f} s"
        )


@dataclass(frozen=True)
class Promotion(Decision):
    """The best trial, still improving, trains on for ``epochs`` more epochs."""

    trial_id: str
    epochs: int
    best: float | None
    improving: str  # why it counts as still improving, in words

    @property
    def sentence(self) -> str:
        return (
            f"trial {self.trial_id} is the best so far ({_fmt(self.best)}) and was "
            f"{self.improving}: it trains on for up to {self.epochs} more epochs"
        )


@dataclass
class _Trial:
    """What the planner alone knows of a trial of this run: its plan as it changes, what its
    epochs cost on the running clock (not in the journal, which stamps wall time), and what it
    did about the trial. Its epochs, scores, hyperparameters and status are the record's
    (:class:`~automl_nb.record.TrialRecord`), read from there."""

    planned_epochs: int  # the last epoch it plans to reach (absolute)
    priced: bool  # its epochs were planned knowing what an epoch costs
    started_at: float
    last_mark: float
    first_epoch_s: float | None = None
    epoch_s: list[float] = field(default_factory=list)
    stopped: str | None = None  # why it stopped before its planned end (early, halted)
    promoted: bool = False  # a promotion of it has been queued
    extended: bool = False  # it trained on past its plan, in place (as a promotion would)
    slowed_at: int | None = None  # the epoch its learning rate was lowered at a plateau


def _whole(value: float) -> int:
    """How many whole epochs fit: the floor, less sensitive to a clock's rounding (9.9999999)."""
    return math.floor(value + 1e-6)


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


class Planner:
    """Decisions about epochs and time for one run of a search (see the module docstring).

    A trial's epochs, scores and status are read from ``record`` (the fold of the journal,
    where the engine publishes them before it asks the planner); the planner keeps only what
    it learns and decides itself (:class:`_Trial`).
    """

    def __init__(
        self,
        config: PlanConfig,
        *,
        record: SearchRecord,
        objective: str,
        direction: str,
        clock: Callable[[], float],
        time_budget: Callable[[], float | None],
    ):
        self.config = config
        self.record = record
        self.objective = objective
        self.direction = direction
        self.clock = clock  # running time (paused time excluded)
        self.time_budget = time_budget
        self.trials: dict[str, _Trial] = {}
        self.rungs: dict[int, list[float]] = {}  # epoch -> best score so far of each trial there

    # -- the record's view of a trial ----------------------------------------------------------
    def _rec(self, trial_id: str) -> TrialRecord:
        return self.record.trials[trial_id]

    def _best(self, trial_id: str) -> tuple[int | None, float | None]:
        """(best epoch, best score) so far of a trial: the record's."""
        best = self._rec(trial_id).best(self.objective, self.direction)
        return (None, None) if best is None else best

    def _improved_at(self, trial_id: str) -> int | None:
        """The epoch its objective last improved by more than ``min_delta`` (early stopping
        counts its epochs without a better objective from there)."""
        mark: int | None = None
        mark_score: float | None = None
        for epoch, metrics in self._rec(trial_id).curve:
            score = finite(metrics.get(self.objective))
            if self._improves(score, mark_score):
                mark, mark_score = epoch, score
        return mark

    # -- learning ----------------------------------------------------------------------------
    def begin(self, trial_id: str, planned_epochs: int) -> None:
        """A trial the record has just seen start plans to reach epoch ``planned_epochs``."""
        now = self.clock()
        self.trials[trial_id] = _Trial(
            planned_epochs=planned_epochs,
            priced=self.epoch_cost(self._rec(trial_id).hyperparameters) is not None,
            started_at=now, last_mark=now,
        )

    def epoch(self, trial_id: str, epoch: int, partial: bool = False,
              can_slow: bool = False) -> EpochDecision | None:
        """Learn from an epoch's end (``epoch`` counts from 1; the record has it already).

        Returns None to go on, or a decision: :class:`EarlyStop` (a plateau) and
        :class:`Halted` (successive halving) stop the trial after this epoch;
        :class:`PlanDone` stops it too, at the end of epochs planned once its cost was known
        (it ran its plan: it may be a candidate); :class:`Replanned` says that its plan
        changed (and stops it when ``ends_now``); :class:`SlowDown`: its first plateau, it
        trains on with its learning rate lowered (only when ``can_slow``: its trainer can).
        """
        trial = self.trials.get(trial_id)
        if trial is None:
            return None
        now = self.clock()
        seconds, trial.last_mark = now - trial.last_mark, now
        if not partial:
            if trial.first_epoch_s is None:
                trial.first_epoch_s = seconds
            else:
                trial.epoch_s.append(seconds)
        if partial:
            return None
        rec = self._rec(trial_id)
        _, best = self._best(trial_id)
        if best is not None and epoch > rec.initial_epoch:
            self.rungs.setdefault(epoch, []).append(best)
        if epoch >= rec.planned_epochs:
            return None  # its last epoch: it ends anyway
        if epoch >= trial.planned_epochs and not self._extend(trial_id, epoch):
            return PlanDone(epoch - rec.initial_epoch)
        decision = self._patience(trial_id, epoch, can_slow) or self._halving(trial_id, epoch)
        if decision is None:
            return self._replan(trial_id, epoch)
        if not isinstance(decision, SlowDown):  # a plateau or a rung: it stops after this epoch
            trial.stopped = decision.sentence
        return decision

    def _extend(self, trial_id: str, epoch: int) -> bool:
        """At the end of its plan, the best trial so far, still improving, trains on in place
        (once, for as many epochs as a new trial plans): what a promotion would do, without
        building and tracing its model again."""
        trial = self.trials[trial_id]
        if trial.extended or not self.config.halving or not self._improving(trial_id, epoch):
            return False
        _, best = self._best(trial_id)
        if any(better(self._best(other)[1], best, self.direction) for other in self.trials if other != trial_id):
            return False
        left, budget, cost = self.time_left(), self.time_budget(), self._steady(trial)
        if left is None or budget is None or not cost or left < SAFETY * cost:
            return False
        share = max(1, _whole(budget * self.config.share / cost))
        fit_epochs = self._rec(trial_id).planned_epochs
        trial.planned_epochs = min(fit_epochs, epoch + share, epoch + _whole(left / cost))
        trial.extended = True
        return True

    def extended(self, trial_id: str) -> bool:
        """Whether the trial trained on in place past its plan (it took a promotion's turn)."""
        trial = self.trials.get(trial_id)
        return trial is not None and trial.extended

    def _replan(self, trial_id: str, epoch: int) -> Replanned | PlanDone | None:
        """A trial that started before any epoch's cost was known plans its epochs now.

        It waits for a second epoch: the first one's time includes building the model and
        tracing its steps.
        """
        trial = self.trials[trial_id]
        if trial.priced or not self.config.halving or not trial.epoch_s:
            return None
        trial.priced = True
        left, budget = self.time_left(), self.time_budget()
        cost = self._steady(trial)
        if left is None or budget is None or not cost:
            return None
        initial = self._rec(trial_id).initial_epoch
        done = epoch - initial
        share = _whole(budget * self.config.share / cost)
        planned = max(done, min(trial.planned_epochs - initial, share, done + _whole(left / cost)))
        if initial + planned >= trial.planned_epochs:
            return None
        trial.planned_epochs = initial + planned
        ends_now = epoch >= trial.planned_epochs and not self._extend(trial_id, epoch)
        return Replanned(planned=planned, cost=cost, per_trial_s=budget * self.config.share,
                         left=left, ends_now=ends_now)

    def end(self, trial_id: str, status: str) -> str | None:
        """The trial ends with ``status`` (its TrialEnded comes next); returns a note for its
        reason (still improving), or None."""
        if trial_id not in self.trials:
            return None
        if self._candidate(trial_id, status):
            return f"{self._still_improving(trial_id)}: a candidate to train on"
        return None

    def _still_improving(self, trial_id: str) -> str:
        """Why a candidate is one, in words (its last epoch, its best, a recent slow-down)."""
        trial = self.trials[trial_id]
        last, best = self._rec(trial_id).epochs, self._improved_at(trial_id)
        if trial.slowed_at is not None and best is not None and trial.slowed_at > best:
            return (
                f"still improving: it lowered its learning rate at epoch {trial.slowed_at}, "
                f"{last - trial.slowed_at} of {self.config.patience} epochs before its last "
                f"({last}; best at {best})"
            )
        return f"still improving at its last epoch ({last}; best at {best})"

    def candidate(self, trial_id: str) -> bool:
        """Whether the trial ran its planned epochs and was still improving at the end."""
        rec = self.record.trials.get(trial_id)
        return rec is not None and rec.finished and self._candidate(trial_id, rec.status)

    def _candidate(self, trial_id: str, status: str) -> bool:
        trial = self.trials.get(trial_id)
        if trial is None or status != TrialStatus.COMPLETED or trial.stopped is not None:
            return False
        last = self._rec(trial_id).epochs
        return last >= trial.planned_epochs and self._improving(trial_id, last)

    def _improving(self, trial_id: str, epoch: int) -> bool:
        """Still improving at ``epoch``: its best epoch is within the last ``patience`` epochs
        (the last epoch itself without patience), or it slowed down within them. A validation
        curve is noisy: a trial whose best came one epoch before its last is no more done than
        early stopping says it is, and one that has just lowered its learning rate has not had
        its ``patience`` epochs at the new rate (early stopping counts them from the slow-down)."""
        window = self.config.patience or 1
        improved = self._improved_at(trial_id)
        if improved is None:
            return False
        return epoch - max(improved, self.trials[trial_id].slowed_at or 0) < window

    def _improves(self, score: float | None, best: float | None) -> bool:
        if best is None or score is None:
            return better(score, best, self.direction)
        margin = self.config.min_delta * max(abs(best), 1e-12)
        shifted = best + margin if self.direction == "max" else best - margin
        return better(score, shifted, self.direction)

    def _patience(self, trial_id: str, epoch: int, can_slow: bool) -> SlowDown | EarlyStop | None:
        """A slow-down at a trial's first plateau when it can slow down, an early stop at the
        next (or the first, when it cannot), else None. After a slow-down the epochs without a
        better objective count from the epoch it slowed down at."""
        patience, factor = self.config.patience, self.config.slow_down
        improved = self._improved_at(trial_id)
        if not patience or improved is None:
            return None
        trial = self.trials[trial_id]
        if epoch - max(improved, trial.slowed_at or 0) < patience:
            return None
        if can_slow and factor and trial.slowed_at is None:
            trial.slowed_at = epoch
            return SlowDown(objective=self.objective, patience=patience, epoch=epoch, factor=factor)
        best_epoch, best = self._best(trial_id)
        return EarlyStop(objective=self.objective, patience=patience, epoch=epoch,
                         best_epoch=best_epoch, best=best, slowed=trial.slowed_at is not None)

    def _halving(self, trial_id: str, epoch: int) -> Halted | None:
        config = self.config
        if not config.halving or self._rec(trial_id).initial_epoch != 0 or not self._is_rung(epoch):
            return None
        scores = self.rungs.get(epoch, [])
        _, best = self._best(trial_id)
        if len(scores) < config.eta or best is None:
            return None  # too few trials at this epoch to compare
        keep = math.ceil(len(scores) / config.eta)
        ranked = sorted(scores, reverse=self.direction == "max")
        needed = ranked[keep - 1]
        if not better(needed, best, self.direction):
            return None  # among the best 1/eta
        return Halted(epoch=epoch, best=best, keep=keep, of=len(scores), needed=needed)

    def _is_rung(self, epoch: int) -> bool:
        rung = self.config.first_rung
        while rung < epoch:
            rung *= self.config.eta
        return rung == epoch

    # -- costs -------------------------------------------------------------------------------
    def epoch_cost(self, values: dict[str, Any] | None = None) -> float | None:
        """Seconds an epoch of ``values`` (the most similar trials'), or of any trial; None if unknown."""
        known = [(tid, self._steady(t)) for tid, t in self.trials.items()]
        known = [(tid, s) for tid, s in known if s is not None]
        if not known:
            return None
        if values:
            def likeness(trial_id: str) -> int:
                theirs = self._rec(trial_id).hyperparameters
                return sum(
                    1 for k, v in values.items()
                    if not isinstance(v, float) and theirs.get(k) == v
                )

            top = max(likeness(tid) for tid, _ in known)
            known = [(tid, s) for tid, s in known if likeness(tid) == top]
        return statistics.median(s for _, s in known)

    def startup_cost(self) -> float:
        """Seconds a trial takes before its first epoch's steady pace (build, first trace)."""
        extra = [
            max(0.0, t.first_epoch_s - self._steady(t))
            for t in self.trials.values()
            if t.first_epoch_s is not None and t.epoch_s
        ]
        return statistics.median(extra) if extra else 0.0

    @staticmethod
    def _steady(trial: _Trial) -> float | None:
        if trial.epoch_s:
            return statistics.median(trial.epoch_s)
        return trial.first_epoch_s

    def time_left(self) -> float | None:
        budget = self.time_budget()
        return None if budget is None else budget - self.clock()

    # -- decisions before a trial -------------------------------------------------------------
    def fits(self, values: dict[str, Any] | None = None) -> NoTime | None:
        """Why no trial (of ``values``, if known) may start in the time left; None if one may."""
        left = self.time_left()
        cost = self.epoch_cost(values)
        if left is None or cost is None:
            return None
        need = self.startup_cost() + cost
        if left >= SAFETY * need:
            return None
        return NoTime(left=left, need=need)

    def epochs_for(self, values: dict[str, Any]) -> tuple[int, FewerEpochs | None]:
        """Epochs a new trial plans, and why it is fewer than the search's ``epochs`` (or None)."""
        epochs = self.config.epochs
        left, budget = self.time_left(), self.time_budget()
        cost = self.epoch_cost(values)
        if not self.config.halving or left is None or budget is None or not cost:
            return epochs, None
        startup = self.startup_cost()
        fit = _whole((left - startup) / cost)
        share = _whole(budget * self.config.share / cost)
        planned = max(1, min(epochs, fit, share))
        if planned >= epochs:
            return epochs, None
        limit = "the time left" if fit <= share else f"1/{round(1 / self.config.share)} of the budget"
        return planned, FewerEpochs(planned=planned, epochs=epochs, cost=cost, limit=limit,
                                    window_s=min(left, budget * self.config.share))

    def promotion(self, best_id: str | None, has_checkpoint: Callable[[str], bool]) -> Promotion | None:
        """The promotion of the best trial when it is a candidate; else None.

        It trains on for as many epochs as a new trial would plan (at least one), within the
        time left.
        """
        if not self.config.halving or best_id is None or not self.candidate(best_id):
            return None
        trial = self.trials[best_id]
        if trial.promoted or not has_checkpoint(best_id):
            return None
        left, budget = self.time_left(), self.time_budget()
        cost = self.epoch_cost(self._rec(best_id).hyperparameters)
        if left is None or budget is None or not cost:
            return None
        fit = _whole((left - self.startup_cost()) / (SAFETY * cost))
        share = max(1, _whole(budget * self.config.share / cost))
        epochs = min(self.config.epochs, share, fit)
        if epochs < 1:
            return None
        trial.promoted = True
        return Promotion(trial_id=best_id, epochs=epochs, best=self._best(best_id)[1],
                         improving=self._still_improving(best_id))
