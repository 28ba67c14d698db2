"""The only module that touches KerasTuner's, Keras' or TensorFlow's private parts.

Each touch is one small function here, with a test of its own in ``tests/test_kt_compat.py``
that fails with a sentence naming the part when a new release moves it. A part that is gone
raises :class:`CompatError` saying which part of which library, and the versions automl-nb
was tested with. Everything else in the package uses only the libraries' public APIs.

The touches, and why:

- KerasTuner
  - ``keras_tuner.src.engine.hypermodel.get_hypermodel``: a ``build(hp)`` function as a
    HyperModel, exactly as KerasTuner's own Tuner makes one.
  - ``keras_tuner.src.config.DEBUG``: KerasTuner prints a traceback for every failed trial;
    :func:`quiet_tracebacks` silences it on the search's own thread only.
  - ``Tuner._get_checkpoint_fname`` / ``_get_build_config_fname``: where a trial's best
    weights and build config are (promotion restores them with the optimizer state).
  - ``Tuner._populate_initial_space``: a worker's stand-in oracle holds no space
    (:class:`StandInOracleTuner`); a space ``search()`` already built once to check it is
    not built again for it (:class:`CheckedSpaceStart`, which reads
    ``HyperParameters.inactive_scopes``).
  - ``Tuner.run_trial``'s parts (``_deepcopy_callbacks``, ``_configure_tensorboard_dir``,
    ``keras_tuner.src.engine.tuner_utils.TunerCallback``, ``_build_and_fit_model``): KerasTuner
    writes a trial's best weights to disk at every epoch that improves (``SaveBestEpoch``, a
    few tens of milliseconds an epoch, more for a big model); :func:`run_trial_executions` is
    its ``run_trial`` with a checkpoint callback of the caller's in that place.
  - ``Tuner._try_build`` and ``_build_hypermodel``: it calls ``keras.backend.clear_session()``,
    which resets Keras's per-thread state on every thread, and collects garbage twice a trial;
    :class:`SerializedBuilds` builds under one lock and collects every few trials.
  - ``HyperbandOracle._brackets``: which bracket a trial is in (KerasTuner labels each trial
    with its newest bracket, wrong when brackets overlap across workers).
  - ``Oracle._retry_queue``: a reload retries trials that had ended (``oracle.json`` is saved
    before a trial leaves ``ongoing_trials``).
  - ``Oracle.save``/``_save_trial``/``_get_oracle_fname``/``_get_trial_dir`` and
    ``Tuner.save``/``_get_tuner_fname``/``_is_worker``: KerasTuner rewrites ``oracle.json``,
    ``trial.json`` and ``tuner0.json`` in place (truncate, then write), so a process killed
    between the two left an empty file and a search that no longer reopened;
    :class:`AtomicOracleFiles` and :class:`AtomicTunerFiles` replace each file whole, and
    :func:`reload_project` rebuilds the oracle's state from its trials when an older crash
    left ``oracle.json`` torn.
  - ``BayesianOptimizationOracle``'s parts in :func:`bayesian_parts`: its choice takes seconds
    (its bound maximised a point at a time); ``acquisition.FastAcquisition`` batches it.
  - ``keras_tuner.src.engine.oracle.LOCKS``/``THREADS``, ``Oracle._random_state``,
    ``_tried_so_far``, ``_id_to_hash``, ``_nonfixed_space``, ``_vectorize_trials``: a private
    copy of a Bayesian oracle's state for the teaching views, never mutating the oracle.
  - ``keras_tuner.src.protos`` and ``keras_tuner.src.distribute.oracle_chief.OracleServicer``:
    KerasTuner's own gRPC service for the workers' chief.
- Keras: ``keras.src.random.seed_generator.python_random``: the generator Keras draws default
  seeds from; :func:`seeded_build` swaps in a seeded one for a build, so a seeded trial's
  weights are the same every time without reseeding the user's ``random`` or NumPy state.
  ``Trainer._compile_config``: the arguments a model was compiled with, as the live objects
  (a user's own loss function too), to compile the model a search wraps around it the same
  way (:func:`compile_arguments`; ``get_compile_config()`` would need them registered).
- TensorFlow: ``tensorflow.python.framework.ops._gradient_registry`` (``tf.custom_gradient``
  entries never released: a leak across trials), ``tensorflow.python.framework.config``'s
  op-determinism switch and ``tensorflow.python.eager.context``'s global seed (turned on for a
  ``deterministic=True`` search and restored after).

Importing this module imports neither TensorFlow nor KerasTuner; each function imports what
it touches.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import os
import random
import threading
from collections.abc import Iterator
from typing import Any

from ._util import write_json_atomically

log = logging.getLogger("automl_nb")

#: The versions these touches were written against and tested with.
TESTED = {"keras-tuner": "1.4.8", "keras": "3.15", "tensorflow": "2.21"}


class CompatError(RuntimeError):
    """A private part of a dependency that automl-nb relies on has changed."""

    def __init__(self, library: str, part: str, exc: BaseException | None = None):
        self.library, self.part = library, part
        tested = TESTED.get(library, "?")
        cause = f" ({type(exc).__name__}: {exc})" if exc is not None else ""
        super().__init__(
            f"{library} changed {part}, which automl-nb relies on{cause}; automl-nb was tested "
            f"with {library} {tested}: install that version or a newer automl-nb"
        )


def _need(library: str, part: str, fetch: Any) -> Any:
    try:
        return fetch()
    except (ImportError, AttributeError, KeyError, TypeError) as exc:
        raise CompatError(library, part, exc) from exc


# ==========================================================================================
# KerasTuner
# ==========================================================================================
def get_hypermodel(space: Any) -> Any:
    """``space`` (a HyperModel or a ``build(hp)`` function) as a KerasTuner HyperModel."""

    def fetch():
        from keras_tuner.src.engine import hypermodel

        return hypermodel.get_hypermodel

    return _need("keras-tuner", "keras_tuner.src.engine.hypermodel.get_hypermodel", fetch)(space)


class _ThreadQuiet:
    """A stand-in for ``keras_tuner.config.DEBUG``: its own value on every thread but the
    threads registered in ``quiet``, which see False."""

    def __init__(self, value: Any):
        self.value = value
        self.quiet: set[int] = set()

    def __bool__(self) -> bool:
        return False if threading.get_ident() in self.quiet else bool(self.value)

    def __repr__(self) -> str:
        return repr(bool(self.value))


_quiet_lock = threading.Lock()


@contextlib.contextmanager
def quiet_tracebacks() -> Iterator[None]:
    """KerasTuner prints no traceback for a failed trial on this thread while inside.

    KerasTuner reads ``config.DEBUG`` at every failed trial; other threads (a user's own
    KerasTuner search, say) keep its value, and a value the user sets later is kept too.
    """

    def fetch():
        from keras_tuner.src import config

        config.DEBUG  # noqa: B018 - must exist
        return config

    config = _need("keras-tuner", "keras_tuner.src.config.DEBUG", fetch)
    me = threading.get_ident()
    with _quiet_lock:
        flag = config.DEBUG
        if not isinstance(flag, _ThreadQuiet):
            flag = config.DEBUG = _ThreadQuiet(flag)
        flag.quiet.add(me)
    try:
        yield
    finally:
        with _quiet_lock:
            flag.quiet.discard(me)


def checkpoint_file(tuner: Any, trial_id: str) -> str:
    """The file KerasTuner saves a trial's best weights to."""
    method = _need("keras-tuner", "Tuner._get_checkpoint_fname", lambda: tuner._get_checkpoint_fname)
    return method(trial_id)


