"""Labels and targets: which task a target means (and why), its classes, its scaling, the split.

- **The task.** Text, booleans and categories are classification. Floats are regression. An
  integer target is classification unless it has many distinct values for its rows (more
  than ``MANY_VALUES`` values and fewer than ``ROWS_PER_CLASS`` rows a value on average: prices,
  counts), which is regression. ``task="regression" | "classification"`` overrides it. A
  classification with hundreds of classes and a handful of rows each gets a warning sentence.
- **A regression target** is standardised for the model (log1p first when it is non-negative
  and extremely skewed, ``SKEWED``); :mod:`automl_nb.data.layers` puts the inverse at the end
  of the model, so what it predicts, and every score and curve, is in the target's own units.
- **The split**: without ``validation=``, a seeded ``train_test_split`` holds out
  ``validation_split`` of the samples (``random_state=seed``, 0 when seed is None), stratified
  for classification when every class has at least two samples and each set can hold every
  class.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._util import short_list
from ..errors import DataError, Keyword
from .dataset import pandas, value_str

log = logging.getLogger("automl_nb")

TASKS = ("classification", "regression")
#: An integer target with more distinct values than this ...
MANY_VALUES = 30
#: ... and fewer rows than this a value on average is a quantity (regression), not classes.
ROWS_PER_CLASS = 20
#: A classification with at least this many classes ...
WARN_CLASSES = 100
#: ... and a median of fewer rows a class than this gets a warning.
WARN_ROWS = 5
#: Skewness above which a non-negative target is modelled as log1p(y). Below it, log space
#: scored worse in the target's units (which the squared error the model trains on matches)
#: on the skewed targets at hand (docs/benchmarks.md has the figures); above it (a target
#: over several orders of magnitude) a few rows would rule the squared error.
SKEWED = 5.0


@dataclass
class Labels:
    task: str
    label_dtype: str
    class_names: list[str] | None
    values: np.ndarray  # int64 codes or float32 targets
    codes: np.ndarray | None  # int64 codes for stratification (classification only)
    reason: str = ""


def check_task(task: Any) -> str | None:
    if task is None or task in TASKS:
        return task
    raise DataError(f"must be 'classification', 'regression' or None (inferred from the target); "
                    f"got {task!r}", argument="task", value=task)


def label_values(y_raw: Any, arg: str, what: str) -> np.ndarray:
    """y as a 1-D numpy array (object for pandas extension and category dtypes)."""
    pd = pandas()
    if isinstance(y_raw, pd.DataFrame):
        if y_raw.shape[1] != 1:
            raise DataError(
                f"{arg}: {what} is a DataFrame with {y_raw.shape[1]} columns; pass one column "
                "of labels"
            )
        y_raw = y_raw.iloc[:, 0]
    if isinstance(y_raw, (pd.Series, pd.Index, pd.Categorical)):
        dtype = y_raw.dtype
        if isinstance(dtype, np.dtype):
            values = np.asarray(y_raw)
        else:
            values = np.asarray(pd.Series(y_raw).astype(object))
    else:
        try:
            values = np.asarray(y_raw)
        except (ValueError, TypeError) as exc:
            raise DataError(
                f"{arg}: {what} could not be read as an array ({exc}); pass a 1-D array of labels"
            ) from None
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    if values.ndim != 1:
        raise DataError(
            f"{arg}: {what} has shape {values.shape}; pass a 1-D array of labels "
            "(for one-hot labels, y.argmax(axis=1))"
        )
    return values


def label_kind(values: np.ndarray, what: str) -> str:
    """ "int", "str" or "float", after checking for missing labels."""
    pd = pandas()
    kind = values.dtype.kind
    if kind == "f":
        bad = int(values.size - np.count_nonzero(np.isfinite(values)))
    elif kind == "O":
        bad = int(np.count_nonzero(pd.isna(values)))
    else:
        bad = 0
    if bad:
        raise DataError(
            f"{what} has {bad} missing (NaN or infinite) label{'s' if bad != 1 else ''}; drop "
            "those samples or fill them in first"
        )
    if kind == "b" or kind in "US":
        return "str"
    if kind in "iu":
        return "int"
    if kind == "f":
        return "float"
    if kind == "O":
        inferred = pd.api.types.infer_dtype(values, skipna=True)
        if inferred == "integer":
            return "int"
        if inferred in ("floating", "mixed-integer-float", "decimal"):
            if not np.all(np.isfinite(values.astype(np.float64))):
                raise DataError(
                    f"{what} has infinite labels; drop those samples or fill them in first"
                )
            return "float"
        return "str"
    raise DataError(
        f"{what} has dtype {values.dtype}; labels must be integers or strings "
        "(classification) or floats (regression)"
    )


def fit_labels(values: np.ndarray, kind: str, what: str, task: str | None = None) -> Labels:
    """The task, its classes (or float targets) and the reason, from the training labels."""
    n = len(values)
    if kind == "float" and task == "classification":
        floats = values.astype(np.float64)
        if np.any(floats != np.round(floats)):
            raise DataError(
                f"'classification' does not fit {what}, which holds numbers with decimals",
                argument="task", value=task,
                hint=("leave ", Keyword("task"), " out for a regression, or round the labels first"),
            )
        values, kind = floats.astype(np.int64), "int"
    if kind == "str" and task == "regression":
        raise DataError(f"'regression' does not fit {what}, which holds text labels",
                        argument="task", value=task,
                        hint=("leave ", Keyword("task"), " out for a classification"))
    if kind == "float" or (kind == "int" and task == "regression"):
        reason = ("the task was given as regression" if task == "regression" and kind == "int"
                  else f"{what} holds numbers with decimals")
        return Labels("regression", "float", None, values.astype(np.float32), None, reason)
    if kind == "int":
        ints = values.astype(np.int64)
        uniques, codes = np.unique(ints, return_inverse=True)
        if task is None and len(uniques) > MANY_VALUES and n / len(uniques) < ROWS_PER_CLASS:
            reason = (f"{what} holds {len(uniques):,} distinct whole numbers for {n:,} rows, too "
                      "many to be classes")
            return Labels("regression", "float", None, ints.astype(np.float32), None, reason)
        names = [str(int(u)) for u in uniques]
        reason = ("the task was given as classification" if task == "classification"
                  else f"{what} holds {len(uniques)} distinct whole numbers, few enough to be classes")
    else:
        strings = np.array([value_str(v) for v in values], dtype=object)
        names = sorted(set(strings.tolist()))
        index = {name: i for i, name in enumerate(names)}
        codes = np.fromiter((index[s] for s in strings), dtype=np.int64, count=len(strings))
        reason = f"{what} holds {len(names)} labels that are not numbers"
    if len(names) < 2:
        raise DataError(
            f"{what} has a single class {names[0]!r}; classification needs at least two classes"
        )
    codes = codes.astype(np.int64).reshape(-1)
    counts = np.bincount(codes)
    if len(names) >= WARN_CLASSES and float(np.median(counts)) < WARN_ROWS:
        log.warning(
            "%s has %d classes with a median of %g rows each, too few to learn most of them "
            "from; if it is a quantity, set the task to regression", what, len(names),
            float(np.median(counts)),
        )
    return Labels("classification", kind, names, codes, codes, reason)


def encode_labels(values: np.ndarray, labels: Labels, what: str, train_what: str) -> np.ndarray:
    """Validation labels, encoded with the training labels' classes."""
    kind = label_kind(values, what)
    if labels.task == "regression":
        if kind == "str":
            raise DataError(
                f"{what} holds strings but {train_what} is a regression target; pass numeric "
                "validation targets"
            )
        return values.astype(np.float32)
    if labels.label_dtype == "int" and kind == "float":
        floats = values.astype(np.float64)
        if np.all(floats == np.round(floats)):
            values, kind = floats.astype(np.int64), "int"
    if labels.label_dtype == "int" and kind != "int":
        raise DataError(
            f"{what} holds {kind} labels but {train_what} holds int labels; pass validation "
            "labels of the same type"
        )
    assert labels.class_names is not None
    index = {name: i for i, name in enumerate(labels.class_names)}
    if kind == "int":
        strings = [str(int(v)) for v in values.astype(np.int64)]
    else:
        strings = [value_str(v) for v in values]
    unknown = sorted({s for s in strings if s not in index})
    if unknown:
        raise DataError(
            f"{what} has label {unknown[0]!r}, which {train_what} does not have; every "
            "validation label must appear in the training labels ("
            + short_list(labels.class_names) + ")"
        )
    return np.fromiter((index[s] for s in strings), dtype=np.int64, count=len(strings))


