"""The tabular family: a DataFrame, a CSV file or a 2-D array ``(X, y)`` of features.

A table reaches the model as it was given: a DataFrame (or CSV file) as a dict of its
columns, one Keras input a column (numbers filled, robustly scaled and smoothly clipped, and
flagged where missing; categories one-hot or embedded, ordered ones with their position too:
:func:`column_layers`), a 2-D array as one input standardised per feature. Its built-in space is the MLP of
:func:`automl_nb.builtin_spaces.build_mlp`; its predictor takes rows of a table (a DataFrame,
a dict of columns, a list of row dicts) or, for a model of arrays, an array.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .. import builtin_spaces
from ..data.arrays import load_arrays, pair_sample
from ..data.dataset import Dataset, is_dataframe, reject_target
from ..data.frames import frame_columns, load_csv, load_frame, reload_csv
from .base import (
    DataFamily,
    Example,
    array_export_inputs,
    array_inputs,
    array_layers,
    is_frame_like,
    is_path,
    refuse_options,
)


class TabularFamily(DataFamily):
    """Tables: rows of numbers and categories."""

    name = "tabular"
    source_kinds = ("csv",)
    portfolio = (
        # the defaults without dropout: the best of the measured on txhousing (validation R2
        # 0.9983/0.9986 against the defaults' 0.9976/0.9979) and diabetes (0.569/0.578)
        ("no-dropout", {"dropout": 0.0}),
        # diamonds (bench/quality.py), measured with the former 2 x 64 defaults when its price
        # was log-scaled: R2 (in log space) 0.984 in 5 s with the large batch, the fastest
        ("large-batch", {"batch_size": 128, "learning_rate": 3e-3}),
    )

    def recognise(self, data: Any, target: Any = None, **options: Any) -> bool:
        if is_dataframe(data):
            return True
        if is_path(data):
            try:
                return Path(data).expanduser().is_file()
            except OSError:
                return False
        sample = pair_sample(data)
        return sample is not None and sample[0] == 2

    def load(self, data: Any, *, target: Any, validation: Any, seed: int | None,
             validation_split: float, task: str | None, **options: Any) -> Dataset:
        refuse_options(options, f"{self.name} data")
        if is_dataframe(data):
            return load_frame(data, target, validation, seed, validation_split, "dataframe", task,
                              self.name)
        if is_path(data):
            return load_csv(Path(data).expanduser(), target, validation, seed, validation_split,
                            task, self.name)
        reject_target(target, "arrays (X, y)")
        return load_arrays(data[0], data[1], validation, seed, validation_split, task, self.name)

    def reload(self, source: dict[str, Any]) -> Dataset:
        return reload_csv(source, self.name)

    def describe(self, dataset: Dataset) -> str:
        spec = dataset.preprocessing
        if spec.get("inputs") != "columns":
            n = int(np.prod(spec["features_shape"]))
            return f"table of {n} numeric feature{'s' if n != 1 else ''}"
        columns = spec["columns"]
        numbers = sum(c["kind"] == "numeric" for c in columns)
        categories = len(columns) - numbers
        missing = sum(bool(c.get("missing")) for c in columns)
        parts = [f"{numbers} numeric", f"{categories} categor{'ies' if categories != 1 else 'y'}"]
        text = f"table of {len(columns)} column{'s' if len(columns) != 1 else ''} ({', '.join(parts)})"
        if missing:
            text += f", {missing} with missing values"
        return text

    def input_layers(self, spec: dict[str, Any]) -> tuple[Any, Any]:
        if spec["inputs"] == "columns":
            return column_layers(spec["columns"])
        return array_layers(spec)

    def export_inputs(self, spec: dict[str, Any]) -> dict[str, Any]:
        if spec.get("inputs") == "columns":
            return {"kind": "columns", "columns": [
                {"name": c["name"], "input": c["input"], "kind": c["kind"]} for c in spec["columns"]]}
        return array_export_inputs(spec)

    def predictor_inputs(self, inputs: dict[str, Any], data: Any) -> Any:
        if inputs.get("kind") != "columns":
            return array_inputs(inputs, data)
        if not (is_dataframe(data) or is_frame_like(data)):
            raise ValueError(
                "data must be rows of a table (a DataFrame, a dict of columns or a list of "
                "row dicts) with the columns the model was trained on; got "
                f"{type(data).__name__}"
            )
        return frame_columns({"columns": inputs["columns"]}, data, "data")

    def accepts(self, inputs: dict[str, Any]) -> str:
        return "rows of a table" if inputs.get("kind") == "columns" else "arrays"

    build_space = staticmethod(builtin_spaces.build_mlp)

    def examples(self, directory: Path) -> list[Example]:
        import pandas as pd

        rng = np.random.default_rng(0)
        n = 40
        frame = pd.DataFrame({
            "size": rng.normal(10, 2, n), "colour": rng.choice(["red", "blue", None], n),
            "count": rng.integers(0, 5, n).astype(float), "y": rng.choice(["yes", "no"], n),
        })
        frame.loc[3, "size"] = np.nan
        csv = directory / "table.csv"
        frame.to_csv(csv, index=False)
        x = rng.normal(size=(n, 3))
        y = rng.integers(0, 2, n)
        return [
            Example(frame, frame.drop(columns="y").head(5), 5, {"target": "y"}),
            Example(str(csv), frame.head(4).to_dict("records"), 4, {"target": "y"}),
            Example((x, y), x[:6], 6),
        ]


def column_layers(columns: list[dict[str, Any]]) -> tuple[dict[str, Any], Any]:
    """A table's inputs, one a column keyed by its name (float32 numbers with NaN for missing,
    strings), and their features: the number columns as one block (missing values filled
    with the training median, robustly scaled and clipped: :func:`number_features`; a 0/1
    feature for each column that had missing values), then each category's one-hot or embedding and, for an ordered one, its position
    in the order (standardised; 0 if unknown). A family with more column kinds (text) builds
    its own columns and passes the rest here."""
    import keras
    from keras import layers, ops

    inputs: dict[str, Any] = {}
    for column in columns:
        dtype = "float32" if column["kind"] == "numeric" else "string"
        inputs[column["name"]] = keras.Input(shape=(1,), name=column["input"], dtype=dtype)
    parts = []
    numbers = [c for c in columns if c["kind"] == "numeric"]
    if numbers:  # one block: fill, scale and clip, flag what was missing
        raw = [inputs[c["name"]] for c in numbers]
        block = raw[0] if len(raw) == 1 else layers.Concatenate()(raw)
        finite = ops.isfinite(block)
        filled = ops.where(finite, block, np.array([c["fill"] for c in numbers], "float32"))
        parts.append(number_features(filled, numbers))
        flagged = [i for i, c in enumerate(numbers) if c.get("missing")]
        if flagged:
            missing = ops.cast(ops.logical_not(finite), "float32")
            parts.append(missing if len(flagged) == len(numbers) else ops.take(missing, flagged, axis=1))
    for column in columns:
        if column["kind"] == "numeric":
            continue
        raw, vocabulary = inputs[column["name"]], list(column["vocabulary"])
        if column["encoding"] == "one_hot":
            parts.append(ops.cast(layers.StringLookup(vocabulary=vocabulary, output_mode="one_hot")(raw),
                                  "float32"))
        else:
            index = layers.StringLookup(vocabulary=vocabulary, output_mode="int")(raw)
            embedded = layers.Embedding(len(vocabulary) + 1, column["dim"])(index)
            parts.append(layers.Reshape((column["dim"],))(embedded))
        order = column.get("order")
        if order:  # the position in an ordered category, standardised; 0 if unknown
            index = ops.cast(layers.StringLookup(vocabulary=list(order["values"]),
                                                 output_mode="int")(raw), "float32")
            position = (index - 1.0 - order["mean"]) / order["std"]
            parts.append(ops.where(index > 0, position, ops.zeros_like(position)))
    features = parts[0] if len(parts) == 1 else layers.Concatenate()(parts)
    return inputs, features


#: Where smooth clipping bounds a robustly scaled number: x / sqrt(1 + (x / CLIP)^2) lies in
#: (-CLIP, CLIP) and is close to x for |x| well below CLIP.
CLIP = 3.0


def number_features(filled: Any, numbers: list[dict[str, Any]]) -> Any:
    """The number columns' block (missing values filled) as the network sees it: robustly
    scaled (minus the training median, over the inter-quartile range: ``center`` and
    ``scale`` in the spec) and smoothly clipped, x / sqrt(1 + (x / 3)^2), as RealMLP does
    (Holzmüller et al., NeurIPS 2024), so a value far outside the training range reaches the
    network at most 3 from the centre instead of extrapolating linearly. A spec written before
    robust scaling (no ``center``) standardises with its mean and variance, as it did then."""
    from keras import layers, ops

    if not all("center" in c and "scale" in c for c in numbers):
        return layers.Normalization(mean=[c["mean"] for c in numbers],
                                    variance=[c["variance"] for c in numbers])(filled)
    center = np.array([c["center"] for c in numbers], "float32")
    scale = np.array([c["scale"] for c in numbers], "float32")
    scaled = (filled - center) / scale
    return scaled / ops.sqrt(1.0 + ops.square(scaled / CLIP))


FAMILY = TabularFamily()
