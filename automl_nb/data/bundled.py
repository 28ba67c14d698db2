"""The bundled data sets: scikit-learn's digits, iris, wine and breast cancer, read offline.

They are given to the model raw, as scikit-learn ships them: digits as (N, 8, 8) images with
values 0..16 (``Rescaling(1/16)`` in the model), the others as their float measurements
(``Normalization`` from the training split in the model). A search on one keeps no copy in
its directory: scikit-learn makes the same arrays again.
"""

from __future__ import annotations

import numpy as np

from .arrays import array_spec
from .dataset import Dataset
from .labels import split_indices


def load_bundled(name: str, seed: int | None, split: float) -> Dataset:
    from sklearn import datasets

    loader = {
        "digits": datasets.load_digits,
        "iris": datasets.load_iris,
        "wine": datasets.load_wine,
        "breast_cancer": datasets.load_breast_cancer,
    }[name]
    bunch = loader()
    y = np.asarray(bunch.target, dtype=np.int64)
    train, val = split_indices(len(y), y, seed, split)
    source = {"kind": "bundled", "name": name, "seed": seed, "validation_split": split}
    if name == "digits":
        x = np.asarray(bunch.images, dtype=np.float32)
        return Dataset(
            name=name, family="image", task="classification",
            x_train=x[train], y_train=y[train], x_val=x[val], y_val=y[val],
            class_names=[str(int(t)) for t in bunch.target_names], feature_names=None,
            preprocessing=array_spec(x[train], image=True, scale=1.0 / 16.0), label_dtype="int",
            source=source,
        )
    x = np.asarray(bunch.data, dtype=np.float64)
    names = [str(t) for t in bunch.target_names]
    return Dataset(
        name=name, family="tabular", task="classification",
        x_train=x[train], y_train=y[train], x_val=x[val], y_val=y[val],
        class_names=names, feature_names=[str(f) for f in bunch.feature_names],
        preprocessing=array_spec(x[train]), label_dtype="str",
        source=source,
    )
