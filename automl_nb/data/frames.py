"""DataFrames and CSV files: a dict of columns, and what each column's layers need to know.

A DataFrame (or a CSV file, read with pandas) becomes a dict of its feature columns, which is
what the model takes (Keras' convention for structured data): a number column as float32 with
NaN where a value is missing, a text (or category) column as str with "" where a value is
missing; booleans are numbers (0/1). From the training rows each column gets its statistics:
a number column its median (for missing values, and the centre of its robust scaling), its
inter-quartile range (the robust scale; :func:`robust_scale`), mean and variance (what a spec
written before robust scaling standardised with) and whether it had missing values (then a
0/1 "missing" feature is added); a text column its
vocabulary (``StringLookup``), one-hot encoded up to ``ONE_HOT_MAX`` values, else embedded,
plus, for an ordered pandas category, the value's position in that order (standardised) as
one more feature. Values unseen in training fall into the lookup's out-of-vocabulary slot.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .._util import did_you_mean, short_list, slug
from ..errors import DataError, Keyword
from .dataset import (
    SPEC_VERSION,
    Dataset,
    existing_path,
    is_dataframe,
    kind_name,
    pandas,
    value_str,
)
from .labels import (
    encode_labels,
    fit_labels,
    label_kind,
    label_values,
    split_indices,
    target_scaling,
)

if TYPE_CHECKING:
    import pandas as pd

#: A text column with at most this many values (missing included) is one-hot encoded ...
ONE_HOT_MAX = 32
#: ... else each value gets an embedding of this many dimensions at most.
EMBEDDING_MAX = 16
#: How an out-of-vocabulary value is named among the one-hot features.
OTHER = "[other]"


def load_frame(
    frame: pd.DataFrame,
    target: Any,
    validation: Any,
    seed: int | None,
    split: float,
    name: str,
    task: str | None,
    family: str = "tabular",
) -> Dataset:
    check_columns(frame, "data")
    columns = list(frame.columns)
    if target is None:
        raise DataError(
            (Keyword("target"), " is required when data is a DataFrame"),
            hint=("pass ", Keyword("target", "<column>"), f" (columns are: {short_list(columns)})"),
        )
    target = find_target(target, columns, "the data")
    if len(frame) == 0:
        raise DataError("data has no rows; pass a DataFrame with at least a few samples")
    if len(columns) < 2:
        raise DataError(
            f"data has no feature columns besides target {target!r}; pass a DataFrame with at "
            "least one more column"
        )
    what = f"target {target!r}"
    y_values = label_values(frame[target], "data", what)
    _check_frame_labels(y_values, target, "data")
    labels = fit_labels(y_values, label_kind(y_values, what), what, task)
    if validation is None:
        train, val = split_indices(len(frame), labels.codes, seed, split)
        train_frame, val_frame = frame.iloc[train], frame.iloc[val]
        y_train, y_val = labels.values[train], labels.values[val]
    else:
        train_frame, y_train = frame, labels.values
        val_frame = _validation_frame(validation, target)
        val_what = f"validation target {target!r}"
        val_values = label_values(val_frame[target], "validation", val_what)
        _check_frame_labels(val_values, target, "validation")
        y_val = encode_labels(val_values, labels, val_what, what)
    spec = frame_spec(train_frame, target)
    if labels.task == "regression":
        spec["target"] = target_scaling(y_train)
    return Dataset(
        name=name, family=family, task=labels.task,
        x_train=frame_columns(spec, train_frame, "data"),
        y_train=y_train,
        x_val=frame_columns(spec, val_frame, "validation"),
        y_val=y_val,
        class_names=labels.class_names, feature_names=list(spec["feature_names"]),
        preprocessing=spec, label_dtype=labels.label_dtype, task_reason=labels.reason,
    )


def frame_spec(frame: pd.DataFrame, target: Any) -> dict[str, Any]:
    """The columns' preprocessing spec, fitted on these (training) rows.

    The encoded features come in this order (``feature_names``): every number column
    (standardised), a "missing" flag for each that had missing values, then each text column's
    one-hot or embedding (and its position, for an ordered category), so the number columns are
    filled and standardised as one block.
    """
    columns: list[dict[str, Any]] = []
    numbers: list[str] = []
    flags: list[str] = []
    texts: list[str] = []
    used: set[str] = set()
    for name in frame.columns:
        if name == target:
            continue
        col = frame[name]
        entry: dict[str, Any] = {"name": str(name), "input": _input_name(str(name), used)}
        if column_kind(col, name) == "numeric":
            values = numeric_values(col, name, "data")
            present = values[~np.isnan(values)]
            fill = float(np.median(present)) if present.size else 0.0
            filled = np.where(np.isnan(values), fill, values)
            variance = float(filled.var())
            entry.update(
                kind="numeric", fill=fill, mean=float(filled.mean()),
                variance=variance if math.isfinite(variance) and variance > 1e-12 else 1.0,
                missing=bool(present.size < values.size),
                center=fill, scale=robust_scale(present, variance),
            )
            numbers.append(str(name))
            if entry["missing"]:
                flags.append(f"{name}=missing")
        else:
            vocabulary = sorted(set(text_values(col).tolist()))
            entry.update(kind="text", vocabulary=vocabulary)
            if len(vocabulary) <= ONE_HOT_MAX:
                entry["encoding"] = "one_hot"
                texts.append(f"{name}={OTHER}")
                texts.extend(f"{name}={v if v else '(missing)'}" for v in vocabulary)
            else:
                entry["encoding"] = "embedding"
                entry["dim"] = min(EMBEDDING_MAX, round(1.6 * len(vocabulary) ** 0.56))
                texts.extend(f"{name}[{i}]" for i in range(entry["dim"]))
            order = category_order(col)
            if order is not None:
                entry["order"] = order
                texts.append(f"{name}:order")
        columns.append(entry)
    feature_names = numbers + flags + texts
    return {
        "version": SPEC_VERSION,
        "inputs": "columns",
        "columns": columns,
        "feature_names": feature_names,
        "features_shape": [len(feature_names)],
        "target": None,
    }


#: The quantile ranges (in percent) a number column's robust scale is taken from: the first
#: that is not 0 (a column mostly of one value has a zero inter-quartile range).
SCALE_QUANTILES = ((25.0, 75.0), (10.0, 90.0), (0.0, 100.0))


def robust_scale(present: np.ndarray, variance: float) -> float:
    """A number column's robust scale, as RealMLP takes it (Holzmüller et al., NeurIPS 2024):
    its training rows' inter-quartile range, or a wider quantile range where that is 0, else
    its standard deviation, else 1 (a constant column)."""
    for low, high in SCALE_QUANTILES:
        if present.size:
            q = np.percentile(present, [low, high])
            width = float(q[1] - q[0])
            if math.isfinite(width) and width > 1e-12:
                return width
    std = math.sqrt(variance) if math.isfinite(variance) and variance > 1e-12 else 0.0
    return std if std > 1e-6 else 1.0


def frame_columns(spec: dict[str, Any], frame: Any, arg: str) -> dict[str, np.ndarray]:
    """Raw rows as the dict of columns the model takes, checked against the spec's columns.

    ``frame`` is a DataFrame, a dict of columns, a list of row dicts or a Series (one row);
    columns are found by name, extra ones (the target, say) are ignored.
    """
    pd = pandas()
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
    by_name = {str(c): c for c in frame.columns}
    missing = [c["name"] for c in spec["columns"] if c["name"] not in by_name]
    if missing:
        raise DataError(
            f"{arg} is missing column{'s' if len(missing) > 1 else ''} "
            + ", ".join(repr(m) for m in missing)
            + "; it needs the columns the model was trained on ("
            + short_list([c["name"] for c in spec["columns"]]) + ")"
        )
    out: dict[str, np.ndarray] = {}
    for column in spec["columns"]:
        col = frame[by_name[column["name"]]]
        if isinstance(col, pd.DataFrame):
            raise DataError(
                f"{arg}: column {column['name']!r} appears more than once; column names must "
                "be unique"
            )
        if column["kind"] == "numeric":
            out[column["name"]] = numeric_values(col, column["name"], arg).astype(np.float32)
        else:
            out[column["name"]] = text_values(col)
    return out


def column_kind(col: pd.Series, name: Any) -> str:
    pd = pandas()
    types = pd.api.types
    dtype = col.dtype
    if types.is_bool_dtype(dtype):
        return "numeric"
    if isinstance(dtype, pd.CategoricalDtype):
        return "text"
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
        if inferred in ("integer", "floating", "mixed-integer-float", "decimal", "empty", "boolean"):
            return "numeric"
    return "text"


def category_order(col: pd.Series) -> dict[str, Any] | None:
    """An ordered pandas category's order, for the position feature: ``values`` (as the text
    the lookup sees, in order) and the mean and standard deviation of the training rows'
    positions (0 for the first value). None for any other column, and for an order of fewer
    than 3 values (two are one-hot already) or whose values collide as text.

    Why a position as well as the one-hot: a network then sees "Good < Very Good < Ideal" as
    one direction it can scale (on plotnine's diamonds it scored a little better; the figures
    are in docs/benchmarks.md).
    """
    pd = pandas()
    dtype = col.dtype
    if not isinstance(dtype, pd.CategoricalDtype) or not dtype.ordered:
        return None
    values = [value_str(v) for v in dtype.categories]
    if len(values) < 3 or len(set(values)) != len(values):
        return None
    codes = np.asarray(col.cat.codes, dtype=np.float64)
    known = codes[codes >= 0]
    std = float(known.std()) if known.size else 0.0
    return {
        "values": values,
        "mean": float(known.mean()) if known.size else 0.0,
        "std": std if std > 1e-12 else 1.0,
    }


def numeric_values(col: pd.Series, name: Any, arg: str) -> np.ndarray:
    """A number column as float64, NaN where missing or infinite."""
    pd = pandas()
    if isinstance(col.dtype, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(col.dtype):
        col = col.astype(object)
    if col.dtype == object:
        col = col.map(lambda v: float(v) if isinstance(v, (bool, np.bool_)) else v)
    numbers = pd.to_numeric(col, errors="coerce")
    bad = numbers.isna() & ~col.isna()
    if bad.any():
        raise DataError(
            f"{arg}: column {name!r} has the value {col[bad].iloc[0]!r}, which is not a number; "
            "it was numeric in training, so pass numbers (or leave the value empty)"
        )
    values = np.array(numbers.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)
    values[~np.isfinite(values)] = np.nan
    return values


def text_values(col: pd.Series) -> np.ndarray:
    """A text column as an object array of str, "" where a value is missing."""
    missing = np.asarray(col.isna(), dtype=bool)
    values = col.astype(object).to_numpy()
    return np.array(["" if m else value_str(v) for v, m in zip(values, missing)], dtype=object)


def _input_name(name: str, used: set[str]) -> str:
    """A name Keras and TensorFlow accept for the column's input layer (unique)."""
    base = re.sub(r"[^A-Za-z0-9_.-]", "_", name).strip("_") or "column"
    if not base[0].isalpha():
        base = "c_" + base
    out, n = base, 1
    while out in used:
        n += 1
        out = f"{base}_{n}"
    used.add(out)
    return out


