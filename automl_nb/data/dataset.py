"""The :class:`Dataset` every input becomes, and the small helpers all input kinds share.

A Dataset holds the data *as the user gave it* (raw dtype, raw shape; a DataFrame as a dict of
columns; an image folder as a list of files read as a stream) plus ``preprocessing``: a JSON
spec of the statistics learnt from the training split, from which :mod:`automl_nb.data.layers`
builds the Keras layers every trained (and exported) model starts and ends with. Nothing here
imports TensorFlow, Keras or any UI library.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._util import did_you_mean
from ..errors import DataError, Keyword

BUNDLED = ("digits", "iris", "wine", "breast_cancer")
#: The version of the ``preprocessing`` spec (1 was a recipe applied outside the model).
SPEC_VERSION = 2


@dataclass(eq=False)
class Dataset:
    """Training and validation data, raw, with what the model needs to preprocess it.

    Attributes:
        name: a short name ("digits", "arrays", "dataframe", a CSV stem, an image folder name).
        family: the name of its data family (:mod:`automl_nb.families`): "tabular",
            "sequence" or "image" among the built-in ones.
        task: "classification" or "regression".
        x_train, x_val: the raw inputs: a NumPy array in the dtype the user gave (uint8 images
            stay uint8), a dict of column name -> 1-D array (a DataFrame: float32 numbers with
            NaN where missing, text as str with "" where missing), or an
            :class:`~automl_nb.data.images.ImageFiles` list read as a stream.
        y_train, y_val: int64 class indices 0..K-1 (classification) or float32 targets in the
            user's units (regression), 1-D.
        class_names: index -> label as a string (None for regression).
        feature_names: the names of the encoded features the search space receives (tabular:
            "age", "color=red"), or None.
        preprocessing: the JSON spec (``SPEC_VERSION``) of the layers around the space's model:
            its raw inputs, their scaling, encoding and imputation, the regression target's
            scaling, and the ``family`` whose layers read it; see :mod:`automl_nb.data.layers`.
        label_dtype: "int", "str" or "float": how predictions map back to labels.
        task_reason: why the task is what it is, in words (shown in the header).
        source: for file-backed data, how to find and check it again (path, fingerprint and
            the arguments it was loaded with); None for data held in memory.
    """

    name: str
    family: str
    task: str
    x_train: Any
    y_train: np.ndarray
    x_val: Any
    y_val: np.ndarray
    class_names: list[str] | None
    feature_names: list[str] | None
    preprocessing: dict
    label_dtype: str
    task_reason: str = ""
    source: dict | None = field(default=None)

    def __post_init__(self) -> None:
        # the spec names its family, so the layers it makes (and a search directory written
        # before specs did) need nothing else to find it
        self.preprocessing.setdefault("family", self.family)

    @property
    def input_shape(self) -> tuple[int, ...]:
        """The shape of one sample as the search space's model receives it (after the
        preprocessing layers: an (H, W) image gains its channel, a DataFrame is a vector)."""
        return tuple(int(d) for d in self.preprocessing["features_shape"])

    @property
    def raw_shape(self) -> tuple[int, ...] | None:
        """One raw sample's shape (arrays and images), or None for a dict of columns."""
        shape = self.preprocessing.get("shape")
        return None if shape is None else tuple(int(d) for d in shape)

    @property
    def n_classes(self) -> int | None:
        """The number of classes, or None for regression."""
        return None if self.class_names is None else len(self.class_names)

    def summary(self) -> dict:
        """A JSON-serialisable description (no arrays)."""
        return {
            "name": self.name,
            "family": self.family,
            "task": self.task,
            "task_reason": self.task_reason,
            "n_train": n_samples(self.x_train),
            "n_val": n_samples(self.x_val),
            "input_shape": list(self.input_shape),
            "n_classes": self.n_classes,
            "class_names": None if self.class_names is None else list(self.class_names),
            "feature_names": None if self.feature_names is None else list(self.feature_names),
            "label_dtype": self.label_dtype,
        }

    def decode(self, class_indices: Any) -> list:
        """Map class indices (or a 2-D array of class scores, by argmax) back to the labels.

        Integer labels come back as ints, string labels as strings; for regression the values
        come back as floats.
        """
        values = np.asarray(class_indices)
        if self.task == "regression":
            return [float(v) for v in values.reshape(-1)]
        assert self.class_names is not None
        if values.ndim == 2 and values.shape[1] > 1:
            values = values.argmax(axis=1)
        values = values.reshape(-1)
        if values.dtype.kind == "f":
            if not np.all(np.isfinite(values)) or np.any(values != np.round(values)):
                raise DataError(
                    "class_indices must be whole class indices or a 2-D array of class scores; "
                    f"got fractional values such as {values[values != np.round(values)][:1]}"
                )
            values = values.astype(np.int64)
        elif values.dtype.kind not in "iu":
            raise DataError(
                f"class_indices must be integers from 0 to {len(self.class_names) - 1}; "
                f"got dtype {values.dtype}"
            )
        k = len(self.class_names)
        bad = values[(values < 0) | (values >= k)]
        if bad.size:
            raise DataError(
                f"class index {int(bad[0])} is out of range; this data set has {k} classes "
                f"(0..{k - 1})"
            )
        if self.label_dtype == "int":
            return [int(self.class_names[i]) for i in values]
        return [self.class_names[i] for i in values]

    def __repr__(self) -> str:
        return (
            f"Dataset(name={self.name!r}, family={self.family!r}, task={self.task!r}, "
            f"n_train={n_samples(self.x_train)}, n_val={n_samples(self.x_val)}, "
            f"input_shape={self.input_shape}, n_classes={self.n_classes})"
        )


