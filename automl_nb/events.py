"""Events: the one record of a search.

Every fact a user can see is one small frozen dataclass. The :class:`EventBus`
appends each event to the journal (``<directory>/events.jsonl``, one JSON object
a line, flushed) *before* any subscriber hears it, so the panel, the results
table and the command-line progress are all views of the same stream, and a
finished or crashed search can be rebuilt from its file alone.

This module knows nothing of Keras, widgets or IPython.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from .errors import JournalError

log = logging.getLogger("automl_nb")

JOURNAL_NAME = "events.jsonl"


@dataclass(frozen=True)
class Event:
    """Base of every event. ``seq`` numbers events from 0 in journal order."""

    kind: ClassVar[str] = "event"
    seq: int = field(default=-1, kw_only=True)
    time: float = field(default=0.0, kw_only=True)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind}
        for f in dataclasses.fields(self):
            out[f.name] = jsonable(getattr(self, f.name))
        return out


@dataclass(frozen=True)
class SearchStarted(Event):
    """A search began (or was continued from its directory: ``resumed``)."""

    kind: ClassVar[str] = "search_started"
    name: str
    directory: str
    data: dict[str, Any]
    oracle: str
    objective: str
    direction: str
    trials: int | None
    time_budget_s: float | None
    epochs: int
    seed: int | None
    space: list[dict[str, Any]] = field(default_factory=list)
    resumed: bool = False
    workers: int = 1  #: worker processes that run its trials (1: this process)


@dataclass(frozen=True)
class SpaceDefined(Event):
    """The hyperparameter space became known (after the first build of the model).

    ``space`` holds one dict a hyperparameter: name, kind (int, float, choice,
    boolean, fixed), default, min, max, step, sampling, values.
    """

    kind: ClassVar[str] = "space_defined"
    space: list[dict[str, Any]]


@dataclass(frozen=True)
class TrialStarted(Event):
    """A trial began training.

    ``source`` is ``"oracle"``, ``"enqueued"`` or ``"promoted"``; ``parent_id`` names
    the trial whose checkpoint it continues from (a promotion, or a Hyperband
    round that trains a trial on), and ``initial_epoch`` the epoch it starts after.
    """

    kind: ClassVar[str] = "trial_started"
    trial_id: str
    hyperparameters: dict[str, Any]
    parent_id: str | None = None
    initial_epoch: int = 0
    epochs: int = 0
    source: str = "oracle"
    info: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class EpochEnded(Event):
    """An epoch ended. ``epoch`` counts from 1 and continues a parent's numbering."""

    kind: ClassVar[str] = "epoch_ended"
    trial_id: str
    epoch: int
    metrics: dict[str, float]
    score: float | None = None
    partial: bool = False


@dataclass(frozen=True)
class TrialEnded(Event):
    """A trial ended with ``status`` (completed, pruned, failed or stopped)."""

    kind: ClassVar[str] = "trial_ended"
    trial_id: str
    status: str
    score: float | None = None
    best_epoch: int | None = None
    epochs: int = 0
    duration_s: float = 0.0
    reason: str | None = None


@dataclass(frozen=True)
class TrialMeasured(Event):
    """What a trial's model costs, measured in the trial's own thread: ``params``, its number
    of parameters, when its model is built (before any training). Journals written before
    this event have none: their trials' costs are None."""

    kind: ClassVar[str] = "trial_measured"
    trial_id: str
    params: int | None = None


@dataclass(frozen=True)
class StateChanged(Event):
    """The search moved from ``previous`` to ``state`` (a :class:`SearchState` value)."""

    kind: ClassVar[str] = "state_changed"
    state: str
    previous: str
    reason: str | None = None


@dataclass(frozen=True)
class CommandIssued(Event):
    """A user command (pause, prune, ...) and what became of it.

    A command sent from another process through the search's inbox (:mod:`automl_nb.doors`)
    carries its ``command_id`` and its ``source`` (``"host:pid label"``); the owner's own
    calls have None for both.
    """

    kind: ClassVar[str] = "command"
    command: str
    args: dict[str, Any]
    accepted: bool
    message: str
    command_id: str | None = None
    source: str | None = None


