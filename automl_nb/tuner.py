"""The one place where KerasTuner meets our events and controls.

``AutoMLTuner`` subclasses ``keras_tuner.Tuner`` at its documented hooks and keeps
KerasTuner's own search loop, oracles, trial store and checkpoints:

- ``pre_create_trial`` blocks while the search is paused (a trial boundary);
- the oracle's ``populate_space`` is wrapped so the user's requests (promote,
  enqueue) run before the oracle's next proposal, as trials the oracle records
  as its own, and so the trial and time budgets end the loop;
- ``run_trial`` adds one fresh callback that, after every batch, obeys pause,
  prune, stop and the time budget and fails the trial on a NaN loss, after
  every epoch publishes the metrics, and at the start of a trial that trains
  on from another (a promotion, a Hyperband round) restores that trial's best
  checkpoint with its optimizer state (see ``restore_checkpoint``);
- ``on_trial_end`` lets the oracle score the trial (a pruned or stopped trial
  reaches it as COMPLETED with its best score so far) and publishes the outcome.

This module imports TensorFlow: import it on the search thread only.
"""

from __future__ import annotations

import logging
import math
import os
import re
from typing import Any

import keras
import keras_tuner
import numpy as np
from keras_tuner.src import config as kt_config
from keras_tuner.src import utils as kt_utils
from keras_tuner.src.engine import hypermodel as kt_hypermodel

from ._engine import Engine, Stop, TrialPlan

log = logging.getLogger("automl_nb")


#: KerasTuner trial statuses that mean the trial is over (INVALID is retried).
ENDED = ("COMPLETED", "FAILED")


class TrialFailure(Exception):
    """A trial cannot go on; the message is the reason the user sees."""


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


_CUSTOM_GRADIENT = "CustomGradient-"


def _gradient_registry() -> dict[str, Any] | None:
    try:
        from tensorflow.python.framework import ops as tf_ops

        return tf_ops._gradient_registry._registry  # private: see _forget_gradients
    except (ImportError, AttributeError):  # another TensorFlow: nothing to release
        return None


def _custom_gradients() -> set[str]:
    registry = _gradient_registry()
    return {n for n in list(registry or ()) if n.startswith(_CUSTOM_GRADIENT)}


def _forget_gradients(names: set[str]) -> None:
    """Drop gradient functions that ``tf.custom_gradient`` registered for good.

    Keras's TensorFlow optimizer sums gradients through ``all_reduce``, a
    ``tf.custom_gradient``: every traced train step registers a gradient function under a
    fresh name in TensorFlow's global registry, which is never emptied, and that function
    holds the step's gradient tensors, so each trial's whole train-step graph lived on (about
    2.5 MB a trial on iris). The tuner forgets the names one trial late: the trial that
    registered them has ended, and so has any trace that could still look one up.
    """
    registry = _gradient_registry()
    if registry is None:
        return
    for name in names:
        registry.pop(name, None)


class _SeededHyperModel(keras_tuner.HyperModel):
    """Seeds Keras on the search thread before each build (clear_session resets it)."""

    def __init__(self, inner: keras_tuner.HyperModel, tuner: AutoMLTuner):
        super().__init__(name=getattr(inner, "name", None), tunable=inner.tunable)
        self.inner = inner
        self.tuner = tuner

    def build(self, hp):
        seed = self.tuner.trial_seed
        if seed is not None:
            keras.utils.set_random_seed(seed)
        return self.inner.build(hp)

    def declare_hyperparameters(self, hp):
        self.inner.declare_hyperparameters(hp)

    def fit(self, hp, model, *args, **kwargs):
        _build_state(model, args[0] if args else kwargs.get("x"), args[1] if len(args) > 1 else kwargs.get("y"))
        return self.inner.fit(hp, model, *args, **kwargs)


