"""Run state and the user's commands, shared between the caller and the search thread.

Commands (pause, resume, stop, prune, promote, enqueue) are requests: any thread
sets a flag under a lock, and the search thread reads it at the next safe point
(a batch end for pause, prune, stop and the time budget; a trial boundary for
the rest). The Control reads the search's budget through a function it is given (the
budget's one home is the search's record, which folds the journaled changes); it keeps no
copy. Nothing here knows of Keras.
"""

from __future__ import annotations

import enum
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .settings import Budget


class SearchState(str, enum.Enum):
    """Where a search is. ``done`` and ``failed`` are final until ``start()`` continues it."""

    IDLE = "idle"
    RUNNING = "running"
    PAUSED = "paused"
    STOPPING = "stopping"
    DONE = "done"
    FAILED = "failed"

    def is_finished(self) -> bool:
        """True for ``done`` and ``failed``."""
        return self in (SearchState.DONE, SearchState.FAILED)

    def __str__(self) -> str:
        return self.value


class TrialStatus(str, enum.Enum):
    """What became of a trial; every status but ``running`` is final.

    ``pruned``: the user stopped it and its best score so far counts; ``failed``: an
    exception, a NaN loss or out of memory (the search goes on); ``stopped``: ``stop()`` or
    the time budget ended it.
    """

    RUNNING = "running"
    COMPLETED = "completed"
    PRUNED = "pruned"
    FAILED = "failed"
    STOPPED = "stopped"

    def is_finished(self) -> bool:
        """True for every status but ``running``."""
        return self is not TrialStatus.RUNNING

    def __str__(self) -> str:
        return self.value


class Action(str, enum.Enum):
    """What the running trial must do at a batch end."""

    PRUNE = "prune"
    STOP = "stop"
    TIME = "time"


@dataclass(frozen=True)
class CommandResult:
    """The answer to a command: whether it applies, and a sentence saying what happens.

    It is truthy when the command was accepted, and shows as its sentence.

    Attributes:
        command: The command's name, such as ``"prune"``.
        accepted: Whether the command took effect (or already had).
        message: The sentence saying what happens, or why nothing does.
    """

    command: str
    accepted: bool
    message: str

    def __bool__(self) -> bool:
        return self.accepted

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return self.message

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(self.message)


@dataclass
class Request:
    """A trial asked for (by the user, the warm start or the planner): it runs before the
    oracle's next one."""

    source: str  # "promoted" | "enqueued" | "portfolio" (the warm start's)
    values: dict[str, Any]
    parent_id: str | None = None
    epochs: int | None = None
    initial_epoch: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


class Control:
    """Flags and queues the search thread obeys, with a clock that stops while paused."""

    def __init__(
        self,
        budget: Callable[[], Budget] | None = None,
        spent_s: float = 0.0,
        clock: Callable[[], float] | None = None,
    ):
        self._clock = clock  # seconds; None: time.monotonic (a scripted trainer's may be virtual)
        self._cond = threading.Condition(threading.RLock())
        self.state = SearchState.IDLE
        self.stop_requested = False
        self.prune_target: str | None = None
        self.requests: deque[Request] = deque()
        self._budget = budget or Budget  # None: no limits
        self._spent_s = spent_s  # running time before the current run segment
        self._segment_start: float | None = None
        # Set whenever the worker must look closer at a batch end: a cheap check on the hot path.
        self._attention = False

    # -- the clock: time spent running, paused time excluded -------------
    def _now(self) -> float:
        return self._clock() if self._clock is not None else time.monotonic()

    def running_time(self) -> float:
        with self._cond:
            extra = self._now() - self._segment_start if self._segment_start is not None else 0
            return self._spent_s + extra

    def _clock_on(self) -> None:
        if self._segment_start is None:
            self._segment_start = self._now()

    def _clock_off(self) -> None:
        if self._segment_start is not None:
            self._spent_s += self._now() - self._segment_start
            self._segment_start = None

    @property
    def budget(self) -> Budget:
        """The search's budget now (read from its owner each time)."""
        return self._budget()

    @property
    def time_budget_s(self) -> float | None:
        return self._budget().time_budget_s

    def time_left(self) -> float | None:
        budget = self.time_budget_s
        if budget is None:
            return None
        return budget - self.running_time()

    def out_of_time(self) -> bool:
        left = self.time_left()
        return left is not None and left <= 0

    def budget_changed(self) -> None:
        """The budget it reads changed (``extend()``): a time limit is checked at batch ends."""
        with self._cond:
            self._update_attention()
            self._cond.notify_all()

    # -- state transitions (called by Search, under its own checks) ------
    def set_state(self, state: SearchState) -> SearchState:
        with self._cond:
            previous = self.state
            self.state = state
            if state in (SearchState.RUNNING, SearchState.STOPPING):
                self._clock_on()
            else:
                self._clock_off()
            self._update_attention()
            self._cond.notify_all()
            return previous

    def request_stop(self) -> None:
        with self._cond:
            self.stop_requested = True
            self._update_attention()
            self._cond.notify_all()

    def request_prune(self, trial_id: str) -> None:
        with self._cond:
            self.prune_target = trial_id
            self._update_attention()
            self._cond.notify_all()

    def push(self, request: Request) -> None:
        """Queue a request; the user's go before the warm start's portfolio entries still queued."""
        with self._cond:
            if request.source != "portfolio":
                for index, queued in enumerate(self.requests):
                    if queued.source == "portfolio":
                        self.requests.insert(index, request)
                        return
            self.requests.append(request)

    def push_front(self, request: Request) -> None:
        """Put a request back at the head of the queue (it could not run yet)."""
        with self._cond:
            self.requests.appendleft(request)

    def pop_request(self) -> Request | None:
        with self._cond:
            return self.requests.popleft() if self.requests else None

    def pending(self) -> list[Request]:
        with self._cond:
            return list(self.requests)

    def _update_attention(self) -> None:
        self._attention = bool(
            self.state is SearchState.PAUSED
            or self.stop_requested
            or self.prune_target is not None
            or self.time_budget_s is not None
        )

    # -- the worker's safe points ------------------------------------------
    def at_batch_end(self, trial_id: str) -> Action | None:
        """Called by the search thread after every batch.

        Blocks while paused (without spinning), and returns what the trial must do.
        """
        if not self._attention:
            return None
        with self._cond:
            while (
                self.state is SearchState.PAUSED
                and not self.stop_requested
                and self.prune_target != trial_id
            ):
                self._cond.wait()
            if self.stop_requested:
                return Action.STOP
            if self.prune_target == trial_id:
                return Action.PRUNE
        if self.out_of_time():
            return Action.TIME
        return None

    def consume_prune(self, trial_id: str) -> bool:
        """Clear a prune request for ``trial_id``; True if there was one."""
        with self._cond:
            if self.prune_target == trial_id:
                self.prune_target = None
                self._update_attention()
                return True
            return False

    def wait_while_paused(self) -> None:
        """At a trial boundary: block while paused, unless a stop is asked for."""
        with self._cond:
            while self.state is SearchState.PAUSED and not self.stop_requested:
                self._cond.wait()