@dataclass(frozen=True)
class BudgetChanged(Event):
    """The budget changed (``extend``): the whole :class:`~automl_nb.settings.Budget` after
    the change. ``epochs`` is None in journals written before it was part of the event (the
    epochs a trial then stay what ``SearchStarted`` said)."""

    kind: ClassVar[str] = "budget_changed"
    trials: int | None
    time_budget_s: float | None
    epochs: int | None = None


@dataclass(frozen=True)
class PlanMade(Event):
    """The search decided how to spend its trials or time, and says why in ``message``.

    ``decision`` is one of ``"warm_start"`` (the first trials are the space's defaults and a
    portfolio), ``"epochs"`` (a trial plans fewer epochs to fit the time budget),
    ``"promote"`` (a trial still improving trains on), ``"slower"`` (a trial on its first
    plateau trains on at a lower learning rate), ``"stop"`` (no trial can fit in the
    time left), ``"ensemble"`` (when the search ends: the model handed back averages its
    best trials with ``detail["weights"]``, or is the best trial alone when they are empty;
    :mod:`automl_nb.ensemble`); ``trial_id`` names the trial it is about, if any.
    """

    kind: ClassVar[str] = "plan"
    decision: str
    message: str
    trial_id: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SearchEnded(Event):
    """The search thread ended in ``state`` (done or failed)."""

    kind: ClassVar[str] = "search_ended"
    state: str
    reason: str | None = None
    best_trial_id: str | None = None
    best_score: float | None = None


EVENT_TYPES: dict[str, type[Event]] = {
    cls.kind: cls
    for cls in (
        SearchStarted,
        SpaceDefined,
        TrialStarted,
        EpochEnded,
        TrialEnded,
        TrialMeasured,
        StateChanged,
        CommandIssued,
        BudgetChanged,
        PlanMade,
        SearchEnded,
    )
}


