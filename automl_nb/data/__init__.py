"""Inputs to train/validation data: bundled sets, arrays, DataFrames, CSV files, image folders.

`load_data` turns whatever the user hands over into a `Dataset`: float32 features, labels as
class indices (classification) or float32 targets (regression), a seeded validation split, and
for DataFrame and CSV input a JSON `preprocessing` spec that `apply_preprocessing` replays on
raw rows at prediction time.

Rules, so that the result is predictable:

- The family comes from the input: bundled ``digits`` and image folders are images, the other
  bundled sets and DataFrames are tabular; for arrays, X's dimensions decide: 2-D is tabular
  (N, features), 3-D is a sequence (N, steps, channels) unless its dtype is uint8, in which case
  it is a one-channel image (N, height, width), and 4-D is an image (N, height, width, channels).
- uint8 images are scaled to [0, 1]; other image arrays are kept as they are, as float32.
  Array features are otherwise used as given (no standardisation, no imputation).
- Labels: integers are classification (decoded back to ints), strings, booleans and categories
  are classification (decoded back to strings), floats are regression, always: cast float
  labels to int for classification.
- Without ``validation=``, a seeded ``train_test_split`` holds out ``validation_split`` of the
  samples (``random_state=seed``, 0 when seed is None), stratified for classification when
  every class has at least two samples and each set can hold every class.

Nothing here imports TensorFlow, Keras or any UI library; pandas, scikit-learn and PIL are
imported only when needed.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .._util import did_you_mean, short_list, slug
from ..errors import DataError, Keyword

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "BUNDLED",
    "DataError",
    "Dataset",
    "apply_preprocessing",
    "describe_input",
    "load_data",
]

BUNDLED = ("digits", "iris", "wine", "breast_cancer")

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
MISSING_CATEGORY = "__missing__"
SPEC_VERSION = 1

_GRAY_MODES = {"1", "L", "LA", "I", "I;16", "F"}


@dataclass(eq=False)
class Dataset:
    """Training and validation data, ready for a model.

    Attributes:
        name: a short name ("digits", "arrays", "dataframe", a CSV stem, an image folder name).
        family: "tabular", "sequence" or "image".
        task: "classification" or "regression".
        x_train, x_val: float32 features.
        y_train, y_val: int64 class indices 0..K-1 (classification) or float32 targets, 1-D.
        class_names: index -> label as a string (None for regression).
        feature_names: tabular feature names after encoding ("age", "color=red"), or None.
        preprocessing: the JSON spec that `apply_preprocessing` replays on raw DataFrame rows
            (DataFrame and CSV input only, else None).
        label_dtype: "int", "str" or "float": how predictions map back to labels.
    """

    name: str
    family: str
    task: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    class_names: list[str] | None
    feature_names: list[str] | None
    preprocessing: dict | None
    label_dtype: str

    @property
    def input_shape(self) -> tuple[int, ...]:
        """The shape of one sample."""
        return tuple(int(d) for d in self.x_train.shape[1:])

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
            "n_train": len(self.x_train),
            "n_val": len(self.x_val),
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
            f"n_train={len(self.x_train)}, n_val={len(self.x_val)}, "
            f"input_shape={self.input_shape}, n_classes={self.n_classes})"
        )


# ---------------------------------------------------------------------------------------------
# public entry points


def describe_input(data: Any) -> str:
    """A short, directory-safe name for an input: "digits", "arrays", "dataframe", a CSV file's
    stem or an image folder's name. Never raises."""
    if isinstance(data, Dataset):
        return data.name
    if isinstance(data, str):
        key = _bundled_key(data)
        if key in BUNDLED:
            return key
    if isinstance(data, (str, os.PathLike)):
        path = Path(data).expanduser()
        try:
            if path.is_dir():
                return slug(path.resolve().name or "images")
        except OSError:
            pass
        return slug(path.stem or path.name or str(data))
    if isinstance(data, (tuple, list)):
        return "arrays"
    if _is_dataframe(data):
        return "dataframe"
    return "data"