def build_config_file(tuner: Any, trial_id: str) -> str:
    """The file KerasTuner saves a trial's model build config to."""
    method = _need("keras-tuner", "Tuner._get_build_config_fname", lambda: tuner._get_build_config_fname)
    return method(trial_id)


def run_trial_executions(tuner: Any, trial: Any, args: tuple, kwargs: dict[str, Any], checkpoint: Any) -> list:
    """KerasTuner's ``Tuner.run_trial``, with ``checkpoint`` in the place of its
    ``SaveBestEpoch`` callback: one fit an execution, the callbacks deep-copied, TensorBoard
    directories set, ``TunerCallback`` then ``checkpoint`` last; returns the histories."""
    tuner_callback = _need("keras-tuner", "keras_tuner.src.engine.tuner_utils.TunerCallback",
                           lambda: __import__("keras_tuner.src.engine.tuner_utils",
                                              fromlist=["TunerCallback"]).TunerCallback)
    deepcopy = _need("keras-tuner", "Tuner._deepcopy_callbacks", lambda: tuner._deepcopy_callbacks)
    tensorboard = _need("keras-tuner", "Tuner._configure_tensorboard_dir",
                        lambda: tuner._configure_tensorboard_dir)
    build_and_fit = _need("keras-tuner", "Tuner._build_and_fit_model", lambda: tuner._build_and_fit_model)
    original = kwargs.pop("callbacks", None) or []
    histories = []
    for execution in range(tuner.executions_per_trial):
        callbacks = deepcopy(original)
        tensorboard(callbacks, trial, execution)
        callbacks.append(tuner_callback(tuner, trial))
        callbacks.append(checkpoint)  # one for all executions: their best epoch
        histories.append(build_and_fit(trial, *args, **{**kwargs, "callbacks": callbacks}))
    return histories