def jsonable(value: Any) -> Any:
    """Plain JSON values only: NaN and infinities become None, tuples lists."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | str):
        return value
    # numpy scalars and the like
    if hasattr(value, "item"):
        return jsonable(value.item())
    return str(value)


def event_from_dict(data: dict[str, Any]) -> Event:
    """Rebuild an event from its journal line; unknown keys are ignored."""
    cls = EVENT_TYPES.get(data.get("kind", ""))
    if cls is None:
        raise ValueError(f"unknown event kind {data.get('kind')!r} in the journal")
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in names})


def read_journal(path: str | os.PathLike[str]) -> list[Event]:
    """Read every complete event of a journal.

    A last line cut short by a crash is skipped; JSON is all that is parsed,
    so reading a journal from elsewhere runs no code.
    """
    path = Path(path)
    if path.is_dir():
        path = path / JOURNAL_NAME
    events: list[Event] = []
    if not path.exists():
        return events
    with path.open("r", encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            try:
                events.append(event_from_dict(json.loads(line)))
            except (json.JSONDecodeError, TypeError, ValueError):
                log.warning("skipping an unreadable line in %s", path)
    return events


class Journal:
    """Append-only JSON-lines file; each line goes to the file in one unbuffered write.

    A line is all or nothing: when a write fails part-way (disk full), the file is cut
    back to its last whole line before :class:`JournalError` is raised, and a torn last
    line left by a crash is cut off when the journal is opened again, so a later line
    never runs into a broken one.
    """

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        self._fh = None
        self._size = 0  # bytes of whole lines in the file

    def _open(self):
        if self._fh is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fh = open(self.path, "a+b", buffering=0)  # noqa: SIM115 - kept open; read: a torn tail
            try:
                self._size = _whole_lines(fh)
            except OSError:
                fh.close()
                raise
            self._fh = fh
        return self._fh

    def append(self, event: Event, *, sync: bool = False) -> None:
        data = (json.dumps(event.to_dict(), separators=(",", ":"), allow_nan=False) + "\n").encode()
        try:
            fh = self._open()
            view = memoryview(data)
            while view:
                view = view[fh.write(view) :]
            if sync:
                os.fsync(fh.fileno())
        except OSError as exc:
            self._cut_back()
            raise JournalError(
                f"could not write the journal {self.path}: {exc.strerror or exc}; "
                "free some disk space or choose a writable directory="
            ) from exc
        self._size += len(data)

    def _cut_back(self) -> None:
        """After a failed write: drop any part of the line that reached the file."""
        if self._fh is None:
            return
        try:
            os.ftruncate(self._fh.fileno(), self._size)
        except OSError:  # cannot even truncate (read-only now): reopening cuts the torn line
            self.close()

    def close(self) -> None:
        if self._fh is not None:
            try:
                self._fh.close()
            except OSError:
                pass
            self._fh = None


def _whole_lines(fh: Any) -> int:
    """The size of a journal file up to its last newline; a torn last line is cut off."""
    fd = fh.fileno()
    size = os.fstat(fd).st_size
    if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
        return size
    keep = size
    while keep > 0:
        start = max(0, keep - 65536)
        chunk = os.pread(fd, keep - start, start)
        cut = chunk.rfind(b"\n")
        if cut >= 0:
            keep = start + cut + 1
            break
        keep = start
    log.warning("cutting a torn last line (%d bytes) off %s", size - keep, fh.name)
    os.ftruncate(fd, keep)
    return keep


# Events after which the journal is fsynced: what must survive a power cut.
_DURABLE = (TrialEnded, SearchEnded, SearchStarted, BudgetChanged)


class EventBus:
    """Journal first, then subscribers; one subscriber's error never stops the others.

    ``publish`` may be called from any thread; events are numbered and delivered
    in one order. ``subscribe(fn, replay=True)`` first hands ``fn`` every event
    published so far, under the same lock, so a late view misses nothing and
    sees nothing twice.
    """

    def __init__(self, journal: Journal | None = None, history: list[Event] | None = None):
        self.journal = journal
        self._lock = threading.RLock()
        self._subscribers: list[Callable[[Event], Any]] = []
        self._history: list[Event] = list(history or [])

    @property
    def lock(self) -> threading.RLock:
        """The lock events are published under; hold it to read a view consistently."""
        return self._lock

    @property
    def history(self) -> list[Event]:
        with self._lock:
            return list(self._history)

    def publish(self, event: Event, *, journal: bool = True) -> Event:
        """Number the event, append it to the journal, then hand it to every subscriber.

        ``journal=False`` is for when the journal cannot be written (:class:`JournalError`):
        the event still reaches the subscribers (so a panel shows why the search ended) but
        is in no file; it gets ``seq`` -1 and numbers no later event.
        """
        with self._lock:
            seq = self._next_seq() if journal else -1
            event = dataclasses.replace(event, seq=seq, time=time.time())
            if journal and self.journal is not None:
                self.journal.append(event, sync=isinstance(event, _DURABLE))
            self.deliver(event)
        return event

    def deliver(self, event: Event) -> None:
        """Keep an event that is already numbered and stamped, and hand it to every subscriber.

        No journal is written: this is for events read from one (a replay plays them back).
        """
        with self._lock:
            self._history.append(event)
            for fn in list(self._subscribers):
                _deliver(fn, event)

    def _next_seq(self) -> int:
        for event in reversed(self._history):
            if event.seq >= 0:
                return event.seq + 1
        return len(self._history)

    def subscribe(self, fn: Callable[[Event], Any], *, replay: bool = False) -> Callable[[], None]:
        """Call ``fn(event)`` for each new event; returns a function that unsubscribes."""
        if not callable(fn):
            raise TypeError(f"subscribe() needs a callable taking one event; got {fn!r}")
        with self._lock:
            if replay:
                for event in self._history:
                    _deliver(fn, event)
            self._subscribers.append(fn)

        def unsubscribe() -> None:
            with self._lock:
                if fn in self._subscribers:
                    self._subscribers.remove(fn)

        return unsubscribe

    def __iter__(self) -> Iterator[Event]:
        return iter(self.history)


def _deliver(fn: Callable[[Event], Any], event: Event) -> None:
    try:
        fn(event)
    except Exception:  # a subscriber's bug must not stop the search
        log.exception("an event subscriber (%r) raised on %s; the search goes on", fn, event.kind)