# ---------------------------------------------------------------------------------------------
# a regression target's scaling


def target_scaling(y: np.ndarray) -> dict[str, Any]:
    """How a regression target is scaled for the model, from the training targets.

    ``z = (t - mean) / std`` with ``t = log1p(y)`` when ``log`` (a non-negative target whose
    skewness is above ``SKEWED`` and which log1p makes less skewed), else ``t = y``. The model
    predicts z and its last layers turn it back into y (capped at ``cap`` in t, so exp never
    overflows). ``loss_weight`` (1 / the variance of y) makes the squared error the model
    trains on relative to the target's variance: 1.0 is no better than predicting the mean,
    whatever the target's units, so every optimizer sees well-scaled gradients.
    """
    y64 = np.asarray(y, dtype=np.float64).reshape(-1)
    log_it = bool(y64.min() >= 0 and _skew(y64) > SKEWED and abs(_skew(np.log1p(y64))) < _skew(y64))
    t = np.log1p(y64) if log_it else y64
    std = float(t.std())
    if not math.isfinite(std) or std < 1e-12:
        std = 1.0
    var = float(y64.var())
    spec = {
        "mean": float(t.mean()),
        "std": std,
        "log": log_it,
        "loss_weight": 1.0 / var if math.isfinite(var) and var > 1e-12 else 1.0,
    }
    if log_it:
        spec["cap"] = float(t.max() + 2.0)
    return spec


