"""How trials run, behind one base class: what a :class:`~automl_nb.Search` asks of a trainer.

A Search is a facade: it checks commands, keeps the state machine and the journal, and hands
the trials to a :class:`Trainer`. Three trainers exist and the Search never asks which one it
has:

- :class:`~automl_nb.backends.local.LocalTrainer`: KerasTuner in this process, on the
  search's thread (the default);
- :class:`~automl_nb.backends.workers.WorkerPool`: KerasTuner's chief here, trials in worker
  processes (``search(..., workers=N)``);
- :class:`~automl_nb.backends.scripted.ScriptedTrainer`: scripted curves, no TensorFlow (tests,
  and tools built on automl-nb).

Each gets a :class:`SearchJob` once (:meth:`Trainer.bind`), then :meth:`Trainer.run` on the
search thread with the :class:`~automl_nb.backends.engine.Engine` that turns what happens in a
trial into events and applies the user's commands at safe points.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..events import EventBus
    from ..record import SearchRecord
    from ..settings import Settings
    from ..store import Store
    from .engine import Engine


@dataclass
class SearchJob:
    """What a trainer works from.

    Attributes:
        store: the search's directory.
        settings: what the search was asked for (:class:`~automl_nb.settings.Settings`); the
            budget it runs on now is ``record.budget``.
        dataset: its data, or None when a reopened search's data cannot be read.
        space: the user's ``build(hp)`` or HyperModel, or None for the built-in space.
        oracle: an oracle name or a KerasTuner Oracle; None when a reopened search used an
            Oracle of its own that was not given again.
        bus: the event bus (journal first, then subscribers).
        record: the fold of the journal; read it under ``lock``.
        lock: the lock the bus publishes under.
        data_problem: why a reopened search's data could not be read back (a sentence), or None.
        checked_space: the KerasTuner HyperParameters that ``search()`` filled when it built
            the user's ``space`` once to check it, or None; the tuner's first start uses them
            instead of building that model again (``backends.tuner.CheckedSpaceStart``).
    """

    store: Store
    settings: Settings
    dataset: Any
    space: Any
    oracle: Any
    bus: EventBus
    record: SearchRecord
    lock: threading.RLock
    data_problem: str | None = None
    checked_space: Any = None


class Trainer:
    """The base of every way to run trials; a subclass overrides what it supports."""

    #: The worker pool a user can inspect (``search.workers``), or None.
    workers: Any = None

    #: The clock the time budget and the planner read (seconds), or None for the real one; a
    #: scripted trainer's may be virtual.
    clock: Any = None

    def __init__(self) -> None:
        self.job: SearchJob | None = None

    def bind(self, job: SearchJob) -> None:
        """Called once by the Search that owns this trainer, before anything else."""
        self.job = job

    @property
    def oracle(self) -> Any:
        """The KerasTuner oracle deciding the trials, once there is one (teaching views); else None."""
        return None

    def problem(self) -> str | None:
        """Why this trainer cannot run trials now (a sentence), or None."""
        return None

    def run(self, engine: Engine) -> str | None:
        """Run trials on the calling (search) thread until the engine says stop; returns why."""
        raise NotImplementedError

    def check_values(self, values: dict[str, Any]) -> dict[str, Any]:
        """Hyperparameter values checked against the space, missing ones given their defaults."""
        raise NotImplementedError

    def portfolio(self) -> list[tuple[str, dict[str, Any]]]:
        """The warm start: (name, partial values) a search tries first, in order.

        The space's defaults come first; trainers that know their space add configurations
        known to work for it.
        """
        return [("defaults", {})]

    def has_checkpoint(self, trial_id: str) -> bool:
        """Whether ``trial_id`` left weights that a promotion can train on from."""
        return True

    def load_model(self, trial_id: str) -> Any:
        """A trial's Keras model at its best epoch."""
        raise RuntimeError("this search's trials have no Keras models")

    def kept_predictions(self, trial_id: str) -> Any:
        """A trial's validation predictions at its best epoch, kept when its fit ended (so the
        ensemble need not load its model again), or None."""
        return None

    def final_fit(self, trial_id: str, epochs: int) -> Any:
        """A trial's model retrained on training and validation data for ``epochs`` epochs."""
        raise RuntimeError("this search's trials have no Keras models")


def explain_failure(exc: BaseException) -> str:
    """A search that broke off, in one sentence (KerasTuner's "consecutive failures" in words)."""
    text = str(exc).strip()
    if isinstance(exc, RuntimeError) and text.startswith("Number of consecutive failures"):
        first = text.splitlines()[0]
        limit = re.search(r"(\d+)", first)
        n = limit.group(1) if limit else "several"
        lines = [ln for ln in text.splitlines()[1:] if ln.strip()]
        last = lines[-1].strip() if lines else "see the trial table"
        return f"{n} trials in a row failed, so the search gave up; the last one: {last}"
    first = text.splitlines()[0] if text else ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__
