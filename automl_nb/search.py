"""``Search``: data, space, oracle, tuner and controls on a background thread.

``automl_nb.search(...)`` checks its arguments at once (one sentence naming the
argument when something is wrong), writes the search's directory and returns a
running :class:`Search`. TensorFlow is imported on the search thread, so the
call returns at once and the kernel stays free for the panel's buttons; only a
custom ``space=`` is built once on the calling thread first (importing
TensorFlow), so that a broken ``build(hp)`` is one sentence before anything is
written.

A search's directory holds everything needed to reopen it with no code run
from it: ``search.json`` (settings), ``data.npz`` (the prepared arrays, no
pickle), ``events.jsonl`` (the journal) and ``kt/`` (KerasTuner's trials and
checkpoints).
"""

from __future__ import annotations

import difflib
import json
import logging
import os
import re
import shutil
import threading
import time as _time
import zipfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import oracles as _oracles
from ._args import parse_time
from ._engine import Engine
from .control import CommandResult, Control, Request, SearchState
from .data import Dataset, describe_input, load_data
from .events import (
    JOURNAL_NAME,
    BudgetChanged,
    CommandIssued,
    Event,
    EventBus,
    Journal,
    JournalError,
    SearchEnded,
    SearchStarted,
    SpaceDefined,
    StateChanged,
    TrialEnded,
    read_journal,
)
from .record import SCORED, SearchRecord

if TYPE_CHECKING:
    import pandas

log = logging.getLogger("automl_nb")

SETTINGS_NAME = "search.json"
DATA_NAME = "data.npz"
KT_DIR = "kt"
PROMOTABLE = SCORED  # a trial with a score can be promoted or exported


class SearchError(ValueError):
    """A bad argument to a search; the message names it and says what works."""


class _SpaceFailure(RuntimeError):
    """The search space could not be built at all."""


# --------------------------------------------------------------------------------------
# argument checks (no TensorFlow)
# --------------------------------------------------------------------------------------
def _positive_int(name: str, value: Any, *, allow_none: bool = False) -> int | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise SearchError(f"{name} must be a whole number of at least 1; got {value!r}")
    if value < 1:
        raise SearchError(f"{name} must be at least 1; got {value!r}")
    return int(value)


def _check_seed(seed: Any) -> int | None:
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise SearchError(f"seed must be a whole number of 0 or more, or None; got {seed!r}")
    return seed


def _check_time(value: Any) -> float | None:
    try:
        return parse_time(value)
    except ValueError as exc:
        raise SearchError(str(exc)) from None


def _known_metrics(dataset: Dataset) -> list[str]:
    base = ["loss", "accuracy"] if dataset.task == "classification" else ["loss", "mae"]
    return [f"val_{m}" for m in base] + base


def _check_objective(objective: str | None, dataset: Dataset, custom_space: bool) -> tuple[str, str]:
    if objective is None:
        objective = "val_accuracy" if dataset.task == "classification" else "val_loss"
    if not isinstance(objective, str) or not objective.strip():
        raise SearchError(f"objective must be a metric name such as 'val_accuracy'; got {objective!r}")
    objective = objective.strip()
    if not custom_space:
        known = _known_metrics(dataset)
        if objective not in known:
            hint = difflib.get_close_matches(objective, known, n=1)
            maybe = f" (did you mean '{hint[0]}'?)" if hint else ""
            raise SearchError(
                f"objective '{objective}' is not a metric of this {dataset.task} search; "
                f"choose one of: {', '.join(known)}{maybe}"
            )
    return objective, _oracles.objective_direction(objective)


def _default_directory(name: str, oracle: str) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    base = Path("automl_runs") / f"{_slug(name)}-{_slug(oracle)}-{stamp}"
    path, n = base, 1
    while path.exists():
        n += 1
        path = base.with_name(f"{base.name}-{n}")
    return path


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(text)).strip("_") or "search"


def is_search_directory(path: Path) -> bool:
    return (path / SETTINGS_NAME).exists() or (path / JOURNAL_NAME).exists()


