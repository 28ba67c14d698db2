"""A yardstick for table searches: gradient-boosted trees fitted on the same rows.

When a search on a table starts, :func:`judge` fits scikit-learn's
``HistGradientBoostingClassifier`` / ``Regressor`` with its default settings on the search's
own training split and scores it on the same validation split (text columns as native
categories, missing values as they are). It is a referee, not a contestant: the model handed
back stays the search's Keras model, and the verdict only says where the network stands
against what a data scientist would try first. The verdict is a ``PlanMade`` event with
``decision="referee"``; the panel's best card and the command line read it from the record
(:func:`standing`). ``referee=False`` turns it off.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from .events import PlanMade

#: The ``PlanMade.decision`` of the referee's verdict.
DECISION = "referee"
#: Names of the measures the verdict is in, as the panel and the command line say them.
METRICS = {"accuracy": "validation accuracy", "r2": "validation R2"}


def applies(settings: Any, dataset: Any) -> bool:
    """Whether a search gets a referee: a table (the tabular family), unless turned off."""
    return bool(getattr(settings, "referee", True)) and dataset is not None and getattr(dataset, "family", None) == "tabular"


def frame(x: Any) -> Any:
    """A table's raw inputs as a DataFrame the trees take: text columns as categories."""
    import pandas as pd

    if isinstance(x, dict):
        df = pd.DataFrame({name: np.asarray(values).reshape(len(values), -1)[:, 0]
                           if np.asarray(values).ndim > 1 else np.asarray(values)
                           for name, values in x.items()})
    else:
        array = np.asarray(x)
        df = pd.DataFrame(array.reshape(len(array), -1))
        df.columns = [f"x{i}" for i in range(df.shape[1])]
    for name in df.columns:
        column = df[name]
        if pd.api.types.is_bool_dtype(column):
            df[name] = column.astype(np.int8)
        elif not pd.api.types.is_numeric_dtype(column):
            df[name] = column.astype("object").where(column.notna(), None).astype("category")
    return df


def _aligned(train: Any, val: Any) -> tuple[Any, Any]:
    """Validation categories in the training split's categories (an unseen value is missing)."""
    import pandas as pd

    for name in train.columns:
        if str(train[name].dtype) == "category":
            val[name] = val[name].astype("object").astype(
                pd.CategoricalDtype(train[name].cat.categories))
    return train, val


def judge(dataset: Any, seed: int | None = None) -> PlanMade:
    """The referee's verdict on a table: the trees' validation score as a ``PlanMade`` event.

    ``detail`` holds ``metric`` ("accuracy" or "r2"), ``score``, ``seconds``, ``rows`` and,
    for a regression, ``loss_scale``: the factor that turns the built-in space's validation
    loss (a squared error relative to the training target's variance) into R2 on the same
    rows (``r2 = 1 - val_loss / loss_scale``). A failure is said in the event, not raised.
    """
    started = time.perf_counter()
    try:
        from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

        x_train, x_val = _aligned(frame(dataset.x_train), frame(dataset.x_val))
        y_train, y_val = np.asarray(dataset.y_train), np.asarray(dataset.y_val)
        classify = dataset.task == "classification"
        model = (HistGradientBoostingClassifier if classify else HistGradientBoostingRegressor)(
            categorical_features="from_dtype", random_state=seed if seed is not None else 0)
        model.fit(x_train, y_train.reshape(-1))
        predicted = model.predict(x_val)
        detail: dict[str, Any] = {"rows": len(y_train), "model": type(model).__name__}
        if classify:
            detail.update(metric="accuracy", score=float(np.mean(predicted == y_val.reshape(-1))))
        else:
            y = y_val.reshape(-1).astype(np.float64)
            total = float(np.sum((y - y.mean()) ** 2))
            r2 = 1.0 - float(np.sum((y - predicted) ** 2)) / total if total > 0 else float("nan")
            detail.update(metric="r2", score=r2)
            weight = (dataset.preprocessing.get("target") or {}).get("loss_weight")
            if weight and total > 0:
                detail["loss_scale"] = float(weight) * total / len(y)
    except Exception as exc:  # noqa: BLE001 - a referee that cannot judge says so
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return PlanMade(decision=DECISION, message=(
            f"no yardstick for this table: gradient-boosted trees could not be fitted ({first})"),
            detail={"metric": None, "score": None, "error": first})
    detail["seconds"] = round(time.perf_counter() - started, 3)
    return PlanMade(decision=DECISION, message=(
        f"yardstick: gradient-boosted trees (scikit-learn's {detail['model']}, defaults) on the "
        f"same rows score {METRICS[detail['metric']]} {detail['score']:.4f} "
        f"({detail['seconds']:.1f} s)"), detail=detail)


def network_score(verdict: PlanMade, objective: str | None, best_score: Any) -> float | None:
    """The best network's score in the verdict's measure, when its objective converts to it:
    validation accuracy as it is; the built-in regression loss as R2 (``loss_scale``)."""
    metric, score = verdict.detail.get("metric"), _finite(best_score)
    if score is None or metric is None:
        return None
    if metric == "accuracy" and objective == "val_accuracy":
        return score
    scale = _finite(verdict.detail.get("loss_scale"))
    if metric == "r2" and objective == "val_loss" and scale:
        return 1.0 - score / scale
    return None


def standing(verdict: PlanMade | None, objective: str | None, best_score: Any) -> str | None:
    """Where the best network stands against the trees, in words, or None without a verdict:
    "the best network: validation R2 0.9100; gradient-boosted trees on the same rows: 0.9300"."""
    if verdict is None:
        return None
    metric, trees = verdict.detail.get("metric"), _finite(verdict.detail.get("score"))
    if metric is None or trees is None:
        return verdict.message
    name = METRICS[metric]
    ours = network_score(verdict, objective, best_score)
    if ours is None:
        return f"gradient-boosted trees on the same rows: {name} {trees:.4f}"
    return f"the best network: {name} {ours:.4f}; gradient-boosted trees on the same rows: {trees:.4f}"


def _finite(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None
