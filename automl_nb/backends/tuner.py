"""The one place where KerasTuner meets our events and controls.

``AutoMLTuner`` subclasses ``keras_tuner.Tuner`` at its documented hooks and keeps
KerasTuner's own search loop, oracles, trial store and checkpoints:

- ``pre_create_trial`` blocks while the search is paused (a trial boundary);
- the oracle's scheduler (``oracles.steer``) is the search's one
  :class:`~automl_nb.backends.scheduler.Scheduler`: the user's requests (promote, enqueue)
  run before the oracle's next proposal, as trials the oracle records as its own, and the
  trial and time budgets end the loop;
- ``run_trial`` adds one fresh callback that, after every batch, obeys pause, prune, stop and
  the time budget and fails the trial on a NaN loss, after every epoch publishes the metrics,
  and at the start of a trial that trains on from another (a promotion, a Hyperband round)
  restores that trial's best checkpoint with its optimizer state (``restore_checkpoint``);
- a trial's best epoch is kept in memory (:class:`_BestEpoch`) and written to KerasTuner's
  checkpoint file once, when the trial's fit ends, not at every epoch that improves; then
  ``after_fit``, when the trainer set one, sees the model at that best epoch (the search keeps
  the validation predictions its ensemble will weigh, without loading the model again);
- ``on_trial_end`` lets the oracle score the trial (a pruned or stopped trial reaches it as
  COMPLETED with its best score so far) and publishes the outcome.

Private parts of KerasTuner and TensorFlow are reached through ``automl_nb._kt_compat`` only.
This module imports TensorFlow: import it on the search thread (or a worker process) only.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import threading
from collections.abc import Callable
from typing import Any

import keras
import keras_tuner
import numpy as np

from .. import _kt_compat as compat
from .._util import write_json_atomically
from ..data.layers import compose, epoch_passes, first_samples, repeat_rows
from ..errors import TrialFailure
from ..oracles import kind_of, steer
from ..status import OracleStatus, TrialStatus
from .engine import TrialPlan
from .scheduler import Scheduler, TunerEngine

log = logging.getLogger("automl_nb")


#: KerasTuner trial statuses that mean the trial is over (INVALID is retried).
ENDED = (OracleStatus.COMPLETED, OracleStatus.FAILED)


def describe_failure(exc: BaseException) -> str:
    """One sentence for the trial table."""
    if isinstance(exc, TrialFailure):
        return str(exc)
    if isinstance(exc, MemoryError):
        return "ran out of memory; try a smaller model or batch size"
    lines = [ln.strip() for ln in re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).splitlines() if ln.strip()]
    if len(lines) > 1 and lines[0].startswith("Exception encountered when calling"):
        lines = lines[1:]  # Keras's "when calling Layer.call()" wrapper: the cause comes next
    text = lines[0] if lines else ""
    name = type(exc).__name__
    return f"{name}: {text}" if text else name


class _SeededHyperModel(keras_tuner.HyperModel):
    """Builds each trial's model with its own seed (the same seed, the same weights), inside
    the search's preprocessing layers (``data.layers.compose``): the model trained is the one
    exported, taking the raw inputs."""

    def __init__(self, inner: keras_tuner.HyperModel, tuner: AutoMLTuner):
        super().__init__(name=getattr(inner, "name", None), tunable=inner.tunable)
        self.inner = inner
        self.tuner = tuner

    def build(self, hp):
        with BUILD_LOCK, compat.seeded_build(self.tuner.trial_seed):
            model = self.inner.build(hp)
            spec = self.tuner.preprocessing
            return model if spec is None else compose(model, spec)

    def declare_hyperparameters(self, hp):
        self.inner.declare_hyperparameters(hp)

    def fit(self, hp, model, *args, **kwargs):
        """The inner hypermodel's fit, with the optimizer's and metrics' state made first and
        a small training split repeated to :data:`~automl_nb.data.layers.MIN_STEPS` batches
        an epoch (``repeat_rows``; ``AutoMLTuner.epoch_info`` says it in the trial's info)."""
        if len(args) >= 2:
            batch_size = kwargs.get("batch_size") or hp.values.get("batch_size")
            x, y, _ = repeat_rows(args[0], args[1], batch_size)
            args = (x, y, *args[2:])
        self.tuner.check_cost(model)
        _build_state(model, args[0] if args else kwargs.get("x"), args[1] if len(args) > 1 else kwargs.get("y"))
        return self.inner.fit(hp, model, *args, **kwargs)


def _build_state(model: Any, x: Any, y: Any) -> None:
    """Create the optimizer's, the loss's and the metrics' variables now, eagerly, before fit.

    With the TensorFlow backend (and no distribution strategy) Keras creates them while it
    traces the first train step, each inside a ``tf.cond`` that TensorFlow never releases, so
    every trial's whole train-step graph outlives the trial (megabytes a trial, so hundreds over
    a long search; docs/benchmarks.md has the memory figures). Built here on two samples,
    nothing is created in the trace.
    Metric state this touches is reset by fit at its first epoch. Best effort: a problem here
    is left for fit to report.
    """
    try:
        batch = first_samples(x, y)
        if batch is None:
            return
        xb, yb = batch
        y_pred = model(xb, training=False)
        model.compute_loss(x=xb, y=yb, y_pred=y_pred, training=False)
        model.compute_metrics(xb, yb, y_pred, sample_weight=None)
        optimizer = getattr(model, "optimizer", None)
        if optimizer is not None and not optimizer.built:
            optimizer.build(model.trainable_variables)
    except Exception:  # fit reports the model's real problems
        log.debug("could not build the model's state before fit", exc_info=True)


class _StreamCallback(keras.callbacks.Callback):
    """Fresh per trial; KerasTuner's deep copy of callbacks hands back this same object."""

    def __init__(self, tuner: AutoMLTuner, plan: TrialPlan):
        super().__init__()
        self.tuner = tuner
        self.engine = tuner.engine
        self.plan = plan
        self.trial_id = plan.trial_id
        self.epoch = plan.initial_epoch
        self.can_slow = False  # set at the train's start, once the model is there

    def __deepcopy__(self, memo):
        return self

    def on_train_begin(self, logs=None):
        if self.plan.resume_from:
            self.tuner.restore_checkpoint(self.model, self.plan.resume_from)
        self.can_slow = _rate_settable(self.model)

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch
        # a command that came after the last batch (during validation, a checkpoint or the
        # trial's start) takes hold before this epoch's first batch; within an epoch the
        # batch's end is enough, and one call a batch is cheaper than two
        if self.engine.batch_end(self.trial_id) is not None:
            self.model.stop_training = True

    def on_train_batch_end(self, batch, logs=None):
        loss = logs.get("loss") if logs else None
        if loss is not None and not math.isfinite(float(loss)):
            raise TrialFailure(
                f"loss became {'NaN' if math.isnan(float(loss)) else 'infinite'} at epoch "
                f"{self.epoch + 1}; try a lower learning rate"
            )
        if self.engine.batch_end(self.trial_id) is not None:
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})
        verdict = self.engine.epoch_end(self.trial_id, epoch, logs, can_slow=self.can_slow)
        if verdict.stop:
            self.model.stop_training = True  # the planner's: a plateau, or halted at a rung
        elif verdict.rate_factor is not None:  # the planner's: a first plateau
            optimizer = self.model.optimizer
            rate = float(keras.ops.convert_to_numpy(optimizer.learning_rate))
            optimizer.learning_rate = rate * verdict.rate_factor


