"""Peers of bench/quality.py that search automl-nb's own built-in space, and FLAML.

``kt_bayesian_space``, ``kt_hyperband_space`` and ``optuna_tpe_space`` search the very
hypermodel automl-nb builds for the data, with the same preprocessing, so a comparison with
automl-nb measures the search, not the space:

- the data are loaded as a search loads them (``automl_nb.data.load_data``: the training
  split's statistics learnt into the preprocessing spec, the validation rows the task's);
- the space is ``automl_nb.spaces.get_space(None, dataset)`` (``builtin_spaces``: the MLP for
  a table, the 1-D and 2-D CNNs for sequences and images), and every model it builds is
  wrapped by ``automl_nb.data.layers.compose`` between the raw inputs' preprocessing layers
  and, for a regression, the target's inverse, as the search's own hypermodel
  (``backends/tuner._SeededHyperModel``) does; what ``fit`` gets is
  ``automl_nb.data.layers.fit_data``'s; the space's ``batch_size`` is fit's batch size;
- each is driven by the peer's own loop (KerasTuner's ``Tuner.search`` with its
  BayesianOptimization or Hyperband oracle, Optuna's ``study.optimize`` with TPE and a
  median pruner), with Keras' ``EarlyStopping`` (patience 5 on the validation loss, best
  weights) in every trial, up to ``SPACE_EPOCHS`` epochs a trial (Hyperband: its
  ``max_epochs``), trials until the budget; the trial running at the budget is stopped at
  its next batch. None of automl-nb's warm start, planner or repeats of small splits.

``flaml``: FLAML's ``AutoML().fit`` (LightGBM, XGBoost, random forests, extra trees, ...) on
the raw feature frame (text columns as FLAML takes them) with the validation rows as its
hold-out, ``time_budget`` the budget, its metric the task's (accuracy, R2), its defaults
otherwise (it retrains the chosen model at the end, which its time includes). Best-so-far is
read from its own log. Arrays (digits, MNIST-1D) go to it flattened.

Each runner takes the bench's task, budget, work folder, seed and a fresh ``Run`` to fill
(points, trials, note) and returns the test predictions in the task's labels, or None.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

SPACE_EPOCHS = 50
PATIENCE = 5
HYPERBAND_MAX_EPOCHS = 27


class Space:
    """A task's data as automl-nb loads it, its built-in space, and how to score its epochs."""

    def __init__(self, task: Any, seed: int):
        from automl_nb.data import load_data
        from automl_nb.spaces import get_space

        if isinstance(task.ours_train, tuple):
            self.dataset = load_data(task.ours_train, validation=task.ours_val, seed=seed,
                                     task=task.kind)
        else:
            self.dataset = load_data(task.ours_train, target=task.target_column,
                                     validation=task.ours_val, seed=seed, task=task.kind)
        self.task = task
        self.inner = get_space(None, self.dataset)
        spec = self.dataset.preprocessing
        weight = float(((spec.get("target") or {}).get("loss_weight")) or 1.0)
        y_val = np.asarray(self.dataset.y_val, np.float64)
        self.val_scale = float(np.var(y_val)) * weight if task.kind == "regression" else 1.0

    def hypermodel(self) -> Any:
        import keras_tuner

        from automl_nb.data.layers import compose

        inner, spec = self.inner, self.dataset.preprocessing

        class Composed(keras_tuner.HyperModel):
            def build(self, hp):
                return compose(inner.build(hp), spec)

            def fit(self, hp, model, *args, **kwargs):
                if kwargs.get("batch_size") is None and "batch_size" in hp.values:
                    kwargs["batch_size"] = int(hp.values["batch_size"])
                return model.fit(*args, **kwargs)

        return Composed(name=inner.name)

    def fit_data(self, seed: int) -> tuple[tuple[Any, ...], dict[str, Any]]:
        from automl_nb.data.layers import fit_data

        return fit_data(self.dataset, None, seed)

    def val_score(self, logs: dict) -> float | None:
        if self.task.kind == "classification":
            return logs.get("val_accuracy")
        mse = logs.get("val_loss")  # weighted as the search weighs it: R2 = 1 - loss / scale
        return None if mse is None else 1.0 - float(mse) / self.val_scale

    def predict(self, model: Any) -> np.ndarray:
        from automl_nb.data.layers import model_inputs

        x = self.task.ours_test
        if not isinstance(x, np.ndarray):
            from automl_nb.data.frames import frame_columns

            x = model_inputs(frame_columns(self.dataset.preprocessing, x, "data"))
        out = np.asarray(model.predict(x, verbose=0, batch_size=1024))
        if self.task.kind == "classification":
            names = np.asarray(self.dataset.class_names, dtype=object)
            return names[out.argmax(axis=1)]
        return out.reshape(len(out), -1)[:, 0]


