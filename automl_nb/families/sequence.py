"""The sequence family: a 3-D array ``(N, steps, channels)`` of numbers (not uint8).

Signals, time series, spectra: kept in their dtype, standardised per channel with the
training split's mean and variance inside the model. Its built-in space is the 1-D conv net of
:func:`automl_nb.builtin_spaces.build_sequence`; its predictor takes an array of sequences
(one sequence given alone gains its batch axis).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .. import builtin_spaces
from ..data.arrays import load_arrays, pair_sample
from ..data.dataset import Dataset, reject_target
from .base import DataFamily, Example, array_export_inputs, array_inputs, refuse_options


class SequenceFamily(DataFamily):
    """Sequences: steps of one or more channels."""

    name = "sequence"
    portfolio = (
        # MNIST-1D (bench/quality.py), 40 epochs: 0.966 validation accuracy in 20 s, the
        # fastest of the measured; and 0.969 with the smaller kernel and a higher rate
        ("large-batch", {"batch_size": 128, "learning_rate": 3e-3}),
        ("small-kernel", {"kernel_size": 3, "learning_rate": 3e-3, "batch_size": 32}),
    )

    def recognise(self, data: Any, target: Any = None, **options: Any) -> bool:
        sample = pair_sample(data)
        return sample is not None and sample[0] == 3 and sample[1] != np.uint8

    def load(self, data: Any, *, target: Any, validation: Any, seed: int | None,
             validation_split: float, task: str | None, **options: Any) -> Dataset:
        refuse_options(options, f"{self.name} data")
        reject_target(target, "arrays (X, y)")
        return load_arrays(data[0], data[1], validation, seed, validation_split, task, self.name)

    def describe(self, dataset: Dataset) -> str:
        steps, channels = dataset.input_shape[:2]
        return f"sequences of {steps} steps × {channels} channel{'s' if channels != 1 else ''}"

    def export_inputs(self, spec: dict[str, Any]) -> dict[str, Any]:
        return array_export_inputs(spec)

    def predictor_inputs(self, inputs: dict[str, Any], data: Any) -> Any:
        return array_inputs(inputs, data)

    build_space = staticmethod(builtin_spaces.build_sequence)

    def examples(self, directory: Path) -> list[Example]:
        rng = np.random.default_rng(0)
        x = rng.normal(size=(30, 7, 2)).astype(np.float32)
        y = rng.normal(size=30)  # a regression
        return [Example((x, y), x[:4], 4), Example((x, np.arange(30) % 3), x[0], 1)]


FAMILY = SequenceFamily()
