"""Oracles: the registry of the kinds automl-nb knows, and a seeded KerasTuner oracle from a name.

The registry (:class:`OracleKind`, :func:`register`, :func:`kind_of`, :func:`oracle_names`) is
the one place that knows what each kind of oracle is: its name, the KerasTuner class it
builds and that class's budget arguments, and what it can do (``bracketed``: Hyperband's
brackets and rounds; ``has_surrogate``: a Gaussian process the teaching view draws; ...). The
options, the tuner's scheduler, the engine's plan, the teaching views and ``compare()`` read
it, so adding an oracle is one :class:`OracleKind` and one :func:`register` call here. A
user's own ``keras_tuner.Oracle`` instance is recognised by its class (once a class).

:func:`check_oracle`, :func:`objective_direction` and :func:`check_objective` do not import
KerasTuner (or TensorFlow), so arguments can be checked before anything heavy loads;
:func:`get_oracle` imports it.

Two KerasTuner behaviours this module settles:

- Seeds. KerasTuner's ``Oracle`` stores ``seed or random.randint(1, 10000)``, so seed 0 means
  "no seed". We pass ``seed + 1`` for every seed the user gives, so seed 0 is honoured like any
  other (``oracle.seed == user_seed + 1``); ``seed=None`` leaves KerasTuner to draw one.
- Trial ids. KerasTuner pads trial ids to the digit count of ``str(max_trials)``. With
  ``max_trials=None`` (a search bounded by time, or Hyperband, which takes no max_trials) that
  is ``len("None") == 4``: ids are "0000", "0001", ... which is the form we want everywhere.
  With ``max_trials=20`` they would be "00", "01", ...; the tuner may pass ``max_trials=None``
  to the oracle and enforce the count itself to keep ids uniform.
"""

from __future__ import annotations

import functools
import inspect
import numbers
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import _kt_compat
from ._util import did_you_mean, write_json_atomically
from .acquisition import FastAcquisition
from .errors import OracleError

if TYPE_CHECKING:  # pragma: no cover
    import keras_tuner

__all__ = [
    "DEFAULT_ORACLE",
    "ORACLES",
    "OTHER",
    "OracleError",
    "OracleKind",
    "check_objective",
    "check_oracle",
    "get_oracle",
    "kind_of",
    "kt_seed",
    "objective_direction",
    "oracle_names",
    "register",
    "steer",
]


# --------------------------------------------------------------------------------------------
# The registry


@dataclass(frozen=True)
class OracleKind:
    """One kind of oracle: its name, how it is built, and what it can do.

    ``factory()`` imports KerasTuner and returns the Oracle class; ``budget(max_trials, epochs)``
    gives that class's budget arguments (our defaults, which a caller's keywords override).
    """

    name: str  #: what users type: ``oracle="hyperband"``, ``--oracle hyperband``
    class_name: str  #: the KerasTuner class it builds (and a recorded user instance's name)
    summary: str  #: a few words for the help
    factory: Callable[[], type] | None = None  #: None for :data:`OTHER` (nothing to build)
    budget: Callable[[int | None, int], dict[str, Any]] | None = None
    #: trials play in brackets and rounds of its own: it halves by itself (no successive
    #: halving of ours), queued trials take a first-round place, the teaching tab draws them
    bracketed: bool = False
    #: a Gaussian process over the space, which the teaching tab draws
    has_surrogate: bool = False
    #: every trial is drawn independently of the others (the teaching tab says so)
    independent: bool = False
    #: the keyword of its random start, which a built-in space sets (``BAYESIAN_RANDOM_START``)
    random_start: str | None = None
    #: its line's colour in ``automl_nb.compare`` (None: the next of the palette)
    colour: str | None = None


#: What a user's Oracle of no registered kind is (or a recorded name no kind claims): no
#: capabilities, nothing to build from a name.
OTHER = OracleKind(name="other", class_name="", summary="an Oracle of your own")

# The registered kinds by name, in registration order (the order of the help and the errors):
# filled by register() below and by anyone adding a kind; read by every lookup.
_KINDS: dict[str, OracleKind] = {}


