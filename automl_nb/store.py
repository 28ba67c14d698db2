"""The search directory: the one module that knows what a search writes where.

::

    <directory>/
      search.json            the settings (JSON, versioned: automl_nb.settings.Settings): what
                             was asked for, and the data's description; only this module
                             reads and writes it
      events.jsonl           the journal (events.py writes it, line by line)
      data.npz               data held in memory (arrays, a DataFrame's columns), raw dtype,
                             integers and text compressed, read back without pickle; file-backed data (a CSV
                             file, an image folder) and bundled sets are not copied: settings
                             keep their path and fingerprint
      kt/                    KerasTuner's project: oracle.json, tuner0.json, trial_<id>/...
        trial_<id>/checkpoint.weights.h5    a trial's best-epoch weights (HDF5)
        trial_<id>/validation_predictions.npy   its predictions of the validation inputs at
                                                that epoch, when it may join the ensemble
      workers/<id>.log       each worker process's output, with workers

:class:`Store` hands out these paths and reads and writes the settings and the data; the
search (``_search.py``), the backends and the worker processes all go through it. Nothing
here imports TensorFlow; only JSON and NumPy arrays (``allow_pickle=False``) are read.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

from ._util import slug
from .errors import Keyword, Reopen, SearchError
from .events import JOURNAL_NAME
from .settings import Settings

log = logging.getLogger("automl_nb")

SETTINGS_NAME = "search.json"
DATA_NAME = "data.npz"
#: KerasTuner's ``project_name``: its files live in ``<directory>/kt``.
KT_PROJECT = "kt"
#: The file KerasTuner saves a trial's best epoch to (``_kt_compat`` checks it is still so).
CHECKPOINT_NAME = "checkpoint.weights.h5"
#: A trial's validation predictions at its best epoch (the ensemble weighs them).
PREDICTIONS_NAME = "validation_predictions.npy"
WORKERS_DIR = "workers"


class Store:
    """The files of one search, under ``directory``."""

    def __init__(self, directory: str | os.PathLike[str]):
        self.directory = Path(directory)

    # -- paths ---------------------------------------------------------------------------
    @property
    def settings_path(self) -> Path:
        return self.directory / SETTINGS_NAME

    @property
    def journal_path(self) -> Path:
        return self.directory / JOURNAL_NAME

    @property
    def data_path(self) -> Path:
        return self.directory / DATA_NAME

    @property
    def kt_directory(self) -> Path:
        return self.directory / KT_PROJECT

    def trial_directory(self, trial_id: str) -> Path:
        return self.kt_directory / f"trial_{trial_id}"

    def checkpoint_path(self, trial_id: str) -> Path:
        return self.trial_directory(trial_id) / CHECKPOINT_NAME

    def has_checkpoint(self, trial_id: str) -> bool:
        return self.checkpoint_path(trial_id).exists()

    def predictions_path(self, trial_id: str) -> Path:
        return self.trial_directory(trial_id) / PREDICTIONS_NAME

    def write_predictions(self, trial_id: str, predictions: Any) -> None:
        """Save a trial's validation predictions whole (a temporary file, then renamed)."""
        import numpy as np

        path = self.predictions_path(trial_id)
        temporary = path.with_name(f"{path.stem}.partial.npy")
        np.save(temporary, np.asarray(predictions), allow_pickle=False)
        os.replace(temporary, path)

    def read_predictions(self, trial_id: str) -> Any:
        """A trial's saved validation predictions, or None when there are none to read."""
        import numpy as np

        try:
            return np.load(self.predictions_path(trial_id), allow_pickle=False)
        except (OSError, ValueError):
            return None

    def worker_log(self, worker_id: str) -> Path:
        return self.directory / WORKERS_DIR / f"{worker_id}.log"

    def exists(self) -> bool:
        """Whether the directory holds a search (its settings or its journal)."""
        return self.settings_path.exists() or self.journal_path.exists()

    # -- settings ------------------------------------------------------------------------
    def write_settings(self, settings: Settings) -> None:
        """Write the settings as JSON (with their version), atomically."""
        write_json(self.settings_path, settings.to_dict())

    def read_settings(self) -> Settings:
        """The settings, from a file of this version, an older one (no ``version``: written
        before settings were typed) or a newer one (keys unknown here are left out)."""
        try:
            return Settings.from_dict(json.loads(self.settings_path.read_text()))
        except (OSError, ValueError, TypeError) as exc:
            raise SearchError(
                f"'{self.directory}': its {SETTINGS_NAME} cannot be read ({exc})",
                argument="directory",
                value=str(self.directory),
            ) from None

    # -- data ----------------------------------------------------------------------------
    def write_data(self, dataset: Any) -> None:
        """In-memory data once, in its raw dtype; file-backed data not at all.

        Integer, boolean and text arrays (images, labels, categories) are compressed, fast
        (zlib level 1 shrinks uint8 images many times over in a fraction of a second);
        floating-point arrays are stored as they are: zlib gains them a few per cent at many
        times the time, and a search starts that much sooner.
        A search on a CSV file, an image folder or a bundled set keeps only its reference
        (``dataset_meta``'s ``source``: the path and a fingerprint) in ``search.json``.
        """

        if dataset.source is not None:
            return
        arrays: dict[str, Any] = {"y_train": dataset.y_train, "y_val": dataset.y_val}
        for part in ("x_train", "x_val"):
            x = getattr(dataset, part)
            if isinstance(x, dict):
                for i, values in enumerate(x.values()):
                    arrays[f"{part}.{i}"] = values.astype(str) if values.dtype == object else values
            else:
                arrays[part] = x
        _write_npz(self.data_path, arrays)

    def read_data(self, settings: Settings) -> Any:
        """The search's data, or None (logged) when ``data.npz`` is missing or cannot be read
        safely (one that holds pickled objects is refused: the search is shown, it cannot
        train). File-backed data is read again from its files: a
        :class:`~automl_nb.errors.DataError` says in a sentence when they are gone or changed.
        """
        import numpy as np

        from .data import Dataset, reload_data

        meta = settings.dataset
        if meta.get("source"):
            return reload_data(meta["source"])
        if not self.data_path.exists():
            return None
        try:
            spec = meta["preprocessing"]
            with np.load(self.data_path, allow_pickle=False) as arrays:
                if spec.get("inputs") == "columns":
                    names = [c["name"] for c in spec["columns"]]
                    x_train, x_val = ({name: _column(arrays[f"{part}.{i}"]) for i, name in enumerate(names)}
                                      for part in ("x_train", "x_val"))
                else:
                    x_train, x_val = arrays["x_train"], arrays["x_val"]
                return Dataset(
                    name=meta.get("name", settings.name),
                    family=meta["family"],
                    task=meta["task"],
                    x_train=x_train,
                    y_train=arrays["y_train"],
                    x_val=x_val,
                    y_val=arrays["y_val"],
                    class_names=meta.get("class_names"),
                    feature_names=meta.get("feature_names"),
                    preprocessing=spec,
                    label_dtype=meta.get("label_dtype", "int"),
                    task_reason=meta.get("task_reason", ""),
                )
        except (OSError, ValueError, KeyError, TypeError, AttributeError, zipfile.BadZipFile) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else exc
            log.warning("%s could not be read back (%s); the search is shown but cannot train",
                        self.data_path, first)
            return None

    # -- the directory as a whole ------------------------------------------------------------
    def create(self, settings: Settings, dataset: Any | None) -> None:
        """Write a new search's settings and data; on failure leave nothing behind."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            self.write_settings(settings)
            if dataset is not None:
                self.write_data(dataset)
            self.journal_path.touch()
        except OSError as exc:
            self.remove()
            raise SearchError(
                f"'{self.directory}' could not be written ({exc.strerror or exc})",
                argument="directory",
                value=str(self.directory),
                hint="choose a writable folder",
            ) from None

    def remove(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)


def dataset_meta(dataset: Any) -> dict[str, Any]:
    """What ``search.json`` keeps of a Dataset to read its arrays back."""
    return {
        "name": dataset.name,
        "family": dataset.family,
        "task": dataset.task,
        "class_names": dataset.class_names,
        "feature_names": dataset.feature_names,
        "preprocessing": dataset.preprocessing,
        "label_dtype": dataset.label_dtype,
        "task_reason": dataset.task_reason,
        "source": dataset.source,
    }


def _column(values: Any) -> Any:
    """A column read back from ``data.npz``: text as str objects, as the model's inputs take."""
    return values.astype(object) if values.dtype.kind == "U" else values


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write JSON atomically: a reader sees the old file or the new one, never half of one."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str))
    os.replace(tmp, path)