def scale_target(spec: dict[str, Any], y: Any) -> np.ndarray:
    """y -> the standardised z the model's inner part predicts (NumPy, for checks)."""
    t = np.asarray(y, dtype=np.float64)
    if spec["log"]:
        t = np.log1p(t)
    return (t - spec["mean"]) / spec["std"]


def unscale_target(spec: dict[str, Any], z: Any) -> np.ndarray:
    """z -> y: what the model's last layers compute (NumPy, for checks)."""
    t = np.asarray(z, dtype=np.float64) * spec["std"] + spec["mean"]
    if spec["log"]:
        t = np.expm1(np.minimum(t, spec["cap"]))
    return t


def _skew(values: np.ndarray) -> float:
    std = values.std()
    if not math.isfinite(std) or std == 0:
        return 0.0
    return float(np.mean(((values - values.mean()) / std) ** 3))


# ---------------------------------------------------------------------------------------------
# the split


def split_indices(
    n: int, codes: np.ndarray | None, seed: int | None, split: float
) -> tuple[np.ndarray, np.ndarray]:
    """Seeded train/validation indices; stratified when every class can be in both sets."""
    from sklearn.model_selection import train_test_split

    n_val = math.ceil(split * n)
    n_train = n - n_val
    if n_val < 2 or n_train < 2:
        raise DataError(
            (f"has {n} sample{'s' if n != 1 else ''}, too few to hold out ",
             Keyword("validation_split", split),
             f": that leaves {n_train} for training and {n_val} for validation, and each needs at least 2"),
            argument="data", hint=("pass more data or ", Keyword("validation")),
        )
    stratify = None
    if codes is not None:
        counts = np.bincount(codes)
        counts = counts[counts > 0]
        k = len(counts)
        if counts.min() >= 2 and n_val >= k and n_train >= k:
            stratify = codes
    train, val = train_test_split(
        np.arange(n),
        test_size=split,
        random_state=0 if seed is None else int(seed),
        shuffle=True,
        stratify=stratify,
    )
    return np.asarray(train, dtype=np.int64), np.asarray(val, dtype=np.int64)
