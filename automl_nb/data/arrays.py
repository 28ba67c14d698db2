"""``(X, y)`` arrays: kept in their raw dtype, with the statistics the model's first layers use.

The families (:mod:`automl_nb.families`) decide from :func:`pair_sample` whose a pair is (2-D
tabular (N, features), 3-D a sequence (N, steps, channels) unless uint8, then a one-channel
image (N, height, width), 4-D an image (N, height, width, channels)) and load it here with
:func:`load_arrays`. X is never converted to float32 as a
whole: the model takes it as it is (uint8 images through ``Rescaling(1/255)``, everything else
through a ``Normalization`` whose mean and variance come from the training split, per feature
for tabular data and per channel for sequences and float images). NaN or infinite values in
arrays are refused (a DataFrame handles missing values).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import DataError, Keyword
from .dataset import (
    SPEC_VERSION,
    Dataset,
    check_lengths,
    is_dataframe,
    is_number,
    kind_name,
)
from .labels import (
    encode_labels,
    fit_labels,
    label_kind,
    label_values,
    split_indices,
    target_scaling,
)


def pair_sample(data: Any) -> tuple[int, np.dtype] | None:
    """(X's number of dimensions, its dtype) when ``data`` is a pair ``(X, y)`` whose X reads
    as an array, else None. Cheap for arrays (no copy); never raises."""
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        return None
    x = data[0]
    if is_dataframe(x):
        return 2, np.dtype(np.float64)
    if not (hasattr(x, "ndim") and hasattr(x, "dtype")):
        try:
            x = np.asarray(x)
        except (ValueError, TypeError):
            return None
    try:
        return int(x.ndim), np.dtype(x.dtype)
    except TypeError:  # a dtype NumPy does not know (a framework's tensor)
        return None


def load_arrays(
    x_raw: Any, y_raw: Any, validation: Any, seed: int | None, split: float, task: str | None,
    family: str, *, image: bool = False,
) -> Dataset:
    """The Dataset of a pair ``(X, y)`` for ``family``; ``image`` keeps uint8 (and boolean)
    samples as uint8 images, rescaled in the model, an (H, W) sample gaining its channel."""
    x, feature_names = features(x_raw, "data", image=image)
    y_values = label_values(y_raw, "data", "y")
    check_lengths(len(x), len(y_values), "data")
    labels = fit_labels(y_values, label_kind(y_values, "y"), "y", task)
    if validation is None:
        train, val = split_indices(len(x), labels.codes, seed, split)
        x_train, x_val = x[train], x[val]
        y_train, y_val = labels.values[train], labels.values[val]
    else:
        if not (isinstance(validation, (tuple, list)) and len(validation) == 2):
            raise DataError(
                "validation must be a pair (X_val, y_val) of arrays when data is (X, y); "
                f"got {kind_name(validation)}"
            )
        x_train, y_train = x, labels.values
        x_val, _ = features(validation[0], "validation", image=image)
        if x_val.shape[1:] != x.shape[1:]:
            val_kind = family if x_val.ndim == x.ndim else f"{x_val.ndim}-D"
            raise DataError(
                f"validation: X_val has sample shape {x_val.shape[1:]} ({val_kind}) but X has "
                f"{x.shape[1:]} ({family}); they must match"
            )
        val_values = label_values(validation[1], "validation", "y_val")
        check_lengths(len(x_val), len(val_values), "validation")
        y_val = encode_labels(val_values, labels, "y_val", "y")
    spec = array_spec(x_train, image=image)
    if labels.task == "regression":
        spec["target"] = target_scaling(y_train)
    return Dataset(
        name="arrays", family=family, task=labels.task,
        x_train=x_train, y_train=y_train, x_val=x_val, y_val=y_val,
        class_names=labels.class_names, feature_names=feature_names,
        preprocessing=spec, label_dtype=labels.label_dtype, task_reason=labels.reason,
    )


def features(x_raw: Any, arg: str, *, image: bool = False) -> tuple[np.ndarray, list[str] | None]:
    """X as a numeric array in its own dtype (booleans as uint8 for an image, else float32),
    and its feature names (from a DataFrame, for a 2-D X)."""
    feature_names = None
    if is_dataframe(x_raw):
        feature_names = [str(c) for c in x_raw.columns]
    try:
        x = np.asarray(x_raw)
    except (ValueError, TypeError) as exc:
        raise DataError(
            f"{arg}: X could not be read as an array ({exc}); pass a numpy array whose "
            "samples all have the same shape"
        ) from None
    if x.ndim >= 1 and len(x) == 0:
        raise DataError(f"{arg}: X has no rows; pass at least one sample per set")
    if x.ndim == 0 or x.ndim == 1 or x.ndim > 4:
        raise DataError(
            f"{arg}: X has shape {x.shape} ({x.ndim} dimension{'s' if x.ndim != 1 else ''}); "
            "pass (N, features) for tabular, (N, steps, channels) for sequence or "
            "(N, height, width, channels) for image data"
            + (" (X.reshape(-1, 1) for a single feature)" if x.ndim == 1 else "")
        )
    if 0 in x.shape[1:]:
        raise DataError(f"{arg}: X has shape {x.shape}; each sample needs at least one value")
    if x.dtype.kind == "b":
        x = x.astype(np.uint8) if image else x.astype(np.float32)
    elif x.dtype.kind not in "iuf":
        try:
            x = x.astype(np.float32)
        except (ValueError, TypeError):
            sample = next((v for v in x.reshape(-1) if not is_number(v)), None)
            raise DataError(
                f": X holds non-numeric values (such as {sample!r})", argument=arg,
                hint=("pass numbers, or a DataFrame with ", Keyword("target"),
                      " to one-hot encode text columns"),
            ) from None
    if feature_names is not None and x.ndim != 2:
        feature_names = None
    if x.dtype.kind == "f":
        bad = int(x.size - np.count_nonzero(np.isfinite(x)))
        if bad:
            raise DataError(
                f": X has {bad} NaN or infinite value{'s' if bad != 1 else ''}", argument=arg,
                hint=("impute them first (e.g. sklearn.impute.SimpleImputer), or pass a DataFrame with ",
                      Keyword("target"), ", which handles missing values"),
            )
    return np.ascontiguousarray(x), feature_names


def array_spec(x_train: np.ndarray, *, image: bool = False, scale: float | None = None) -> dict[str, Any]:
    """The preprocessing spec of array inputs, from the training samples.

    uint8 images (``image``), or ``scale`` given (as for the bundled digits), are rescaled; other arrays
    are standardised along their last axis (per feature, or per channel) with the training
    split's mean and variance. An (N, H, W) image gains a channel axis for the space.
    """
    shape = [int(d) for d in x_train.shape[1:]]
    features_shape = shape + [1] if image and len(shape) == 2 else list(shape)
    spec: dict[str, Any] = {
        "version": SPEC_VERSION,
        "inputs": "array",
        "shape": shape,
        "dtype": "uint8" if x_train.dtype == np.uint8 else "float32",
        "features_shape": features_shape,
        "scale": None,
        "normalize": None,
        "target": None,
    }
    if scale is not None or (image and x_train.dtype == np.uint8):
        spec["scale"] = float(scale if scale is not None else 1.0 / 255.0)
        return spec
    mean, variance = channel_stats(x_train.reshape(-1, features_shape[-1]))
    spec["normalize"] = {"mean": mean, "variance": variance}
    return spec


def channel_stats(rows: np.ndarray, chunk: int = 65536) -> tuple[list[float], list[float]]:
    """Mean and variance of each column of ``rows`` (two passes in float64 chunks: no float copy
    of the whole set); a constant column gets variance 1, so it standardises to 0."""
    n = max(len(rows), 1)
    total = np.zeros(rows.shape[1], dtype=np.float64)
    for start in range(0, len(rows), chunk):
        total += rows[start:start + chunk].astype(np.float64).sum(axis=0)
    mean = total / n
    squares = np.zeros(rows.shape[1], dtype=np.float64)
    for start in range(0, len(rows), chunk):
        squares += np.square(rows[start:start + chunk].astype(np.float64) - mean).sum(axis=0)
    variance = squares / n
    variance[~np.isfinite(variance) | (variance < 1e-12)] = 1.0
    return [float(m) for m in mean], [float(v) for v in variance]