def register(kind: OracleKind) -> OracleKind:
    """Add a kind of oracle (its name must be new); returns it."""
    if kind.name in _KINDS or kind.name == OTHER.name or kind.name != kind.name.strip().lower():
        raise ValueError(f"an oracle kind needs a new lower-case name; got {kind.name!r}")
    if kind.factory is None or kind.budget is None:
        raise ValueError(f"oracle kind {kind.name!r} needs a factory and a budget")
    _KINDS[kind.name] = kind
    _class_kind.cache_clear()
    return kind


def oracle_names() -> tuple[str, ...]:
    """The names of the registered kinds, in registration order."""
    return tuple(_KINDS)


def kind_of(oracle: Any) -> OracleKind:
    """The registered kind of an oracle name, a recorded oracle name, or an Oracle instance.

    A name is a kind's name (any case), or the class name a search recorded for a user's
    Oracle ("HyperbandOracle"; a subclass's name that contains a kind's name, such as
    "MyHyperbandOracle", counts as that kind, as searches recorded before the registry were
    read). An instance is the kind whose KerasTuner class it is an instance of. Anything
    else is :data:`OTHER`.
    """
    if isinstance(oracle, str):
        text = oracle.strip().lower()
        if text in _KINDS:
            return _KINDS[text]
        for kind in _KINDS.values():
            if text == kind.class_name.lower():
                return kind
        return next((k for k in _KINDS.values() if k.name in text), OTHER)
    if _is_oracle(oracle):
        return _class_kind(type(oracle))
    return OTHER


@functools.cache
def _class_kind(cls: type) -> OracleKind:
    """The kind of an Oracle class: the first registered kind whose class it subclasses."""
    for kind in _KINDS.values():
        assert kind.factory is not None
        if issubclass(cls, kind.factory()):
            return kind
    return OTHER


def _kt_class(name: str) -> Callable[[], type]:
    def factory() -> type:
        from keras_tuner import oracles as kt_oracles

        return getattr(kt_oracles, name)

    factory.__name__ = f"keras_tuner.oracles.{name}"
    return factory


def _trial_budget(max_trials: int | None, epochs: int) -> dict[str, Any]:
    return {"max_trials": max_trials}


def _hyperband_budget(max_trials: int | None, epochs: int) -> dict[str, Any]:
    return {"max_epochs": epochs, "factor": 3, "hyperband_iterations": 1}


register(OracleKind(
    name="bayesian",
    class_name="BayesianOptimizationOracle",
    summary="a Gaussian process proposes where the score may be best",
    factory=_kt_class("BayesianOptimizationOracle"),
    budget=_trial_budget,
    has_surrogate=True,
    random_start="num_initial_points",
    colour="#1f77b4",
))
register(OracleKind(
    name="hyperband",
    class_name="HyperbandOracle",
    summary="brackets of short trials, the best trained on",
    factory=_kt_class("HyperbandOracle"),
    budget=_hyperband_budget,
    bracketed=True,
    colour="#d62728",
))
register(OracleKind(
    name="random",
    class_name="RandomSearchOracle",
    summary="every trial drawn at random",
    factory=_kt_class("RandomSearchOracle"),
    budget=_trial_budget,
    independent=True,
    colour="#7f7f7f",
))

#: The built-in kinds' names (``oracle_names()`` also lists kinds registered later).
ORACLES = oracle_names()
#: The kind a search uses when none is named.
DEFAULT_ORACLE = "bayesian"

# Our seeds map to KerasTuner's as seed + 1 (see the module docstring); the Bayesian oracle
# seeds numpy's RandomState with it, which takes 0 .. 2**32 - 1.
MAX_SEED = 2**32 - 2


def _show(obj: Any, limit: int = 60) -> str:
    text = repr(obj)
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return f"{text} ({type(obj).__name__})"


def _is_oracle(obj: Any) -> bool:
    """True for a keras_tuner Oracle, without importing keras_tuner.

    An Oracle instance can only exist once keras_tuner is imported, so if it is not in
    ``sys.modules`` the object cannot be one.
    """
    kt = sys.modules.get("keras_tuner")
    return kt is not None and isinstance(obj, kt.Oracle)


