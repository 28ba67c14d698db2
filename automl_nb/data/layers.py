"""The preprocessing spec as Keras layers: the model a search trains is the model it exports.

:func:`compose` wraps the model a search space builds (built-in or the user's ``build(hp)``,
which receives the encoded features it always did) between

- **its raw inputs**, as the user gave them: one ``keras.Input`` in the array's own dtype and
  shape (uint8 images stay uint8, an (N, H, W) image stays (H, W)), or for a DataFrame one
  input a column, keyed by the column's name (float32 numbers with NaN for missing, strings);
- **the preprocessing**, as the spec's data family builds it (``DataFamily.input_layers``,
  :mod:`automl_nb.families`) from the statistics of the training split stored in the spec
  (nothing is adapted per trial): ``Rescaling`` for uint8 images, ``Normalization`` (mean, variance) for
  arrays of numbers, a table's number columns robustly scaled (median, inter-quartile range)
  and smoothly clipped, missing numbers filled with the training median plus a 0/1 missing feature,
  ``StringLookup`` one-hot (or into an ``Embedding``) for text, and for an ordered category
  its position in the order (a second lookup, standardised);
- **the target's inverse** for a regression: ``Rescaling`` by the training target's standard
  deviation and mean, then ``expm1`` for a target modelled in log space, so predictions,
  scores and curves are in the target's units.

Every piece is a stock Keras layer or ``keras.ops`` call, so ``keras.saving.load_model`` opens
the exported file in safe mode without automl-nb, and SavedModel and TFLite export it.
:func:`fit_data` says what a trainer hands ``fit`` (arrays, tensors, or an image stream), and
:func:`repeat_rows` makes a small training split's epoch :data:`MIN_STEPS` batches long.
Keras and TensorFlow are imported inside the functions only.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import _kt_compat as compat
from .. import families
from ..families import model_inputs
from .dataset import Dataset
from .images import ImageFiles

__all__ = ["MIN_STEPS", "compose", "epoch_passes", "first_samples", "fit_data", "input_layers",
           "model_inputs", "repeat_rows", "target_inverse", "train_rows"]


def input_layers(spec: dict[str, Any]) -> tuple[Any, Any]:
    """(the model's raw inputs: one Input or a dict of them by column name, the features),
    as the spec's data family makes them (``DataFamily.input_layers``)."""
    return families.spec_family(spec).input_layers(spec)


def target_inverse(z: Any, target: dict[str, Any]) -> Any:
    """The model's last layers for a regression: standardised z back to the target's units."""
    from keras import layers, ops

    y = layers.Rescaling(scale=target["std"], offset=target["mean"])(z)
    if target["log"]:
        y = ops.expm1(ops.minimum(y, target["cap"]))
    return y


def compose(inner: Any, spec: dict[str, Any]) -> Any:
    """The trained and exported model: raw inputs -> preprocessing -> ``inner`` -> target inverse.

    It is compiled as ``inner`` was (its optimizer, loss and metrics objects), with the loss
    of a regression weighted so it is relative to the target's variance (see
    :func:`automl_nb.data.labels.target_scaling`).
    """
    import keras

    inputs, features = input_layers(spec)
    outputs = inner(features)
    target = spec.get("target")
    if target:
        outputs = target_inverse(outputs, target)
    model = keras.Model(inputs, outputs, name=inner.name)
    arguments = compat.compile_arguments(inner)
    if arguments is not None:
        if target:
            arguments["loss_weights"] = _weighted(arguments.get("loss_weights"), target["loss_weight"])
        model.compile(**arguments)
        # the space's model is a layer now: without a compiled state of its own, the saved
        # file has one optimizer (the outer model's), which loads back whole
        inner.optimizer = None
        inner.compiled = False
    return model


def _weighted(weights: Any, factor: float) -> Any:
    if weights is None:
        return [factor]
    if isinstance(weights, (int, float)):
        return float(weights) * factor
    if isinstance(weights, (list, tuple)) and len(weights) == 1:
        return [float(weights[0]) * factor]
    return weights


# ---------------------------------------------------------------------------------------------
# what fit gets


def fit_data(dataset: Dataset, batch_size: int | None, seed: int | None, *, final: bool = False
             ) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """The positional and keyword arguments of ``fit`` (or ``tuner.search``) for a dataset,
    as its data family gives them (``DataFamily.fit_data``).

    Arrays go as they are (Keras slices and converts one batch at a time), a DataFrame's text
    columns as string tensors (Keras' array adapter takes no NumPy strings), an image folder
    as :func:`~automl_nb.data.images.image_stream` batches. ``final`` trains on training and
    validation data together, without validation.
    """
    return families.get(dataset.family).fit_data(dataset, batch_size, seed, final=final)


#: The fewest batches an epoch trains. A training split smaller than that many batches is
#: passed over several times an epoch (:func:`epoch_passes`), so that an epoch, and with it
#: the epoch cap, the patience of early stopping and the rungs of successive halving, means
#: some training on a table of 200 rows too (chosen with bench/quality.py on penguins_sex;
#: docs/benchmarks.md has the figures).
MIN_STEPS = 16


def epoch_passes(rows: int | None, batch_size: int | None) -> int:
    """How many times an epoch goes over ``rows`` training rows at ``batch_size`` (None: 32):
    once, or as many times as it takes to fill :data:`MIN_STEPS` batches."""
    if not rows or rows <= 0:
        return 1
    return max(1, math.ceil(MIN_STEPS * (batch_size or 32) / rows))


def train_rows(dataset: Dataset) -> int | None:
    """The training rows fit gets as arrays (what :func:`repeat_rows` may repeat); None for
    an image folder, which fit gets as a stream."""
    return None if isinstance(dataset.x_train, ImageFiles) else len(dataset.y_train)


def repeat_rows(x: Any, y: Any, batch_size: int | None) -> tuple[Any, Any, int]:
    """``(x, y, passes)``: every row ``passes`` times (:func:`epoch_passes`), for fit to
    shuffle as one epoch; arrays, or a dict of arrays and string tensors (a DataFrame's
    columns). Anything else (an image stream, a generator) goes as it is, once."""
    if not isinstance(y, np.ndarray) or y.ndim == 0:
        return x, y, 1
    rows = len(y)
    parts = x.values() if isinstance(x, dict) else [x]
    if not all(hasattr(v, "shape") and len(v.shape) and v.shape[0] == rows for v in parts):
        return x, y, 1
    passes = epoch_passes(rows, batch_size)
    if passes == 1:
        return x, y, 1
    index = np.tile(np.arange(rows), passes)

    def take(v: Any) -> Any:
        if isinstance(v, np.ndarray):
            return v[index]
        import tensorflow as tf

        return tf.gather(v, index)

    x = {k: take(v) for k, v in x.items()} if isinstance(x, dict) else take(x)
    return x, y[index], passes


def first_samples(x: Any, y: Any, n: int = 2) -> tuple[Any, Any] | None:
    """The first ``n`` samples of what fit gets (arrays, a dict of them, or a PyDataset)."""
    if isinstance(x, dict):
        return {k: v[:n] for k, v in x.items()}, y[:n]
    if isinstance(x, np.ndarray) and isinstance(y, np.ndarray):
        return (x[:n], y[:n]) if len(x) else None
    if y is None and hasattr(x, "__getitem__") and hasattr(x, "on_epoch_end"):
        xb, yb = x[0]
        return xb[:n], yb[:n]
    return None