def load_data(
    data: Any,
    *,
    target: str | None = None,
    validation: Any = None,
    seed: int | None = None,
    validation_split: float = 0.2,
) -> Dataset:
    """Turn an input into a `Dataset` of float32 features with a validation set.

    Args:
        data: a bundled name ("digits", "iris", "wine", "breast_cancer"; checked before paths,
            so pass "./digits" for a folder of that name), a tuple ``(X, y)`` of arrays, a
            pandas DataFrame (with ``target=``), a CSV path (with ``target=``), a folder of
            images with one sub-folder per class, or a `Dataset` (returned as is).
        target: the label column of a DataFrame or CSV file.
        validation: explicit validation data, preprocessed with the training statistics:
            ``(X_val, y_val)`` for arrays; a DataFrame with the target column, a CSV path or
            ``(X_val_frame, y_val)`` for DataFrame/CSV input; a folder with the same class
            sub-folders for an image folder. Not accepted with a bundled set.
        seed: the split's ``random_state`` (None means 0): the same seed gives the same split.
        validation_split: the fraction held out when ``validation`` is None, in (0, 1).

    Raises:
        DataError: bad input, with one sentence naming the argument and the fix.
    """
    _check_validation_split(validation_split)
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
        raise DataError(f"seed must be an int or None, got {seed!r}")
    if isinstance(data, Dataset):
        if target is not None or validation is not None:
            raise DataError(
                ("is already a Dataset; drop ", Keyword("target"), " and ", Keyword("validation"),
                 ", they apply only to raw inputs"),
                argument="data",
            )
        return data
    if _is_dataframe(data):
        return _load_frame(data, target, validation, seed, validation_split, name="dataframe")
    if isinstance(data, (tuple, list)):
        if len(data) != 2:
            raise DataError(
                f"data as a {type(data).__name__} must be a pair (X, y) of arrays; "
                f"got {len(data)} items"
            )
        _reject_target(target, "arrays (X, y)")
        return _load_arrays(data[0], data[1], validation, seed, validation_split)
    if isinstance(data, (str, os.PathLike)):
        if isinstance(data, str) and _bundled_key(data) in BUNDLED:
            key = _bundled_key(data)
            _reject_target(target, f"the bundled set {key!r}")
            if validation is not None:
                raise DataError(
                    (Keyword("validation"), f" is not supported with the bundled set {key!r}"),
                    hint=("use ", Keyword("validation_split"), " to choose the held-out fraction"),
                )
            return _load_bundled(key, seed, validation_split)
        path = _existing_path(data)
        if path.is_dir():
            _reject_target(target, f"an image folder ({str(data)!r})")
            return _load_image_dataset(path, validation, seed, validation_split)
        frame = _read_csv(path, "data")
        return _load_frame(frame, target, validation, seed, validation_split,
                           name=slug(path.stem or path.name))
    kinds = f"must be a bundled data set name ({', '.join(BUNDLED)}), a tuple (X, y) of arrays"
    raise DataError(
        (kinds, ", a pandas DataFrame with ", Keyword("target"), ", a CSV path with ", Keyword("target"),
         f" or a folder of images with one sub-folder per class; got {type(data).__name__}"),
        argument="data",
    )


def apply_preprocessing(spec: dict, frame: Any) -> np.ndarray:
    """Turn raw DataFrame rows into the model's float32 features, using a saved spec.

    ``spec`` is ``Dataset.preprocessing`` (also after a JSON round trip). ``frame`` is a
    DataFrame (or anything ``pandas.DataFrame`` takes: a dict of columns, a list of row dicts;
    a Series is one row); columns are found by name, extra columns (the target, say) are
    ignored. Missing values are imputed as in training and an unseen category encodes as all
    zeros, so the features of the training rows are reproduced exactly.
    """
    return _transform(spec, frame, "frame")


# ---------------------------------------------------------------------------------------------
# bundled sets


