"""Trials without TensorFlow: a trainer that emits scripted learning curves.

:class:`ScriptedTrainer` runs the search loop without TensorFlow: it proposes
hyperparameters from a small space, "trains" each trial by emitting the curve a
function gives, and obeys every control (pause, prune, stop, promote, enqueue,
budgets) at the same safe points as the Keras tuner, through the same engine.
:func:`automl_nb.testing.scripted_search` makes a Search driven by one (tests of
automl-nb and of tools built on it).
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from typing import Any

from ..errors import SearchError
from ..events import SpaceDefined
from ..status import OracleStatus
from .base import Trainer
from .engine import Engine
from .scheduler import Scheduler

DEFAULT_SPACE: list[dict[str, Any]] = [
    {"name": "units", "kind": "int", "default": 64, "min": 16, "max": 256, "step": 16,
     "sampling": "linear", "values": None},
    {"name": "dropout", "kind": "float", "default": 0.1, "min": 0.0, "max": 0.5, "step": None,
     "sampling": "linear", "values": None},
    {"name": "learning_rate", "kind": "float", "default": 1e-3, "min": 1e-4, "max": 1e-2,
     "step": None, "sampling": "log", "values": None},
    {"name": "optimizer", "kind": "choice", "default": "adam", "min": None, "max": None,
     "step": None, "sampling": None, "values": ["adam", "sgd", "rmsprop"]},
]

Curve = Callable[[dict[str, Any], int], dict[str, float]]


def default_curve(values: dict[str, Any], epoch: int) -> dict[str, float]:
    """A smooth, deterministic learning curve whose ceiling depends on the hyperparameters."""
    lr = float(values.get("learning_rate", 1e-3))
    quality = 0.97 - 0.08 * abs(math.log10(lr) + 2.5) - 0.2 * float(values.get("dropout", 0.1)) ** 2
    quality -= 0.03 if values.get("optimizer") == "sgd" else 0.0
    acc = max(0.05, quality * (1 - math.exp(-epoch / 2.5)))
    loss = -math.log(max(acc, 1e-3))
    return {"loss": loss * 0.9, "accuracy": min(1.0, acc * 1.02), "val_loss": loss, "val_accuracy": acc}


def sample(space: list[dict[str, Any]], rng: random.Random) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for spec in space:
        kind = spec["kind"]
        if kind == "choice":
            values[spec["name"]] = rng.choice(spec["values"])
        elif kind == "boolean":
            values[spec["name"]] = rng.random() < 0.5
        elif kind == "fixed":
            values[spec["name"]] = spec["default"]
        elif kind == "int":
            step = spec.get("step") or 1
            n = (spec["max"] - spec["min"]) // step
            values[spec["name"]] = spec["min"] + step * rng.randint(0, n)
        else:
            lo, hi = spec["min"], spec["max"]
            if spec.get("sampling") == "log":
                values[spec["name"]] = 10 ** rng.uniform(math.log10(lo), math.log10(hi))
            else:
                values[spec["name"]] = rng.uniform(lo, hi)
    return values


def check_values(space: list[dict[str, Any]], values: dict[str, Any]) -> dict[str, Any]:
    """The spec-level twin of :func:`automl_nb.spaces.check_values`, without KerasTuner."""
    by_name = {spec["name"]: spec for spec in space}
    for name, value in values.items():
        spec = by_name.get(name)
        if spec is None:
            raise SearchError(f"unknown hyperparameter '{name}'; the space has: {', '.join(by_name)}")
        if spec["kind"] == "choice" and value not in spec["values"]:
            raise SearchError(f"{name}={value!r} is not one of {spec['values']}")
        if spec["kind"] in ("int", "float") and not (spec["min"] <= value <= spec["max"]):
            raise SearchError(f"{name}={value!r} is outside {spec['min']}..{spec['max']}")
    return {**{s["name"]: s["default"] for s in space}, **values}


class ScriptedTrainer(Trainer):
    """Runs trials by emitting scripted curves; no TensorFlow.

    ``batch_seconds`` sleeps after every batch, so tests can steer a trial while it
    "trains"; ``fail`` returns a reason to fail a trial at an epoch (or None);
    ``portfolio`` adds (name, values) entries to the warm start after the defaults;
    ``epoch_seconds(values)`` makes an epoch of those values take that long and
    ``startup_seconds`` each trial's start, so tests can give configurations different costs;
    with ``virtual_time`` that time passes on the trainer's own clock (the one the time
    budget and the planner read) instead of being slept, so a planning test is exact and fast.
    """

    def __init__(
        self,
        space: list[dict[str, Any]] | None = None,
        curve: Curve = default_curve,
        *,
        batches_per_epoch: int = 5,
        batch_seconds: float = 0.0,
        seed: int = 0,
        fail: Callable[[dict[str, Any], int], str | None] | None = None,
        portfolio: list[tuple[str, dict[str, Any]]] | None = None,
        epoch_seconds: Callable[[dict[str, Any]], float] | None = None,
        startup_seconds: float = 0.0,
        virtual_time: bool = False,
    ):
        super().__init__()
        self.extra_portfolio = list(portfolio or [])
        self.epoch_seconds = epoch_seconds
        self.startup_seconds = startup_seconds
        self.virtual_time = virtual_time
        self.now = 0.0  # the virtual clock, in seconds
        self.clock = self.virtual_clock if virtual_time else None
        self.space = list(space or DEFAULT_SPACE)
        self.curve = curve
        self.batches_per_epoch = batches_per_epoch
        self.batch_seconds = batch_seconds
        self.seed = seed
        self.fail = fail
        self.batches_run = 0
        self.batches_by_trial: dict[str, int] = {}

    def check_values(self, values: dict[str, Any]) -> dict[str, Any]:
        return check_values(self.space, values)

    def virtual_clock(self) -> float:
        return self.now

    def _spend(self, seconds: float) -> None:
        if self.virtual_time:
            self.now += seconds
        elif seconds:
            time.sleep(seconds)

    def portfolio(self) -> list[tuple[str, dict[str, Any]]]:
        return super().portfolio() + [(name, dict(values)) for name, values in self.extra_portfolio]

    def run(self, engine: Engine) -> str | None:
        """KerasTuner's loop, in miniature: a trial boundary, the search's one scheduler (with
        a sample of the space as the oracle's proposal), then the trial's life on the engine."""
        if self.job.record.space != self.space:
            engine.bus.publish(SpaceDefined(space=self.space))
        index = len(self.job.record.trials)
        rng = random.Random(self.seed * 1_000_003 + index)
        scheduler = Scheduler(engine, complete=self.check_values)

        def propose(trial_id: str) -> dict[str, Any]:
            return {"status": OracleStatus.RUNNING, "values": sample(self.space, rng)}

        while True:
            scheduler.boundary()
            trial_id = f"{index:04d}"
            response = scheduler.next(trial_id, propose)
            if response["status"] != OracleStatus.RUNNING:
                return scheduler.stop_reason
            index += 1
            values = dict(response["values"])
            plan = engine.plan_for(trial_id, values)
            engine.begin_trial(plan, values)
            try:
                self._train(engine, trial_id, plan.initial_epoch, plan.epochs, values)
            except Exception as exc:  # noqa: BLE001 - a failure fails this trial only
                engine.fail(trial_id, str(exc))
            engine.end_trial(trial_id)

    def _train(self, engine: Engine, trial_id: str, first: int, last: int, values: dict) -> None:
        pause = self.batch_seconds
        if self.epoch_seconds is not None:
            pause = self.epoch_seconds(values) / self.batches_per_epoch
        self._spend(self.startup_seconds)
        for epoch in range(first, last):
            interrupted = False
            for _ in range(self.batches_per_epoch):
                self._spend(pause)
                self.batches_run += 1
                self.batches_by_trial[trial_id] = self.batches_by_trial.get(trial_id, 0) + 1
                if engine.batch_end(trial_id) is not None:
                    interrupted = True
                    break
            if self.fail is not None:
                reason = self.fail(values, epoch + 1)
                if reason:
                    raise RuntimeError(reason)
            stop = engine.epoch_end(trial_id, epoch, self.curve(values, epoch + 1)).stop
            if interrupted or stop:
                return
