"""Inputs to training and validation data: bundled sets, arrays, DataFrames, CSV files, image folders.

:func:`load_data` turns whatever the user hands over into a :class:`Dataset`: the data as it
was given (raw dtype and shape; a DataFrame as a dict of columns; an image folder as files
read as a stream), labels as class indices (classification) or float32 targets (regression),
a seeded validation split, and a JSON ``preprocessing`` spec of the training split's
statistics, from which :mod:`automl_nb.data.layers` makes the first (and, for a regression,
the last) layers of every model the search trains and exports. Nothing is scaled outside the
model, so the exported model takes the raw input the search took.

Which data family an input is, and how it loads, the registered families decide
(:mod:`automl_nb.families`: tabular, image, sequence); the loaders they use are here. The
modules, by input kind: :mod:`.arrays` (``(X, y)``), :mod:`.frames` (DataFrames, CSV
files), :mod:`.images` (image folders, streamed), :mod:`.bundled`; :mod:`.labels` (the task,
classes, a regression target's scaling, the split); :mod:`.layers` (the spec as Keras layers).
Nothing here imports TensorFlow, Keras or any UI library; pandas, scikit-learn and PIL are
imported only when needed.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from .. import families
from .._util import slug
from ..errors import DataError, Keyword
from .arrays import features
from .bundled import load_bundled
from .dataset import (
    BUNDLED,
    Dataset,
    bundled_key,
    check_validation_split,
    existing_path,
    is_dataframe,
    reject_target,
)
from .frames import file_fingerprint
from .labels import check_task

__all__ = [
    "BUNDLED",
    "DataError",
    "Dataset",
    "describe_input",
    "file_fingerprint",
    "load_data",
    "reload_data",
]


def describe_input(data: Any) -> str:
    """A short, directory-safe name for an input: "digits", "arrays", "dataframe", a CSV file's
    stem or an image folder's name. Never raises."""
    if isinstance(data, Dataset):
        return data.name
    if isinstance(data, str):
        key = bundled_key(data)
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
    if is_dataframe(data):
        return "dataframe"
    return "data"


def load_data(
    data: Any,
    *,
    target: str | None = None,
    validation: Any = None,
    seed: int | None = None,
    validation_split: float = 0.2,
    task: str | None = None,
    **options: Any,
) -> Dataset:
    """Turn an input into a `Dataset` of raw inputs, encoded labels and a validation set.

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
        task: "classification" or "regression" to override the task inferred from the target
            (see :mod:`automl_nb.data.labels`).
        options: arguments of one data family (:mod:`automl_nb.families`), passed to its
            ``recognise`` and ``load``; a family that takes none refuses them in a sentence.

    Raises:
        DataError: bad input, with one sentence naming the argument and the fix.
    """
    check_validation_split(validation_split)
    task = check_task(task)
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
        raise DataError(f"seed must be an int or None, got {seed!r}")
    if isinstance(data, Dataset):
        if target is not None or validation is not None:
            raise DataError(
                ("is already a Dataset; drop ", Keyword("target"), " and ", Keyword("validation"),
                 ", they apply only to raw inputs"),
                argument="data",
            )
        families.refuse_options(options, "a Dataset")
        return data
    if isinstance(data, str) and bundled_key(data) in BUNDLED:
        key = bundled_key(data)
        reject_target(target, f"the bundled set {key!r}")
        if validation is not None:
            raise DataError(
                (Keyword("validation"), f" is not supported with the bundled set {key!r}"),
                hint=("use ", Keyword("validation_split"), " to choose the held-out fraction"),
            )
        _no_task(task, f"the bundled set {key!r}")
        families.refuse_options(options, f"the bundled set {key!r}")
        return load_bundled(key, seed, validation_split)
    family = families.recognise(data, target, **options)
    if family is not None:
        return family.load(data, target=target, validation=validation, seed=seed,
                           validation_split=validation_split, task=task, **options)
    families.refuse_options(options, "this data")
    if isinstance(data, (tuple, list)):  # no family's: say what is wrong with it
        if len(data) != 2:
            raise DataError(
                f"data as a {type(data).__name__} must be a pair (X, y) of arrays; "
                f"got {len(data)} items"
            )
        reject_target(target, "arrays (X, y)")
        features(data[0], "data")  # raises the sentence for X's shape or values
    if isinstance(data, (str, os.PathLike)):
        existing_path(data)  # raises: the path does not exist
    kinds = f"must be a bundled data set name ({', '.join(BUNDLED)}), a tuple (X, y) of arrays"
    raise DataError(
        (kinds, ", a pandas DataFrame with ", Keyword("target"), ", a CSV path with ", Keyword("target"),
         f" or a folder of images with one sub-folder per class; got {type(data).__name__}"),
        argument="data",
    )


def reload_data(source: dict[str, Any]) -> Dataset:
    """The Dataset of file-backed (or bundled) data again, from what ``Dataset.source`` saved.

    Raises :class:`DataError` with a sentence when the files are gone or have changed since.
    """
    if source.get("kind") == "bundled":
        return load_bundled(source["name"], source.get("seed"), source["validation_split"])
    return families.source_family(source).reload(source)


def _no_task(task: str | None, what: str) -> None:
    if task == "regression":
        raise DataError(f"'regression' does not fit {what}, which is a classification",
                        argument="task", value=task, hint=("leave ", Keyword("task"), " out"))
