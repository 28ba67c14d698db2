"""Writing a trial's model where the user takes it: ``.keras``, a SavedModel, or TFLite.

The model a search trains is already whole (raw inputs -> preprocessing layers -> the space's
model -> a regression target's inverse; see :mod:`automl_nb.data.layers`), so exporting is
saving it:

- ``format="keras"`` (the default): a ``.keras`` file; ``keras.saving.load_model(path)``
  opens it without automl-nb, in safe mode, and predicts from the raw input.
- ``format="savedmodel"``: a folder written by Keras' ``model.export`` (TensorFlow Serving;
  ``tf.saved_model.load(path).serve(inputs)``, the inputs in the signature's dtypes).
- ``format="tflite"``: a ``.tflite`` file for phones and edge devices, converted from that
  SavedModel (TFLite's built-in ops; TensorFlow's own ops where needed, for text columns).

``<path>.json`` beside it keeps what is not the model's job: the class names (the model
outputs class probabilities), the label type, what the inputs are, and where the model came
from. Every file is written under a temporary name and renamed into place, so a failed export
leaves nothing half-written. TensorFlow is imported only to write.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from .errors import Keyword, SearchError
from .store import FORMAT, write_json

#: Export formats and the suffix each path must have ("" for the SavedModel folder).
FORMATS = {"keras": ".keras", "savedmodel": "", "tflite": ".tflite"}
DEFAULT_NAMES = {"keras": "best.keras", "savedmodel": "best_savedmodel", "tflite": "best.tflite"}


def check(format: Any, path: Any, directory: Path) -> tuple[str, Path]:
    """(the format, the path to write), checked; the path defaults to the search's folder."""
    fmt = check_format(format)
    return fmt, target_path(path, fmt, directory)


def check_format(format: Any) -> str:
    if isinstance(format, str) and format.strip().lower() in FORMATS:
        return format.strip().lower()
    raise SearchError(f"must be one of {', '.join(repr(f) for f in FORMATS)}; got {format!r}",
                      argument="format", value=format,
                      hint="'keras' for Keras, 'savedmodel' for TensorFlow Serving, 'tflite' for phones")


def target_path(path: Any, fmt: str, directory: Path) -> Path:
    """Where to write: ``path``, checked against the format, or a default in the search's folder."""
    target = Path(path) if path is not None else directory / DEFAULT_NAMES[fmt]
    suffix = FORMATS[fmt]
    if suffix and target.suffix != suffix:
        raise SearchError(("must end in ", suffix, " for ", Keyword("format", fmt), f"; got '{target}'"),
                          argument="path", value=str(target), hint=f"try '{target.with_suffix(suffix)}'")
    if not suffix and target.suffix in (".keras", ".tflite", ".json", ".h5"):
        raise SearchError(("is a folder for ", Keyword("format", "savedmodel"), f"; got the file name '{target}'"),
                          argument="path", value=str(target), hint=f"try '{target.with_suffix('')}'")
    if not suffix and target.exists() and not (target / "saved_model.pb").exists():
        raise SearchError(f"'{target}' exists and is not a SavedModel", argument="path",
                          value=str(target), hint="choose a new folder name")
    if suffix and target.is_dir():
        raise SearchError(f"'{target}' is a folder", argument="path", value=str(target),
                          hint=f"choose a file name ending in {suffix}")
    return target


def metadata(trial: Any, dataset: Any, settings: dict[str, Any], fmt: str, final: bool,
             directory: Path) -> dict[str, Any]:
    """The ``.json`` beside an export: labels and provenance, no preprocessing recipe."""
    from . import families

    inputs: dict[str, Any] = {}
    if dataset is not None and dataset.preprocessing:
        inputs = families.get(dataset.family).export_inputs(dataset.preprocessing)
    return {
        "format": FORMAT,
        "export_format": fmt,
        "trial_id": trial.trial_id,
        "final_fit": final,
        "hyperparameters": dict(trial.hyperparameters),
        "objective": settings["objective"],
        "direction": settings["direction"],
        "score": trial.score,
        "task": dataset.task if dataset is not None else None,
        "family": dataset.family if dataset is not None else None,
        "class_names": dataset.class_names if dataset is not None else None,
        "label_dtype": dataset.label_dtype if dataset is not None else None,
        "inputs": inputs,
        "search": str(directory),
    }


def write(model: Any, target: Path, fmt: str, meta: dict[str, Any]) -> None:
    """Write ``model`` in ``fmt`` to ``target`` and ``<target>.json`` beside it, atomically."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.stem}.{os.getpid()}.tmp{target.suffix}")
    try:
        if fmt == "keras":
            model.save(temporary)
        elif fmt == "savedmodel":
            _saved_model(model, temporary)
        else:
            temporary.write_bytes(_tflite(model))
    except Exception as exc:
        _remove(temporary)
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SearchError(f"the model could not be written as {fmt} ({first})", argument="format",
                          value=fmt, hint="export format='keras' and convert it yourself") from exc
    if fmt == "savedmodel" and target.exists():
        shutil.rmtree(target)
    os.replace(temporary, target)
    write_json(Path(str(target) + ".json"), meta)


def _saved_model(model: Any, folder: Path) -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    model.export(str(folder), format="tf_saved_model", verbose=False)


def _tflite(model: Any) -> bytes:
    import tensorflow as tf

    with tempfile.TemporaryDirectory(prefix="automl_nb-tflite-") as tmp:
        _saved_model(model, Path(tmp) / "model")
        try:
            return tf.lite.TFLiteConverter.from_saved_model(str(Path(tmp) / "model")).convert()
        except Exception:  # noqa: BLE001 - text lookups need TensorFlow's own ops (Flex)
            converter = tf.lite.TFLiteConverter.from_saved_model(str(Path(tmp) / "model"))
            converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS,
                                                   tf.lite.OpsSet.SELECT_TF_OPS]
            return converter.convert()


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