def _load_bundled(name: str, seed: int | None, split: float) -> Dataset:
    from sklearn import datasets

    loader = {
        "digits": datasets.load_digits,
        "iris": datasets.load_iris,
        "wine": datasets.load_wine,
        "breast_cancer": datasets.load_breast_cancer,
    }[name]
    bunch = loader()
    y = np.asarray(bunch.target, dtype=np.int64)
    train, val = _split_indices(len(y), y, seed, split)
    if name == "digits":
        x = (np.asarray(bunch.images, dtype=np.float32) / np.float32(16.0))[..., np.newaxis]
        return Dataset(
            name=name, family="image", task="classification",
            x_train=x[train], y_train=y[train], x_val=x[val], y_val=y[val],
            class_names=[str(int(t)) for t in bunch.target_names], feature_names=None,
            preprocessing=None, label_dtype="int",
        )
    x = np.asarray(bunch.data, dtype=np.float64)
    mean = x[train].mean(axis=0)
    std = x[train].std(axis=0)
    std[~np.isfinite(std) | (std == 0)] = 1.0
    x = ((x - mean) / std).astype(np.float32)
    return Dataset(
        name=name, family="tabular", task="classification",
        x_train=x[train], y_train=y[train], x_val=x[val], y_val=y[val],
        class_names=[str(t) for t in bunch.target_names],
        feature_names=[str(f) for f in bunch.feature_names],
        preprocessing=None, label_dtype="str",
    )


# ---------------------------------------------------------------------------------------------
# arrays


def _load_arrays(
    x_raw: Any, y_raw: Any, validation: Any, seed: int | None, split: float
) -> Dataset:
    x, family, feature_names = _features(x_raw, "data")
    y_values = _label_values(y_raw, "data", "y")
    _check_lengths(len(x), len(y_values), "data")
    kind = _label_kind(y_values, "y")
    if validation is None:
        labels = _fit_labels(y_values, kind, "y")
        train, val = _split_indices(len(x), labels.codes, seed, split)
        x_train, x_val = x[train], x[val]
        y_train, y_val = labels.values[train], labels.values[val]
    else:
        if not (isinstance(validation, (tuple, list)) and len(validation) == 2):
            raise DataError(
                "validation must be a pair (X_val, y_val) of arrays when data is (X, y); "
                f"got {_kind_name(validation)}"
            )
        labels = _fit_labels(y_values, kind, "y")
        x_train, y_train = x, labels.values
        x_val, val_family, _ = _features(validation[0], "validation")
        if x_val.shape[1:] != x.shape[1:]:
            raise DataError(
                f"validation: X_val has sample shape {x_val.shape[1:]} ({val_family}) but X has "
                f"{x.shape[1:]} ({family}); they must match"
            )
        val_values = _label_values(validation[1], "validation", "y_val")
        _check_lengths(len(x_val), len(val_values), "validation")
        y_val = _encode_labels(val_values, labels, "y_val", "y")
    return Dataset(
        name="arrays", family=family, task=labels.task,
        x_train=x_train, y_train=y_train, x_val=x_val, y_val=y_val,
        class_names=labels.class_names, feature_names=feature_names,
        preprocessing=None, label_dtype=labels.label_dtype,
    )


def _features(x_raw: Any, arg: str) -> tuple[np.ndarray, str, list[str] | None]:
    """X as float32, its family, and feature names (from DataFrame columns) if any."""
    feature_names = None
    if _is_dataframe(x_raw):
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
        raise DataError(
            f"{arg}: X has shape {x.shape}; each sample needs at least one value"
        )
    if x.ndim == 2:
        family = "tabular"
    elif x.ndim == 3:
        family = "image" if x.dtype == np.uint8 else "sequence"
    else:
        family = "image"
    if x.dtype == np.uint8 and family == "image":
        out = x.astype(np.float32) / np.float32(255.0)
    elif x.dtype.kind in "biuf":
        out = x.astype(np.float32)
    else:
        try:
            out = x.astype(np.float32)
        except (ValueError, TypeError):
            sample = next((v for v in x.reshape(-1) if not _is_number(v)), None)
            raise DataError(
                f": X holds non-numeric values (such as {sample!r})", argument=arg,
                hint=("pass numbers, or a DataFrame with ", Keyword("target"),
                      " to one-hot encode text columns"),
            ) from None
    if family == "image" and out.ndim == 3:
        out = out[..., np.newaxis]
    if feature_names is not None and family != "tabular":
        feature_names = None
    bad = int(out.size - np.count_nonzero(np.isfinite(out)))
    if bad:
        raise DataError(
            f": X has {bad} NaN or infinite value{'s' if bad != 1 else ''}", argument=arg,
            hint=("impute them first (e.g. sklearn.impute.SimpleImputer), or pass a DataFrame with ",
                  Keyword("target"), ", which imputes missing values"),
        )
    return np.ascontiguousarray(out), family, feature_names