def _prepare_directory(directory: Any, overwrite: bool) -> Path:
    try:
        path = Path(directory)
    except TypeError:
        raise SearchError(f"directory must be a path; got {directory!r}") from None
    if path.exists() and not path.is_dir():
        raise SearchError(f"directory '{path}' is a file; choose a folder path for the search")
    if path.is_dir() and any(path.iterdir()):
        if not is_search_directory(path):
            raise SearchError(
                f"directory '{path}' is not empty and holds no search; choose a new or empty folder"
            )
        if not overwrite:
            raise SearchError(
                f"directory '{path}' already holds a search; pass overwrite=True to replace it "
                f"or automl_nb.open('{path}') to reopen and continue it"
            )
        shutil.rmtree(path)
    return path


# --------------------------------------------------------------------------------------
# the Search
# --------------------------------------------------------------------------------------
class Search:
    """A search running (or run) in the background. Create it with :func:`automl_nb.search`."""

    def __init__(
        self,
        *,
        directory: Path,
        settings: dict[str, Any],
        dataset: Dataset | None,
        space: Any = None,
        oracle: Any = None,
        history: list[Event] | None = None,
        trainer: Any = None,
        verbose: bool = False,
    ):
        self.directory = Path(directory)
        self.settings = settings
        self.name: str = settings["name"]
        self.dataset = dataset
        self._space = space
        if oracle is None and settings["oracle"] in _oracles.ORACLES:
            oracle = settings["oracle"]
        self._oracle_arg = oracle
        self._trainer = trainer
        self._lock = threading.RLock()
        self._record = SearchRecord()
        self._bus = EventBus(Journal(self.directory / JOURNAL_NAME))
        self._bus.subscribe(self._record.apply)
        for event in history or ():
            self._bus._history.append(event)
            self._record.apply(event)
        spent = self._record.elapsed(self._record.ended_at or _time.time()) if history else 0.0
        self._control = Control(settings.get("time_budget_s"), spent_s=spent)
        if history:
            self._record.mark_interrupted()
        if self._record.state not in ("done", "failed"):
            self._record.state = "idle"  # a session that crashed left it "running": it is not now
        self._control.state = SearchState(self._record.state)
        self._thread: threading.Thread | None = None
        self._tuner: Any = None
        self._final_model: Any = None
        self._final_trial: str | None = None
        self.error: str | None = None
        self._step = bool(settings.get("step", False))
        self._verbose_unsub: Callable[[], None] | None = None
        if verbose:
            self._verbose_unsub = self.subscribe(_print_progress)

    # -- views ---------------------------------------------------------------------------
    @property
    def state(self) -> SearchState:
        return self._control.state

    @property
    def record(self) -> SearchRecord:
        """The live fold of the journal. Read it under ``search.lock`` from another thread."""
        return self._record

    @property
    def lock(self) -> threading.RLock:
        return self._bus._lock

    @property
    def objective(self) -> str:
        return self.settings["objective"]

    @property
    def direction(self) -> str:
        return self.settings["direction"]

    @property
    def space(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self._record.space)

    @property
    def workers(self) -> Any:
        """The :class:`~automl_nb.workers.WorkerPool` of a search with workers, else None.

        ``search.workers.join_command()`` says how another machine joins it.
        """
        return None if self._scripted else self._trainer

    @property
    def _scripted(self) -> bool:
        """Trials come from a trainer without Keras models (``automl_nb.testing``)."""
        return self._trainer is not None and not getattr(self._trainer, "keras_models", False)

    def subscribe(self, fn: Callable[[Event], Any], replay: bool = False) -> Callable[[], None]:
        """Call ``fn(event)`` on every new event (on the publishing thread); returns an unsubscribe."""
        return self._bus.subscribe(fn, replay=replay)

    def events(self) -> list[Event]:
        """Every event so far, read back from the journal."""
        return read_journal(self.directory / JOURNAL_NAME)

    @property
    def results(self) -> pandas.DataFrame:
        """One row a trial: trial_id, status, score, epochs, duration_s, parent_id, then hyperparameters."""
        with self.lock:
            return self._record.results()

    def best_hyperparameters(self) -> dict[str, Any]:
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
            panel = getattr(self, "_panel", None)
            if panel is None or getattr(panel, "comm", True) is None:  # none yet, or closed
                panel = self._panel = Panel(self)
            return panel

    def _repr_mimebundle_(self, include=None, exclude=None):
        return panel_mimebundle(self, include, exclude)

    # -- commands ----------------------------------------------------------------------------
    def _answer(self, command: str, accepted: bool, message: str, **args: Any) -> CommandResult:
        self._publish(CommandIssued(command=command, args=args, accepted=accepted, message=message))
        return CommandResult(command, accepted, message)

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
            if not self._scripted:
                problem = self._cannot_train()
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
            try:
                self._bus.publish(
                    SearchStarted(
                        name=self.name,
                        directory=str(self.directory),
                        data=self.settings["data"],
                        oracle=self.settings["oracle"],
                        objective=self.objective,
                        direction=self.direction,
                        trials=self.settings["trials"],
                        time_budget_s=self.settings["time_budget_s"],
                        epochs=self.settings["epochs"],
                        seed=self.settings["seed"],
                        space=self._record.space,
                        resumed=resumed,
                        workers=getattr(self.workers, "n", 1),
                    )
                )
            except JournalError as exc:  # nothing can be recorded, so nothing may run
                return self._answer("start", False, str(exc))
            self._set_state(SearchState.RUNNING, "continued" if resumed else "started")
            self._requests_only = requests_only
            self._thread = threading.Thread(target=self._run, name=f"automl_nb-{self.name}", daemon=True)
            self._thread.start()
            return CommandResult("start", True, "the search is running")

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
        tid = _normalise_trial_id(trial_id)
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
        epochs = _positive_int("epochs", epochs)
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
            if not self._scripted and not self._checkpoint_exists(tid):
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
            raise SearchError("extend() needs trials=N and/or time='5m'")
        add_trials = _positive_int("trials", trials, allow_none=True)
        add_time = _check_time(time)
        with self._lock:
            parts = []
            if add_trials:
                if self.settings["trials"] is not None:
                    self.settings["trials"] += add_trials
                    if self._engine is not None:
                        self._engine.trials_budget = self.settings["trials"]
                parts.append(f"{add_trials} more trials")
            if add_time:
                spent = self._control.running_time()
                budget = self._control.time_budget_s
                new_budget = (max(budget, spent) if budget is not None else spent) + add_time
                self._control.set_time_budget(new_budget)
                self.settings["time_budget_s"] = new_budget
                parts.append(f"{_fmt_seconds(add_time)} more time")
            self._save_settings()
            self._publish(
                BudgetChanged(trials=self.settings["trials"], time_budget_s=self.settings["time_budget_s"])
            )
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
    _engine: Engine | None = None
    _requests_only = False

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
                epochs=self.settings["epochs"],
                trials_budget=self.settings["trials"],
                after_trial=self._after_trial,
                requests_only=self._requests_only,
            )
            if self._trainer is not None:
                reason = self._trainer.run(self, self._engine)
            else:
                reason = self._run_tuner(self._engine)
            if self._control.stop_requested:
                reason = "stopped by the user"
        except (JournalError, _SpaceFailure) as exc:
            final, reason = SearchState.FAILED, str(exc)
        except Exception as exc:
            final, reason = SearchState.FAILED, _explain_failure(exc)
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

    def _build_tuner(self, engine: Engine | None):
        from . import spaces
        from .tuner import AutoMLTuner

        hypermodel = spaces.get_space(self._space, self.dataset)
        oracle = _oracles.get_oracle(
            self._oracle_arg,
            objective=self.objective,
            direction=self.direction,
            max_trials=None,
            epochs=self.settings["epochs"],
            seed=self.settings["seed"],
        )
        tuner = AutoMLTuner(
            oracle=oracle,
            hypermodel=hypermodel,
            engine=engine,
            directory=str(self.directory),
            seed=self.settings["seed"],
        )
        return tuner

    def _run_tuner(self, engine: Engine) -> str | None:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's C++ start-up chatter
        import keras_tuner  # noqa: F401 - imports TensorFlow, here on the search thread

        if self.settings["seed"] is not None:
            import tensorflow as tf

            tf.config.experimental.enable_op_determinism()
        if self._tuner is None:
            try:
                self._tuner = self._build_tuner(engine)
            except (SearchError, _oracles.OracleError):
                raise
            except Exception as exc:
                if type(exc).__name__ == "SpaceError":  # already a sentence about build(hp)
                    message = f"{exc}; fix it and start the search again"
                else:
                    message = f"build(hp) raised {type(exc).__name__}: {exc}; fix it and start the search again"
                raise _SpaceFailure(message) from exc
        else:
            self._tuner.engine = engine
            self._tuner._wrap_oracle()
        from .spaces import hp_spec

        space = [hp_spec(hp) for hp in self._tuner.oracle.hyperparameters.space]
        space = [s for s in space if not s["name"].startswith("tuner/")]
        if space != self._record.space:
            self._bus.publish(SpaceDefined(space=space))
        data = self.dataset
        self._tuner.search(
            data.x_train,
            data.y_train,
            validation_data=(data.x_val, data.y_val),
            batch_size=self.settings["batch_size"],
            shuffle=True,
            verbose=0,
        )
        return self._tuner.stop_reason

    # -- models ---------------------------------------------------------------------------------
    def _cannot_train(self) -> str | None:
        """Why this (reopened) search cannot build models, or None."""
        if self.dataset is None:
            return f"this search's data ({DATA_NAME}) could not be read back, so it cannot train"
        if self.settings.get("space") == "custom" and self._space is None:
            return (
                "this search used its own build(hp); reopen it with "
                "automl_nb.open(directory, space=build) to train"
            )
        if self._oracle_arg is None:
            return (
                "this search used its own Oracle; reopen it with "
                "automl_nb.open(directory, oracle=...) to continue"
            )
        return None

    def _checkpoint_exists(self, trial_id: str) -> bool:
        return (self.directory / KT_DIR / f"trial_{trial_id}" / "checkpoint.weights.h5").exists()

    def _check_values(self, values: dict[str, Any]) -> dict[str, Any]:
        from . import spaces

        if self._scripted:
            return self._trainer.check_values(values)
        tuner = self._ensure_tuner()
        space = tuner.oracle.get_space()
        for name in [n for n in space.values if n.startswith("tuner/")]:
            space.values.pop(name, None)
        return spaces.check_values(space, values)

    def _ensure_tuner(self):
        with self._lock:
            if self._tuner is None and self._thread is not None and self._thread.is_alive():
                raise SearchError(
                    "the search is still starting (importing TensorFlow and building its first "
                    "model); try again once the first trial has started"
                )
            if self._tuner is None:
                problem = self._cannot_train()
                if problem:
                    raise RuntimeError(problem)
                self._tuner = self._build_tuner(None)
            return self._tuner

    def _resolve_trial(self, trial_id: Any) -> str:
        with self.lock:
            if trial_id is None:
                best = self._record.best()
                if best is None:
                    raise RuntimeError("no trial has finished with a score yet; wait for one first")
                return best.trial_id
            tid = _normalise_trial_id(trial_id)
            trial = self._record.trials.get(tid)
            if trial is None:
                raise SearchError(f"trial_id {tid!r} is not a trial of this search")
            if trial.status not in PROMOTABLE:
                raise SearchError(f"trial {tid} is {trial.status}; choose a finished trial with a score")
            return tid

    def best_model(self, trial_id: str | None = None):
        """The best trial's model (or ``trial_id``'s) at its best epoch, as a Keras model."""
        if self._scripted:
            raise RuntimeError("a scripted search has no Keras models")
        tid = self._resolve_trial(trial_id)
        if trial_id is None and self._final_model is not None:
            return self._final_model
        return self._ensure_tuner().load_trial_model(tid)

    def final_fit(self, trial_id: str | None = None, epochs: int | None = None):
        """Retrain a trial (the best by default) on training + validation data; export() then writes it."""
        if self.state in (SearchState.RUNNING, SearchState.PAUSED, SearchState.STOPPING):
            raise RuntimeError(
                f"the search is {self.state.value}; final fit runs once it is done (stop() or wait() first)"
            )
        import numpy as np

        tid = self._resolve_trial(trial_id)
        with self.lock:
            trial = self._record.trials[tid]
            n_epochs = epochs or trial.best_epoch or trial.epochs or self.settings["epochs"]
        n_epochs = _positive_int("epochs", n_epochs)
        tuner = self._ensure_tuner()
        hp = tuner.oracle.get_trial(tid).hyperparameters
        model = tuner.hypermodel.build(hp)
        data = self.dataset
        model.fit(
            np.concatenate([data.x_train, data.x_val]),
            np.concatenate([data.y_train, data.y_val]),
            epochs=n_epochs,
            batch_size=self.settings["batch_size"],
            verbose=0,
        )
        self._final_model, self._final_trial = model, tid
        self._answer("final_fit", True, f"trial {tid} retrained on all data for {n_epochs} epochs",
                     trial_id=tid, epochs=n_epochs)
        return model

    def export(self, path: str | os.PathLike[str] | None = None, trial_id: str | None = None) -> Path:
        """Write a plain ``.keras`` file (Keras alone opens it) and ``<path>.json`` beside it."""
        target = Path(path) if path is not None else self.directory / "best.keras"
        if target.suffix != ".keras":
            raise SearchError(f"path must end in .keras; got '{target}' (try '{target.with_suffix('.keras')}')")
        tid = self._resolve_trial(trial_id)
        use_final = trial_id is None and self._final_model is not None
        model = self._final_model if use_final else self.best_model(tid)
        target.parent.mkdir(parents=True, exist_ok=True)
        model.save(target)
        with self.lock:
            trial = self._record.trials[tid]
            meta = {
                "format": "automl-nb/1",
                "trial_id": tid,
                "final_fit": use_final,
                "hyperparameters": dict(trial.hyperparameters),
                "objective": self.objective,
                "direction": self.direction,
                "score": trial.score,
                "task": self.dataset.task if self.dataset else None,
                "family": self.dataset.family if self.dataset else None,
                "class_names": self.dataset.class_names if self.dataset else None,
                "label_dtype": self.dataset.label_dtype if self.dataset else None,
                "preprocessing": self.dataset.preprocessing if self.dataset else None,
                "input_shape": list(self.dataset.input_shape) if self.dataset else None,
                "search": str(self.directory),
            }
        Path(str(target) + ".json").write_text(json.dumps(meta, indent=2, default=str))
        self._answer("export", True, f"exported trial {tid} to {target}", trial_id=tid, path=str(target))
        return target

    def _save_settings(self) -> None:
        _write_json(self.directory / SETTINGS_NAME, self.settings)


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


