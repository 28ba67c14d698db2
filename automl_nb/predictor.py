"""``automl_nb.load("best.keras")``: an exported model that answers in the original labels.

``Search.export(path)`` writes a plain ``.keras`` file whose model takes the raw input (every
preprocessing step is a layer in it) and ``<path>.json`` beside it (class names, label type,
what the inputs are). :func:`load` reads both and returns a :class:`Predictor`, whose
``predict`` takes what the search took (a DataFrame's rows with text and missing values, a
dict of columns or a list of row dicts; arrays in their raw dtype and shape, an (N, H, W)
image set included; image files or a folder of them for a model trained on an image folder)
and answers in the original labels, or in the target's units for a regression. Keras (and
TensorFlow) is imported when the model is first needed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from ._util import quiet_tensorflow_startup

__all__ = ["Predictor", "load"]


class Predictor:
    """A saved model and the labels it answers in.

    Attributes: ``path`` (the ``.keras`` file), ``meta`` (the sidecar's dict, empty if there
    was none), ``class_names``, ``task``, ``inputs`` (what the model takes); ``model`` (the
    Keras model, loaded on first use).
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
    def inputs(self) -> dict[str, Any]:
        return self.meta.get("inputs") or {}

    @property
    def model(self):
        if self._model is None:
            quiet_tensorflow_startup()
            import keras

            self._model = keras.saving.load_model(self.path, safe_mode=True)  # runs no code
        return self._model

    @property
    def family(self) -> Any:
        """The data family of the model's inputs (:mod:`automl_nb.families`), which turns a
        user's raw input into the model's; the sidecar names it ("tabular" where it does not)."""
        from . import families

        return families.get(self.meta.get("family") or "tabular")

    def features(self, data: Any) -> Any:
        """The model's input for ``data``, as Keras takes it (no scaling: the model does that).

        For a model of a DataFrame: a dict of columns, numbers as float32 (NaN where missing)
        and text as string tensors ("" where missing). For arrays: the array in its own dtype,
        one sample given alone gaining its batch axis. For an image folder's model, image files
        (a path, a folder, or a list of paths) are read at the model's size. Each data family
        says what it accepts (``DataFamily.predictor_inputs``).
        """
        family = self.family
        return family.model_inputs(family.predictor_inputs(self.inputs, data))

    def predict_proba(self, data: Any) -> np.ndarray:
        """The model's output: class probabilities (classification) or values in the target's
        units (regression)."""
        return np.asarray(self.model.predict(self.features(data), verbose=0))

    def predict(self, data: Any) -> list[Any]:
        """Predicted labels (strings or ints as in training) or values (regression), one a row."""
        out = self.predict_proba(data)
        if self.task == "regression":
            return [float(v) for v in out.reshape(len(out), -1)[:, 0]]
        indices = class_indices(out)
        names = self.class_names
        if not names:
            return [int(i) for i in indices]
        if self.meta.get("label_dtype") == "int":
            return [int(names[i]) for i in indices]
        return [names[i] for i in indices]

    def __repr__(self) -> str:
        what = f"{len(self.class_names)} classes" if self.class_names else self.task
        return f"<Predictor {self.path.name}: {what}, predicts from {self.family.accepts(self.inputs)}>"


def class_indices(out: np.ndarray) -> np.ndarray:
    """The predicted class of each row of a classifier's output: the argmax of its class
    probabilities, or of one sigmoid column, the probability of class 1, at 0.5."""
    out = np.asarray(out).reshape(len(out), -1)
    if out.shape[1] == 1:  # one sigmoid unit: the probability of class 1
        return (out[:, 0] >= 0.5).astype(int)
    return out.argmax(axis=1)


def load(path: str | os.PathLike[str]) -> Predictor:
    """Open a model exported by ``Search.export`` (or the panel's Export button).

    ``path`` is the ``.keras`` file; ``<path>.json`` beside it supplies the class names
    (without it, predictions are class indices).
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
    if meta.get("preprocessing"):
        raise ValueError(
            f"'{target}' was exported by an older automl-nb, whose preprocessing ran outside the "
            "model; export it again from its search (automl_nb.open(directory).export(...))"
        )
    return Predictor(target, meta)