def default_directory(name: str, oracle: str) -> Path:
    """``automl_runs/<data>-<oracle>-<time>``, numbered on when that exists."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    base = Path("automl_runs") / f"{slug(name, 'search')}-{slug(oracle, 'search')}-{stamp}"
    path, n = base, 1
    while path.exists():
        n += 1
        path = base.with_name(f"{base.name}-{n}")
    return path


def prepare_directory(directory: Any, overwrite: bool) -> Path:
    """The folder for a new search: new or empty, or a search's that ``overwrite`` replaces."""
    try:
        path = Path(directory)
    except TypeError:
        raise SearchError(f"must be a path; got {directory!r}", argument="directory",
                          value=directory) from None
    if path.exists() and not path.is_dir():
        raise SearchError(f"'{path}' is a file", argument="directory", value=str(path),
                          hint="choose a folder path for the search")
    if path.is_dir() and any(path.iterdir()):
        if not Store(path).exists():
            raise SearchError(f"'{path}' is not empty and holds no search", argument="directory",
                              value=str(path), hint="choose a new or empty folder")
        if not overwrite:
            raise SearchError(
                f"'{path}' already holds a search", argument="directory", value=str(path),
                hint=("pass ", Keyword("overwrite", True), " to replace it or ", Reopen(str(path)),
                      " to reopen and continue it"),
            )
        shutil.rmtree(path)
    return path


def open_directory(directory: str | os.PathLike[str]) -> Store:
    """The store of an existing search's folder, or a sentence saying why it is not one."""
    path = Path(directory)
    if not path.is_dir():
        raise SearchError(f"'{path}' does not exist", argument="directory", value=str(path),
                          hint="pass the folder of a saved search")
    store = Store(path)
    if not store.exists():
        raise SearchError(f"'{path}' holds no search (no {SETTINGS_NAME} or {JOURNAL_NAME})",
                          argument="directory", value=str(path))
    return store


def _write_npz(path: Path, arrays: dict[str, Any]) -> None:
    """An ``.npz`` file (``numpy.load`` reads it) with each array compressed or stored as
    :meth:`Store.write_data` says, written whole: to a temporary name, then renamed."""
    import numpy as np

    partial = path.with_name(path.name + ".partial")
    with zipfile.ZipFile(partial, "w", compresslevel=1) as archive:
        for name, values in arrays.items():
            values = np.asarray(values)
            # a member opened by name takes the archive's method and level as they are now
            archive.compression = zipfile.ZIP_STORED if values.dtype.kind in "fc" else zipfile.ZIP_DEFLATED
            with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, values, allow_pickle=False)
    os.replace(partial, path)