def _normalise_trial_id(trial_id: Any) -> str:
    if isinstance(trial_id, int) and not isinstance(trial_id, bool):
        return f"{trial_id:04d}"
    text = str(trial_id).strip()
    return f"{int(text):04d}" if text.isdigit() and len(text) < 4 else text


def _fmt_seconds(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:g}h"
    if seconds >= 60:
        return f"{seconds / 60:g}m"
    return f"{seconds:g}s"


def _explain_failure(exc: BaseException) -> str:
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


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str))
    os.replace(tmp, path)


def _print_progress(event: Event) -> None:
    from .events import TrialEnded

    if isinstance(event, TrialEnded):
        score = "-" if event.score is None else f"{event.score:.4f}"
        extra = f" ({event.reason})" if event.reason else ""
        print(f"trial {event.trial_id} {event.status}: score {score} after {event.epochs} epochs{extra}")


def _dataset_arrays(dataset: Dataset) -> dict[str, Any]:
    return {
        "x_train": dataset.x_train,
        "y_train": dataset.y_train,
        "x_val": dataset.x_val,
        "y_val": dataset.y_val,
    }


def _dataset_meta(dataset: Dataset) -> dict[str, Any]:
    return {
        "name": dataset.name,
        "family": dataset.family,
        "task": dataset.task,
        "class_names": dataset.class_names,
        "feature_names": dataset.feature_names,
        "preprocessing": dataset.preprocessing,
        "label_dtype": dataset.label_dtype,
    }