def _build_state(model: Any, x: Any, y: Any) -> None:
    """Create the optimizer's, the loss's and the metrics' variables now, eagerly, before fit.

    With the TensorFlow backend (and no distribution strategy) Keras creates them while it
    traces the first train step, each inside a ``tf.cond`` that TensorFlow never releases, so
    every trial's whole train-step graph outlives the trial (about 3 MB a trial on iris, 100
    trials in one kernel: 300 MB). Built here on two samples, nothing is created in the trace.
    Metric state this touches is reset by fit at its first epoch. Best effort: a problem here
    is left for fit to report.
    """
    if not (isinstance(x, np.ndarray) and isinstance(y, np.ndarray)) or len(x) == 0:
        return
    try:
        xb, yb = x[:2], y[:2]
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

    def __deepcopy__(self, memo):
        return self

    def on_train_begin(self, logs=None):
        if self.plan.resume_from:
            self.tuner.restore_checkpoint(self.model, self.plan.resume_from)

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_begin(self, batch, logs=None):
        # a pause that came during validation or a checkpoint holds before this batch runs
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
        self.engine.epoch_end(self.trial_id, epoch, logs)


def _label_hyperband_bracket(oracle: Any, trial_id: str, response: dict[str, Any]) -> None:
    """Give a Hyperband trial the bracket it is in, not the oracle's newest one.

    KerasTuner's ``HyperbandOracle`` sets ``tuner/bracket`` to its current bracket, while the
    trial may fill a round of an older bracket still open (its epochs are right: they come
    from the trial's own bracket). In one process the two are the same; with workers, a new
    bracket starts while an older one's trials still run, and the label was wrong (trial
    0007, round 1 of bracket 1, labelled bracket 0), so the Hyperband diagram drew it in the
    wrong bracket. The oracle's own bookkeeping (``_brackets``) says where the trial is.
    """
    values = response.get("values")
    if not values or "tuner/bracket" not in values:
        return
    for bracket in getattr(oracle, "_brackets", None) or ():
        if any(info.get("id") == trial_id for round_ in bracket["rounds"] for info in round_):
            values["tuner/bracket"] = bracket["bracket_num"]
            return


