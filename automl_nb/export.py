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
  ``quantize=`` makes it smaller: "dynamic" (weights as 8-bit integers, computed in float),
  "float16" (weights as 16-bit floats) or "int8" (weights and activations as 8-bit integers,
  their ranges calibrated on training rows). A quantized export is scored with the TFLite
  interpreter on the validation data beside the float32 conversion of the same model, and
  its ``.json`` and the export's answer say what quantization cost (:func:`quantization_report`).

``<path>.json`` beside it keeps what is not the model's job: the class names (the model
outputs class probabilities), the label type, what the inputs are, and where the model came
from. Every file is written under a temporary name and renamed into place, so a failed export
leaves nothing half-written. TensorFlow is imported only to write.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ._util import quiet_tensorflow_startup
from .errors import Keyword, SearchError
from .settings import FORMAT, Settings
from .store import write_json

#: Export formats and the suffix each path must have ("" for the SavedModel folder).
FORMATS = {"keras": ".keras", "savedmodel": "", "tflite": ".tflite"}
DEFAULT_NAMES = {"keras": "best.keras", "savedmodel": "best_savedmodel", "tflite": "best.tflite"}
#: TFLite quantization modes (``quantize=``): what each stores as fewer bits.
QUANTIZE = {"dynamic": "weights as int8", "float16": "weights as float16",
            "int8": "weights and activations as int8"}
#: Training rows that calibrate an int8 model's activation ranges (a random sample, seeded).
CALIBRATION_ROWS = 256
#: Rows the TFLite interpreter scores at once.
SCORE_BATCH = 256


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


def check_quantize(quantize: Any, fmt: str) -> str | None:
    """The quantization mode, checked: None, or one of :data:`QUANTIZE`, for TFLite only."""
    if quantize is None:
        return None
    mode = quantize.strip().lower() if isinstance(quantize, str) else quantize
    if mode not in QUANTIZE:
        raise SearchError(f"must be one of {', '.join(repr(q) for q in QUANTIZE)} or None; got {quantize!r}",
                          argument="quantize", value=quantize,
                          hint="'int8' for the smallest file, 'float16' to keep float precision")
    if fmt != "tflite":
        raise SearchError(("applies to ", Keyword("format", "tflite"), f" only; got format {fmt!r}"),
                          argument="quantize", value=quantize,
                          hint=("export with ", Keyword("format", "tflite"), " to quantize"))
    return mode


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


def metadata(trial: Any, dataset: Any, settings: Settings, fmt: str, final: bool,
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
        "objective": settings.objective,
        "direction": settings.direction,
        "score": trial.score,
        "task": dataset.task if dataset is not None else None,
        "family": dataset.family if dataset is not None else None,
        "class_names": dataset.class_names if dataset is not None else None,
        "label_dtype": dataset.label_dtype if dataset is not None else None,
        "inputs": inputs,
        "search": str(directory),
    }


