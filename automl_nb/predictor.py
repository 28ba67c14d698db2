"""``automl_nb.load("best.keras")``: an exported model that predicts from raw rows.

``Search.export(path)`` writes a plain ``.keras`` file and ``<path>.json`` beside it
(class names, label type and, for DataFrame or CSV data, the ``preprocessing`` recipe).
:func:`load` reads both and returns a :class:`Predictor`: ``predict`` takes raw
DataFrame rows (text labels, missing values and all; the recipe turns them into
features exactly as in training) or a ready NumPy array, and answers in the original
labels. Keras (and TensorFlow) is imported when the model is first needed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["Predictor", "load"]


class Predictor:
    """A saved model with the recipe that feeds it and the labels it answers in.

    Attributes: ``path`` (the ``.keras`` file), ``meta`` (the sidecar's dict, empty if
    there was none), ``class_names``, ``task``, ``preprocessing``; ``model`` (the Keras
    model, loaded on first use).
    """

    def __init__(self, path: str | os.PathLike[str], meta: dict[str, Any] | None = None):
        self.path = Path(path)
        self.meta: dict[str, Any] = dict(meta or {})
        self._model: Any = None

    @property
    def class_names(self) -> list[str] | None:
        return self.meta.get("class_names")

    @property
    def task(self) -> str:
        return self.meta.get("task") or ("classification" if self.class_names else "regression")

    @property
    def preprocessing(self) -> dict[str, Any] | None:
        return self.meta.get("preprocessing")

    @property
    def model(self):
        if self._model is None:
            os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
            import keras

            self._model = keras.saving.load_model(self.path, safe_mode=True)  # runs no code
        return self._model

    def features(self, data: Any) -> np.ndarray:
        """The model's input for ``data``: raw rows through the recipe, or an array as it is.

        A DataFrame (or a dict of columns, a list of row dicts, a Series for one row) goes
        through the saved preprocessing recipe; a NumPy array is taken as ready features.
        """
        if _is_frame_like(data):
            if self.preprocessing is None:
                raise ValueError(
                    "data is a table, but this model was trained on arrays, so there is no "
                    "recipe to turn rows into features; pass a NumPy array shaped like the "
                    f"training features {self.meta.get('input_shape')}"
                )
            from .data import apply_preprocessing

            return apply_preprocessing(self.preprocessing, data)
        array = np.asarray(data)
        if array.dtype == object:
            raise ValueError(
                "data must be a DataFrame of raw rows or a numeric NumPy array; got an array "
                "of Python objects"
            )
        array = array.astype(np.float32)
        shape = self.meta.get("input_shape")
        if shape and tuple(array.shape[1:]) != tuple(shape):
            if tuple(array.shape) == tuple(shape):
                array = array[None, ...]  # one sample
            else:
                raise ValueError(
                    f"data has shape {tuple(array.shape)}, but the model takes samples shaped "
                    f"{tuple(shape)} (so an array shaped (n, {', '.join(map(str, shape))}))"
                )
        return array

    def predict_proba(self, data: Any) -> np.ndarray:
        """The model's raw output: class probabilities (classification) or values."""
        return np.asarray(self.model.predict(self.features(data), verbose=0))

    def predict(self, data: Any) -> list[Any]:
        """Predicted labels (strings or ints as in training) or values (regression), one a row."""
        out = self.predict_proba(data)
        if self.task == "regression" or not self.class_names:
            if self.task == "regression":
                return [float(v) for v in out.reshape(len(out), -1)[:, 0]]
            return [int(i) for i in _indices(out)]
        names = self.class_names
        indices = _indices(out)
        if self.meta.get("label_dtype") == "int":
            return [int(names[i]) for i in indices]
        return [names[i] for i in indices]

    def __repr__(self) -> str:
        what = f"{len(self.class_names)} classes" if self.class_names else self.task
        recipe = "raw rows" if self.preprocessing else "arrays"
        return f"<Predictor {self.path.name}: {what}, predicts from {recipe}>"


def _indices(out: np.ndarray) -> np.ndarray:
    out = out.reshape(len(out), -1)
    if out.shape[1] == 1:  # one sigmoid unit: the probability of class 1
        return (out[:, 0] >= 0.5).astype(int)
    return out.argmax(axis=1)


def _is_frame_like(data: Any) -> bool:
    module = type(data).__module__.split(".")[0]
    if module == "pandas":
        return True
    if isinstance(data, dict):
        return True
    return isinstance(data, list) and bool(data) and all(isinstance(r, dict) for r in data)


def load(path: str | os.PathLike[str]) -> Predictor:
    """Open a model exported by ``Search.export`` (or the panel's Export button).

    ``path`` is the ``.keras`` file; ``<path>.json`` beside it supplies the class
    names and the preprocessing recipe (without it, predictions are class indices).
    """
    target = Path(path)
    if target.suffix != ".keras":
        raise ValueError(f"path must be a .keras file written by export(); got '{target}'")
    if not target.exists():
        raise ValueError(
            f"path '{target}' does not exist; export a model first (search.export(...))"
        )
    sidecar = Path(str(target) + ".json")
    meta: dict[str, Any] = {}
    if sidecar.exists():
        try:
            meta = json.loads(sidecar.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ValueError(
                f"'{sidecar}' cannot be read ({exc}); export the model again"
            ) from None
    return Predictor(target, meta)