# ---------------------------------------------------------------------------------------------
# labels


@dataclass
class _Labels:
    task: str
    label_dtype: str
    class_names: list[str] | None
    values: np.ndarray  # int64 codes or float32 targets
    codes: np.ndarray | None  # int64 codes for stratification (classification only)


def _label_values(y_raw: Any, arg: str, what: str) -> np.ndarray:
    """y as a 1-D numpy array (object for pandas extension and category dtypes)."""
    pd = _pandas()
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


def _label_kind(values: np.ndarray, what: str) -> str:
    """ "int", "str" or "float", after checking for missing labels."""
    pd = _pandas()
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


def _fit_labels(values: np.ndarray, kind: str, what: str) -> _Labels:
    if kind == "float":
        targets = values.astype(np.float32)
        return _Labels("regression", "float", None, targets, None)
    if kind == "int":
        ints = values.astype(np.int64)
        uniques, codes = np.unique(ints, return_inverse=True)
        names = [str(int(u)) for u in uniques]
    else:
        strings = np.array([_value_str(v) for v in values], dtype=object)
        names = sorted(set(strings.tolist()))
        index = {name: i for i, name in enumerate(names)}
        codes = np.fromiter((index[s] for s in strings), dtype=np.int64, count=len(strings))
    if len(names) < 2:
        raise DataError(
            f"{what} has a single class {names[0]!r}; classification needs at least two classes"
        )
    codes = codes.astype(np.int64).reshape(-1)
    return _Labels("classification", kind, names, codes, codes)


def _encode_labels(values: np.ndarray, labels: _Labels, what: str, train_what: str) -> np.ndarray:
    """Validation labels, encoded with the training labels' classes."""
    kind = _label_kind(values, what)
    if labels.task == "regression":
        if kind == "str":
            raise DataError(
                f"{what} holds strings but {train_what} holds floats (regression); pass numeric "
                "validation targets"
            )
        return values.astype(np.float32)
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
        strings = [_value_str(v) for v in values]
    unknown = sorted({s for s in strings if s not in index})
    if unknown:
        raise DataError(
            f"{what} has label {unknown[0]!r}, which {train_what} does not have; every "
            "validation label must appear in the training labels ("
            + short_list(labels.class_names) + ")"
        )
    return np.fromiter((index[s] for s in strings), dtype=np.int64, count=len(strings))


# ---------------------------------------------------------------------------------------------
# DataFrames and CSV files


def _load_frame(
    frame: pd.DataFrame,
    target: Any,
    validation: Any,
    seed: int | None,
    split: float,
    name: str,
) -> Dataset:
    _check_columns(frame, "data")
    columns = list(frame.columns)
    if target is None:
        raise DataError(
            (Keyword("target"), " is required when data is a DataFrame"),
            hint=("pass ", Keyword("target", "<column>"), f" (columns are: {short_list(columns)})"),
        )
    target = _find_target(target, columns, "the data")
    if len(frame) == 0:
        raise DataError("data has no rows; pass a DataFrame with at least a few samples")
    if len(columns) < 2:
        raise DataError(
            f"data has no feature columns besides target {target!r}; pass a DataFrame with at "
            "least one more column"
        )
    what = f"target {target!r}"
    y_values = _label_values(frame[target], "data", what)
    _check_frame_labels(y_values, target, "data")
    kind = _label_kind(y_values, what)
    labels = _fit_labels(y_values, kind, what)
    if validation is None:
        train, val = _split_indices(len(frame), labels.codes, seed, split)
        train_frame, val_frame = frame.iloc[train], frame.iloc[val]
        y_train, y_val = labels.values[train], labels.values[val]
    else:
        train_frame, y_train = frame, labels.values
        val_frame = _validation_frame(validation, target)
        val_what = f"validation target {target!r}"
        val_values = _label_values(val_frame[target], "validation", val_what)
        _check_frame_labels(val_values, target, "validation")
        y_val = _encode_labels(val_values, labels, val_what, what)
    spec = _fit_preprocessing(train_frame, target)
    x_train = _transform(spec, train_frame, "data")
    x_val = _transform(spec, val_frame, "validation")
    return Dataset(
        name=name, family="tabular", task=labels.task,
        x_train=x_train, y_train=y_train, x_val=x_val, y_val=y_val,
        class_names=labels.class_names, feature_names=list(spec["feature_names"]),
        preprocessing=spec, label_dtype=labels.label_dtype,
    )