def check_run_trial_hook() -> None:
    """Raise :class:`CompatError` when KerasTuner's ``run_trial`` no longer has the shape
    :func:`run_trial_executions` repeats."""
    import inspect

    import keras_tuner

    source = _need("keras-tuner", "Tuner.run_trial", lambda: inspect.getsource(keras_tuner.Tuner.run_trial))
    for part in ("SaveBestEpoch", "_deepcopy_callbacks", "_configure_tensorboard_dir", "TunerCallback",
                 "_build_and_fit_model", "executions_per_trial"):
        if part not in source:
            raise CompatError("keras-tuner", f"Tuner.run_trial (no longer uses {part})")


class StandInOracleTuner:
    """Mixed into a worker's tuner (before ``keras_tuner.Tuner``): its oracle is a client of
    the chief's, which holds the space, so ``Tuner._populate_initial_space`` is skipped."""

    def _populate_initial_space(self):
        pass


class CheckedSpaceStart:
    """Mixed into a tuner (before ``keras_tuner.Tuner``): KerasTuner's
    ``_populate_initial_space``, less its first build when ``search()`` already made it.

    KerasTuner builds the model with the oracle's (empty) space, then again for each
    conditional scope that build left inactive (``HyperParameters.inactive_scopes``), to learn
    every hyperparameter. ``search()`` builds the user's ``build(hp)`` once with an empty
    HyperParameters to check it, and hands them over as ``checked_space``: when that build
    left no scope inactive, KerasTuner's builds would be exactly that one, so its
    hyperparameters are taken as they are (one model build less at the start: under a second
    for a small CNN, seconds for a large one). Anything else (a scope left inactive, an oracle
    that holds a space already, a HyperModel that declares hyperparameters first, a later
    start, a KerasTuner that no longer records inactive scopes) builds as KerasTuner does.
    """

    checked_space: Any = None

    def _populate_initial_space(self):
        checked, self.checked_space = self.checked_space, None
        inactive = getattr(checked, "inactive_scopes", None)
        tunable = getattr(self.hypermodel, "tunable", False)  # else KerasTuner's builds record nothing
        if checked is not None and tunable and isinstance(inactive, list) and not inactive:
            hp = self.oracle.get_space()
            if not hp.space:
                self.hypermodel.declare_hyperparameters(hp)
                if not hp.space:
                    self.oracle.update_space(checked)
                    return
        super()._populate_initial_space()


#: Held by every model build automl-nb makes (any search's thread, or the user's for best_model).
BUILD_LOCK = threading.RLock()


#: A full garbage collection runs before every this many builds (see :class:`SerializedBuilds`).
FULL_GC_EVERY = 8


class SerializedBuilds:
    """Mixed into a tuner (before ``keras_tuner.Tuner``): its builds hold :data:`BUILD_LOCK`,
    and clear Keras's session without a full garbage collection every time.

    KerasTuner's ``Tuner._try_build`` calls ``keras.backend.clear_session()`` before each
    build, and Keras's ``clear_session`` replaces the module's ``threading.local`` state: it
    resets the layer-name counters of EVERY thread. A build running meanwhile on another
    thread (a second search in the same kernel) then names two layers "dense" and fails. Two
    automl-nb builds never overlap now; a user's own model built in a cell while a search
    starts a trial can still meet it (Keras's own limitation).

    ``_try_build`` itself is KerasTuner's, less its two full garbage collections (the one in
    ``clear_session`` and its own ``gc.collect()``): in a process that holds TensorFlow each
    takes a few tenths of a second, most of a small trial's overhead over a plain
    ``model.fit``. One full collection runs every :data:`FULL_GC_EVERY` builds, so the
    models of ended trials are still freed.
    """

    builds_done = 0

    def _try_build(self, hp):
        import gc

        import keras
        import keras_tuner

        with BUILD_LOCK:
            keras.backend.clear_session(free_memory=False)
            SerializedBuilds.builds_done += 1
            if SerializedBuilds.builds_done % FULL_GC_EVERY == 0:
                gc.collect()
            model = self._build_hypermodel(hp)
            if not isinstance(model, keras.Model):
                raise keras_tuner.errors.FatalTypeError(
                    "Expected the model-building function, or HyperModel.build() to return a "
                    f"valid Keras Model instance. Received: {model} of type {type(model)}."
                )
            return model