def _rate_settable(model: Any) -> bool:
    """Whether the model's optimizer has a learning rate that can be set (a float, not a
    schedule: Keras refuses to set a rate it computes)."""
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        return False
    try:
        optimizer.learning_rate = float(keras.ops.convert_to_numpy(optimizer.learning_rate))
    except (TypeError, ValueError, AttributeError):  # a LearningRateSchedule, or no rate at all
        return False
    return True


class _BestEpoch(keras.callbacks.Callback):
    """KerasTuner's ``SaveBestEpoch`` kept in memory: the weights and optimizer state of the
    best epoch so far are copied (milliseconds), and written to the trial's checkpoint file
    once, when fit ends (stopped, pruned or finished) or fails, instead of at every epoch
    that improves (an HDF5 file each time: tens of milliseconds for a small model, more for a
    big one).

    The file is written whole (a temporary file, then renamed), so a kill mid-write leaves
    the trial's earlier checkpoint or none. A crash during the trial loses that trial's
    checkpoint, as it loses the trial. After writing, the model holds its best epoch.
    """

    def __init__(self, objective: Any, path: str):
        super().__init__()
        self.objective = objective
        self.path = path
        self.best_value = -math.inf if objective.direction == "max" else math.inf
        self.best: list[np.ndarray] | None = None
        self.saved = False  # this fit's best epoch is in the model and in the file

    def on_train_begin(self, logs=None):
        self.saved = False

    def on_epoch_end(self, epoch, logs=None):
        if self.objective.has_value(logs):
            value = self.objective.get_value(logs)
            if not self.objective.better_than(value, self.best_value):
                return
            self.best_value = value
        # no objective in the logs: every epoch is kept, as KerasTuner does
        self.best = [np.array(v) for v in self._variables()]

    def on_train_end(self, logs=None):
        self.write()

    def _variables(self) -> list[Any]:
        optimizer = getattr(self.model, "optimizer", None)
        extra = list(optimizer.variables) if optimizer is not None and optimizer.built else []
        return list(self.model.weights) + extra

    def write(self) -> None:
        """Put the best epoch back in the model and save it; nothing when no epoch ended."""
        best, self.best = self.best, None
        if best is None:
            return
        variables = self._variables()
        if len(variables) != len(best):  # the optimizer was built after the snapshot
            variables = list(self.model.weights)
            best = best[: len(variables)]
        for variable, value in zip(variables, best):
            variable.assign(value)
        stem = self.path.removesuffix(".weights.h5")
        temporary = f"{stem}.partial.weights.h5"  # Keras saves weights to *.weights.h5 only
        self.model.save_weights(temporary)
        os.replace(temporary, self.path)
        self.saved = True