class AutoMLTuner(keras_tuner.Tuner):
    """A KerasTuner Tuner that streams events and obeys the search's controls."""

    def __init__(
        self,
        *,
        oracle: keras_tuner.Oracle,
        hypermodel: keras_tuner.HyperModel,
        engine: Engine,
        directory: str,
        seed: int | None,
        overwrite: bool = False,
    ):
        self.engine = engine
        self.seed = seed
        self.trial_seed: int | None = seed
        self.stop_reason: str | None = None
        super().__init__(
            oracle=oracle,
            hypermodel=_SeededHyperModel(kt_hypermodel.get_hypermodel(hypermodel), self),
            directory=directory,
            project_name="kt",
            overwrite=overwrite,
        )
        self._wrap_oracle()

    # -- scheduling: our requests first, budgets enforced -----------------------
    def _wrap_oracle(self) -> None:
        oracle = self.oracle
        if not hasattr(self, "_propose"):
            self._propose = oracle.populate_space  # the oracle's own, wrapped once
        propose = self._propose

        def populate_space(trial_id: str) -> dict[str, Any]:
            engine = self.engine
            try:
                request = engine.next_request()
            except Stop as stop:
                self.stop_reason = str(stop)
                return {"status": "STOPPED", "values": None}
            if request is not None:
                engine.plan_request(trial_id, request)
                return {"status": "RUNNING", "values": dict(request.values)}
            response = propose(trial_id)
            status = response.get("status")
            if status == "RUNNING":
                _label_hyperband_bracket(oracle, trial_id, response)
                engine.note_oracle_trial()
            elif status == "STOPPED":
                self.stop_reason = "the oracle has no more trials to propose"
            return response

        oracle.populate_space = populate_space

    def pre_create_trial(self):
        self.engine.control.wait_while_paused()

    def reload(self):
        """Reload the project, and never run again a trial that had already ended.

        KerasTuner's ``Oracle.end_trial`` saves ``oracle.json`` before it takes the trial out
        of ``ongoing_trials``, so a process killed between a trial's end and the next trial's
        start (a kernel, or the chief of workers) leaves that finished trial listed as
        running; its reload puts every such trial in the retry queue and trains it again.
        The trial's own ``trial.json`` says it ended: only the trials that did not (still
        RUNNING, or INVALID and due a retry) stay queued.
        """
        super().reload()
        oracle = self.oracle
        queue = getattr(oracle, "_retry_queue", None)
        if isinstance(queue, list):  # the oracle itself, not a worker's client
            oracle._retry_queue = [
                t for t in queue if getattr(oracle.trials.get(t), "status", None) not in ENDED
            ]

    # -- a trial -------------------------------------------------------------------
    def on_trial_begin(self, trial):
        self._gradients_before = _custom_gradients()
        values = dict(trial.hyperparameters.values)
        plan = self.engine.plan_for(trial.trial_id, values)
        if self.seed is not None:
            index = int(trial.trial_id) if trial.trial_id.isdigit() else len(self.oracle.trials)
            self.trial_seed = (self.seed * 7919 + index) % (2**31 - 1)
        self.engine.begin_trial(plan, values)

    def run_trial(self, trial, *args, **kwargs):
        plan = self.engine.plan_for(trial.trial_id, dict(trial.hyperparameters.values))
        kwargs["epochs"] = plan.epochs
        kwargs["initial_epoch"] = plan.initial_epoch
        kwargs["callbacks"] = list(kwargs.get("callbacks") or []) + [_StreamCallback(self, plan)]
        try:
            return super().run_trial(trial, *args, **kwargs)
        except Exception as exc:
            reason = describe_failure(exc)
            self.engine.fail(trial.trial_id, reason)
            raise keras_tuner.errors.FailedTrialError(reason) from exc

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
        new = _custom_gradients() - getattr(self, "_gradients_before", set())
        stale, self._gradients_pending = getattr(self, "_gradients_pending", set()), new
        _forget_gradients(stale)

    def on_search_begin(self):
        self._debug = kt_config.DEBUG
        kt_config.DEBUG = False  # a failed trial is reported as an event, not a traceback

    def on_search_end(self):
        kt_config.DEBUG = getattr(self, "_debug", True)

    # -- checkpoints -----------------------------------------------------------------
    def checkpoint_path(self, trial_id: str) -> str:
        return self._get_checkpoint_fname(trial_id)

    def has_checkpoint(self, trial_id: str) -> bool:
        return os.path.exists(self._get_checkpoint_fname(trial_id))

    def restore_checkpoint(self, model: keras.Model, trial_id: str) -> bool:
        """Load a trial's best checkpoint: weights and optimizer state.

        Keras 3 keeps the optimizer's variables in the same weights file, but only
        loads them into an optimizer that is already built; KerasTuner's own
        Hyperband reload skips that step and so starts every round with a fresh
        optimizer. Building it first brings back its step count and moments.
        Returns whether the optimizer state was restored.
        """
        if not model.built:
            config_path = self._get_build_config_fname(trial_id)
            if os.path.exists(config_path):
                model.build_from_config(kt_utils.load_json(config_path))
        optimizer = getattr(model, "optimizer", None)
        if optimizer is not None and not optimizer.built:
            optimizer.build(model.trainable_variables)
        model.load_weights(self._get_checkpoint_fname(trial_id))
        return optimizer is not None and int(np.asarray(optimizer.iterations)) > 0

    def load_trial_model(self, trial_id: str) -> keras.Model:
        """A trial's model at its best epoch, built on the calling thread."""
        trial = self.oracle.get_trial(trial_id)
        model = self.hypermodel.build(trial.hyperparameters)
        self.restore_checkpoint(model, trial_id)
        return model