def check_build_hook() -> None:
    """Raise :class:`CompatError` when KerasTuner no longer builds through ``_try_build``."""
    import inspect

    import keras_tuner

    source = _need("keras-tuner", "Tuner._try_build",
                   lambda: inspect.getsource(keras_tuner.Tuner._try_build))
    if "clear_session" not in source or "_build_hypermodel" not in source:
        raise CompatError("keras-tuner", "Tuner._try_build (no longer clears the session, then "
                          "builds with _build_hypermodel)")
    _need("keras-tuner", "Tuner._build_hypermodel", lambda: keras_tuner.Tuner._build_hypermodel)


def check_stand_in_hook() -> None:
    """Raise :class:`CompatError` when KerasTuner no longer has the hook the mixin replaces."""
    import keras_tuner

    _need("keras-tuner", "Tuner._populate_initial_space", lambda: keras_tuner.Tuner._populate_initial_space)


def hyperband_bracket(oracle: Any, trial_id: str) -> int | None:
    """The Hyperband bracket ``trial_id`` is in, from the oracle's own bookkeeping; else None."""
    brackets = getattr(oracle, "_brackets", None)
    if brackets is None:
        return None
    try:
        for bracket in brackets:
            if any(info.get("id") == trial_id for round_ in bracket["rounds"] for info in round_):
                return int(bracket["bracket_num"])
    except (KeyError, TypeError) as exc:
        raise CompatError("keras-tuner", "HyperbandOracle._brackets", exc) from exc
    return None


def drop_ended_retries(oracle: Any, ended: tuple[str, ...]) -> None:
    """Keep in the oracle's retry queue only trials whose status is not in ``ended``."""
    queue = getattr(oracle, "_retry_queue", None)
    if queue is None:
        return  # a worker's client oracle: the chief's oracle keeps the queue
    if not isinstance(queue, list):
        raise CompatError("keras-tuner", "Oracle._retry_queue")
    oracle._retry_queue = [t for t in queue if getattr(oracle.trials.get(t), "status", None) not in ended]


class AtomicOracleFiles:
    """Mixed into an oracle's class (before it): ``oracle.json`` and each ``trial.json`` are
    replaced whole (see :func:`automl_nb._util.write_json_atomically`) instead of rewritten in place."""

    def save(self):
        fname = _need("keras-tuner", "Oracle._get_oracle_fname", lambda: self._get_oracle_fname)()
        write_json_atomically(fname, self.get_state())

    def _save_trial(self, trial):
        trial_dir = _need("keras-tuner", "Oracle._get_trial_dir", lambda: self._get_trial_dir)
        write_json_atomically(os.path.join(trial_dir(trial.trial_id), "trial.json"), trial.get_state())


def bayesian_parts(oracle: Any) -> tuple[Any, ...]:
    """A Bayesian oracle's private methods and random state (in the order fetched)."""
    return _need("keras-tuner", "BayesianOptimizationOracle._vectorize_trials/_get_hp_bounds/"
                 "_vector_to_values/_random_populate_space/_random_state",
                 lambda: (oracle._vectorize_trials, oracle._get_hp_bounds, oracle._vector_to_values,
                          oracle._random_populate_space, oracle._random_state))


class AtomicTunerFiles:
    """Mixed into a tuner's class (before ``keras_tuner.Tuner``): its save writes the oracle's
    files and ``tuner0.json`` whole, as :class:`AtomicOracleFiles` does."""

    def save(self):
        if not _need("keras-tuner", "Tuner._is_worker", lambda: self._is_worker)():
            self.oracle.save()
        fname = _need("keras-tuner", "Tuner._get_tuner_fname", lambda: self._get_tuner_fname)()
        write_json_atomically(fname, self.get_state())