def write(model: Any, target: Path, fmt: str, meta: dict[str, Any], quantize: str | None = None,
          data: Any = None) -> dict[str, Any] | None:
    """Write ``model`` in ``fmt`` to ``target`` and ``<target>.json`` beside it, atomically.

    With ``quantize`` (TFLite only) ``data`` is the search's :class:`ScoringData`: training rows
    calibrate an int8 model, and the validation rows score the quantized file against the float
    one; the report (:func:`quantization_report`) goes into the ``.json`` under
    ``"quantization"`` and is returned."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.stem}.{os.getpid()}.tmp{target.suffix}")
    report = None
    try:
        if fmt == "keras":
            model.save(temporary)
        elif fmt == "savedmodel":
            _saved_model(model, temporary)
        elif quantize is None:
            temporary.write_bytes(tflite_bytes(model))
        else:
            with tempfile.TemporaryDirectory(prefix="automl_nb-tflite-") as tmp:
                saved = Path(tmp) / "model"
                _saved_model(model, saved)
                plain = _convert(saved)
                calibration = data.calibration() if quantize == "int8" else None
                small = _convert(saved, quantize, calibration)
            report = quantization_report(quantize, plain, small, data)
            temporary.write_bytes(small)
    except Exception as exc:
        _remove(temporary)
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        what = f"{fmt} quantized as {quantize}" if quantize else fmt
        raise SearchError(f"the model could not be written as {what} ({first})", argument="format",
                          value=fmt, hint="export format='keras' and convert it yourself") from exc
    if fmt == "savedmodel" and target.exists():
        shutil.rmtree(target)
    os.replace(temporary, target)
    if report is not None:
        meta = {**meta, "quantization": report}
    write_json(Path(str(target) + ".json"), meta)
    return report


def _saved_model(model: Any, folder: Path) -> None:
    quiet_tensorflow_startup()
    model.export(str(folder), format="tf_saved_model", verbose=False)


def tflite_bytes(model: Any) -> bytes:
    """``model`` as a float32 TFLite flat buffer."""
    with tempfile.TemporaryDirectory(prefix="automl_nb-tflite-") as tmp:
        _saved_model(model, Path(tmp) / "model")
        return _convert(Path(tmp) / "model")


def _convert(saved: Path, quantize: str | None = None,
             calibration: Iterable[Any] | None = None) -> bytes:
    """A SavedModel converted to TFLite, quantized as asked; TensorFlow's own ops (Flex) where
    TFLite's built-in ones do not reach (the string lookups of text columns)."""
    import tensorflow as tf

    def converter(select_ops: bool) -> Any:
        conv = tf.lite.TFLiteConverter.from_saved_model(str(saved))
        if select_ops:
            conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS,
                                              tf.lite.OpsSet.SELECT_TF_OPS]
        if quantize is not None:
            conv.optimizations = [tf.lite.Optimize.DEFAULT]
        if quantize == "float16":
            conv.target_spec.supported_types = [tf.float16]
        if quantize == "int8":
            rows = list(calibration or ())
            conv.representative_dataset = lambda: iter(rows)
        return conv

    with warnings.catch_warnings():  # int8 calibration runs tf.lite.Interpreter, which warns
        warnings.simplefilter("ignore")
        try:
            return converter(False).convert()
        except Exception:  # noqa: BLE001 - text lookups need TensorFlow's own ops (Flex)
            return converter(True).convert()


# -- what quantization cost ----------------------------------------------------------------------


class ScoringData:
    """The search's rows for a quantized export: training rows to calibrate an int8 model
    (:data:`CALIBRATION_ROWS`, a seeded sample) and the validation rows to score it, each as
    the model takes them (arrays, a dict of columns, or an image stream's batches)."""

    def __init__(self, dataset: Any, seed: int | None) -> None:
        self.dataset, self.seed = dataset, seed

    def _fit_data(self) -> tuple[tuple[Any, ...], dict[str, Any]]:
        from .data.layers import fit_data

        return fit_data(self.dataset, SCORE_BATCH, self.seed)

    def calibration(self) -> Iterator[Any]:
        """One training row at a time, as the converter's representative data takes it: a dict
        ``{input name: array of one row}`` for columns, a one-item list for one array."""
        args, _ = self._fit_data()
        x = args[0]
        for xb, _yb in _batches(x, args[1] if len(args) > 1 else None, seed=self.seed,
                                limit=CALIBRATION_ROWS):
            named = _named(xb)
            for i in range(_rows(xb)):
                # a column is fed as (rows, 1), as its input is declared
                row = {name: value[i:i + 1].reshape(1, -1) if value.ndim == 1 and name else
                       value[i:i + 1] for name, value in named.items()}
                yield [row[""]] if "" in row else row

    def validation(self) -> Iterator[tuple[Any, np.ndarray]]:
        """The validation rows in batches: (inputs, labels)."""
        validation = self._fit_data()[1]["validation_data"]
        x, y = validation if isinstance(validation, tuple) else (validation, None)
        yield from _batches(x, y)

    @property
    def task(self) -> str:
        return self.dataset.task


def _numpy(value: Any) -> np.ndarray:
    if hasattr(value, "numpy"):
        value = value.numpy()
    value = np.asarray(value)
    if value.dtype == object or value.dtype.kind == "U":  # text: the bytes TFLite's strings hold
        value = np.array([str(v).encode("utf-8") if not isinstance(v, bytes) else v
                          for v in value.reshape(-1)], dtype=object).reshape(value.shape)
    return value


def _named(xb: Any) -> dict[str, np.ndarray]:
    """A batch as ``{input name: array}`` (a single array's name is filled in by the caller)."""
    if isinstance(xb, dict):
        return {k: _numpy(v) for k, v in xb.items()}
    return {"": _numpy(xb)}