# --------------------------------------------------------------------------------------
# public entry points
# --------------------------------------------------------------------------------------
def search(
    data: Any,
    *,
    target: str | None = None,
    validation: Any = None,
    space: Any = None,
    oracle: Any = "bayesian",
    objective: str | None = None,
    trials: int | None = 20,
    epochs: int = 10,
    time: float | str | None = None,
    seed: int | None = None,
    directory: str | os.PathLike[str] | None = None,
    overwrite: bool = False,
    verbose: bool = False,
    start: bool = True,
    batch_size: int = 32,
    step: bool = False,
    workers: int = 1,
    listen: str | None = None,
) -> Search:
    """Start a KerasTuner search in the background and return it at once.

    ``data`` is a bundled name ("digits", "iris", "wine", "breast_cancer"), an
    ``(X, y)`` pair, a DataFrame or CSV path with ``target=``, or an image folder.
    ``oracle`` is "bayesian", "hyperband", "random" or a KerasTuner Oracle; for
    Hyperband ``epochs`` is its max_epochs. ``time`` takes seconds or "90s", "10m",
    "1h". ``step=True`` pauses after every trial (``search.step()`` runs the next).
    ``workers=N`` runs N trials at once in N worker processes (KerasTuner's distributed
    mode); ``listen="0.0.0.0"`` (or ``"HOST:PORT"``) also lets workers on other machines
    that share this filesystem join (see :mod:`automl_nb.workers`). ``space`` may name a
    build(hp) function as ``"module:function"``.
    """
    trials = _positive_int("trials", trials, allow_none=True)
    epochs = _positive_int("epochs", epochs)
    batch_size = _positive_int("batch_size", batch_size)
    time_budget = _check_time(time)
    seed = _check_seed(seed)
    oracle_checked = _oracles.check_oracle(oracle)
    oracle_name = oracle_checked if isinstance(oracle_checked, str) else type(oracle_checked).__name__
    workers = _positive_int("workers", workers)
    pool, space_ref, space = _worker_pool(workers, listen, space)
    dataset = load_data(data, target=target, validation=validation, seed=seed)
    objective, direction = _check_objective(objective, dataset, custom_space=space is not None)
    if space is not None:
        _check_space(space, dataset)
    name = describe_input(data)
    path = _prepare_directory(directory, overwrite) if directory is not None else _default_directory(
        name, oracle_name
    )
    settings = {
        "format": "automl-nb/1",
        "name": path.name if directory is not None else f"{name}-{oracle_name}",
        "data": dataset.summary(),
        "dataset": _dataset_meta(dataset),
        "oracle": oracle_name,
        "objective": objective,
        "direction": direction,
        "trials": trials,
        "time_budget_s": time_budget,
        "epochs": epochs,
        "seed": seed,
        "batch_size": batch_size,
        "space": "builtin" if space is None else "custom",
        "step": step,
        "created": datetime.now().isoformat(timespec="seconds"),
    }
    if pool is not None:
        settings.update(workers=workers, space_ref=space_ref)
    _create_directory(path, settings, dataset)
    result = Search(
        directory=path, settings=settings, dataset=dataset, space=space, oracle=oracle_checked,
        verbose=verbose, trainer=pool,
    )
    if start:
        started = result.start()
        if not started:  # the journal could not be written: leave nothing half-made behind
            shutil.rmtree(path, ignore_errors=True)
            raise SearchError(started.message)
    return result