def check_columns(frame: pd.DataFrame, arg: str) -> None:
    seen: set = set()
    for column in frame.columns:
        if column in seen or str(column) in seen:
            raise DataError(
                f"{arg}: column {column!r} appears more than once; column names must be unique"
            )
        seen.update((column, str(column)))
        if isinstance(column, bool) or not isinstance(column, (str, int, np.integer)):
            raise DataError(
                f"{arg}: column name {column!r} is a {type(column).__name__}; column names must "
                "be strings (df.columns = df.columns.map(str))"
            )


def find_target(target: Any, columns: list, where: str) -> Any:
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
    pd = pandas()
    bad = int(np.count_nonzero(pd.isna(values))) if values.dtype.kind in "fO" else 0
    if bad:
        raise DataError(
            f"{arg}: target {target!r} has {bad} missing value{'s' if bad != 1 else ''}; drop "
            f"those rows first (df.dropna(subset=[{target!r}]))"
        )


def _validation_frame(validation: Any, target: Any) -> pd.DataFrame:
    pd = pandas()
    if isinstance(validation, (str, os.PathLike)):
        validation = read_csv(existing_path(validation, "validation"), "validation")
    elif isinstance(validation, (tuple, list)):
        if len(validation) != 2 or not is_dataframe(validation[0]):
            raise DataError(
                "validation must be a DataFrame with the target column, a CSV path or a pair "
                f"(X_val_frame, y_val) when data is a DataFrame; got {kind_name(validation)}"
            )
        x_val, y_val = validation
        y_values = label_values(y_val, "validation", "y_val")
        if len(x_val) != len(y_values):
            raise DataError(
                f"validation: X has {len(x_val)} rows but y has {len(y_values)} labels; they "
                "must be the same length"
            )
        validation = x_val.copy()
        validation[target] = pd.Series(y_values, index=x_val.index)
    if not is_dataframe(validation):
        raise DataError(
            "validation must be a DataFrame with the target column, a CSV path or a pair "
            f"(X_val_frame, y_val) when data is a DataFrame; got {kind_name(validation)}"
        )
    check_columns(validation, "validation")
    if target not in validation.columns:
        raise DataError(
            f"validation has no target column {target!r}; it needs the same columns as data "
            f"(it has: {short_list(list(validation.columns))})"
        )
    if len(validation) == 0:
        raise DataError("validation has no rows; pass at least one sample or leave it out")
    return validation