def check_oracle(oracle: Any) -> str | keras_tuner.Oracle:
    """Validate an oracle argument without importing KerasTuner.

    Args:
        oracle: an oracle name (case and surrounding spaces ignored) or a
            ``keras_tuner.Oracle`` instance.

    Returns:
        The normalised name (one of :func:`oracle_names`), or the Oracle unchanged.

    Raises:
        OracleError: an unknown name, or something that is neither a name nor an Oracle.
    """
    names = oracle_names()
    if isinstance(oracle, str):
        name = oracle.strip().lower()
        if name in names:
            return name
        raise OracleError(
            f"oracle {oracle!r} is not known; choose one of: {', '.join(names)}"
            f"{did_you_mean(name, names)}"
        )
    if _is_oracle(oracle):
        return oracle
    kt = sys.modules.get("keras_tuner")
    if kt is not None and isinstance(oracle, type) and issubclass(oracle, kt.Oracle):
        raise OracleError(
            f"oracle is the Oracle class {oracle.__name__}; pass an instance: "
            f"{oracle.__name__}(objective=..., ...)"
        )
    raise OracleError(
        f"oracle must be one of the names {', '.join(names)} or a keras_tuner.Oracle "
        f"instance; got {_show(oracle)}"
    )


def _check_int(name: str, value: Any, minimum: int, *, allow_none: bool = False) -> int | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        extra = " or None" if allow_none else ""
        raise OracleError(f"{name} must be an integer >= {minimum}{extra}; got {_show(value)}")
    return int(value)


def kt_seed(seed: int | None) -> int | None:
    """Our seed -> the seed KerasTuner gets: ``seed + 1`` (so 0 is honoured), None stays None."""
    seed = _check_int("seed", seed, 0, allow_none=True)
    if seed is not None and seed > MAX_SEED:
        raise OracleError(f"seed must be between 0 and {MAX_SEED}; got {seed}")
    return None if seed is None else seed + 1


def get_oracle(
    oracle: Any,
    *,
    objective: str,
    direction: str | None,
    max_trials: int | None,
    epochs: int,
    seed: int | None,
    hyperparameters: keras_tuner.HyperParameters | None = None,
    **kwargs: Any,
) -> keras_tuner.Oracle:
    """Build the KerasTuner oracle for a name, or pass an Oracle instance through.

    Args:
        oracle: a registered kind's name (any case: "bayesian", "hyperband", "random"), or a
            ``keras_tuner.Oracle`` instance, returned unchanged (its own objective, seed and budget win).
        objective: the metric to optimise, e.g. "val_accuracy".
        direction: "min" or "max"; None infers it with :func:`objective_direction`.
        max_trials: the trial budget (the kind's ``budget`` says where it goes); None for no
            limit (and 4-digit trial ids, see the module docstring). Hyperband ignores it: its
            budget comes from ``epochs``.
        epochs: the most epochs a trial trains; Hyperband's ``max_epochs``.
        seed: an integer >= 0 for reproducible trials (passed as ``seed + 1``, see the
            module docstring), or None for a random seed.
        hyperparameters: optional HyperParameters to register in advance.
        **kwargs: more arguments of the KerasTuner oracle class (num_initial_points, factor,
            hyperband_iterations, max_retries_per_trial, ...); they override our defaults.

    Raises:
        OracleError: a bad name, direction, budget, seed or keyword argument.
    """
    checked = check_oracle(oracle)
    if not isinstance(checked, str):
        return checked

    import keras_tuner

    if not isinstance(objective, str) or not objective:
        raise OracleError(
            f"objective must be a metric name such as 'val_loss'; got {_show(objective)}"
        )
    if direction is None:
        direction = objective_direction(objective)
    if direction not in ("min", "max"):
        raise OracleError(f"direction must be 'min' or 'max'; got {_show(direction)}")
    max_trials = _check_int("max_trials", max_trials, 1, allow_none=True)
    epochs = _check_int("epochs", epochs, 1)

    args: dict[str, Any] = {
        "objective": keras_tuner.Objective(objective, direction),
        "seed": kt_seed(seed),
        "hyperparameters": hyperparameters,
    }
    kind = _KINDS[checked]
    assert kind.factory is not None and kind.budget is not None  # register() checks both
    cls = kind.factory()
    args.update(kind.budget(max_trials, epochs))

    accepted = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
    for key in kwargs:
        if key not in accepted:
            raise OracleError(
                f"oracle {checked!r} takes no argument {key!r}; it takes: "
                f"{', '.join(accepted)}{did_you_mean(key, accepted)}"
            )
    args.update(kwargs)
    try:
        return _steerable_class(cls)(**args)
    except (TypeError, ValueError) as err:
        raise OracleError(f"oracle {checked!r} could not be created: {err}") from err