def _worker_pool(workers: int, listen: str | None, space: Any) -> tuple[Any, str | None, Any]:
    """(the WorkerPool or None, the space's ``"module:function"`` name or None, the space).

    A pool when trials run in worker processes (``workers > 1`` or ``listen``); a space named
    as ``"module:function"`` is imported either way.
    """
    if workers <= 1 and listen is None and not isinstance(space, str):
        return None, None, space
    from .workers import WorkerPool, resolve_space

    distributed = workers > 1 or listen is not None
    space_ref, space = resolve_space(space, across_processes=distributed)
    pool = WorkerPool(workers, listen=listen) if distributed else None
    return pool, space_ref, space


def _check_space(space: Any, dataset: Dataset) -> None:
    """Build the user's model once, here, so a broken space is one sentence before any file.

    This imports TensorFlow on the calling thread (seconds), only when ``space=`` is given.
    The model is dropped at once; the search builds its own on its thread.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's C++ start-up chatter
    from . import spaces

    try:
        hypermodel = spaces.get_space(space, dataset)
    except spaces.SpaceError as exc:
        raise SearchError(str(exc)) from None
    import keras_tuner

    try:
        hypermodel.build(keras_tuner.HyperParameters())
    except spaces.SpaceError as exc:  # not a model, not compiled, the wrong shape
        raise SearchError(str(exc)) from None
    except Exception as exc:  # the user's own bug: keep its traceback as the cause
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        said = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
        raise SearchError(
            f"build(hp) raised {said} (built once with the default hyperparameters, to check "
            "it); fix it and start the search again"
        ) from exc


def _create_directory(path: Path, settings: dict[str, Any], dataset: Dataset | None) -> None:
    import numpy as np

    try:
        path.mkdir(parents=True, exist_ok=True)
        _write_json(path / SETTINGS_NAME, settings)
        if dataset is not None:
            np.savez(path / DATA_NAME, **_dataset_arrays(dataset))
    except OSError as exc:
        shutil.rmtree(path, ignore_errors=True)
        raise SearchError(
            f"directory '{path}' could not be written ({exc.strerror or exc}); choose a writable folder"
        ) from None


def open_search(
    directory: str | os.PathLike[str],
    *,
    space: Any = None,
    oracle: Any = None,
    verbose: bool = False,
    workers: int | None = None,
    listen: str | None = None,
) -> Search:
    """Reopen a search from its directory: every finished trial, ready to continue with start().

    Only JSON and NumPy arrays (without pickle) are read; no code from the directory runs.
    A search with a custom space needs ``space=`` again to continue or to rebuild models
    (with workers, as ``"module:function"`` or a function importable by that name).
    ``workers`` is how many worker processes ``start()`` runs trials in: by default as many
    as the search had; ``workers=1`` continues it in this process.
    """
    if workers is not None:
        workers = _positive_int("workers", workers)
    path = Path(directory)
    if not path.is_dir():
        raise SearchError(f"directory '{path}' does not exist; pass the folder of a saved search")
    if not is_search_directory(path):
        raise SearchError(f"directory '{path}' holds no search (no {SETTINGS_NAME} or {JOURNAL_NAME})")
    try:
        settings = json.loads((path / SETTINGS_NAME).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise SearchError(f"directory '{path}': its {SETTINGS_NAME} cannot be read ({exc})") from None
    if settings.get("space") == "custom" and space is None:
        log.info("search %s used a custom space: pass space= to continue it", path)
    history = read_journal(path / JOURNAL_NAME)
    data_path = path / DATA_NAME
    try:
        dataset = _read_dataset(data_path, settings) if data_path.exists() else None
    except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as exc:
        # pickled objects (refused), a broken file: the search is still shown, it cannot train
        log.warning("%s could not be read back (%s); the search is shown but cannot train",
                    data_path, str(exc).strip().splitlines()[0] if str(exc).strip() else exc)
        dataset = None
    if workers is None:
        saved = settings.get("workers", 1)
        workers = saved if isinstance(saved, int) and not isinstance(saved, bool) and saved >= 1 else 1
    pool, space_ref, space = _worker_pool(workers, listen, space)
    if pool is not None:
        settings = {**settings, "workers": workers, "space_ref": space_ref}
    elif "workers" in settings:
        settings = {**settings, "workers": 1}  # continued in this process
    return Search(
        directory=path,
        settings=settings,
        dataset=dataset,
        space=space,
        oracle=oracle,
        history=history,
        verbose=verbose,
        trainer=pool,
    )


def _read_dataset(data_path: Path, settings: dict[str, Any]) -> Dataset:
    """The prepared arrays, without pickle: an object array in the file is refused."""
    import numpy as np

    meta = settings.get("dataset", {})
    with np.load(data_path, allow_pickle=False) as arrays:
        return Dataset(
            name=meta.get("name", settings["name"]),
            family=meta["family"],
            task=meta["task"],
            x_train=arrays["x_train"],
            y_train=arrays["y_train"],
            x_val=arrays["x_val"],
            y_val=arrays["y_val"],
            class_names=meta.get("class_names"),
            feature_names=meta.get("feature_names"),
            preprocessing=meta.get("preprocessing"),
            label_dtype=meta.get("label_dtype", "int"),
        )