def _check_columns(frame: pd.DataFrame, arg: str) -> None:
    seen: set = set()
    for column in frame.columns:
        if column in seen:
            raise DataError(
                f"{arg}: column {column!r} appears more than once; column names must be unique"
            )
        seen.add(column)
        if isinstance(column, bool) or not isinstance(column, (str, int, np.integer)):
            raise DataError(
                f"{arg}: column name {column!r} is a {type(column).__name__}; column names must "
                "be strings (df.columns = df.columns.map(str))"
            )


def _find_target(target: Any, columns: list, where: str) -> Any:
    if target in columns:
        return target
    by_str = [c for c in columns if str(c) == str(target)]
    if by_str:
        return by_str[0]
    raise DataError(
        f"{target!r} is not a column of {where}", argument="target", value=target,
        hint=f"columns are: {short_list(columns)}{did_you_mean(str(target), columns)}",
    )


def _check_frame_labels(values: np.ndarray, target: Any, arg: str) -> None:
    pd = _pandas()
    bad = int(np.count_nonzero(pd.isna(values))) if values.dtype.kind in "fO" else 0
    if bad:
        raise DataError(
            f"{arg}: target {target!r} has {bad} missing value{'s' if bad != 1 else ''}; drop "
            f"those rows first (df.dropna(subset=[{target!r}]))"
        )


def _validation_frame(validation: Any, target: Any) -> pd.DataFrame:
    pd = _pandas()
    if isinstance(validation, (str, os.PathLike)):
        validation = _read_csv(_existing_path(validation, "validation"), "validation")
    elif isinstance(validation, (tuple, list)):
        if len(validation) != 2 or not _is_dataframe(validation[0]):
            raise DataError(
                "validation must be a DataFrame with the target column, a CSV path or a pair "
                f"(X_val_frame, y_val) when data is a DataFrame; got {_kind_name(validation)}"
            )
        x_val, y_val = validation
        y_values = _label_values(y_val, "validation", "y_val")
        _check_lengths(len(x_val), len(y_values), "validation")
        validation = x_val.copy()
        validation[target] = pd.Series(y_values, index=x_val.index)
    if not _is_dataframe(validation):
        raise DataError(
            "validation must be a DataFrame with the target column, a CSV path or a pair "
            f"(X_val_frame, y_val) when data is a DataFrame; got {_kind_name(validation)}"
        )
    _check_columns(validation, "validation")
    if target not in validation.columns:
        raise DataError(
            f"validation has no target column {target!r}; it needs the same columns as data "
            f"(it has: {short_list(list(validation.columns))})"
        )
    if len(validation) == 0:
        raise DataError("validation has no rows; pass at least one sample or leave it out")
    return validation


def _read_csv(path: Path, arg: str) -> pd.DataFrame:
    pd = _pandas()
    sep = "\t" if path.suffix.lower() in (".tsv", ".tab") else ","
    try:
        return pd.read_csv(path, sep=sep)
    except pd.errors.EmptyDataError:
        raise DataError(
            f"{arg} {str(path)!r} is empty; pass a CSV file with a header row and data rows"
        ) from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(
            f"{arg} {str(path)!r} could not be read as a CSV file ({first}); pass a "
            "comma-separated file with a header row"
        ) from None