# --------------------------------------------------------------------------------------------
# Steering: the one place where an oracle's behaviour is extended

#: ``scheduler(trial_id, propose) -> response``: decides a trial before (or instead of) the
#: oracle's own proposal, ``propose(trial_id)``; a response is KerasTuner's populate_space dict.
Scheduler = Callable[[str, Callable[[str], dict[str, Any]]], dict[str, Any]]


class AtomicOracleFiles:
    """Mixed into an oracle's class (before it): ``oracle.json`` and each ``trial.json`` are
    replaced whole (see :func:`automl_nb._util.write_json_atomically`) instead of rewritten in
    place, so a process killed mid-write leaves the old file, never an empty one. ``save`` is
    KerasTuner's public method; ``_save_trial`` its hook (``_kt_compat.check_save_trial_hook``)."""

    def save(self):
        write_json_atomically(_kt_compat.oracle_file(self), self.get_state())

    def _save_trial(self, trial):
        write_json_atomically(_kt_compat.trial_file(self, trial.trial_id), trial.get_state())


@functools.cache
def _steerable_class(cls: type) -> type:
    """``cls`` with one extension: its ``populate_space`` asks ``scheduler`` first.

    (And its files are written whole, never truncated then rewritten:
    :class:`AtomicOracleFiles`; and KerasTuner's own Bayesian oracle
    maximises its bound in batches, the same choice in about a fortieth of the time:
    :class:`~automl_nb.acquisition.FastAcquisition`.)

    Every trial KerasTuner creates goes through ``populate_space``; a scheduler (the tuner's:
    the user's promotions and queued trials first, then the budgets; the workers' chief adds
    pause) answers with a request's values, a stop, or the oracle's own proposal, so the
    oracle records the user's trials as its own and learns from them.
    """
    from keras_tuner.oracles import BayesianOptimizationOracle

    # KerasTuner's own Bayesian choice (not a subclass's own populate_space) is made fast.
    fast = (FastAcquisition,) if cls.populate_space is BayesianOptimizationOracle.populate_space else ()

    class Steerable(AtomicOracleFiles, *fast, cls):  # type: ignore[misc, valid-type]
        steerable = True
        scheduler: Scheduler | None = None

        def populate_space(self, trial_id: str) -> dict[str, Any]:
            propose = super().populate_space
            scheduler = self.scheduler
            return propose(trial_id) if scheduler is None else scheduler(trial_id, propose)

    Steerable.__name__ = Steerable.__qualname__ = cls.__name__
    Steerable.__module__ = cls.__module__
    Steerable.__doc__ = cls.__doc__
    return Steerable


def steer(oracle: Any, scheduler: Scheduler | None) -> Any:
    """Give ``oracle`` (a KerasTuner Oracle) a ``scheduler``; returns the oracle.

    Oracles made by :func:`get_oracle` are of a steerable class already; an Oracle the user
    made becomes an instance of its class's steerable subclass (its state is untouched).
    """
    if not getattr(type(oracle), "steerable", False):
        oracle.__class__ = _steerable_class(type(oracle))
    oracle.scheduler = scheduler
    return oracle


# --------------------------------------------------------------------------------------------
# Objectives