def _label_hyperband_bracket(oracle: Any, trial_id: str, response: dict[str, Any]) -> None:
    """Give a Hyperband trial the bracket it is in, not the oracle's newest one.

    KerasTuner's ``HyperbandOracle`` sets ``tuner/bracket`` to its current bracket, while the
    trial may fill a round of an older bracket still open (its epochs are right: they come
    from the trial's own bracket). In one process the two are the same; with workers, a new
    bracket starts while an older one's trials still run, and the label was wrong (trial
    0007, round 1 of bracket 1, labelled bracket 0), so the Hyperband diagram drew it in the
    wrong bracket. The oracle's own bookkeeping says where the trial is.
    """
    values = response.get("values")
    if not values or "tuner/bracket" not in values:
        return
    bracket = compat.hyperband_bracket(oracle, trial_id)
    if bracket is not None:
        values["tuner/bracket"] = bracket


# -- KerasTuner's hooks, as a search needs them (the parts behind them: _kt_compat) ----------
#: Held by every model build automl-nb makes (any search's thread, or the user's for
#: best_model): Keras's ``clear_session`` resets every thread's state, and
#: ``_kt_compat.seeded_build`` swaps Keras's seed source, so builds in one process never
#: overlap. Process-wide on purpose: the one lock for the one Keras in the process.
BUILD_LOCK = threading.RLock()

#: A full garbage collection runs before every this many builds (see :class:`SerializedBuilds`).
FULL_GC_EVERY = 8


class SerializedBuilds:
    """Mixed into a tuner (before ``keras_tuner.Tuner``): its builds hold :data:`BUILD_LOCK`,
    and clear Keras's session without a full garbage collection every time.

    KerasTuner's ``Tuner._try_build`` calls ``keras.backend.clear_session()`` before each
    build, and Keras's ``clear_session`` replaces the module's ``threading.local`` state: it
    resets the layer-name counters of EVERY thread. A build running meanwhile on another
    thread (a second search in the same kernel) then names two layers "dense" and fails. Two
    automl-nb builds never overlap now; a user's own model built in a cell while a search
    starts a trial can still meet it (Keras's own limitation).

    ``_try_build`` itself is KerasTuner's (``_kt_compat.check_build_hook`` checks its shape),
    less its two full garbage collections (the one in ``clear_session`` and its own
    ``gc.collect()``): in a process that holds TensorFlow each takes a few tenths of a second,
    most of a small trial's overhead over a plain ``model.fit``. One full collection runs
    every :data:`FULL_GC_EVERY` builds of the tuner, so the models of ended trials are still
    freed.
    """

    builds_done = 0  #: this tuner's builds so far (an instance attribute once it builds)

    def _try_build(self, hp):
        import gc

        with BUILD_LOCK:
            keras.backend.clear_session(free_memory=False)
            self.builds_done += 1
            if self.builds_done % FULL_GC_EVERY == 0:
                gc.collect()
            model = compat.build_hypermodel(self, hp)
            if not isinstance(model, keras.Model):
                raise keras_tuner.errors.FatalTypeError(
                    "Expected the model-building function, or HyperModel.build() to return a "
                    f"valid Keras Model instance. Received: {model} of type {type(model)}."
                )
            return model