def _fit_preprocessing(frame: pd.DataFrame, target: Any) -> dict:
    """The JSON spec: per column its kind and statistics, fitted on these (training) rows."""
    columns: list[dict] = []
    feature_names: list[str] = []
    for name in frame.columns:
        if name == target:
            continue
        json_name = int(name) if isinstance(name, np.integer) else name
        col = frame[name]
        if _column_kind(col, name) == "numeric":
            values = _numeric_values(col, name, "data")
            present = values[~np.isnan(values)]
            median = float(np.median(present)) if present.size else 0.0
            filled = np.where(np.isnan(values), median, values)
            mean = float(filled.mean())
            std = float(filled.std())
            if not math.isfinite(std) or std == 0.0:
                std = 1.0
            columns.append(
                {"name": json_name, "kind": "numeric", "median": median, "mean": mean, "std": std}
            )
            feature_names.append(str(name))
        else:
            vocabulary = sorted(set(_category_strings(col)))
            columns.append({"name": json_name, "kind": "categorical", "vocabulary": vocabulary})
            feature_names.extend(f"{name}={value}" for value in vocabulary)
    spec = {
        "version": SPEC_VERSION,
        "target": int(target) if isinstance(target, np.integer) else target,
        "missing_category": MISSING_CATEGORY,
        "columns": columns,
        "feature_names": feature_names,
    }
    json.dumps(spec)  # fail here, not at save time, if something is not JSON
    return spec


def _column_kind(col: pd.Series, name: Any) -> str:
    pd = _pandas()
    types = pd.api.types
    dtype = col.dtype
    if types.is_bool_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype):
        return "categorical"
    if types.is_datetime64_any_dtype(dtype) or types.is_timedelta64_dtype(dtype):
        raise DataError(
            f"data: column {name!r} holds dates or times ({dtype}); convert it to numbers "
            "(e.g. df[col].dt.year) or drop it"
        )
    if types.is_complex_dtype(dtype):
        raise DataError(f"data: column {name!r} holds complex numbers; drop it or split it")
    if types.is_numeric_dtype(dtype):
        return "numeric"
    if dtype == object:
        inferred = types.infer_dtype(col, skipna=True)
        if inferred in ("integer", "floating", "mixed-integer-float", "decimal", "empty"):
            return "numeric"
    return "categorical"