# Names KerasTuner infers (keras_tuner/src/engine/metrics_tracking.py), by Keras name.
# fmt: off
_MAX_NAMES = frozenset(
    {
        "acc", "accuracy", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
        "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy", "auc", "precision",
        "recall", "true_positives", "true_negatives", "sensitivity_at_specificity",
        "specificity_at_sensitivity", "precision_at_recall", "recall_at_precision", "f1_score",
        "fbeta_score", "r2_score", "iou", "mean_iou", "binary_iou", "one_hot_iou",
        "one_hot_mean_iou",
    }
)
_MIN_NAMES = frozenset(
    {
        "loss", "crossentropy", "ce", "mae", "mse", "mape", "msle", "rmse", "mean_absolute_error",
        "mean_squared_error", "mean_absolute_percentage_error", "mean_squared_logarithmic_error",
        "root_mean_squared_error", "binary_crossentropy", "categorical_crossentropy",
        "sparse_categorical_crossentropy", "binary_focal_crossentropy",
        "categorical_focal_crossentropy", "hinge", "squared_hinge", "categorical_hinge",
        "kl_divergence", "kld", "kullback_leibler_divergence", "logcosh", "log_cosh",
        "log_cosh_error", "poisson", "huber", "false_positives", "false_negatives", "dice",
        "tversky", "ctc",
    }
)
# fmt: on
# Fallbacks for names Keras does not know (custom metrics, "output_1_accuracy"...).
# Long words match anywhere in the name, short ones only as a whole "_"-separated token.
_MAX_WORDS = ("accuracy", "precision", "recall", "fbeta")
_MAX_TOKENS = ("acc", "auc", "f1", "iou", "r2")
_MIN_WORDS = ("loss", "error", "crossentropy", "divergence", "hinge")
_MIN_TOKENS = ("mae", "mse", "rmse", "mape", "msle")


def objective_direction(objective: str) -> str:
    """Infer "min" or "max" for a metric name, as KerasTuner does, without importing Keras.

    The rules: drop a "val_" then a "weighted_" prefix; known Keras metric and loss names
    follow KerasTuner ("loss", "mse", "mae", crossentropies... -> "min"; "accuracy", "auc",
    "precision", "recall"... -> "max"; unlike KerasTuner, "f1_score", "fbeta_score" and
    "r2_score" -> "max"). Other names: ending in "loss" -> "min"; containing
    accuracy/precision/recall or a part acc/auc/f1/iou/r2 -> "max"; containing
    error/crossentropy or a part mae/mse/rmse -> "min".

    Raises:
        OracleError: when no rule applies (give the direction explicitly).
    """
    name = objective.strip().lower()
    name = name.removeprefix("val_").removeprefix("weighted_")
    if name in _MAX_NAMES:
        return "max"
    if name in _MIN_NAMES:
        return "min"
    if name.endswith("loss"):
        return "min"
    tokens = set(name.replace("-", "_").split("_"))
    if any(w in name for w in _MAX_WORDS) or tokens.intersection(_MAX_TOKENS):
        return "max"
    if any(w in name for w in _MIN_WORDS) or tokens.intersection(_MIN_TOKENS):
        return "min"
    raise OracleError(
        f"objective {objective!r} has no known direction; say whether it should be "
        f"minimised or maximised with objective=keras_tuner.Objective({objective!r}, "
        "direction='min') or direction='max'"
    )


def check_objective(objective: str, available_metrics: list[str]) -> None:
    """Check that ``objective`` is one of the metric names a model logs.

    Args:
        objective: the objective's name, e.g. "val_accuracy".
        available_metrics: the names the model's fit logs, e.g. ["accuracy", "loss",
            "val_accuracy", "val_loss"].

    Raises:
        OracleError: naming the metrics there are, with a close match if any.
    """
    names = list(available_metrics)
    if objective in names:
        return
    raise OracleError(
        f"objective {objective!r} is not a metric of this model; choose one of: "
        f"{', '.join(names)}{did_you_mean(str(objective), names)}"
    )
