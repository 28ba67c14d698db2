"""The model a search hands back: its best trials averaged, when that predicts better.

Several trials of a search often tie on the objective and each gets different examples
wrong, so which one is handed back moves the test score by more than the search's own
progress does. When a search ends, it weighs its best trials (at most :data:`CANDIDATES`, by
score) on the validation data by greedy ensemble selection with replacement (Caruana et al.,
2004, as AutoGluon and auto-sklearn do): start from the best trial, add the trial whose
addition gives the running average the lowest validation loss (log loss for a
classification, mean squared error in the target's units for a regression), and stop when no
addition lowers it or after :data:`ROUNDS` additions. A trial added k times of n weighs k /
n. Starting from the best trial (not from the one with the lowest loss alone) keeps the
trial the panel calls best in the mix, at about the same test score.

The result is kept when it mixes two trials or more and its validation loss is lower than
the best trial's; then ``best_model()`` and ``export()`` hand back one plain Keras model that
feeds the raw inputs to each member (whole, with its own preprocessing) and sums their
outputs times their weights (``Rescaling`` and ``Add`` layers), so it loads without
automl-nb like a single trial's. The decision is journaled as a ``PlanMade`` event
(``decision="ensemble"``, its weights in ``detail``), so a reopened search rebuilds the same
model from its trials' checkpoints. A trial that is among the candidates when it ends keeps
its validation predictions then (:func:`could_join`; the trainer saves them beside its
checkpoint), so the weighing loads no model and fits in the search's time budget. What the
ensemble changed, search by search, is on the docs' benchmarks page (docs/benchmarks.md).

Only NumPy here at import; Keras is imported to build the model.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .events import PlanMade
from .predictor import class_indices
from .record import SCORED, SearchRecord, better
from .settings import Settings

#: The best trials (by the search's objective) that an ensemble may draw from.
CANDIDATES = 8
#: The most additions the greedy selection makes (a trial's weight is a multiple of 1/ROUNDS).
ROUNDS = 20
#: Probabilities are clipped to [EPS, 1] before their logarithm.
EPS = 1e-7


def loss(prediction: np.ndarray, y: np.ndarray, task: str) -> float:
    """A prediction's validation loss: mean log loss of the true class (``task``
    "classification"; class probabilities, or one sigmoid column for two classes), or mean
    squared error (a regression, in the target's units)."""
    p = np.asarray(prediction, dtype=np.float64)
    y = np.asarray(y)
    if task == "regression":
        return float(np.mean((p.reshape(len(y), -1)[:, 0] - y.astype(np.float64)) ** 2))
    labels = y.astype(np.int64).reshape(-1)
    if p.ndim == 1 or p.shape[-1] == 1:
        p1 = p.reshape(-1)
        picked = np.where(labels == 1, p1, 1.0 - p1)
    else:
        picked = p[np.arange(len(labels)), labels]
    return float(-np.mean(np.log(np.clip(picked, EPS, 1.0))))


def select(predictions: Sequence[np.ndarray], y: np.ndarray, task: str,
           rounds: int = ROUNDS, start: int | None = None) -> tuple[list[int], float]:
    """Greedy ensemble selection with replacement: ``(counts, loss)``, how many times each
    prediction was added and the validation loss of their average. The first addition is
    ``start`` (an index) or else the prediction with the lowest loss alone; any other is made
    only if it lowers the loss."""
    counts = [0] * len(predictions)
    if not predictions:
        return counts, math.inf
    total: np.ndarray | None = None
    current, n = math.inf, 0
    if start is not None:
        total = np.asarray(predictions[start], dtype=np.float64).copy()
        counts[start], current, n = 1, loss(total, y, task), 1
    for _ in range(rounds - n):
        best_i, best_loss = None, current
        for i, p in enumerate(predictions):
            mean = p if total is None else (total + p) / (n + 1)
            value = loss(mean, y, task)
            if value < best_loss - 1e-12:
                best_i, best_loss = i, value
        if best_i is None:
            break
        p = np.asarray(predictions[best_i], dtype=np.float64)
        total = p.copy() if total is None else total + p
        counts[best_i] += 1
        current, n = best_loss, n + 1
    return counts, current


def candidates(record: SearchRecord, limit: int = CANDIDATES,
               usable: Callable[[str], bool] | None = None) -> list[str]:
    """The best finished trials with a score (and, with ``usable``, that it accepts: a trial
    whose checkpoint is gone has no model), best first, ties in start order, at most ``limit``."""
    scored = [t for t in record.trials.values()
              if t.status in SCORED and t.score is not None and math.isfinite(t.score)
              and (usable is None or usable(t.trial_id))]
    sign = -1.0 if record.direction == "max" else 1.0
    ordered = sorted(scored, key=lambda t: sign * t.score)  # a stable sort: ties in start order
    return [t.trial_id for t in ordered[:limit]]


def could_join(record: SearchRecord, score: float, limit: int = CANDIDATES,
               usable: Callable[[str], bool] | None = None) -> bool:
    """Whether a trial ending now with ``score`` is among the :func:`candidates`: fewer than
    ``limit`` scored trials are as good. Finished trials keep their scores, so a trial that is
    not among them when it ends never will be."""
    if score is None or not math.isfinite(score):
        return False
    ahead = [tid for tid in candidates(record, limit, usable)
             if not better(score, record.trials[tid].score, record.direction)]
    return len(ahead) < limit


def applies(settings: Settings, dataset: Any) -> bool:
    """Whether a search weighs an ensemble when it ends: ``ensemble`` on, the built-in space
    (a custom space's outputs may not be probabilities) and data to weigh it on."""
    return settings.ensemble and settings.space == "builtin" and dataset is not None


def validation_inputs(dataset: Any, seed: int | None) -> Any:
    """The validation inputs as the trials' fit gets them (arrays, columns or a stream)."""
    from .data.layers import fit_data

    validation = fit_data(dataset, None, seed)[1]["validation_data"]
    return validation[0] if isinstance(validation, tuple) else validation


def weigh(record: SearchRecord, predict: Callable[[str], np.ndarray], y: np.ndarray,
          task: str, usable: Callable[[str], bool] | None = None) -> PlanMade | None:
    """The search's ensemble decision as a ``PlanMade`` event: the weights of the trials it
    mixes (``detail["weights"]``), or none and why (one trial is best alone). ``predict(trial_id)``
    gives a trial's validation predictions. None when fewer than two trials have a score."""
    ids = candidates(record, usable=usable)
    if len(ids) < 2:
        return None
    best_id = ids[0]
    predictions = [np.asarray(predict(tid)) for tid in ids]
    counts, mixed = select(predictions, y, task, start=0)
    alone = loss(predictions[0], y, task)
    used = sum(counts)
    weights = {tid: c / used for tid, c in zip(ids, counts, strict=True) if c}
    name = "log loss" if task == "classification" else "mean squared error"
    detail: dict[str, Any] = {"candidates": ids, "loss": name, "best_trial": best_id,
                              "best_loss": alone, "ensemble_loss": mixed}
    if len(weights) < 2 or not mixed < alone:
        return PlanMade(decision="ensemble", message=(
            f"the best model is trial {best_id} alone: adding any of the next {len(ids) - 1} "
            f"best trials does not lower its validation {name} ({alone:.4g})"),
            detail={**detail, "weights": {}})
    detail["weights"] = weights
    if task == "classification":
        accuracy = {"ensemble": _accuracy(sum(predictions[i] * (c / used) for i, c in enumerate(counts) if c), y),
                    "best": _accuracy(predictions[0], y)}
        detail["accuracy"] = accuracy
        extra = f"; accuracy {accuracy['ensemble']:.4f} against {accuracy['best']:.4f}"
    else:
        extra = ""
    members = ", ".join(f"{tid} ({w:.0%})" for tid, w in sorted(weights.items(), key=lambda kv: -kv[1]))
    return PlanMade(decision="ensemble", message=(
        f"the best model is an ensemble of trials {members}: validation {name} {mixed:.4g} "
        f"against {alone:.4g} for trial {best_id} alone{extra}"), detail=detail)


def _accuracy(prediction: np.ndarray, y: np.ndarray) -> float:
    labels = np.asarray(y).astype(np.int64).reshape(-1)
    return float(np.mean(class_indices(prediction) == labels))


def weights_of(plan: PlanMade | None) -> dict[str, float]:
    """An ensemble decision's weights by trial id ({} when the best trial is handed back alone)."""
    if plan is None:
        return {}
    weights = (plan.detail or {}).get("weights") or {}
    return {str(k): float(v) for k, v in weights.items()}


def predict(model: Any, x: Any, batch: int = 512) -> np.ndarray:
    """``model``'s outputs for ``x`` (an array, a dict of columns, or a ``PyDataset`` of
    ``(x, y)`` batches), called batch by batch: ``model.predict`` would trace a new function
    for each of the models weighed, and TensorFlow warns of the retracing in the user's cell."""
    import keras

    convert = keras.ops.convert_to_tensor
    if hasattr(x, "on_epoch_end") and hasattr(x, "__getitem__"):  # a PyDataset (an image folder)
        batches = (x[i][0] for i in range(len(x)))
    elif isinstance(x, dict):
        rows = len(next(iter(x.values())))
        batches = ({k: v[i:i + batch] for k, v in x.items()} for i in range(0, rows, batch))
    else:
        batches = (x[i:i + batch] for i in range(0, len(x), batch))
    parts = []
    for part in batches:
        inputs = {k: convert(v) for k, v in part.items()} if isinstance(part, dict) else convert(part)
        parts.append(keras.ops.convert_to_numpy(model(inputs, training=False)))
    return np.concatenate(parts)


def build(models: dict[str, Any], weights: dict[str, float]) -> Any:
    """One Keras model: the raw inputs go to each member, whose outputs are summed times their
    weights. Members are renamed ``trial_<id>`` (each a fresh model: from its checkpoint, or a
    final fit's)."""
    import keras

    first = next(iter(models.values()))
    inputs = _inputs_like(first.input)
    parts = []
    for tid, model in models.items():
        model.name = f"trial_{tid}"
        parts.append(keras.layers.Rescaling(weights[tid], name=f"weight_{tid}")(model(inputs)))
    output = keras.layers.Add(name="average")(parts)
    return keras.Model(inputs, output, name="ensemble")


def _inputs_like(structure: Any) -> Any:
    import keras

    def like(tensor: Any, name: str | None = None) -> Any:
        return keras.Input(shape=tensor.shape[1:], dtype=tensor.dtype, name=name or tensor.name)

    if isinstance(structure, dict):
        return {key: like(tensor, key) for key, tensor in structure.items()}
    if isinstance(structure, (list, tuple)):
        return [like(tensor) for tensor in structure]
    return like(structure)