def _numeric_values(col: pd.Series, name: Any, arg: str) -> np.ndarray:
    """A numeric column as float64, NaN where missing or infinite."""
    pd = _pandas()
    if isinstance(col.dtype, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(col.dtype):
        col = col.astype(object)
    numbers = pd.to_numeric(col, errors="coerce")
    bad = numbers.isna() & ~col.isna()
    if bad.any():
        raise DataError(
            f"{arg}: column {name!r} has the value {col[bad].iloc[0]!r}, which is not a number; "
            "it was numeric in training, so pass numbers (or leave the value empty)"
        )
    values = np.asarray(numbers.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)
    values = values.copy()
    values[~np.isfinite(values)] = np.nan
    return values


def _category_strings(col: pd.Series) -> list[str]:
    missing = np.asarray(col.isna(), dtype=bool)
    values = col.astype(object).to_numpy()
    return [MISSING_CATEGORY if m else _value_str(v) for v, m in zip(values, missing)]


def _transform(spec: dict, frame: Any, arg: str) -> np.ndarray:
    pd = _pandas()
    if not isinstance(spec, dict) or "columns" not in spec:
        raise DataError(
            "spec must be a Dataset.preprocessing dict (with 'columns'); got "
            f"{type(spec).__name__}"
        )
    if spec.get("version", SPEC_VERSION) != SPEC_VERSION:
        raise DataError(
            f"spec has version {spec.get('version')!r}, but this automl_nb reads version "
            f"{SPEC_VERSION}; load it with the automl_nb that saved it"
        )
    if isinstance(frame, pd.Series):
        frame = frame.to_frame().T
    elif not isinstance(frame, pd.DataFrame):
        try:
            frame = pd.DataFrame(frame)
        except (ValueError, TypeError) as exc:
            raise DataError(
                f"{arg} must be a DataFrame (or a dict of columns, or a list of row dicts); "
                f"got {type(frame).__name__} ({exc})"
            ) from None
    missing = [c["name"] for c in spec["columns"] if c["name"] not in frame.columns]
    if missing:
        raise DataError(
            f"{arg} is missing column{'s' if len(missing) > 1 else ''} "
            + ", ".join(repr(m) for m in missing)
            + "; it needs the columns the model was trained on ("
            + short_list([c["name"] for c in spec["columns"]]) + ")"
        )
    n = len(frame)
    blocks: list[np.ndarray] = []
    for column in spec["columns"]:
        col = frame[column["name"]]
        if isinstance(col, pd.DataFrame):
            raise DataError(
                f"{arg}: column {column['name']!r} appears more than once; column names must "
                "be unique"
            )
        if column["kind"] == "numeric":
            values = _numeric_values(col, column["name"], arg)
            values = np.where(np.isnan(values), column["median"], values)
            blocks.append(((values - column["mean"]) / column["std"]).reshape(n, 1))
        else:
            vocabulary = column["vocabulary"]
            index = {value: i for i, value in enumerate(vocabulary)}
            codes = np.fromiter(
                (index.get(s, -1) for s in _category_strings(col)), dtype=np.int64, count=n
            )
            block = np.zeros((n, len(vocabulary)), dtype=np.float64)
            rows = np.flatnonzero(codes >= 0)
            block[rows, codes[rows]] = 1.0
            blocks.append(block)
    if not blocks:
        return np.zeros((n, 0), dtype=np.float32)
    return np.ascontiguousarray(np.concatenate(blocks, axis=1).astype(np.float32))


# ---------------------------------------------------------------------------------------------
# image folders


def _load_image_dataset(
    folder: Path, validation: Any, seed: int | None, split: float
) -> Dataset:
    x, codes, class_names, mode = _read_image_folder(folder, "data")
    if validation is None:
        train, val = _split_indices(len(x), codes, seed, split)
        x_train, x_val, y_train, y_val = x[train], x[val], codes[train], codes[val]
    else:
        if not isinstance(validation, (str, os.PathLike)):
            raise DataError(
                "validation must be an image folder with the same class sub-folders when data "
                f"is an image folder; got {_kind_name(validation)}"
            )
        val_folder = _existing_path(validation, "validation")
        if not val_folder.is_dir():
            raise DataError(
                f"validation {str(validation)!r} is a file; pass an image folder with the same "
                "class sub-folders as data"
            )
        x_val, y_val, _, _ = _read_image_folder(
            val_folder, "validation", classes=class_names, mode=mode, size=x.shape[1:3]
        )
        x_train, y_train = x, codes
    return Dataset(
        name=slug(folder.resolve().name or "images"), family="image", task="classification",
        x_train=x_train, y_train=y_train, x_val=x_val, y_val=y_val,
        class_names=class_names, feature_names=None, preprocessing=None, label_dtype="str",
    )


def _read_image_folder(
    folder: Path,
    arg: str,
    classes: list[str] | None = None,
    mode: str | None = None,
    size: tuple[int, int] | None = None,
) -> tuple[np.ndarray, np.ndarray, list[str], str]:
    """Images (N, H, W, C) in [0, 1], class codes, class names and the PIL mode used."""
    from PIL import Image, UnidentifiedImageError

    shown = str(folder)
    subdirs = sorted(
        (p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")),
        key=lambda p: p.name,
    )
    if not subdirs:
        raise DataError(
            f"{arg}: image folder {shown!r} has no class sub-folders; put each class's images "
            f"in its own sub-folder, e.g. {shown}/cat/1.png and {shown}/dog/1.png"
        )
    files: list[tuple[str, list[Path]]] = []
    for sub in subdirs:
        images = sorted(
            f for f in sub.iterdir()
            if f.is_file() and not f.name.startswith(".")
            and f.suffix.lower() in IMAGE_EXTENSIONS
        )
        files.append((sub.name, images))
    extensions = ", ".join(IMAGE_EXTENSIONS)
    if not any(images for _, images in files):
        raise DataError(
            f"{arg}: image folder {shown!r} holds no images ({extensions}) in its class "
            "sub-folders; put each class's images in its own sub-folder"
        )
    if classes is None:
        empty = [name for name, images in files if not images]
        if empty:
            raise DataError(
                f"{arg}: class folder {shown}/{empty[0]} holds no images ({extensions}); add "
                "images to it or remove it"
            )
        class_names = [name for name, _ in files]
        if len(class_names) < 2:
            raise DataError(
                f"{arg}: image folder {shown!r} has a single class {class_names[0]!r}; "
                "classification needs at least two class sub-folders"
            )
    else:
        class_names = classes
        unknown = [name for name, images in files if images and name not in classes]
        if unknown:
            raise DataError(
                f"{arg}: class folder {shown}/{unknown[0]} is not a class of data; its class "
                f"sub-folders must be among: {short_list(classes)}"
            )
        files = [(name, images) for name, images in files if images]
    index = {name: i for i, name in enumerate(class_names)}

    headers: list[tuple[Path, int, str, tuple[int, int]]] = []
    for name, images in files:
        for path in images:
            try:
                with Image.open(path) as im:
                    headers.append((path, index[name], im.mode, im.size))
            except (UnidentifiedImageError, OSError) as exc:
                raise DataError(
                    f"{arg}: could not read image {str(path)!r} ({exc}); remove it or save it "
                    "as PNG"
                ) from None
    first_path, _, _, first_size = headers[0]
    if size is not None:
        first_size = (int(size[1]), int(size[0]))
        first_path = Path("data")
    for path, _, _, im_size in headers:
        if im_size != first_size:
            reference = (
                f"data's images are {first_size[0]}x{first_size[1]}"
                if size is not None
                else f"{str(first_path)!r} is {first_size[0]}x{first_size[1]}"
            )
            raise DataError(
                f"{arg}: images must all be the same size, but {reference} and {str(path)!r} "
                f"is {im_size[0]}x{im_size[1]}; resize them to one size first "
                "(e.g. PIL's Image.resize)"
            )
    if mode is None:
        mode = "L" if all(h[2] in _GRAY_MODES for h in headers) else "RGB"
    arrays = []
    for path, _, _, _ in headers:
        with Image.open(path) as im:
            im.seek(0)
            arrays.append(np.asarray(im.convert(mode), dtype=np.uint8))
    x = np.stack(arrays).astype(np.float32) / np.float32(255.0)
    if x.ndim == 3:
        x = x[..., np.newaxis]
    codes = np.array([h[1] for h in headers], dtype=np.int64)
    return np.ascontiguousarray(x), codes, list(class_names), mode


# ---------------------------------------------------------------------------------------------
# splitting and helpers


def _split_indices(
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


def _check_validation_split(split: Any) -> None:
    if (
        isinstance(split, bool)
        or not isinstance(split, (int, float, np.integer, np.floating))
        or not 0.0 < float(split) < 1.0
    ):
        raise DataError(
            f"validation_split must be a number between 0 and 1 (exclusive), got {split!r}; "
            "0.2 holds out a fifth of the data"
        )


def _check_lengths(n_x: int, n_y: int, arg: str) -> None:
    if n_x != n_y:
        raise DataError(
            f"{arg}: X has {n_x} row{'s' if n_x != 1 else ''} but y has {n_y} "
            f"label{'s' if n_y != 1 else ''}; they must be the same length"
        )


def _reject_target(target: Any, what: str) -> None:
    if target is not None:
        raise DataError(
            (Keyword("target"), f" applies only to a DataFrame or CSV file, but data is {what}"),
            value=target, hint=("drop ", Keyword("target")),
        )


def _existing_path(data: str | os.PathLike, arg: str = "data") -> Path:
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
            value=text, hint="bundled sets are: " + ", ".join(BUNDLED) + did_you_mean(_bundled_key(text), BUNDLED),
        )
    wanted = "CSV file" if path.suffix.lower() in (".csv", ".tsv") else "CSV file or image folder"
    raise DataError(
        f"{arg} {text!r} does not exist (looked in {os.getcwd()}); pass the path of an "
        f"existing {wanted}"
    )


def _bundled_key(text: str) -> str:
    return text.strip().lower().replace("-", "_").replace(" ", "_")


def _value_str(value: Any) -> str:
    """A label or category as a string: bools as "True", whole floats as ints ("3")."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (float, np.floating)) and math.isfinite(value) and value == int(value):
        return str(int(value))
    if isinstance(value, np.generic):
        value = value.item()
    return str(value)


def _is_number(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def _kind_name(value: Any) -> str:
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)} items"
    return type(value).__name__


def _is_dataframe(value: Any) -> bool:
    import sys

    pd = sys.modules.get("pandas")  # a DataFrame means pandas is imported already
    return pd is not None and isinstance(value, pd.DataFrame)


def _pandas() -> Any:
    import pandas

    return pandas