def reload_project(tuner: Any, ended: tuple[str, ...]) -> None:
    """KerasTuner's ``Tuner.reload``, tolerant of state files a crash left torn, and never
    retrying a trial whose status is in ``ended`` (see :func:`drop_ended_retries`).

    An ``oracle.json`` that does not parse (a kill mid-write, before saves were atomic) is set
    aside as ``oracle.json.torn`` and the oracle's state is rebuilt from its trials' own files:
    the finished ones stay finished, the unfinished ones are retried, the space is the
    hypermodel's again.
    """
    is_worker = _need("keras-tuner", "Tuner._is_worker", lambda: tuner._is_worker)()
    oracle = tuner.oracle
    if not is_worker:
        try:
            oracle.reload()  # loads every trial.json, then oracle.json
        except ValueError as exc:  # json.JSONDecodeError
            fname = oracle._get_oracle_fname()
            log.warning("%s could not be read (%s); rebuilding the oracle from its trials", fname, exc)
            os.replace(fname, fname + ".torn")
            _rebuild_oracle_state(tuner, ended)
        drop_ended_retries(oracle, ended)
    fname = _need("keras-tuner", "Tuner._get_tuner_fname", lambda: tuner._get_tuner_fname)()
    try:
        with open(fname) as fh:
            tuner.set_state(json.load(fh))
    except (OSError, ValueError):
        pass  # KerasTuner's Tuner keeps no state of its own in it


def _rebuild_oracle_state(tuner: Any, ended: tuple[str, ...]) -> None:
    oracle = tuner.oracle
    _need("keras-tuner", "Tuner._populate_initial_space", lambda: tuner._populate_initial_space)()
    order = sorted(oracle.trials)
    oracle.ongoing_trials = {}
    oracle.start_order = list(order)
    oracle.end_order = [t for t in order if oracle.trials[t].status in ended]
    oracle._retry_queue = [t for t in order if oracle.trials[t].status not in ended]
    for trial_id in order:
        digest = oracle._compute_values_hash(oracle.trials[trial_id].hyperparameters.values)
        oracle._tried_so_far.add(digest)
        oracle._id_to_hash[trial_id] = digest
    oracle.save()


def snapshot_oracle(oracle: Any, timeout: float) -> Any:
    """A private copy of a Bayesian oracle's search state, taken under the oracle's own lock.

    The copy shares nothing the oracle will write to (its trials, hyperparameters, Gaussian
    process, random state and tried-values set are copies) and has no scheduler, so the
    class's own ``populate_space`` runs on it.
    """

    def fetch():
        from keras_tuner.src.engine import oracle as oracle_module

        return oracle_module.LOCKS, oracle_module.THREADS

    locks, threads = _need("keras-tuner", "keras_tuner.src.engine.oracle.LOCKS/THREADS", fetch)
    lock = locks[oracle]
    mine = threads.get(oracle) == threading.current_thread().name
    if not mine and not lock.acquire(timeout=timeout):
        raise TimeoutError(
            f"the oracle stayed busy for {timeout:g}s (it is choosing the next trial); try again"
        )
    try:
        box = copy.copy(oracle)
        vars(box).pop("scheduler", None)
        box.trials = copy.deepcopy(oracle.trials)
        box.ongoing_trials = {
            key: box.trials[t.trial_id] for key, t in oracle.ongoing_trials.items() if t.trial_id in box.trials
        }
        box.hyperparameters = oracle.hyperparameters.copy()
        box.gpr = copy.deepcopy(oracle.gpr)
        try:
            box._random_state = copy.deepcopy(oracle._random_state)
            box._tried_so_far = set(oracle._tried_so_far)
            box._id_to_hash = copy.copy(oracle._id_to_hash)
        except AttributeError as exc:
            raise CompatError("keras-tuner", "Oracle._random_state/_tried_so_far/_id_to_hash", exc) from exc
    finally:
        if not mine:
            lock.release()
    return box


def nonfixed_space(oracle: Any) -> list[Any]:
    """The hyperparameters a Bayesian oracle models (its ``_nonfixed_space``)."""
    return list(_need("keras-tuner", "BayesianOptimizationOracle._nonfixed_space",
                      lambda: oracle._nonfixed_space)())


def vectorize_trials(oracle: Any) -> tuple[Any, Any]:
    """The (x, y) a Bayesian oracle fits its Gaussian process on (its ``_vectorize_trials``)."""
    return _need("keras-tuner", "BayesianOptimizationOracle._vectorize_trials",
                 lambda: oracle._vectorize_trials)()


