"""Fakes for testing the panel without TensorFlow or a browser.

- :class:`FakeSearch` implements the interface the panel talks to on top of a real
  :class:`~automl_nb.events.EventBus`; it records every command it is given and
  can be told to refuse one (``fake.refuse["prune"] = "sentence"``).
- :func:`scripted_events` yields a deterministic event stream (a search of
  ``trials`` x ``epochs``) to feed into a fake, a panel test or the benchmark.
- :func:`recording_comms` swaps the kernel comm for :class:`RecordingComm`, which
  records what each widget would send to the browser (the idea of ipywidgets'
  ``widgets/tests/utils.py``), so tests count messages and check none leaked.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import pathlib
import random
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import comm as comm_package

from ..control import CommandResult
from ..events import (
    JOURNAL_NAME,
    EpochEnded,
    Event,
    EventBus,
    Journal,
    SearchEnded,
    SearchStarted,
    StateChanged,
    TrialEnded,
    TrialStarted,
    read_journal,
)
from ..record import SearchRecord
from ..status import SearchState, TrialStatus

SPACE: list[dict[str, Any]] = [
    {
        "name": "units",
        "kind": "int",
        "default": 64,
        "min": 16,
        "max": 256,
        "step": 16,
        "sampling": "linear",
        "values": None,
    },
    {
        "name": "learning_rate",
        "kind": "float",
        "default": 1e-3,
        "min": 1e-4,
        "max": 1e-1,
        "step": None,
        "sampling": "log",
        "values": None,
    },
    {
        "name": "activation",
        "kind": "choice",
        "default": "relu",
        "min": None,
        "max": None,
        "step": None,
        "sampling": None,
        "values": ["relu", "tanh", "gelu"],
    },
    {
        "name": "batch_norm",
        "kind": "boolean",
        "default": False,
        "min": None,
        "max": None,
        "step": None,
        "sampling": None,
        "values": None,
    },
    {
        "name": "optimizer",
        "kind": "fixed",
        "default": "adam",
        "min": None,
        "max": None,
        "step": None,
        "sampling": None,
        "values": None,
    },
]

DATA = {
    "name": "digits",
    "task": "classification",
    "n_train": 1437,
    "n_val": 360,
    "input_shape": [64],
    "n_classes": 10,
}


def started(**overrides: Any) -> SearchStarted:
    """A ``SearchStarted`` event for a small classification search."""
    fields: dict[str, Any] = {
        "name": "fake",
        "directory": "/tmp/automl-fake",
        "data": DATA,
        "oracle": "random",
        "objective": "val_accuracy",
        "direction": "max",
        "trials": 10,
        "time_budget_s": None,
        "epochs": 5,
        "seed": 0,
        "space": SPACE,
    }
    fields.update(overrides)
    return SearchStarted(**fields)


def sample(space: list[dict[str, Any]], rng: random.Random) -> dict[str, Any]:
    """Random values for a space (deterministic given ``rng``)."""
    out: dict[str, Any] = {}
    for spec in space:
        kind, name = spec["kind"], spec["name"]
        if kind == "choice":
            out[name] = rng.choice(spec["values"])
        elif kind == "boolean":
            out[name] = rng.random() < 0.5
        elif kind == "fixed":
            out[name] = spec["default"]
        elif kind == "int":
            step = spec.get("step") or 1
            out[name] = spec["min"] + step * rng.randint(0, (spec["max"] - spec["min"]) // step)
        elif spec.get("sampling") == "log":
            out[name] = 10 ** rng.uniform(math.log10(spec["min"]), math.log10(spec["max"]))
        else:
            out[name] = rng.uniform(spec["min"], spec["max"])
    return out


def curve_value(hps: dict[str, Any], epoch: int, noise: float = 0.0) -> float:
    """A learning curve whose ceiling depends on the learning rate and the activation."""
    lr = float(hps.get("learning_rate", 1e-3))
    ceiling = (
        0.97 - 0.07 * abs(math.log10(lr) + 2.5) - (0.04 if hps.get("activation") == "tanh" else 0)
    )
    return max(0.05, ceiling * (1 - math.exp(-epoch / 2.0)) + noise)


def trial_events(
    trial_id: str,
    hps: dict[str, Any],
    epochs: int,
    *,
    status: str = TrialStatus.COMPLETED,
    initial_epoch: int = 0,
    parent_id: str | None = None,
    source: str = "oracle",
    rng: random.Random | None = None,
    info: dict[str, Any] | None = None,
    planned: int | None = None,
) -> list[Event]:
    """The events of one trial: started, one ``EpochEnded`` an epoch, ended with ``status``.

    ``planned`` is how many epochs the trial was to train (``epochs`` by default);
    with ``status="running"`` the trial is left running after ``epochs`` epochs.
    """
    rng = rng or random.Random(0)
    out: list[Event] = [
        TrialStarted(
            trial_id=trial_id,
            hyperparameters=hps,
            parent_id=parent_id,
            initial_epoch=initial_epoch,
            epochs=initial_epoch + (planned or epochs),
            source=source,
            info=info or {},
        )
    ]
    best: float | None = None
    best_epoch: int | None = None
    for e in range(initial_epoch + 1, initial_epoch + epochs + 1):
        acc = curve_value(hps, e, rng.gauss(0, 0.005))
        metrics = {"loss": 1 - acc, "accuracy": acc, "val_loss": 1.1 - acc, "val_accuracy": acc}
        out.append(EpochEnded(trial_id=trial_id, epoch=e, metrics=metrics, score=acc))
        if best is None or acc > best:
            best, best_epoch = acc, e
    if status != TrialStatus.RUNNING:
        out.append(
            TrialEnded(
                trial_id=trial_id,
                status=status,
                score=None if status == TrialStatus.FAILED else best,
                best_epoch=best_epoch,
                epochs=initial_epoch + epochs,
                duration_s=0.1 * epochs,
                reason={TrialStatus.PRUNED: "pruned by the user",
                        TrialStatus.FAILED: "NaN loss"}.get(status),
            )
        )
    return out


def scripted_events(
    trials: int = 10,
    epochs: int = 5,
    *,
    seed: int = 0,
    space: list[dict[str, Any]] | None = None,
    prune_every: int = 0,
    finish: bool = True,
) -> Iterator[Event]:
    """A whole search: started, ``trials`` trials of ``epochs`` epochs, then done.

    Every ``prune_every``-th trial (if set) is pruned half-way.
    """
    space = space or SPACE
    rng = random.Random(seed)
    yield started(trials=trials, epochs=epochs, space=space)
    yield StateChanged(state=SearchState.RUNNING, previous=SearchState.IDLE, reason="started")
    for i in range(trials):
        pruned = bool(prune_every) and (i + 1) % prune_every == 0
        n = max(1, epochs // 2) if pruned else epochs
        yield from trial_events(
            f"{i:04d}", sample(space, rng), n,
            status=TrialStatus.PRUNED if pruned else TrialStatus.COMPLETED, rng=rng,
        )
    if finish:
        done = f"all {trials} trials are done"
        yield StateChanged(state=SearchState.DONE, previous=SearchState.RUNNING, reason=done)
        yield SearchEnded(state=SearchState.DONE, reason=done)


class FakeSearch:
    """The Search interface the panel uses, over a real EventBus, with no training.

    ``calls`` lists every command as a tuple (``("prune", "0003")``); put a sentence
    in ``refuse[command]`` to have that command refused with it, or in
    ``raise_on[command]`` to have it raise ``ValueError`` with it. With
    ``journal=True`` events go to ``<directory>/events.jsonl`` and a new fake on
    the same directory starts from what is there (``automl_nb.open``'s situation).
    """

    def __init__(
        self,
        name: str = "fake",
        directory: str | pathlib.Path = "/tmp/automl-fake",
        *,
        journal: bool = False,
    ):
        self.name = name
        self.directory = pathlib.Path(directory)
        path = self.directory / JOURNAL_NAME
        self.bus = EventBus(
            Journal(path) if journal else None, history=read_journal(path) if journal else None
        )
        self._record = SearchRecord()
        self.bus.subscribe(self._record.apply, replay=True)
        self.calls: list[tuple[Any, ...]] = []
        self.refuse: dict[str, str] = {}
        self.raise_on: dict[str, str] = {}
        self.final_fit_gate = threading.Event()
        self.final_fit_gate.set()

    # -- what views read -------------------------------------------------------------
    @property
    def state(self) -> SearchState:
        return SearchState(self._record.state)

    @property
    def record(self) -> SearchRecord:
        return self._record

    @property
    def lock(self) -> threading.RLock:
        return self.bus.lock

    def subscribe(self, fn: Callable[[Event], Any], replay: bool = False) -> Callable[[], None]:
        return self.bus.subscribe(fn, replay=replay)

    def events(self) -> list[Event]:
        return self.bus.history

    # -- scripting -------------------------------------------------------------------
    def publish(self, event: Event) -> Event:
        return self.bus.publish(event)

    def feed(self, events: Iterator[Event] | list[Event]) -> None:
        for event in events:
            self.bus.publish(event)

    # -- commands ----------------------------------------------------------------------
    def _command(self, command: str, *args: Any, ok: str) -> CommandResult:
        self.calls.append((command, *args))
        if command in self.raise_on:
            raise ValueError(self.raise_on[command])
        if command in self.refuse:
            return CommandResult(command, False, self.refuse[command])
        return CommandResult(command, True, ok)

    def _move(self, state: str, reason: str) -> None:
        self.publish(StateChanged(state=state, previous=self._record.state, reason=reason))

    def pause(self) -> CommandResult:
        if self._record.state != SearchState.RUNNING and "pause" not in self.refuse:
            self.calls.append(("pause",))
            return CommandResult(
                "pause",
                False,
                f"the search is {self._record.state}; only a running search can be paused",
            )
        result = self._command("pause", ok="pausing at the next batch end")
        if result:
            self._move(SearchState.PAUSED, "paused by the user")
        return result

    def resume(self) -> CommandResult:
        result = self._command("resume", ok="resuming")
        if result and self._record.state == SearchState.PAUSED:
            self._move(SearchState.RUNNING, "resumed by the user")
        return result

    def stop(self) -> CommandResult:
        return self._command("stop", ok="stopping at the next batch end")

    def prune(self, trial_id: str) -> CommandResult:
        return self._command("prune", trial_id, ok=f"pruning trial {trial_id} at its next batch")

    def promote(self, trial_id: str, epochs: int = 5) -> CommandResult:
        return self._command(
            "promote", trial_id, epochs, ok=f"trial {trial_id} will train {epochs} more epochs next"
        )

    def enqueue(self, hyperparameters: dict[str, Any]) -> CommandResult:
        return self._command("enqueue", dict(hyperparameters), ok="queued as the next trial")

    def extend(self, trials: int | None = None, time: float | str | None = None) -> CommandResult:
        return self._command("extend", trials, time, ok="budget extended")

    def export(
        self, path: Any = None, trial_id: str | None = None, format: str = "keras"
    ) -> pathlib.Path:
        """Records ``("export", path, trial_id)`` (and ``format`` when it is not .keras)."""
        self.calls.append(("export", path, trial_id) if format == "keras" else ("export", path, trial_id, format))
        if "export" in self.raise_on:
            raise ValueError(self.raise_on["export"])
        suffix = {"keras": "best.keras", "savedmodel": "best_savedmodel", "tflite": "best.tflite"}
        return pathlib.Path(path) if path is not None else self.directory / suffix.get(format, "best")

    def final_fit(self, trial_id: str | None = None, epochs: int | None = None) -> str:
        self.calls.append(("final_fit", trial_id, epochs))
        self.final_fit_gate.wait(10)
        if "final_fit" in self.raise_on:
            raise RuntimeError(self.raise_on["final_fit"])
        return "model"


# -- a comm that records what would go to the browser ----------------------------------


class RecordingComm:
    """Stands in for the kernel's comm: records sends, remembers if it was closed.

    With ``serialize=True`` each message is JSON-encoded as the kernel would,
    so a benchmark pays (and can report) the encoding cost and size.
    """

    kernel = "recording"  # truthy: ipywidgets only sends when the comm has a kernel
    _ids = itertools.count()

    def __init__(
        self,
        *args: Any,
        serialize: bool = False,
        sent_times: list[float] | None = None,
        keep: bool = True,
        **kwargs: Any,
    ):
        self.comm_id = kwargs.get("comm_id") or f"comm-{next(RecordingComm._ids)}"
        self.sent_times = sent_times
        self.keep = keep
        self.count = 0
        self.open_data = kwargs.get("data")
        self.messages: list[dict[str, Any]] = []
        self.closed = False
        self.serialize = serialize
        self.bytes = 0
        self._on_msg: Callable[[dict[str, Any]], Any] | None = None

    def open(self, *args: Any, **kwargs: Any) -> None:
        pass

    def send(self, data: Any = None, metadata: Any = None, buffers: Any = None) -> None:
        if self.serialize:
            self.bytes += len(json.dumps(data, default=str, allow_nan=False))
            self.bytes += sum(len(memoryview(b)) for b in buffers or ())
        self.count += 1
        if self.keep:
            self.messages.append(data)
        if self.sent_times is not None:
            self.sent_times.append(time.monotonic())

    def close(self, *args: Any, **kwargs: Any) -> None:
        self.closed = True

    def on_msg(self, callback: Callable[[dict[str, Any]], Any] | None) -> None:
        self._on_msg = callback

    def on_close(self, callback: Any) -> None:
        pass

    def receive(self, data: dict[str, Any]) -> None:
        """Deliver a message as if the browser sent it (``{"method": ..., ...}``)."""
        assert self._on_msg is not None, "no handler registered on this comm"
        self._on_msg({"content": {"data": data}, "buffers": []})


class CommLog:
    """Every :class:`RecordingComm` made while :func:`recording_comms` is active."""

    def __init__(self, serialize: bool = False, timed: bool = False, keep: bool = True):
        self.comms: list[RecordingComm] = []
        self.serialize = serialize
        self.keep = keep
        self.sent_times: list[float] | None = [] if timed else None  #: monotonic time of each send
        self._lock = threading.Lock()

    def create(self, *args: Any, **kwargs: Any) -> RecordingComm:
        made = RecordingComm(
            *args, serialize=self.serialize, sent_times=self.sent_times, keep=self.keep, **kwargs
        )
        with self._lock:
            self.comms.append(made)
        return made

    def total(self) -> int:
        """Messages sent on every comm so far."""
        return sum(c.count for c in list(self.comms))

    def bytes(self) -> int:
        return sum(c.bytes for c in list(self.comms))

    def open_comms(self) -> list[RecordingComm]:
        return [c for c in self.comms if not c.closed]


@contextlib.contextmanager
def recording_comms(
    serialize: bool = False, timed: bool = False, keep: bool = True
) -> Iterator[CommLog]:
    """Within the block, every widget opens a :class:`RecordingComm` (see :class:`CommLog`).

    ``serialize``: JSON-encode each message (cost and bytes, as a kernel would);
    ``timed``: note the time of each message in ``log.sent_times``; ``keep=False``:
    count messages without keeping them (a benchmark's memory).
    """
    log = CommLog(serialize, timed, keep)
    original = comm_package.create_comm
    comm_package.create_comm = log.create
    try:
        yield log
    finally:
        comm_package.create_comm = original
