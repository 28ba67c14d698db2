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

from ..record import better
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


@dataclass
class _Trial:
    values: dict[str, Any]
    source: str
    initial_epoch: int
    planned_epochs: int  # the last epoch it plans to reach (absolute)
    fit_epochs: int  # the last epoch its trainer was told to reach (absolute)
    priced: bool  # its epochs were planned knowing what an epoch costs
    started_at: float
    last_mark: float
    first_epoch_s: float | None = None
    epoch_s: list[float] = field(default_factory=list)
    best: float | None = None
    best_epoch: int | None = None
    last_epoch: int = 0
    stopped: str | None = None  # why it stopped before its planned end (early, halted)
    ended: bool = False
    status: str | None = None
    promoted: bool = False  # a promotion of it has been queued
    extended: bool = False  # it trained on past its plan, in place (as a promotion would)
    slowed_at: int | None = None  # the epoch its learning rate was lowered at a plateau


def _whole(value: float) -> int:
    """How many whole epochs fit: the floor, less sensitive to a clock's rounding (9.9999999)."""
    return math.floor(value + 1e-6)


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


class Planner:
    """Decisions about epochs and time for one run of a search (see the module docstring)."""

    def __init__(
        self,
        config: PlanConfig,
        *,
        objective: str,
        direction: str,
        clock: Callable[[], float],
        time_budget: Callable[[], float | None],
    ):
        self.config = config
        self.objective = objective
        self.direction = direction
        self.clock = clock  # running time (paused time excluded)
        self.time_budget = time_budget
        self.trials: dict[str, _Trial] = {}
        self.rungs: dict[int, list[float]] = {}  # epoch -> best score so far of each trial there

    # -- learning ----------------------------------------------------------------------------
    def begin(self, trial_id: str, values: dict[str, Any], source: str, initial_epoch: int,
              planned_epochs: int) -> None:
        now = self.clock()
        values = {k: v for k, v in values.items() if not k.startswith("tuner/")}
        self.trials[trial_id] = _Trial(
            values=values, source=source, initial_epoch=initial_epoch,
            planned_epochs=planned_epochs, fit_epochs=planned_epochs,
            priced=self.epoch_cost(values) is not None,
            started_at=now, last_mark=now, last_epoch=initial_epoch,
        )

    def epoch(self, trial_id: str, epoch: int, score: float | None, partial: bool = False,
              can_slow: bool = False) -> tuple[str, str] | None:
        """Learn from an epoch's end (``epoch`` counts from 1).

        Returns None to go on, or (kind, why): kind "early" (a plateau) and "halted"
        (successive halving) stop the trial after this epoch; "planned" stops it too, at the
        end of epochs planned once its cost was known (it ran its plan: it may be a
        candidate); "replanned" only says that its plan changed; "slower": its first plateau,
        it trains on with its learning rate lowered (only when ``can_slow``: its trainer can).
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
        trial.last_epoch = epoch
        if self._improves(score, trial.best):
            trial.best, trial.best_epoch = score, epoch
        if partial:
            return None
        if trial.best is not None and epoch > trial.initial_epoch:
            self.rungs.setdefault(epoch, []).append(trial.best)
        if epoch >= trial.fit_epochs:
            return None  # its last epoch: it ends anyway
        if epoch >= trial.planned_epochs and not self._extend(trial, epoch):
            return "planned", f"ran the {epoch - trial.initial_epoch} epochs planned for it"
        decision = self._patience(trial, epoch, can_slow)
        if decision is None:
            halted = self._halving(trial, epoch)
            decision = ("halted", halted) if halted else None
        if decision is None:
            return self._replan(trial, epoch)
        if decision[0] != "slower":  # "early" or "halted": it stops after this epoch
            trial.stopped = decision[1]
        return decision

    def _extend(self, trial: _Trial, epoch: int) -> bool:
        """At the end of its plan, the best trial so far, still improving, trains on in place
        (once, for as many epochs as a new trial plans): what a promotion would do, without
        building and tracing its model again."""
        if trial.extended or not self.config.halving or not self._improving(trial, epoch):
            return False
        if any(better(t.best, trial.best, self.direction) for t in self.trials.values() if t is not trial):
            return False
        left, budget, cost = self.time_left(), self.time_budget(), self._steady(trial)
        if left is None or budget is None or not cost or left < SAFETY * cost:
            return False
        share = max(1, _whole(budget * self.config.share / cost))
        trial.planned_epochs = min(trial.fit_epochs, epoch + share, epoch + _whole(left / cost))
        trial.extended = True
        return True

    def extended(self, trial_id: str) -> bool:
        """Whether the trial trained on in place past its plan (it took a promotion's turn)."""
        trial = self.trials.get(trial_id)
        return trial is not None and trial.extended

    def _replan(self, trial: _Trial, epoch: int) -> tuple[str, str] | None:
        """A trial that started before any epoch's cost was known plans its epochs now.

        It waits for a second epoch: the first one's time includes building the model and
        tracing its steps.
        """
        if trial.priced or not self.config.halving or not trial.epoch_s:
            return None
        trial.priced = True
        left, budget = self.time_left(), self.time_budget()
        cost = self._steady(trial)
        if left is None or budget is None or not cost:
            return None
        done = epoch - trial.initial_epoch
        share = _whole(budget * self.config.share / cost)
        planned = max(done, min(trial.planned_epochs - trial.initial_epoch, share,
                                done + _whole(left / cost)))
        if trial.initial_epoch + planned >= trial.planned_epochs:
            return None
        trial.planned_epochs = trial.initial_epoch + planned
        why = (
            f"plans {planned} epochs now that an epoch is known to take about {cost:.2f} s "
            f"(at most {budget * self.config.share:.0f} s a trial, {max(left, 0):.0f} s left)"
        )
        if epoch >= trial.planned_epochs and not self._extend(trial, epoch):
            return "planned", why
        return "replanned", why

    def end(self, trial_id: str, status: str) -> str | None:
        """The trial ended with ``status``; returns a note for its reason (still improving), or None."""
        trial = self.trials.get(trial_id)
        if trial is None:
            return None
        trial.ended, trial.status = True, status
        if self.candidate(trial_id):
            return f"{self._still_improving(trial)}: a candidate to train on"
        return None

    def _still_improving(self, trial: _Trial) -> str:
        """Why a candidate is one, in words (its last epoch, its best, a recent slow-down)."""
        last, best = trial.last_epoch, trial.best_epoch
        if trial.slowed_at is not None and best is not None and trial.slowed_at > best:
            return (
                f"still improving: it lowered its learning rate at epoch {trial.slowed_at}, "
                f"{last - trial.slowed_at} of {self.config.patience} epochs before its last "
                f"({last}; best at {best})"
            )
        return f"still improving at its last epoch ({last}; best at {best})"

    def candidate(self, trial_id: str) -> bool:
        """Whether the trial ran its planned epochs and was still improving at the end."""
        trial = self.trials.get(trial_id)
        return bool(
            trial is not None and trial.ended and trial.status == TrialStatus.COMPLETED
            and trial.stopped is None and trial.last_epoch >= trial.planned_epochs
            and self._improving(trial, trial.last_epoch)
        )

    def _improving(self, trial: _Trial, epoch: int) -> bool:
        """Still improving at ``epoch``: its best epoch is within the last ``patience`` epochs
        (the last epoch itself without patience), or it slowed down within them. A validation
        curve is noisy: a trial whose best came one epoch before its last is no more done than
        early stopping says it is, and one that has just lowered its learning rate has not had
        its ``patience`` epochs at the new rate (early stopping counts them from the slow-down)."""
        window = self.config.patience or 1
        if trial.best_epoch is None:
            return False
        return epoch - max(trial.best_epoch, trial.slowed_at or 0) < window

    def _improves(self, score: float | None, best: float | None) -> bool:
        if best is None or score is None:
            return better(score, best, self.direction)
        margin = self.config.min_delta * max(abs(best), 1e-12)
        shifted = best + margin if self.direction == "max" else best - margin
        return better(score, shifted, self.direction)

    def _patience(self, trial: _Trial, epoch: int, can_slow: bool) -> tuple[str, str] | None:
        """("slower", why) at a trial's first plateau when it can slow down, ("early", why) at
        the next (or the first, when it cannot), else None. After a slow-down the epochs
        without a better objective count from the epoch it slowed down at."""
        patience, factor = self.config.patience, self.config.slow_down
        if not patience or trial.best_epoch is None:
            return None
        since = max(trial.best_epoch, trial.slowed_at or 0)
        if epoch - since < patience:
            return None
        if can_slow and factor and trial.slowed_at is None:
            trial.slowed_at = epoch
            return "slower", (
                f"no better {self.objective} for {patience} epochs at epoch {epoch}: it trains on "
                f"with its learning rate times {factor:g}"
            )
        slowed = " (and at its lower learning rate)" if trial.slowed_at is not None else ""
        return "early", (
            f"stopped early at epoch {epoch}: no better {self.objective} for {patience} "
            f"epochs{slowed}; its best epoch ({trial.best_epoch}, {_fmt(trial.best)}) is kept"
        )

    def _halving(self, trial: _Trial, epoch: int) -> str | None:
        config = self.config
        if not config.halving or trial.initial_epoch != 0 or not self._is_rung(epoch):
            return None
        scores = self.rungs.get(epoch, [])
        if len(scores) < config.eta or trial.best is None:
            return None  # too few trials at this epoch to compare
        keep = math.ceil(len(scores) / config.eta)
        ranked = sorted(scores, reverse=self.direction == "max")
        needed = ranked[keep - 1]
        if not better(needed, trial.best, self.direction):
            return None  # among the best 1/eta
        return (
            f"halted at epoch {epoch} (successive halving): {_fmt(trial.best)} is not among the "
            f"best {keep} of the {len(scores)} trials at this epoch ({_fmt(needed)} needed)"
        )

    def _is_rung(self, epoch: int) -> bool:
        rung = self.config.first_rung
        while rung < epoch:
            rung *= self.config.eta
        return rung == epoch

    # -- costs -------------------------------------------------------------------------------
    def epoch_cost(self, values: dict[str, Any] | None = None) -> float | None:
        """Seconds an epoch of ``values`` (the most similar trials'), or of any trial; None if unknown."""
        known = [(t, self._steady(t)) for t in self.trials.values()]
        known = [(t, s) for t, s in known if s is not None]
        if not known:
            return None
        if values:
            def likeness(t: _Trial) -> int:
                return sum(
                    1 for k, v in values.items()
                    if not isinstance(v, float) and t.values.get(k) == v
                )

            top = max(likeness(t) for t, _ in known)
            known = [(t, s) for t, s in known if likeness(t) == top]
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
    def fits(self, values: dict[str, Any] | None = None) -> str | None:
        """Why no trial (of ``values``, if known) may start in the time left; None if one may."""
        left = self.time_left()
        cost = self.epoch_cost(values)
        if left is None or cost is None:
            return None
        need = self.startup_cost() + cost
        if left >= SAFETY * need:
            return None
        return (
            f"not starting another trial: {left:.1f} s left, and one epoch with its start-up "
            f"takes about {need:.1f} s"
        )

    def epochs_for(self, values: dict[str, Any], initial_epoch: int = 0) -> tuple[int, str | None]:
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
        why = "the time left" if fit <= share else f"1/{round(1 / self.config.share)} of the budget"
        return planned, (
            f"plans {planned} of {epochs} epochs: about {cost:.2f} s an epoch, and {why} "
            f"({min(left, budget * self.config.share):.0f} s) fits {planned}"
        )

    def promotion(self, best_id: str | None, has_checkpoint: Callable[[str], bool]) -> tuple[int, str] | None:
        """(epochs, why) to train the best trial on, when it is a candidate; else None.

        It trains on for as many epochs as a new trial would plan (at least one), within the
        time left.
        """
        if not self.config.halving or best_id is None or not self.candidate(best_id):
            return None
        trial = self.trials[best_id]
        if trial.promoted or not has_checkpoint(best_id):
            return None
        left, budget = self.time_left(), self.time_budget()
        cost = self.epoch_cost(trial.values)
        if left is None or budget is None or not cost:
            return None
        fit = _whole((left - self.startup_cost()) / (SAFETY * cost))
        share = max(1, _whole(budget * self.config.share / cost))
        epochs = min(self.config.epochs, share, fit)
        if epochs < 1:
            return None
        trial.promoted = True
        return epochs, (
            f"trial {best_id} is the best so far ({_fmt(trial.best)}) and was "
            f"{self._still_improving(trial)}: it trains on for up to {epochs} more epochs"
        )