# -- KerasTuner's distributed mode -----------------------------------------------------------
#: The environment variables that make a process a KerasTuner worker.
DISTRIBUTED_ENV = ("KERASTUNER_TUNER_ID", "KERASTUNER_ORACLE_IP", "KERASTUNER_ORACLE_PORT")


def protos() -> tuple[Any, Any]:
    """KerasTuner's generated gRPC modules: (messages, services)."""

    def fetch():
        from keras_tuner.src import protos as kt_protos

        return kt_protos.get_service(), kt_protos.get_service_grpc()

    return _need("keras-tuner", "keras_tuner.src.protos", fetch)


def oracle_servicer_class() -> type:
    """KerasTuner's ``OracleServicer`` (the chief's side of its distributed mode)."""

    def fetch():
        from keras_tuner.src.distribute.oracle_chief import OracleServicer

        return OracleServicer

    return _need("keras-tuner", "keras_tuner.src.distribute.oracle_chief.OracleServicer", fetch)


# ==========================================================================================
# Keras and TensorFlow
# ==========================================================================================
@contextlib.contextmanager
def seeded_build(seed: int | None) -> Iterator[None]:
    """A model build: under :data:`BUILD_LOCK`, with Keras's default seeds drawn from ``seed``.

    Keras takes a layer's default seed from Python's global ``random``; this swaps in a
    ``random.Random(seed)`` for Keras alone, so the same seed builds the same weights, and
    the user's ``random`` and NumPy state are never touched. ``seed=None`` only takes the lock.
    """
    if seed is None:
        with BUILD_LOCK:
            yield
        return

    def fetch():
        from keras.src.random import seed_generator

        seed_generator.python_random  # noqa: B018 - must exist
        return seed_generator

    module = _need("keras", "keras.src.random.seed_generator.python_random", fetch)
    with BUILD_LOCK:
        saved = module.python_random
        module.python_random = random.Random(seed)
        try:
            yield
        finally:
            module.python_random = saved


def compile_arguments(model: Any) -> dict[str, Any] | None:
    """The keyword arguments ``model.compile`` got (its live optimizer in place of a name),
    or None when the model is not compiled."""
    if not getattr(model, "compiled", False):
        return None
    config = _need("keras", "Trainer._compile_config", lambda: model._compile_config.config)
    arguments = dict(config)
    arguments["optimizer"] = model.optimizer
    return arguments


def _gradient_registry() -> dict[str, Any] | None:
    try:
        from tensorflow.python.framework import ops as tf_ops

        return tf_ops._gradient_registry._registry
    except (ImportError, AttributeError):  # another TensorFlow: nothing to release
        return None


CUSTOM_GRADIENT = "CustomGradient-"


def custom_gradient_names() -> set[str]:
    """The names ``tf.custom_gradient`` registered so far in TensorFlow's gradient registry."""
    registry = _gradient_registry()
    return {n for n in list(registry or ()) if n.startswith(CUSTOM_GRADIENT)}


def forget_custom_gradients(names: set[str]) -> None:
    """Drop gradient functions that ``tf.custom_gradient`` registered for good.

    Keras's TensorFlow optimizer sums gradients through ``all_reduce``, a
    ``tf.custom_gradient``: every traced train step registers a gradient function under a
    fresh name in TensorFlow's global registry, which is never emptied, and that function
    holds the step's gradient tensors, so each trial's whole train-step graph lived on
    (megabytes a trial; docs/benchmarks.md has the memory figures).
    """
    registry = _gradient_registry()
    if registry is None:
        return
    for name in names:
        registry.pop(name, None)


@contextlib.contextmanager
def deterministic_ops(seed: int) -> Iterator[None]:
    """TensorFlow's op determinism and global seed for the duration, restored after.

    Both are process-wide: only a search with ``deterministic=True`` asks for them.
    """
    import tensorflow as tf

    def fetch():
        from tensorflow.python.eager import context
        from tensorflow.python.framework import config

        return config, context

    config, context = _need("tensorflow", "op determinism and the global seed", fetch)
    was_on = config.is_op_determinism_enabled()
    ctx = context.context()
    seed_before = _need("tensorflow", "the eager context's global seed", lambda: ctx._seed)
    config.enable_op_determinism()
    tf.random.set_seed(seed)
    try:
        yield
    finally:
        if not was_on:
            config.disable_op_determinism()
        tf.random.set_seed(seed_before)