class CheckedSpaceStart:
    """Mixed into a tuner (before ``keras_tuner.Tuner``): KerasTuner's
    ``_populate_initial_space``, less its first build when ``search()`` already made it.

    KerasTuner builds the model with the oracle's (empty) space, then again for each
    conditional scope that build left inactive (``HyperParameters.inactive_scopes``), to learn
    every hyperparameter. ``search()`` builds the user's ``build(hp)`` once with an empty
    HyperParameters to check it, and hands them over as ``checked_space``: when that build
    left no scope inactive, KerasTuner's builds would be exactly that one, so its
    hyperparameters are taken as they are (a model's build less at the start: 70 ms for a
    small CNN, seconds for a large model). Anything else (a scope left inactive, an oracle
    that holds a space already, a HyperModel that declares hyperparameters first, a later
    start, a KerasTuner that no longer records inactive scopes) builds as KerasTuner does.
    """

    checked_space: Any = None

    def _populate_initial_space(self):
        checked, self.checked_space = self.checked_space, None
        inactive = getattr(checked, "inactive_scopes", None)
        tunable = getattr(self.hypermodel, "tunable", False)  # else KerasTuner's builds record nothing
        if checked is not None and tunable and isinstance(inactive, list) and not inactive:
            hp = self.oracle.get_space()
            if not hp.space:
                self.hypermodel.declare_hyperparameters(hp)
                if not hp.space:
                    self.oracle.update_space(checked)
                    return
        super()._populate_initial_space()


class AtomicTunerFiles:
    """Mixed into a tuner's class (before ``keras_tuner.Tuner``): its save writes the oracle's
    files and ``tuner0.json`` whole, as ``oracles.AtomicOracleFiles`` does."""

    def save(self):
        if not compat.is_worker(self):
            self.oracle.save()
        write_json_atomically(compat.tuner_file(self), self.get_state())


