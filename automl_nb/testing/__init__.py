"""Fakes that ship with the package, for tests of automl-nb and of tools built on it.

- :func:`scripted_search`: a real :class:`~automl_nb.Search` whose trials come from a
  :class:`~automl_nb.backends.scripted.ScriptedTrainer` (scripted curves, no TensorFlow);
- :mod:`automl_nb.testing.panel`: a fake search and recording comms for the panel's tests.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from .. import families
from .._search import Search
from ..backends.scripted import DEFAULT_SPACE, ScriptedTrainer, default_curve, sample
from ..data import load_data
from ..settings import Budget, Settings
from ..store import Store, dataset_meta, prepare_directory

__all__ = ["DEFAULT_SPACE", "ScriptedTrainer", "default_curve", "sample", "scripted_search"]


def scripted_search(
    trainer: ScriptedTrainer | None = None,
    *,
    directory: str | Path,
    trials: int | None = 5,
    epochs: int = 3,
    time: float | None = None,
    objective: str = "val_accuracy",
    direction: str = "max",
    step: bool = False,
    start: bool = True,
    overwrite: bool = True,
    name: str = "scripted",
    warm_start: bool = False,
    patience: int | None = None,
    plan: bool = True,
    data: Any = None,
    target: Any = None,
) -> Search:
    """A :class:`Search` run by a :class:`ScriptedTrainer` (fast, no TensorFlow).

    Unlike :func:`automl_nb.search`, the warm start and early stopping are off unless asked
    for (``warm_start=True``, ``patience=N``); ``plan=False`` turns off the planning of a
    time budget (trials then train their epochs until the budget cuts one short). ``data``
    (with ``target``) is loaded as :func:`automl_nb.search` loads it, through its data family,
    and kept in the directory as a real search's; without it the search has no data.
    """
    trainer = trainer or ScriptedTrainer()
    path = prepare_directory(directory, overwrite)
    settings = Settings(
        name=name,
        data={"name": name, "family": "tabular", "task": "classification", "n_train": 100,
              "n_val": 25, "input_shape": [4], "n_classes": 3, "class_names": ["a", "b", "c"]},
        oracle="scripted",
        objective=objective,
        direction=direction,
        budget=Budget(trials=trials, time_budget_s=time, epochs=epochs),
        seed=trainer.seed,
        batch_size=32,
        space="scripted",
        step=step,
        warm_start=warm_start,
        patience=patience,
        plan=plan,
    )
    dataset = None
    if data is not None:
        dataset = load_data(data, target=target, seed=trainer.seed)
        settings = dataclasses.replace(settings, data=families.describe(dataset),
                                       dataset=dataset_meta(dataset))
    Store(path).create(settings, dataset)
    search = Search(directory=path, settings=settings, dataset=dataset, trainer=trainer)
    if start:
        search.start()
    return search