def n_samples(x: Any) -> int:
    """How many samples raw inputs hold (an array, a dict of columns, a list of files)."""
    if isinstance(x, dict):
        return len(next(iter(x.values()))) if x else 0
    return len(x)


def take(x: Any, index: np.ndarray) -> Any:
    """The samples ``index`` of raw inputs (an array or a dict of columns)."""
    if isinstance(x, dict):
        return {k: v[index] for k, v in x.items()}
    return x[index]


def concat(a: Any, b: Any) -> Any:
    """Two sets of raw inputs as one (arrays, dicts of columns, or image file lists)."""
    if isinstance(a, dict):
        return {k: np.concatenate([a[k], b[k]]) for k in a}
    if isinstance(a, np.ndarray):
        return np.concatenate([a, b])
    return a + b


# ---------------------------------------------------------------------------------------------
# helpers every input kind uses


def check_validation_split(split: Any) -> None:
    if (
        isinstance(split, bool)
        or not isinstance(split, (int, float, np.integer, np.floating))
        or not 0.0 < float(split) < 1.0
    ):
        raise DataError(
            f"validation_split must be a number between 0 and 1 (exclusive), got {split!r}; "
            "0.2 holds out a fifth of the data"
        )


def check_lengths(n_x: int, n_y: int, arg: str) -> None:
    if n_x != n_y:
        raise DataError(
            f"{arg}: X has {n_x} row{'s' if n_x != 1 else ''} but y has {n_y} "
            f"label{'s' if n_y != 1 else ''}; they must be the same length"
        )


def reject_target(target: Any, what: str) -> None:
    if target is not None:
        raise DataError(
            (Keyword("target"), f" applies only to a DataFrame or CSV file, but data is {what}"),
            value=target, hint=("drop ", Keyword("target")),
        )


def existing_path(data: str | os.PathLike, arg: str = "data") -> Path:
    path = Path(data).expanduser()
    if path.exists():
        return path
    text = os.fspath(data)
    looks_like_path = (
        isinstance(data, os.PathLike)
        or any(sep in text for sep in ("/", "\\", os.sep))
        or path.suffix != ""
    )
    if arg == "data" and not looks_like_path:
        raise DataError(
            f"{text!r} is not a bundled data set, a CSV file or an image folder", argument="data",
            value=text,
            hint="bundled sets are: " + ", ".join(BUNDLED) + did_you_mean(bundled_key(text), BUNDLED),
        )
    wanted = "CSV file" if path.suffix.lower() in (".csv", ".tsv") else "CSV file or image folder"
    raise DataError(
        f"{arg} {text!r} does not exist (looked in {os.getcwd()}); pass the path of an "
        f"existing {wanted}"
    )


def bundled_key(text: str) -> str:
    return text.strip().lower().replace("-", "_").replace(" ", "_")


def value_str(value: Any) -> str:
    """A label or category as a string: bools as "True", whole floats as ints ("3")."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (float, np.floating)) and math.isfinite(value) and value == int(value):
        return str(int(value))
    if isinstance(value, np.generic):
        value = value.item()
    return str(value)


def is_number(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def kind_name(value: Any) -> str:
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)} items"
    return type(value).__name__


def is_dataframe(value: Any) -> bool:
    import sys

    pd = sys.modules.get("pandas")  # a DataFrame means pandas is imported already
    return pd is not None and isinstance(value, pd.DataFrame)


def pandas() -> Any:
    import pandas

    return pandas
