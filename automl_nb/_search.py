"""``Search``: the facade over a search's parts; its state machine, commands and views.

A Search owns the event bus (journal first, then the views), the :class:`~automl_nb.control.
Control` its commands set, and the thread its trials run on; the trials themselves are its
trainer's (:mod:`automl_nb.backends`: KerasTuner in this process, worker processes, or scripted
curves), and its files are its :class:`~automl_nb.store.Store`'s. Every command answers with a
:class:`~automl_nb.control.CommandResult` sentence and is journaled as an event.

:func:`automl_nb.search` and :func:`automl_nb.open` (in ``_entry.py``) check the arguments
and make a Search; nothing here imports TensorFlow.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import threading
import time as _time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import doors
from ._checks import check_time, positive_int
from ._handback import HandBack, normalise_trial_id
from ._util import format_duration
from .backends.base import SearchJob, Trainer, explain_failure
from .backends.engine import Engine, planning
from .backends.local import LocalTrainer
from .control import CommandResult, Control, Request, SearchState
from .errors import JournalError, Keyword, SearchError, SpaceError, SpaceFailure
from .events import (
    BudgetChanged,
    CommandIssued,
    Event,
    EventBus,
    Journal,
    SearchEnded,
    SearchStarted,
    StateChanged,
    TrialEnded,
    read_journal,
)
from .oracles import ORACLES
from .record import SCORED, SearchRecord
from .settings import Budget, Settings
from .store import Store

if TYPE_CHECKING:
    import pandas

    from .data import Dataset

log = logging.getLogger("automl_nb")

PROMOTABLE = SCORED  # a trial with a score can be promoted or exported


# --------------------------------------------------------------------------------------
# the Search
# --------------------------------------------------------------------------------------
class Search(HandBack):
    """A search running (or run) in the background. Create it with :func:`automl_nb.search`."""

    def __init__(
        self,
        *,
        directory: str | os.PathLike[str],
        settings: Settings,
        dataset: Dataset | None,
        space: Any = None,
        oracle: Any = None,
        history: list[Event] | None = None,
        trainer: Trainer | None = None,
        verbose: bool = False,
        data_problem: str | None = None,
        checked_space: Any = None,
    ):
        self.store = Store(directory)
        self.directory = self.store.directory
        self.settings = settings  #: what it was asked for (frozen; the budget now: ``budget``)
        self.name: str = settings.name
        self.dataset = dataset
        if oracle is None and settings.oracle in ORACLES:
            oracle = settings.oracle
        self._lock = threading.RLock()
        # a journal read back belongs to sessions that ended (the record says what that means)
        self._record = SearchRecord.reopened(list(history)) if history else SearchRecord()
        self._bus = EventBus(Journal(self.store.journal_path), history=history)
        self._bus.subscribe(self._record.apply)
        self._trainer: Trainer = trainer if trainer is not None else LocalTrainer()
        self._trainer.bind(
            SearchJob(store=self.store, settings=settings, dataset=dataset, space=space,
                      oracle=oracle, bus=self._bus, record=self._record, lock=self._bus.lock,
                      data_problem=data_problem, checked_space=checked_space)
        )
        spent = self._record.elapsed(self._record.ended_at or _time.time()) if history else 0.0
        self._control = Control(lambda: self.budget, spent_s=spent, clock=self._trainer.clock)
        self._control.state = SearchState(self._record.state)
        self._thread: threading.Thread | None = None
        self._engine: Engine | None = None
        self._requests_only = False
        self._panel: Any = None
        self._final_model: Any = None
        self._final_trial: str | None = None
        self._final_weights: dict[str, float] = {}  # the ensemble the final fit retrained
        self.error: str | None = None
        self._step = settings.step
        self._verbose_unsub: Callable[[], None] | None = None
        self._door: doors.Door | None = None  # the directory's lock and inbox while it runs
        self._origin: tuple[str | None, str | None, str] | None = None  # who sent the command
        if verbose:
            self._verbose_unsub = self.subscribe(_print_progress)

    # -- views ---------------------------------------------------------------------------
    @property
    def state(self) -> SearchState:
        """Where the search is now: idle, running, paused, stopping, done or failed."""
        return self._control.state

    @property
    def record(self) -> SearchRecord:
        """The live fold of the journal. Read it under ``search.lock`` from another thread."""
        return self._record

    @property
    def lock(self) -> threading.RLock:
        """The lock events are published under; hold it to read ``record`` from another thread."""
        return self._bus.lock

    @property
    def objective(self) -> str:
        """The metric the trials are ranked by, such as ``"val_accuracy"``."""
        return self.settings.objective

    @property
    def direction(self) -> str:
        """Which way the objective is better: ``"max"`` or ``"min"``."""
        return self.settings.direction

    @property
    def budget(self) -> Budget:
        """The budget now: the record's (as asked for, raised by every ``extend()``, each a
        journaled ``BudgetChanged``), or the settings' before anything was journaled."""
        return self._record.budget or self.settings.budget

    @property
    def space(self) -> list[dict[str, Any]]:
        """The search space's hyperparameters, one dict each (name, kind, default, range, values)."""
        with self.lock:
            return list(self._record.space)

    @property
    def workers(self) -> Any:
        """The :class:`~automl_nb.backends.workers.WorkerPool` of a search with workers, else None.

        ``search.workers.join_command()`` says how another machine joins it.
        """
        return self._trainer.workers

    @property
    def oracle(self) -> Any:
        """The KerasTuner oracle deciding the trials, once the search has built it; else None."""
        return self._trainer.oracle

    def subscribe(self, fn: Callable[[Event], Any], replay: bool = False) -> Callable[[], None]:
        """Call ``fn(event)`` on every new event (on the publishing thread); returns an unsubscribe."""
        return self._bus.subscribe(fn, replay=replay)

    def events(self) -> list[Event]:
        """Every event so far, read back from the journal."""
        return read_journal(self.store.journal_path)

    @property
    def results(self) -> pandas.DataFrame:
        """One row a trial: trial_id, status, score, epochs, duration_s, parent_id, then hyperparameters."""
        with self.lock:
            return self._record.results()

    def best_hyperparameters(self) -> dict[str, Any]:
        """The best trial's hyperparameter values so far (a RuntimeError before any has a score)."""
        with self.lock:
            return self._record.best_hyperparameters()

    def __repr__(self) -> str:
        with self.lock:
            done = len(self._record.finished_trials())
            best = self._record.best()
        score = f", best {self.objective}={best.score:.4g} (trial {best.trial_id})" if best else ""
        return f"<Search {self.name!r} {self.state.value}: {done} trials finished{score}>"

    # -- the panel ---------------------------------------------------------------------------
    def panel(self):
        """The live panel widget (ipywidgets) for this search: one per search, shown as often as asked."""
        from .panel import Panel

        with self._lock:
            panel = self._panel
            if panel is None or panel.comm is None:  # none yet, or closed
                panel = self._panel = Panel(self)
            return panel

    def _repr_mimebundle_(self, include=None, exclude=None):
        return panel_mimebundle(self, include, exclude)

    # -- commands ----------------------------------------------------------------------------
    def _answer(self, command: str, accepted: bool, message: str, **args: Any) -> CommandResult:
        command_id, source, sent = self._origin or (None, None, None)
        if sent != command:  # a command this one runs (step's start) is not the one sent
            command_id = source = None
        self._publish(CommandIssued(command=command, args=args, accepted=accepted, message=message,
                                    command_id=command_id, source=source))
        return CommandResult(command, accepted, message)

    def answer(self, command: str, accepted: bool, message: str) -> CommandResult:
        """Journal an answer to a command that no method of the Search took (the inbox's)."""
        return self._answer(command, accepted, message)

    @contextlib.contextmanager
    def speaking_for(self, command_id: str | None, source: str | None, command: str):
        """Commands called inside are journaled as sent by ``source`` (:mod:`automl_nb.doors`)."""
        with self._lock:
            self._origin = (command_id, source, command)
            try:
                yield
            finally:
                self._origin = None

    def _set_state(self, state: SearchState, reason: str | None = None) -> None:
        previous = self._control.set_state(state)
        if previous is not state:
            self._publish(StateChanged(state=state.value, previous=previous.value, reason=reason))

    def _publish(self, event: Event) -> None:
        """Publish from a command: a journal that cannot be written makes no button raise.

        The search thread's own events still raise :class:`JournalError` (the search stops);
        here the views hear the event anyway, though it is in no file.
        """
        try:
            self._bus.publish(event)
        except JournalError as exc:
            log.warning("%s", exc)
            self._bus.publish(event, journal=False)

    def start(self) -> CommandResult:
        """Start the search, or continue one that ended or was reopened."""
        return self._start(requests_only=False)

    def _start(self, requests_only: bool) -> CommandResult:
        with self._lock:
            state = self.state
            if state in (SearchState.RUNNING, SearchState.PAUSED, SearchState.STOPPING):
                return self._answer("start", True, f"the search is already {state.value}")
            problem = self._trainer.problem()
            if problem:
                return self._answer("start", False, problem)
            if self._control.out_of_time():
                return self._answer(
                    "start", False, "the time budget is spent; call extend(time='5m') to continue"
                )
            if self._thread is not None and self._thread.is_alive():
                self._thread.join(5)
            self._control.stop_requested = False
            self.error = None
            resumed = bool(self._record.trials) or self._record.config is not None
            if self._door is not None:
                self._door.close()
            try:  # hold the directory: a second owner anywhere is refused, nothing written
                self._door = doors.Door.open(self.directory, self)
            except SearchError as exc:
                return CommandResult("start", False, str(exc))
            budget = self.budget
            try:
                self._bus.publish(
                    SearchStarted(
                        name=self.name,
                        directory=str(self.directory),
                        data=self.settings.data,
                        oracle=self.settings.oracle,
                        objective=self.objective,
                        direction=self.direction,
                        trials=budget.trials,
                        time_budget_s=budget.time_budget_s,
                        epochs=budget.epochs,
                        seed=self.settings.seed,
                        space=self._record.space,
                        resumed=resumed,
                        workers=getattr(self.workers, "n", 1),
                    )
                )
            except JournalError as exc:  # nothing can be recorded, so nothing may run
                self._door.close()
                return self._answer("start", False, str(exc))
            self._set_state(SearchState.RUNNING, "continued" if resumed else "started")
            self._requests_only = requests_only
            self._thread = threading.Thread(target=self._run, name=f"automl_nb-{self.name}", daemon=True)
            self._thread.start()
            note = f" ({self._door.note})" if self._door.note else ""
            return CommandResult("start", True, "the search is running" + note)

    def pause(self) -> CommandResult:
        """Pause at the running trial's next batch end; nothing trains until resume()."""
        with self._lock:
            state = self.state
            if state is SearchState.RUNNING:
                self._set_state(SearchState.PAUSED, "paused by the user")
                return self._answer("pause", True, "paused: the running trial holds at its next batch")
            if state is SearchState.PAUSED:
                return self._answer("pause", True, "the search is already paused")
            return self._answer("pause", False, _not_now("pause", state))

    def resume(self) -> CommandResult:
        """Continue a paused search from the batch where it stopped."""
        with self._lock:
            state = self.state
            if state is SearchState.PAUSED:
                self._set_state(SearchState.RUNNING, "resumed by the user")
                return self._answer("resume", True, "resumed")
            if state is SearchState.RUNNING:
                return self._answer("resume", True, "the search is already running")
            if state.is_finished() or state is SearchState.IDLE:
                return self._answer(
                    "resume", False, f"the search is {state.value}; call start() to continue it"
                )
            return self._answer("resume", False, _not_now("resume", state))

    def step(self) -> CommandResult:
        """Run one more trial, then pause again (step mode)."""
        with self._lock:
            self._step = True
            state = self.state
            if state is SearchState.PAUSED:
                self._set_state(SearchState.RUNNING, "one step")
                return self._answer("step", True, "running one trial, then pausing")
            if state is SearchState.RUNNING:
                return self._answer("step", True, "the search will pause after the running trial")
            if state is SearchState.IDLE or state.is_finished():
                result = self.start()
                return self._answer("step", bool(result), str(result))
            return self._answer("step", False, _not_now("step", state))

    def stop(self) -> CommandResult:
        """End the running trial at its next batch (status stopped) and start no other."""
        with self._lock:
            state = self.state
            if state in (SearchState.RUNNING, SearchState.PAUSED):
                self._control.request_stop()
                self._set_state(SearchState.STOPPING, "stopped by the user")
                return self._answer("stop", True, "stopping: the running trial ends at its next batch")
            if state is SearchState.STOPPING:
                return self._answer("stop", True, "the search is already stopping")
            return self._answer("stop", False, f"the search is {state.value}; there is nothing to stop")

    def _trial_or_answer(self, command: str, trial_id: Any) -> tuple[str | None, CommandResult | None]:
        tid = normalise_trial_id(trial_id)
        with self.lock:
            trials = self._record.trials
            if tid not in trials:
                known = ", ".join(list(trials)[-8:]) or "none yet"
                return None, self._answer(
                    command, False, f"there is no trial {tid}; trials are: {known}", trial_id=tid
                )
        return tid, None

    def prune(self, trial_id: str | int) -> CommandResult:
        """Stop the running trial at its next batch; it is marked pruned and its best score so far counts."""
        with self._lock:
            tid, answer = self._trial_or_answer("prune", trial_id)
            if answer is not None:
                return answer
            status = self._record.trials[tid].status
            if status != "running":
                return self._answer(
                    "prune", False, f"trial {tid} is {status}; only a running trial can be pruned",
                    trial_id=tid,
                )
            if self._control.prune_target == tid:
                return self._answer("prune", True, f"trial {tid} is already being pruned", trial_id=tid)
            self._control.request_prune(tid)
            return self._answer(
                "prune", True, f"trial {tid} stops at its next batch and is marked pruned", trial_id=tid
            )

    def promote(self, trial_id: str | int, epochs: int = 5) -> CommandResult:
        """Train a finished trial on for ``epochs`` more epochs from its best checkpoint, as a new trial."""
        epochs = positive_int("epochs", epochs)
        with self._lock:
            tid, answer = self._trial_or_answer("promote", trial_id)
            if answer is not None:
                return answer
            trial = self._record.trials[tid]
            if trial.status not in PROMOTABLE:
                return self._answer(
                    "promote", False,
                    f"trial {tid} is {trial.status}; only a completed, pruned or stopped trial "
                    "can be promoted", trial_id=tid,
                )
            if not self._trainer.has_checkpoint(tid):
                return self._answer(
                    "promote", False, f"trial {tid} has no saved checkpoint to train on from", trial_id=tid
                )
            for request in self._control.pending():
                if request.source == "promoted" and request.parent_id == tid:
                    return self._answer(
                        "promote", True, f"trial {tid} is already queued for promotion", trial_id=tid
                    )
            self._control.push(
                Request(
                    source="promoted",
                    values=dict(trial.hyperparameters),
                    parent_id=tid,
                    epochs=epochs,
                    initial_epoch=trial.epochs,
                )
            )
            message = f"trial {tid} trains on for {epochs} more epochs as the next trial"
            return self._continue_if_ended("promote", message, trial_id=tid, epochs=epochs)

    def enqueue(self, hyperparameters: dict[str, Any]) -> CommandResult:
        """Run these hyperparameter values as the next trial (missing ones take the space's defaults)."""
        if not isinstance(hyperparameters, dict):
            raise SearchError(
                f"hyperparameters must be a dict such as {{'learning_rate': 0.001}}; got {hyperparameters!r}"
            )
        with self._lock:
            values = self._check_values(hyperparameters)
            self._control.push(Request(source="enqueued", values=values))
            shown = ", ".join(f"{k}={v}" for k, v in hyperparameters.items()) or "the defaults"
            return self._continue_if_ended(
                "enqueue", f"queued {shown} as the next trial", hyperparameters=values
            )

    def extend(self, trials: int | None = None, time: float | str | None = None) -> CommandResult:
        """Raise the trial and/or time budget; continues a search that has ended."""
        if trials is None and time is None:
            raise SearchError(("extend() needs more trials or more time, such as ", Keyword("trials", 5),
                               " or ", Keyword("time", "5m")))
        add_trials = positive_int("trials", trials, allow_none=True)
        add_time = check_time(time)
        with self._lock:
            parts = []
            if add_trials:
                parts.append(f"{add_trials} more trials")
            if add_time:
                parts.append(f"{format_duration(add_time)} more time")
            budget = self.budget.extended(trials=add_trials, time_s=add_time,
                                          spent_s=self._control.running_time())
            # the record folds it: the one change, which the engine and the Control read
            self._publish(BudgetChanged(**dataclasses.asdict(budget)))
            self._control.budget_changed()
            return self._continue_if_ended("extend", "budget raised: " + " and ".join(parts),
                                           trials=add_trials, time_s=add_time)

    def _continue_if_ended(self, command: str, message: str, **args: Any) -> CommandResult:
        state = self.state
        if state.is_finished() or (state is SearchState.IDLE and self._record.config is not None):
            # a promotion or a queued trial after the end runs just that; extend() continues the search
            started = self._start(requests_only=command in ("promote", "enqueue"))
            if not started:
                return self._answer(command, False, f"{message}, but {started}", **args)
            message += "; the search continues"
        return self._answer(command, True, message, **args)

    def wait(self, timeout: float | None = None) -> SearchState:
        """Block until the search ends (or ``timeout`` seconds pass). Ctrl-C ends the wait, not the search."""
        deadline = None if timeout is None else _time.monotonic() + timeout
        try:
            while True:
                thread = self._thread
                if thread is None or not thread.is_alive():
                    break
                left = None if deadline is None else deadline - _time.monotonic()
                if left is not None and left <= 0:
                    break
                thread.join(0.2 if left is None else min(0.2, left))
        except KeyboardInterrupt:
            pass
        return self.state

    # -- the search thread --------------------------------------------------------------------
    def _after_trial(self, trial_id: str, status: str) -> None:
        with self._lock:
            if self._step and self.state is SearchState.RUNNING:
                self._set_state(SearchState.PAUSED, f"step mode: paused after trial {trial_id}")

    def _run(self) -> None:
        reason: str | None = None
        final = SearchState.DONE
        try:
            self._engine = Engine(
                bus=self._bus,
                control=self._control,
                record=self._record,
                objective=self.objective,
                direction=self.direction,
                epochs=self.budget.epochs,
                after_trial=self._after_trial,
                requests_only=self._requests_only,
                **planning(self.settings, self.budget, self._trainer),
            )
            reason = self._trainer.run(self._engine)
            if self._control.stop_requested:
                reason = "stopped by the user"
            self._weigh_ensemble()
        except (JournalError, SpaceFailure) as exc:
            final, reason = SearchState.FAILED, str(exc)
        except Exception as exc:
            final, reason = SearchState.FAILED, explain_failure(exc)
            log.debug("search failed", exc_info=True)
        if final is SearchState.FAILED:
            self.error = reason
        with self._lock:
            if final is SearchState.FAILED:  # broken off mid-trial (a journal that failed)
                for trial in [t for t in self._record.trials.values() if t.status == "running"]:
                    self._publish(
                        TrialEnded(trial_id=trial.trial_id, status="failed", epochs=trial.epochs,
                                   reason=f"interrupted: {reason}")
                    )
            best = self._record.best()
            self._set_state(final, reason)
            self._publish(
                SearchEnded(
                    state=final.value,
                    reason=reason,
                    best_trial_id=best.trial_id if best else None,
                    best_score=best.score if best else None,
                )
            )
        if self._door is not None:  # let the directory go: another process may continue it
            self._door.close()

    # -- models ---------------------------------------------------------------------------------
    def _check_values(self, values: dict[str, Any]) -> dict[str, Any]:
        try:
            return self._trainer.check_values(values)
        except SpaceError as exc:
            raise SearchError.like(exc) from None


# --------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------
def panel_mimebundle(owner: Any, include: Any = None, exclude: Any = None) -> dict[str, Any]:
    """What Jupyter shows for a search (or a replay): its panel, with its repr as the text form."""
    try:
        widget = owner.panel()
    except Exception:  # no widget front end: the text form
        log.debug("panel unavailable", exc_info=True)
        return {"text/plain": repr(owner)}
    bundle = widget._repr_mimebundle_(include=include, exclude=exclude)
    if isinstance(bundle, tuple):
        bundle = bundle[0]
    bundle = dict(bundle or {})
    bundle["text/plain"] = repr(owner)
    return bundle


def _not_now(command: str, state: SearchState) -> str:
    if state is SearchState.IDLE:
        return f"the search has not started; call start() before {command}"
    if state.is_finished():
        return f"the search is {state.value}; there is nothing to {command}"
    return f"the search is {state.value}; {command} does not apply now"


def _print_progress(event: Event) -> None:
    if isinstance(event, TrialEnded):
        score = "-" if event.score is None else f"{event.score:.4f}"
        extra = f" ({event.reason})" if event.reason else ""
        print(f"trial {event.trial_id} {event.status}: score {score} after {event.epochs} epochs{extra}")
