"""The image family: a folder of images (one sub-folder a class) or an array of images.

A folder is listed, split and fingerprinted (:mod:`automl_nb.data.images`) and streamed to
``fit`` in batches decoded in threads; an array of images, ``(N, H, W, C)`` or uint8
``(N, H, W)``, is kept in its dtype. Either way the model's first layer rescales the pixels
(uint8 by 1/255) and an (H, W) image gains its channel inside the model. Its built-in space
is the small CNN of :func:`automl_nb.builtin_spaces.build_cnn`; its predictor takes an array
of images or, for a model of uint8 RGB or grey images, image files (a path, a folder, a list).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .. import builtin_spaces
from ..data.arrays import load_arrays, pair_sample
from ..data.dataset import Dataset, concat, n_samples, reject_target
from ..data.images import (
    ImageFiles,
    check_fingerprint,
    image_paths,
    image_stream,
    load_image_folder,
    read_images,
)
from ..errors import DataError, Keyword
from .base import DataFamily, Example, array_export_inputs, array_inputs, is_path, refuse_options


class ImageFamily(DataFamily):
    """Images: pixels in rows, columns and channels."""

    name = "image"
    source_kinds = ("images",)
    portfolio = (
        # digits (bench/quality.py), 40 epochs: 0.994 validation accuracy with the wider
        # head, 0.989 in 14 s with the large batch
        ("wide-head", {"dense_units": 128, "batch_size": 32}),
        ("large-batch", {"batch_size": 128, "learning_rate": 3e-3}),
    )

    def recognise(self, data: Any, target: Any = None, **options: Any) -> bool:
        if is_path(data):
            try:
                return Path(data).expanduser().is_dir()
            except OSError:
                return False
        sample = pair_sample(data)
        return sample is not None and (sample[0] == 4 or (sample[0] == 3 and sample[1] == np.uint8))

    def load(self, data: Any, *, target: Any, validation: Any, seed: int | None,
             validation_split: float, task: str | None, **options: Any) -> Dataset:
        refuse_options(options, f"{self.name} data")
        if is_path(data):
            reject_target(target, f"an image folder ({str(data)!r})")
            if task == "regression":
                raise DataError("'regression' does not fit an image folder, which is a classification",
                                argument="task", value=task, hint=("leave ", Keyword("task"), " out"))
            return load_image_folder(Path(data).expanduser(), validation, seed, validation_split)
        reject_target(target, "arrays (X, y)")
        return load_arrays(data[0], data[1], validation, seed, validation_split, task, self.name,
                           image=True)

    def reload(self, source: dict[str, Any]) -> Dataset:
        check_fingerprint(source["path"], source["fingerprint"])
        if source.get("validation"):
            check_fingerprint(source["validation"], source["validation_fingerprint"],
                              "validation image folder")
        return load_image_folder(Path(source["path"]), source.get("validation"),
                                 source.get("seed"), source["validation_split"])

    def describe(self, dataset: Dataset) -> str:
        shape = dataset.input_shape
        channels = shape[-1] if len(shape) == 3 else 1
        colour = {1: "grey", 3: "RGB"}.get(channels, f"{channels} channels")
        text = f"{shape[0]} × {shape[1]} images, {colour}"
        if isinstance(dataset.x_train, ImageFiles):
            files = n_samples(dataset.x_train) + n_samples(dataset.x_val)
            text += f", streamed from {files:,} files"
        return text

    def fit_data(self, dataset: Dataset, batch_size: int | None, seed: int | None, *,
                 final: bool = False) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """An image folder as :func:`~automl_nb.data.images.image_stream` batches; arrays as
        every family's."""
        if not isinstance(dataset.x_train, ImageFiles):
            return super().fit_data(dataset, batch_size, seed, final=final)
        x = concat(dataset.x_train, dataset.x_val) if final else dataset.x_train
        kwargs: dict[str, Any] = {}
        if not final:
            kwargs["validation_data"] = image_stream(dataset.x_val, batch_size or 32, shuffle=False,
                                                     seed=seed)
        return (image_stream(x, batch_size or 32, shuffle=True, seed=seed),), kwargs

    def export_inputs(self, spec: dict[str, Any]) -> dict[str, Any]:
        return array_export_inputs(spec)

    def predictor_inputs(self, inputs: dict[str, Any], data: Any) -> Any:
        shape = tuple(inputs.get("shape") or ())
        if len(shape) == 3 and inputs.get("dtype") == "uint8":
            paths = image_paths(data)
            if paths is not None:
                return read_images(paths, shape[:2], shape[2])
        return array_inputs(inputs, data)

    def accepts(self, inputs: dict[str, Any]) -> str:
        shape = inputs.get("shape") or ()
        return "arrays or image files" if len(shape) == 3 and inputs.get("dtype") == "uint8" else "arrays"

    build_space = staticmethod(builtin_spaces.build_cnn)

    def examples(self, directory: Path) -> list[Example]:
        from PIL import Image

        rng = np.random.default_rng(0)
        colour = rng.integers(0, 256, (24, 6, 6, 3), dtype=np.uint8)
        grey = rng.integers(0, 256, (24, 5, 5), dtype=np.uint8)
        labels = np.arange(24) % 2
        folder = directory / "images"
        files = []
        for i in range(16):
            sub = folder / ("cat" if i % 2 else "dog")
            sub.mkdir(parents=True, exist_ok=True)
            files.append(str(sub / f"{i}.png"))
            Image.fromarray(colour[i]).save(files[-1])
        return [
            Example((colour, labels), colour[:3], 3),
            Example((grey, labels), grey[:2], 2),
            Example(str(folder), files[:3], 3),
        ]


FAMILY = ImageFamily()
