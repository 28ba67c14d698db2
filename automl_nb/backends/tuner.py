"""The one place where KerasTuner meets our events and controls.

``AutoMLTuner`` subclasses ``keras_tuner.Tuner`` at its documented hooks and keeps
KerasTuner's own search loop, oracles, trial store and checkpoints:

- ``pre_create_trial`` blocks while the search is paused (a trial boundary);
- :meth:`AutoMLTuner.schedule` is the oracle's scheduler (``oracles.steer``): the user's
  requests (promote, enqueue) run before the oracle's next proposal, as trials the oracle
  records as its own, and the trial and time budgets end the loop;
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
from collections.abc import Callable
from typing import Any

import keras
import keras_tuner
import numpy as np

from .. import _kt_compat as compat
from ..data.layers import compose, epoch_passes, first_samples, repeat_rows
from ..errors import SpaceError, TrialFailure
from ..oracles import steer
from .engine import Engine, Stop, TrialPlan

log = logging.getLogger("automl_nb")


#: KerasTuner trial statuses that mean the trial is over (INVALID is retried).
ENDED = ("COMPLETED", "FAILED")


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
        with compat.seeded_build(self.tuner.trial_seed):
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


class AutoMLTuner(compat.SerializedBuilds, compat.AtomicTunerFiles, compat.CheckedSpaceStart,
                  keras_tuner.Tuner):
    """A KerasTuner Tuner that streams events and obeys the search's controls."""

    def __init__(
        self,
        *,
        oracle: keras_tuner.Oracle,
        hypermodel: keras_tuner.HyperModel,
        engine: Engine,
        directory: str,
        seed: int | None,
        preprocessing: dict[str, Any] | None = None,
        checked_space: keras_tuner.HyperParameters | None = None,
        train_rows: int | None = None,
        batch_size: int | None = None,
        project_name: str = "kt",
        overwrite: bool = False,
    ):
        self.engine = engine
        self.preprocessing = preprocessing
        self.checked_space = checked_space
        self.train_rows = train_rows  # rows fit gets as arrays (None: a stream, never repeated)
        self.batch_size = batch_size  # the search's fixed batch size, if it has one
        self.seed = seed
        self.trial_seed: int | None = seed
        self.stop_reason: str | None = None
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
    def steer_oracle(self) -> None:
        """Make :meth:`schedule` the oracle's scheduler (``oracles.steer``)."""
        steer(self.oracle, self.schedule)

    def schedule(self, trial_id: str, propose) -> dict[str, Any]:
        """The oracle's next trial: a queued request, a stop, or the oracle's proposal.

        Queued trials of the user or the warm start take Hyperband's next first-round place
        (:meth:`place`); everywhere else, and for promotions, they run as they are.
        """
        engine = self.engine
        try:
            request = engine.next_request()
        except Stop as stop:
            self.stop_reason = str(stop)
            return {"status": "STOPPED", "values": None}
        if request is not None and request.source != "promoted":
            try:
                request.values = self.complete_values(request.values)
            except SpaceError as exc:  # a portfolio entry this space cannot take
                log.info("skipping a queued trial (%s): %s", request.source, exc)
                return self.schedule(trial_id, propose)
        bracketed = isinstance(self.oracle, keras_tuner.oracles.HyperbandOracle)
        if request is not None and (request.source == "promoted" or not bracketed):
            engine.plan_request(trial_id, request)
            return {"status": "RUNNING", "values": dict(request.values)}
        response = propose(trial_id)
        status = response.get("status")
        if request is not None:
            return self.place(trial_id, request, response)
        if status == "RUNNING":
            _label_hyperband_bracket(self.oracle, trial_id, response)
            if not bracketed:
                try:
                    engine.check_proposal(response.get("values") or {})
                except Stop as stop:
                    self.stop_reason = str(stop)
                    return {"status": "STOPPED", "values": None}
            engine.note_oracle_trial()
        elif status == "STOPPED":
            self.stop_reason = "the oracle has no more trials to propose"
        return response

    def place(self, trial_id: str, request: Any, response: dict[str, Any]) -> dict[str, Any]:
        """Hyperband: a queued trial takes the first-round place the oracle just proposed.

        It then trains that round's epochs in that bracket, and goes on to the later rounds if
        it is among the best, as any of Hyperband's own trials. When the oracle's next trial
        is a later round, the request waits for the next first-round place; when the oracle
        has nothing to propose, it runs on its own.
        """
        engine = self.engine
        values = response.get("values") or {}
        if response.get("status") == "RUNNING":
            if values.get("tuner/round") == 0 and "tuner/trial_id" not in values:
                tuner_values = {k: v for k, v in values.items() if k.startswith("tuner/")}
                response = {**response, "values": {**request.values, **tuner_values}}
                _label_hyperband_bracket(self.oracle, trial_id, response)
                engine.plan_placed(trial_id, request, response["values"])
                return response
            engine.control.push_front(request)
            _label_hyperband_bracket(self.oracle, trial_id, response)
            engine.note_oracle_trial()
            return response
        engine.plan_request(trial_id, request)
        return {"status": "RUNNING", "values": dict(request.values)}

    def complete_values(self, values: dict[str, Any]) -> dict[str, Any]:
        """``values`` checked against the space, with the defaults for the ones missing."""
        from .. import spaces

        space = self.oracle.get_space()
        for name in [n for n in space.values if n.startswith("tuner/")]:
            space.values.pop(name, None)
        return spaces.check_values(space, values)

    def pre_create_trial(self):
        self.engine.control.wait_while_paused()

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

    def run_trial(self, trial, *args, **kwargs):
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
        try:
            super().on_trial_end(trial)
        finally:
            if trial.status == "FAILED" and self.engine.outcome(trial.trial_id) is None:
                self.engine.fail(trial.trial_id, (trial.message or "failed").strip().splitlines()[-1])
            score = trial.score if trial.status == "COMPLETED" else None
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