class AutoMLTuner(SerializedBuilds, AtomicTunerFiles, CheckedSpaceStart, keras_tuner.Tuner):
    """A KerasTuner Tuner that streams events and obeys the search's controls."""

    def __init__(
        self,
        *,
        oracle: keras_tuner.Oracle,
        hypermodel: keras_tuner.HyperModel,
        engine: TunerEngine | None,
        directory: str,
        seed: int | None,
        preprocessing: dict[str, Any] | None = None,
        checked_space: keras_tuner.HyperParameters | None = None,
        train_rows: int | None = None,
        batch_size: int | None = None,
        max_params: int | None = None,
        project_name: str = "kt",
        overwrite: bool = False,
    ):
        self.engine = engine
        self.preprocessing = preprocessing
        self.checked_space = checked_space
        self.train_rows = train_rows  # rows fit gets as arrays (None: a stream, never repeated)
        self.batch_size = batch_size  # the search's fixed batch size, if it has one
        self.seed = seed
        self.max_params = max_params  # the parameter budget of a trial's model (None: none)
        self.over_budget: set[str] = set()  # trials ended at build time, over a budget
        self.trial_id: str | None = None  # the trial being run (its model's cost is its)
        self.trial_seed: int | None = seed
        self.scheduler: Scheduler | None = None  # the run's, made by steer_oracle
        #: ``after_fit(trial_id, model, score)``: called when a trial's fit has ended with its
        #: best epoch saved and in ``model`` (the trainer keeps the ensemble's predictions)
        self.after_fit: Callable[[str, Any, float], None] | None = None
        super().__init__(
            oracle=oracle,
            hypermodel=_SeededHyperModel(compat.get_hypermodel(hypermodel), self),
            directory=directory,
            project_name=project_name,
            overwrite=overwrite,
        )
        self.steer_oracle()

    # -- scheduling: our requests first, budgets enforced -----------------------
    def steer_oracle(self, others_running: Any = None) -> None:
        """Make a fresh :class:`Scheduler` for this engine the oracle's (``oracles.steer``);
        ``others_running``: trials run side by side (the workers' chief; see Scheduler)."""
        self.scheduler = Scheduler(
            self.engine, complete=self.complete_values, bracketed=self.bracketed(),
            label=lambda trial_id, response: _label_hyperband_bracket(self.oracle, trial_id, response),
            others_running=others_running,
        )
        steer(self.oracle, self.scheduler.next)

    @property
    def stop_reason(self) -> str | None:
        """Why the scheduler last ended the search loop (None: it has not)."""
        return None if self.scheduler is None else self.scheduler.stop_reason

    def bracketed(self) -> bool:
        """The oracle's kind as the scheduler needs it: whether it runs Hyperband's brackets
        (a queued trial then takes a first-round place). The one place the tuner asks."""
        return kind_of(self.oracle).bracketed

    def complete_values(self, values: dict[str, Any]) -> dict[str, Any]:
        """``values`` checked against the space, with the defaults for the ones missing."""
        from .. import spaces

        space = self.oracle.get_space()
        for name in [n for n in space.values if n.startswith("tuner/")]:
            space.values.pop(name, None)
        return spaces.check_values(space, values)

    def pre_create_trial(self):
        self.scheduler.boundary()

    def reload(self):
        """Reload the project, and never run again a trial that had already ended.

        KerasTuner's ``Oracle.end_trial`` saves ``oracle.json`` before it takes the trial out
        of ``ongoing_trials``, so a process killed between a trial's end and the next trial's
        start (a kernel, or the chief of workers) leaves that finished trial listed as
        running; its reload puts every such trial in the retry queue and trains it again.
        The trial's own ``trial.json`` says it ended: only the trials that did not (still
        RUNNING, or INVALID and due a retry) stay queued. An ``oracle.json`` a crash left torn
        is rebuilt from the trials' own files (``_kt_compat.reload_project``).
        """
        compat.reload_project(self, ENDED)

    # -- a trial -------------------------------------------------------------------
    def on_trial_begin(self, trial):
        self._gradients_before = compat.custom_gradient_names()
        values = dict(trial.hyperparameters.values)
        plan = self.engine.plan_for(trial.trial_id, values)
        if self.seed is not None:
            index = int(trial.trial_id) if trial.trial_id.isdigit() else len(self.oracle.trials)
            self.trial_seed = (self.seed * 7919 + index) % (2**31 - 1)
        self.engine.begin_trial(plan, values, info=self.epoch_info(values) or None)

    def epoch_info(self, values: dict[str, Any]) -> dict[str, Any]:
        """``TrialStarted.info`` about a trial's epoch: ``{"passes": n}`` when its epoch goes
        over a small training split n times (``repeat_rows``), else nothing."""
        passes = epoch_passes(self.train_rows, self.batch_size or values.get("batch_size"))
        return {"passes": passes} if passes > 1 else {}

    def check_cost(self, model: Any) -> None:
        """Publish a trial's model's parameters once it is built, before it trains; raise
        :class:`TrialFailure` when they are over ``max_params`` (the trial ends at once)."""
        params = int(model.count_params())
        measured = getattr(self.engine, "measured", None)  # a worker's link journals none
        if measured is not None and self.trial_id is not None:
            measured(self.trial_id, params=params)
        if self.max_params is not None and params > self.max_params:
            if self.trial_id is not None:
                self.over_budget.add(self.trial_id)
            raise TrialFailure(f"{params:,} parameters, over max_params={self.max_params:,}")

    def _failure_limit_applies(self, trial) -> bool:
        """Whether the oracle's ``max_consecutive_failed_trials`` should judge this trial's
        end: never for a trial over a budget, nor for a failure that is within the limit once
        the trials over a budget are left out of the failures in a row."""
        limit = self.oracle.max_consecutive_failed_trials
        if limit is None or not self.over_budget:
            return True
        if trial.trial_id in self.over_budget:
            return False
        in_a_row = 0
        for trial_id in [*self.oracle.end_order, trial.trial_id]:
            ended = self.oracle.trials.get(trial_id, trial)
            if trial_id in self.over_budget:
                continue
            in_a_row = in_a_row + 1 if ended.status == OracleStatus.FAILED else 0
        return in_a_row >= limit

    def run_trial(self, trial, *args, **kwargs):
        self.trial_id = trial.trial_id
        plan = self.engine.plan_for(trial.trial_id, dict(trial.hyperparameters.values))
        kwargs["epochs"] = plan.epochs
        kwargs["initial_epoch"] = plan.initial_epoch
        kwargs["callbacks"] = list(kwargs.get("callbacks") or []) + [_StreamCallback(self, plan)]
        best = _BestEpoch(self.oracle.objective, self.checkpoint_path(trial.trial_id))
        try:
            histories = compat.run_trial_executions(self, trial, args, kwargs, best)
        except Exception as exc:
            try:  # its best epoch before the failure, as KerasTuner would have left on disk
                best.write()
            except Exception:
                log.debug("could not save the failed trial's best epoch", exc_info=True)
            reason = describe_failure(exc)
            self.engine.fail(trial.trial_id, reason)
            raise keras_tuner.errors.FailedTrialError(reason) from exc
        if self.after_fit is not None and best.saved:
            try:
                self.after_fit(trial.trial_id, best.model, best.best_value)
            except Exception:  # only a saving of time is lost: the ensemble loads the model
                log.debug("after_fit failed for trial %s", trial.trial_id, exc_info=True)
        return histories

    def on_trial_end(self, trial):
        limit = self.oracle.max_consecutive_failed_trials
        try:
            if not self._failure_limit_applies(trial):
                self.oracle.max_consecutive_failed_trials = None
            super().on_trial_end(trial)
        finally:
            self.oracle.max_consecutive_failed_trials = limit
            if trial.status == OracleStatus.FAILED and self.engine.outcome(trial.trial_id) is None:
                reason = trial.message or str(TrialStatus.FAILED)
                self.engine.fail(trial.trial_id, reason.strip().splitlines()[-1])
            score = trial.score if trial.status == OracleStatus.COMPLETED else None
            self._release_gradients()
            self.engine.end_trial(trial.trial_id, score)

    def _release_gradients(self) -> None:
        """Forget the custom gradients the trial before this one registered (see below)."""
        new = compat.custom_gradient_names() - getattr(self, "_gradients_before", set())
        stale, self._gradients_pending = getattr(self, "_gradients_pending", set()), new
        compat.forget_custom_gradients(stale)

    def search(self, *fit_args, **fit_kwargs):
        """KerasTuner's search; a failed trial is an event, not a traceback on this thread."""
        with compat.quiet_tracebacks():
            return super().search(*fit_args, **fit_kwargs)

    # -- checkpoints -----------------------------------------------------------------
    def checkpoint_path(self, trial_id: str) -> str:
        return compat.checkpoint_file(self, trial_id)

    def has_checkpoint(self, trial_id: str) -> bool:
        return os.path.exists(self.checkpoint_path(trial_id))

    def restore_checkpoint(self, model: keras.Model, trial_id: str) -> bool:
        """Load a trial's best checkpoint: weights and optimizer state.

        Keras 3 keeps the optimizer's variables in the same weights file, but only
        loads them into an optimizer that is already built; KerasTuner's own
        Hyperband reload skips that step and so starts every round with a fresh
        optimizer. Building it first brings back its step count and moments.
        Returns whether the optimizer state was restored.
        """
        if not model.built:
            config_path = compat.build_config_file(self, trial_id)
            if os.path.exists(config_path):
                with open(config_path) as fh:
                    model.build_from_config(json.load(fh))
        optimizer = getattr(model, "optimizer", None)
        if optimizer is not None and not optimizer.built:
            optimizer.build(model.trainable_variables)
        model.load_weights(self.checkpoint_path(trial_id))
        return optimizer is not None and int(np.asarray(optimizer.iterations)) > 0

    def load_trial_model(self, trial_id: str) -> keras.Model:
        """A trial's model at its best epoch, built on the calling thread."""
        trial = self.oracle.get_trial(trial_id)
        model = self.hypermodel.build(trial.hyperparameters)
        self.restore_checkpoint(model, trial_id)
        return model
