"""``automl_nb.search(...)`` and ``automl_nb.open(...)``: check, write the directory, hand back a Search.

``search()`` checks every argument at once (one sentence naming the argument when something
is wrong), writes the search's directory and returns a running :class:`~automl_nb.Search`.
TensorFlow is imported on the search thread, so the call returns at once and the kernel stays
free for the panel's buttons; only a custom ``space=`` is built once on the calling thread
first (importing TensorFlow), so that a broken ``build(hp)`` is one sentence before anything
is written. ``open()`` reads a directory back (JSON and NumPy arrays without pickle; no code
from the directory runs) and continues it with as many workers as it had.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from typing import Any

from . import doors, families
from . import oracles as _oracles
from ._checks import check_objective, check_seed, check_time, positive_int
from ._search import Search
from ._util import quiet_tensorflow_startup
from .attached import AttachedSearch
from .backends.base import Trainer
from .data import describe_input, load_data
from .errors import DataError, SearchError, SpaceError
from .events import read_journal
from .settings import Budget, Settings
from .store import Store, dataset_meta, default_directory, open_directory, prepare_directory

log = logging.getLogger("automl_nb")

#: The trial budget of a search given neither ``trials`` nor ``time``.
DEFAULT_TRIALS = 20


def search(
    data: Any,
    *,
    target: str | None = None,
    validation: Any = None,
    space: Any = None,
    oracle: Any = _oracles.DEFAULT_ORACLE,
    objective: Any = None,
    trials: int | None | str = "auto",
    epochs: int = 10,
    time: float | str | None = None,
    seed: int | None = None,
    deterministic: bool = False,
    directory: str | os.PathLike[str] | None = None,
    overwrite: bool = False,
    verbose: bool = False,
    start: bool = True,
    batch_size: int | None = None,
    step: bool = False,
    workers: int = 1,
    listen: str | None = None,
    warm_start: bool = True,
    patience: int | None = 3,
    task: str | None = None,
    ensemble: bool = True,
    referee: bool = True,
    max_params: int | None = None,
) -> Search:
    """Start a KerasTuner search in the background and return it at once.

    ``data`` is a bundled name ("digits", "iris", "wine", "breast_cancer"), an
    ``(X, y)`` pair, a DataFrame or CSV path with ``target=``, or an image folder.
    ``oracle`` is "bayesian", "hyperband", "random" or a KerasTuner Oracle; for
    Hyperband ``epochs`` is its max_epochs. ``objective`` is a metric name ("val_accuracy"
    for a classification, "val_loss" for a regression by default), or
    ``keras_tuner.Objective(name, direction)`` for a metric of your ``build(hp)`` whose name
    does not say which way is better. ``trials`` caps the oracle's own trials ("auto": 20,
    or no cap when ``time`` is given, for the time budget decides). ``batch_size`` fixes
    the training batch size (by default a hyperparameter of the built-in spaces, or of your
    ``build(hp)`` if it declares ``hp.Choice("batch_size", ...)``; else 32). ``time`` takes
    seconds or "90s", "10m", "1h". ``seed`` makes the trials (their hyperparameters and
    initial weights) the same every time; ``deterministic=True`` also makes their scores bit-identical, by turning on
    TensorFlow's op determinism while this search runs (slower; process-wide while on).
    ``step=True`` pauses after every trial (``search.step()`` runs the next).
    ``workers=N`` runs N trials at once in N worker processes (KerasTuner's distributed
    mode); ``listen="0.0.0.0"`` (or ``"HOST:PORT"``) also lets workers on other machines
    that share this filesystem join (see :mod:`automl_nb.backends.workers`). ``space`` may
    name a build(hp) function as ``"module:function"``. ``task`` ("classification" or
    "regression") overrides the task inferred from the target (the header says which, and why).
    The first trials are the space's defaults and, for the built-in spaces, a short portfolio
    of configurations known to work for the data's family (``warm_start=False``: the oracle's
    from the first). A trial stops early when its objective has not improved for ``patience``
    epochs (its best epoch is kept; None or 0: every trial trains all its epochs); with a
    ``time`` budget the search also plans each trial's epochs to fit it, halts trials that
    fall behind (successive halving) and trains the best on while it still improves. An
    epoch trains at least 16 batches: training rows that fill fewer are passed over several
    times an epoch (``data.layers.MIN_STEPS``). When a built-in space's search ends, it weighs
    an average of its best trials on the validation data, and ``best_model()`` and ``export()``
    hand that ensemble back when it predicts better than the best trial alone
    (``ensemble=False``: the best trial's model; :mod:`automl_nb.ensemble`). A search on a
    table first fits gradient-boosted trees on the same rows as a yardstick and says where the
    network stands against them (``referee=False``: no yardstick; :mod:`automl_nb.referee`).
    ``max_params`` is a budget for a trial's model: one built with more parameters ends at
    once, before it trains, as a failed trial with the reason, and the oracle learns it as a
    failure (these never count towards KerasTuner's consecutive failures); the best model is
    the best within it. ``results`` has every trial's ``params``.
    """
    if isinstance(trials, str) and trials.strip().lower() == "auto":
        trials = None if time is not None else DEFAULT_TRIALS
    trials = positive_int("trials", trials, allow_none=True)
    epochs = positive_int("epochs", epochs)
    batch_size = positive_int("batch_size", batch_size, allow_none=True)
    time_budget = check_time(time)
    seed = check_seed(seed)
    patience = positive_int("patience", patience, allow_none=True) if patience != 0 else None
    for flag, value in (("deterministic", deterministic), ("warm_start", warm_start),
                        ("ensemble", ensemble), ("referee", referee)):
        if not isinstance(value, bool):
            raise SearchError(f"must be True or False; got {value!r}", argument=flag, value=value)
    oracle_checked = _oracles.check_oracle(oracle)
    oracle_name = oracle_checked if isinstance(oracle_checked, str) else type(oracle_checked).__name__
    workers = positive_int("workers", workers)
    max_params = positive_int("max_params", max_params, allow_none=True)
    pool, space_ref, space = _trainer(workers, listen, space)
    dataset = load_data(data, target=target, validation=validation, seed=seed, task=task)
    objective, direction = check_objective(objective, dataset.task, custom_space=space is not None)
    checked_space = _check_space(space, dataset) if space is not None else None
    name = describe_input(data)
    if directory is not None and overwrite:  # never replace a directory another process runs
        doors.check_not_owned(directory)
    path = prepare_directory(directory, overwrite) if directory is not None else default_directory(
        name, oracle_name
    )
    settings = Settings(
        name=path.name if directory is not None else f"{name}-{oracle_name}",
        data=families.describe(dataset),
        dataset=dataset_meta(dataset),
        oracle=oracle_name,
        objective=objective,
        direction=direction,
        budget=Budget(trials=trials, time_budget_s=time_budget, epochs=epochs),
        seed=seed,
        deterministic=deterministic,
        batch_size=batch_size,
        space="builtin" if space is None else "custom",
        step=step,
        warm_start=warm_start,
        patience=patience,
        ensemble=ensemble,
        referee=referee,
        max_params=max_params,
        workers=workers if pool is not None else 1,
        space_ref=space_ref if pool is not None else None,
    )
    store = Store(path)
    store.create(settings, dataset)
    result = Search(
        directory=path, settings=settings, dataset=dataset, space=space, oracle=oracle_checked,
        verbose=verbose, trainer=pool, checked_space=checked_space,
    )
    if start:
        started = result.start()
        if not started:  # the journal could not be written: leave nothing half-made behind
            store.remove()
            raise SearchError(started.message)
    return result


def open_search(
    directory: str | os.PathLike[str],
    *,
    space: Any = None,
    oracle: Any = None,
    verbose: bool = False,
    workers: int | None = None,
    listen: str | None = None,
) -> Search | AttachedSearch:
    """Reopen a search from its directory: every finished trial, ready to continue with start().

    A search that another process runs now (it has a live owner, :mod:`automl_nb.doors`)
    opens as an :class:`~automl_nb.attached.AttachedSearch`: a live view of it, steered
    through its inbox; one whose process died is read as it is and ``start()`` takes it over.

    Only JSON and NumPy arrays (without pickle) are read; no code from the directory runs.
    A search with a custom space needs ``space=`` again to continue or to rebuild models
    (with workers, as ``"module:function"`` or a function importable by that name).
    ``workers`` is how many worker processes ``start()`` runs trials in: by default as many
    as the search had; ``workers=1`` continues it in this process.
    """
    if workers is not None:
        workers = positive_int("workers", workers)
    store = open_directory(directory)
    current = doors.owner(store.directory)
    if current is not None and current.alive:
        log.info("'%s' is run by %s: attached to it", store.directory, current.describe())
        return AttachedSearch(store.directory)
    note = doors.takeover_note(store.directory)
    if note:
        log.warning("%s; start() continues it here", note)
    settings = store.read_settings()
    if settings.space == "custom" and space is None:
        log.info("search %s used a custom space: pass space= to continue it", store.directory)
    history = read_journal(store.journal_path)
    data_problem = None
    try:
        dataset = store.read_data(settings)
    except DataError as exc:  # its files are gone or changed: shown, cannot train
        dataset, data_problem = None, str(exc)
        log.warning("%s", exc)
    if workers is None:
        saved = settings.workers
        workers = saved if isinstance(saved, int) and not isinstance(saved, bool) and saved >= 1 else 1
    pool, space_ref, space = _trainer(workers, listen, space)
    if pool is not None:
        settings = dataclasses.replace(settings, workers=workers, space_ref=space_ref)
    else:
        settings = dataclasses.replace(settings, workers=1)  # continued in this process
    return Search(
        directory=store.directory,
        settings=settings,
        dataset=dataset,
        space=space,
        oracle=oracle,
        history=history,
        verbose=verbose,
        trainer=pool,
        data_problem=data_problem,
    )


def _trainer(workers: int, listen: str | None, space: Any) -> tuple[Trainer | None, str | None, Any]:
    """(the WorkerPool or None, the space's ``"module:function"`` name or None, the space).

    A pool when trials run in worker processes (``workers > 1`` or ``listen``); a space named
    as ``"module:function"`` is imported either way. None: the Search runs trials itself.
    """
    if workers <= 1 and listen is None and not isinstance(space, str):
        return None, None, space
    from .backends.workers import WorkerPool, resolve_space

    distributed = workers > 1 or listen is not None
    space_ref, space = resolve_space(space, across_processes=distributed)
    pool = WorkerPool(workers, listen=listen) if distributed else None
    return pool, space_ref, space


def _check_space(space: Any, dataset: Any) -> Any:
    """Build the user's model once, here, so a broken space is one sentence before any file.

    This imports TensorFlow on the calling thread (seconds), only when ``space=`` is given.
    The model is dropped at once; the search builds its own on its thread. Returns the
    HyperParameters the build declared, which spare the search's tuner the same build.
    """
    quiet_tensorflow_startup()
    from . import spaces

    try:
        hypermodel = spaces.get_space(space, dataset)
    except SpaceError as exc:
        raise SearchError.like(exc) from None
    import keras_tuner

    from .data.layers import compose

    hp = keras_tuner.HyperParameters()
    try:
        compose(hypermodel.build(hp), dataset.preprocessing)
    except SpaceError as exc:  # not a model, not compiled, the wrong shape
        raise SearchError.like(exc) from None
    except Exception as exc:  # the user's own bug: keep its traceback as the cause
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        said = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
        raise SearchError(
            f"build(hp) raised {said} (built once with the default hyperparameters, to check "
            "it); fix it and start the search again"
        ) from exc
    return hp