def _rows(xb: Any) -> int:
    return len(next(iter(_named(xb).values())))


def _batches(x: Any, y: Any, seed: int | None = None, limit: int | None = None
             ) -> Iterator[tuple[Any, np.ndarray | None]]:
    """(inputs, labels) in batches of :data:`SCORE_BATCH` from arrays, a dict of columns or a
    stream (a ``PyDataset``); with ``limit``, a seeded random sample of that many rows."""
    if y is None and hasattr(x, "__getitem__") and hasattr(x, "__len__") and not isinstance(
            x, (dict, np.ndarray)):
        seen = 0
        for i in range(len(x)):
            xb, yb = x[i]
            yield xb, np.asarray(yb)
            seen += _rows(xb)
            if limit is not None and seen >= limit:
                return
        return
    n = _rows(x)
    order = np.arange(n)
    if limit is not None and n > limit:
        order = np.sort(np.random.default_rng(seed).choice(n, limit, replace=False))
    for start in range(0, len(order), SCORE_BATCH):
        index = order[start:start + SCORE_BATCH]
        if isinstance(x, dict):
            xb: Any = {k: _numpy(v)[index] for k, v in x.items()}
        else:
            xb = _numpy(x)[index]
        yield xb, (np.asarray(y)[index] if y is not None else None)


def interpreter(content: bytes) -> Any:
    """A TFLite interpreter's default signature runner over a flat buffer (TensorFlow's own
    ``tf.lite.Interpreter``; its notice that LiteRT replaces it is not shown)."""
    import tensorflow as tf

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return tf.lite.Interpreter(model_content=content).get_signature_runner()


def tflite_predict(runner: Any, xb: Any) -> np.ndarray:
    """A signature runner's output for one batch of raw inputs, fed by input name."""
    details = runner.get_input_details()
    named = _named(xb)
    if "" in named:  # one array: the model's one input
        (name,) = details
        named = {name: named[""]}
    feed = {}
    for name, value in named.items():
        shape = details[name]["shape_signature"]
        value = value.reshape(len(value), *[int(d) for d in shape[1:]]) if len(shape) > 1 else value
        dtype = details[name]["dtype"]
        feed[name] = value if value.dtype == object else value.astype(dtype)
    return np.asarray(next(iter(runner(**feed).values())))


def validation_score(content: bytes, data: ScoringData) -> tuple[str, float]:
    """(the metric, its value) of a TFLite model on the validation rows: accuracy for a
    classification, R2 for a regression (in the target's own units)."""
    from .predictor import class_indices

    runner = interpreter(content)
    outs, labels = [], []
    for xb, yb in data.validation():
        outs.append(tflite_predict(runner, xb))
        labels.append(np.asarray(yb).reshape(-1))
    out, y = np.concatenate(outs), np.concatenate(labels)
    if data.task == "classification":
        return "accuracy", float(np.mean(class_indices(out) == y))
    pred = out.reshape(len(out), -1)[:, 0].astype(np.float64)
    y = y.astype(np.float64)
    total = float(np.sum((y - y.mean()) ** 2))
    return "r2", float(1.0 - np.sum((y - pred) ** 2) / total) if total > 0 else float("nan")


def quantization_report(mode: str, plain: bytes, small: bytes, data: ScoringData) -> dict[str, Any]:
    """What quantizing cost: the two files' sizes and their validation scores, each measured by
    the TFLite interpreter on the same validation rows."""
    metric, float_score = validation_score(plain, data)
    _, score = validation_score(small, data)
    return {"mode": mode, "stores": QUANTIZE[mode], "size_bytes": len(small),
            "float_size_bytes": len(plain), "size_ratio": len(small) / len(plain),
            "metric": metric, "score": score, "float_score": float_score}


def describe_quantization(report: dict[str, Any]) -> str:
    """The report as the export's answer says it."""
    name = {"accuracy": "validation accuracy", "r2": "validation R2"}[report["metric"]]
    return (f"{report['mode']}: {report['size_bytes'] / 1024:,.1f} KiB, "
            f"{report['size_ratio']:.0%} of the float32 file's {report['float_size_bytes'] / 1024:,.1f} KiB; "
            f"{name} {report['score']:.4f} against {report['float_score']:.4f} for the float32 model")


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
