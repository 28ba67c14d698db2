"""A live view of a search another process (or another Search in this one) runs.

``automl_nb.attach(directory)``, and ``automl_nb.open(directory)`` on a search that has a live
owner (:mod:`automl_nb.doors`), return an :class:`AttachedSearch`: it follows the search's
journal as it grows (a thread reads the new lines of ``events.jsonl``, folds them into a
:class:`~automl_nb.record.SearchRecord` and publishes them to an
:class:`~automl_nb.events.EventBus`, as a :class:`~automl_nb.replays.Replay` does), so its
``panel()``, ``results`` and text views move as they do in the owner's kernel.

Its commands (pause, resume, stop, prune, promote, enqueue, extend, step) go to the owner
through the directory's inbox (:func:`automl_nb.doors.send`); each returns a
:class:`~automl_nb.CommandResult` with the owner's journaled answer when it arrives within
:data:`ANSWER_TIMEOUT_S` seconds, else a sentence saying it was sent. Nothing here trains or
imports TensorFlow; the models stay with the owner until its search ends.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

from . import doors
from .control import CommandResult, SearchState
from .errors import SearchError
from .events import EventBus, SearchEnded
from .record import SearchRecord
from .settings import Budget, Settings
from .store import open_directory
from .view import FoldedJournal

#: How long a command waits for the owner's answer before it says "sent".
ANSWER_TIMEOUT_S = 3.0
#: How often (seconds) the view looks for new journal lines.
FOLLOW_POLL_S = 0.1
SENT = "sent; the owner will apply it at its next safe point"

__all__ = ["ANSWER_TIMEOUT_S", "AttachedSearch", "attach"]


class AttachedSearch(FoldedJournal):
    """A search run elsewhere, followed through its journal and steered through its inbox."""

    def __init__(self, directory: str | os.PathLike[str], *, follow: bool = True):
        self.store = open_directory(directory)
        self.directory = self.store.directory
        self.settings: Settings = self.store.read_settings()
        self.name: str = self.settings.name or Path(self.directory).name
        self._bus = EventBus()  # no journal: the owner writes the one record
        self._record = SearchRecord()
        self._bus.subscribe(self._record.apply)
        self._tail = doors.JournalTail(self.store.journal_path)
        self._stopped = threading.Event()
        self._ended = threading.Event()
        self._panel: Any = None
        self.workers = None
        self.oracle = None
        self._catch_up()
        self._thread: threading.Thread | None = None
        if follow:
            self._thread = threading.Thread(
                target=self._follow, name=f"automl_nb-attached-{self.name}", daemon=True
            )
            self._thread.start()

    # -- following the journal ---------------------------------------------------------------
    def _catch_up(self) -> int:
        events = self._tail.read()
        with self._bus.lock:
            for event in events:
                self._bus.deliver(event)
                if isinstance(event, SearchEnded):
                    self._ended.set()
                elif self._record.state in doors.LIVE_STATES:
                    self._ended.clear()
        return len(events)

    def _follow(self) -> None:
        while not self._stopped.wait(FOLLOW_POLL_S):
            self._catch_up()

    def refresh(self) -> int:
        """Read the journal's new lines now; returns how many events came."""
        return self._catch_up()

    def close(self) -> None:
        """Stop following the journal (the search itself goes on)."""
        self._stopped.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(2.0)

    # -- what views read ---------------------------------------------------------------------
    @property
    def owner(self) -> doors.Owner | None:
        """The process running the search (:func:`automl_nb.doors.owner`)."""
        return doors.owner(self.directory)

    @property
    def error(self) -> str | None:
        return self._record.end_reason if self._record.state == SearchState.FAILED else None

    @property
    def objective(self) -> str:
        return self._record.objective or self.settings.objective

    @property
    def direction(self) -> str:
        return self._record.direction if self._record.config else self.settings.direction

    @property
    def budget(self) -> Budget:
        """The budget now: the journal's (raised by every ``extend()``), else the settings'."""
        return self._record.budget or self.settings.budget

    def wait(self, timeout: float | None = None) -> SearchState:
        """Block until the search ends (its journal says so) or ``timeout`` seconds pass."""
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            while not self._ended.is_set():
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    break
                if self._thread is None:
                    self._catch_up()
                self._ended.wait(0.2 if left is None else min(0.2, left))
        except KeyboardInterrupt:
            pass
        return self.state

    def __repr__(self) -> str:
        with self.lock:
            done = len(self._record.finished_trials())
            best = self._record.best()
        current = self.owner
        by = f", run by {current.describe()}" if current is not None and current.alive else ""
        score = f", best {self.objective}={best.score:.4g} (trial {best.trial_id})" if best else ""
        return f"<AttachedSearch {self.name!r} {self.state.value}: {done} trials finished{score}{by}>"

    # -- the panel -----------------------------------------------------------------------------
    def panel(self):
        """The live panel (ipywidgets) over this view; its buttons steer the owner."""
        from .panel import Panel

        panel = self._panel
        if panel is None or panel.comm is None:
            panel = self._panel = Panel(self)
        return panel

    # -- commands: through the inbox -----------------------------------------------------------
    def command(self, command: str, **args: Any) -> CommandResult:
        """Send ``command`` to the owner and return its answer (or "sent" after the timeout)."""
        since = doors.journal_size(self.directory)
        try:
            command_id = doors.send(self.directory, command, **args)
        except SearchError as exc:
            return CommandResult(command, False, str(exc))
        answer = doors.wait_for_answer(self.directory, command_id, ANSWER_TIMEOUT_S, since=since)
        if answer is None:
            current = doors.owner(self.directory)
            if current is None or not current.alive:  # it ended before it read the command
                return CommandResult(command, False, f"the search ended before its owner read "
                                     f"the command; it is {self.state.value} now")
            return CommandResult(command, True, SENT)
        return CommandResult(command, answer.accepted, answer.message)

    def pause(self) -> CommandResult:
        return self.command("pause")

    def resume(self) -> CommandResult:
        return self.command("resume")

    def step(self) -> CommandResult:
        return self.command("step")

    def stop(self) -> CommandResult:
        return self.command("stop")

    def prune(self, trial_id: str | int) -> CommandResult:
        return self.command("prune", trial_id=str(trial_id))

    def promote(self, trial_id: str | int, epochs: int = 5) -> CommandResult:
        return self.command("promote", trial_id=str(trial_id), epochs=epochs)

    def enqueue(self, hyperparameters: dict[str, Any]) -> CommandResult:
        return self.command("enqueue", values=dict(hyperparameters))

    def extend(self, trials: int | None = None, time: float | str | None = None) -> CommandResult:
        args = {k: v for k, v in (("trials", trials), ("time", time)) if v is not None}
        return self.command("extend", **args)

    def _elsewhere(self, what: str) -> SearchError:
        return SearchError(
            f"{what} needs the search's models, which stay with the process that runs it; "
            f"when it ends, automl_nb.open('{self.directory}') reads them"
        )

    def best_model(self, trial_id: Any = None):
        raise self._elsewhere("best_model()")

    def final_fit(self, trial_id: Any = None, epochs: Any = None):
        raise self._elsewhere("final_fit()")

    def export(self, path: Any = None, trial_id: Any = None, **kwargs: Any):
        raise self._elsewhere("export()")


def attach(directory: str | os.PathLike[str]) -> AttachedSearch:
    """A live view of the search in ``directory``, run by any process: it follows the journal
    and its commands go to the owner through the inbox (see :mod:`automl_nb.attached`)."""
    return AttachedSearch(directory)