def _callbacks(run: Any, space: Space, deadline: float) -> list[Any]:
    import keras

    class Budget(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if time.perf_counter() >= deadline:
                self.model.stop_training = True

        def on_epoch_end(self, epoch, logs=None):
            run.log(space.val_score(logs or {}))

    stop = keras.callbacks.EarlyStopping("val_loss", patience=PATIENCE, restore_best_weights=True)
    return [Budget(), stop]


def _objective(space: Space) -> Any:
    import keras_tuner

    if space.task.kind == "classification":
        return keras_tuner.Objective("val_accuracy", "max")
    return keras_tuner.Objective("val_loss", "min")


def run_kt_space(task: Any, budget: float, workdir: Path, seed: int, run: Any, oracle_name: str
                 ) -> np.ndarray | None:
    import keras_tuner

    space = Space(task, seed)
    deadline = run.t0 + budget
    base = (keras_tuner.oracles.BayesianOptimizationOracle if oracle_name == "bayesian"
            else keras_tuner.oracles.HyperbandOracle)

    class TimedOracle(base):
        def populate_space(self, trial_id):
            if time.perf_counter() >= deadline:
                return {"status": "STOPPED", "values": None}
            return super().populate_space(trial_id)

    if oracle_name == "bayesian":
        oracle = TimedOracle(objective=_objective(space), max_trials=10_000, seed=seed + 1)
        epochs = SPACE_EPOCHS
    else:
        oracle = TimedOracle(objective=_objective(space), max_epochs=HYPERBAND_MAX_EPOCHS,
                             factor=3, hyperband_iterations=1000, seed=seed + 1)
        epochs = HYPERBAND_MAX_EPOCHS
    tuner = keras_tuner.Tuner(oracle=oracle, hypermodel=space.hypermodel(),
                              directory=str(workdir / "kt"), project_name="kt", overwrite=True)
    args, kwargs = space.fit_data(seed)
    with contextlib.redirect_stdout(open(os.devnull, "w")):
        tuner.search(*args, epochs=epochs, verbose=0, callbacks=_callbacks(run, space, deadline),
                     **kwargs)
    run.trials = len(tuner.oracle.trials)
    models = tuner.get_best_models(1)
    return space.predict(models[0]) if models else None


def _suggest(trial: Any, hp: Any) -> Any:
    """An Optuna suggestion for one KerasTuner hyperparameter (the space is flat)."""
    kind = type(hp).__name__
    if kind == "Boolean":
        return trial.suggest_categorical(hp.name, [False, True])
    if kind == "Choice":
        return trial.suggest_categorical(hp.name, list(hp.values))
    if kind == "Fixed":
        return hp.value
    log = getattr(hp, "sampling", None) == "log"
    step = getattr(hp, "step", None)
    if log and step:  # KerasTuner's log steps multiply: 16, 32, 64, ...
        values, v = [], hp.min_value
        while v <= hp.max_value * (1 + 1e-9):
            values.append(int(v) if kind == "Int" else float(v))
            v *= step
        return trial.suggest_categorical(hp.name, values)
    if kind == "Int":
        return trial.suggest_int(hp.name, hp.min_value, hp.max_value, step=step or 1, log=log)
    return trial.suggest_float(hp.name, hp.min_value, hp.max_value, step=None if log else step,
                               log=log)


def run_optuna_space(task: Any, budget: float, workdir: Path, seed: int, run: Any
                     ) -> np.ndarray | None:
    import keras
    import keras_tuner
    import optuna

    from automl_nb.spaces import space_hyperparameters

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    space = Space(task, seed)
    deadline = run.t0 + budget
    hypermodel = space.hypermodel()
    whole = space_hyperparameters(space.inner)
    args, kwargs = space.fit_data(seed)
    best: dict[str, Any] = {"score": -math.inf, "weights": None, "values": None}

    class Report(keras.callbacks.Callback):
        def __init__(self, trial, values):
            super().__init__()
            self.trial, self.values, self.best, self.pruned = trial, values, -math.inf, False

        def on_epoch_end(self, epoch, logs=None):
            value = space.val_score(logs or {})
            if value is None or not math.isfinite(value):
                return
            if value > self.best:
                self.best = value
                if value > best["score"]:
                    best.update(score=value, weights=self.model.get_weights(), values=self.values)
            self.trial.report(value, epoch)
            if self.trial.should_prune():
                self.model.stop_training = True
                self.pruned = True

    def hyperparameters(values: dict[str, Any]) -> Any:
        hp = keras_tuner.HyperParameters.from_config(whole.get_config())
        hp.values.update(values)
        return hp

    def objective(trial):
        if time.perf_counter() >= deadline:
            trial.study.stop()
            raise optuna.TrialPruned()
        values = {hp.name: _suggest(trial, hp) for hp in whole.space}
        hp = hyperparameters(values)
        model = hypermodel.build(hp)
        report = Report(trial, values)
        hypermodel.fit(hp, model, *args, epochs=SPACE_EPOCHS, verbose=0,
                       callbacks=[report, *_callbacks(run, space, deadline)], **dict(kwargs))
        run.trials += 1
        if report.pruned:
            raise optuna.TrialPruned()
        return report.best

    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed),
                                pruner=optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=2))
    study.optimize(objective, timeout=budget, catch=(Exception,))
    if best["values"] is None:
        failed = [t for t in study.trials if t.state == optuna.trial.TrialState.FAIL]
        run.note = f"no trial scored ({len(failed)} failed)"
        return None
    model = hypermodel.build(hyperparameters(best["values"]))
    model.set_weights(best["weights"])
    return space.predict(model)