def read_csv(path: Path, arg: str) -> pd.DataFrame:
    pd = pandas()
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


# ---------------------------------------------------------------------------------------------
# a CSV file: read by path, recorded by path and fingerprint, read again when a search reopens


def load_csv(path: Path, target: Any, validation: Any, seed: int | None, split: float,
             task: str | None, family: str = "tabular") -> Dataset:
    """The Dataset of a CSV file; its ``source`` records the file (and a validation file) by
    path and fingerprint, so a search directory keeps no copy of the rows."""
    frame = read_csv(path, "data")
    dataset = load_frame(frame, target, validation, seed, split, slug(path.stem or path.name),
                         task, family)
    if validation is None or isinstance(validation, (str, os.PathLike)):
        dataset.source = {
            "kind": "csv", "family": family, "path": str(path.resolve()),
            "fingerprint": file_fingerprint(path),
            "target": int(target) if isinstance(target, np.integer) else target, "seed": seed,
            "validation_split": split, "task": task,
            "validation": None if validation is None else str(Path(validation).resolve()),
        }
        if validation is not None:
            dataset.source["validation_fingerprint"] = file_fingerprint(Path(validation))
    return dataset


def reload_csv(source: dict[str, Any], family: str = "tabular") -> Dataset:
    """The Dataset of a CSV file again from its ``source``, after checking the files."""
    for key, what in (("path", "CSV file"), ("validation", "validation CSV file")):
        if source.get(key):
            check_file(source[key], source[f"{'' if key == 'path' else 'validation_'}fingerprint"], what)
    validation = source.get("validation")
    return load_csv(Path(source["path"]), source["target"], validation, source.get("seed"),
                    source["validation_split"], source.get("task"), family)


def file_fingerprint(path: Path) -> dict[str, Any]:
    """A file's size and the SHA-1 of its content."""
    digest = hashlib.sha1()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return {"bytes": path.stat().st_size, "digest": digest.hexdigest()}


def check_file(path: str, saved: dict[str, Any], what: str) -> None:
    """Raise a sentence when the file a search trained on is gone or changed."""
    if not Path(path).is_file():
        raise DataError(
            f"the {what} {path!r} this search trained on is gone; its trials are shown, but to "
            "train again put the file back at that path"
        )
    if file_fingerprint(Path(path))["digest"] != saved.get("digest"):
        raise DataError(
            f"the {what} {path!r} changed since the search started; its trials are shown, but "
            "to train on the new rows start a new search"
        )