def run_flaml(task: Any, budget: float, workdir: Path, seed: int, run: Any) -> np.ndarray | None:
    import logging

    from flaml import AutoML
    from flaml.automl.data import get_output_from_log

    logging.getLogger("flaml.automl.logger").setLevel(logging.WARNING)
    if task.frames is not None:
        x_train, x_val, x_test = task.frames
        y_train = task.ours_train[task.target_column].to_numpy()
        y_val = task.y_val
    else:
        x_train, x_val, x_test = (a.reshape(len(a), -1) for a in (task.x_train, task.x_val,
                                                                   task.x_test))
        y_train, y_val = task.t_train, task.t_val
    if task.kind == "regression":
        y_train, y_val = np.asarray(y_train, np.float64), np.asarray(y_val, np.float64)
    log = workdir / "flaml.log"
    automl = AutoML()
    automl.fit(x_train, y_train, X_val=x_val, y_val=y_val, task=task.kind,
               metric="accuracy" if task.kind == "classification" else "r2", time_budget=budget,
               seed=seed, log_file_name=str(log), verbose=0)
    if log.exists():
        times, _, losses, _, _ = get_output_from_log(str(log), time_budget=math.inf)
        for t, loss in zip(times, losses):
            run.points.append((float(t), 1.0 - float(loss)))
        run.trials = len(times)
    if automl.model is None:
        run.note = "FLAML found no model in the budget"
        return None
    return np.asarray(automl.predict(x_test))
