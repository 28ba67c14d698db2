"""Search spaces: choosing one, the checks a user's build(hp) goes through, describing one.

A search space is a KerasTuner ``HyperModel``. :func:`get_space` turns what the user gave
(``None``, a ``build(hp)`` function, or a ``HyperModel``) into one; a built-in space (a small
MLP for tabular data, a 1-D conv net for sequences and a small CNN for images) is the data
family's (:mod:`automl_nb.families`; the builds are in :mod:`automl_nb.builtin_spaces`, with
:class:`DataSpec`). :func:`check_model` checks each model a space builds,
:func:`describe_space` and :func:`hp_spec` describe a space as JSON, :func:`check_values`
checks values given for it (enqueue).

Importing this module does not import TensorFlow, Keras or KerasTuner (they take seconds to
load): they are imported inside the functions that need them. The one ``HyperModel`` subclass,
:class:`SpaceHyperModel`, is therefore created on first use and reached as a lazy module
attribute (``automl_nb.spaces.SpaceHyperModel``), so instances still pickle by name.
"""

from __future__ import annotations

import functools
import math
import numbers
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from ._util import did_you_mean
from .builtin_spaces import DataSpec
from .errors import SpaceError

if TYPE_CHECKING:  # pragma: no cover
    import keras_tuner

__all__ = [
    "DataSpec",
    "SpaceError",
    "check_model",
    "check_values",
    "describe_space",
    "get_space",
    "hp_spec",
    "space_hyperparameters",
]

# --------------------------------------------------------------------------------------------
# Checking a model built from a space


def _type_name(obj: Any) -> str:
    return type(obj).__name__


def _show(obj: Any, limit: int = 60) -> str:
    text = repr(obj)
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return f"{text} ({_type_name(obj)})"


def check_model(model: Any, dataset: Any) -> None:
    """Check that ``model`` can be trained on ``dataset``; raise :class:`SpaceError` if not.

    Checks, in order: it is a ``keras.Model``; it is compiled; its input shape matches one
    sample of the data (when the model knows its inputs); its single output has the right
    size: ``n_classes`` for classification (or 1 for a binary task with a sigmoid output),
    the number of targets (1 for a plain vector ``y``) for regression. Models with several
    outputs, or whose shapes are not known before the first call, skip the shape checks.

    Args:
        model: what ``build(hp)`` returned.
        dataset: the Dataset (or a :class:`DataSpec`) the model will be trained on.
    """
    import keras

    spec = DataSpec.of(dataset)
    if not isinstance(model, keras.Model):
        raise SpaceError(
            f"build(hp) must return a compiled keras.Model; it returned {_type_name(model)}"
        )
    if not getattr(model, "compiled", False):
        raise SpaceError(
            "build(hp) returned a model that is not compiled; call "
            "model.compile(optimizer=..., loss=..., metrics=[...]) before returning it"
        )
    try:
        inputs, outputs = model.inputs, model.outputs
    except (AttributeError, ValueError):  # subclassed or unbuilt Sequential: shapes unknown
        return
    if inputs and len(inputs) == 1:
        got = tuple(inputs[0].shape[1:])
        want = spec.input_shape
        if len(got) != len(want) or any(
            g is not None and w is not None and g != w for g, w in zip(got, want)
        ):
            raise SpaceError(
                f"build(hp) returned a model whose input shape is {got} but one sample of "
                f"the data has shape {want}; use keras.Input(shape={want})"
            )
    if not outputs or len(outputs) != 1:
        return
    size = outputs[0].shape[-1]
    if size is None:
        return
    if spec.task == "classification":
        ok = size == spec.n_classes or (spec.n_classes == 2 and size == 1)
        if not ok:
            raise SpaceError(
                f"build(hp) returned a model with {size} outputs, but the data has "
                f"{spec.n_classes} classes; end the model with "
                f"Dense({spec.n_classes}, activation='softmax')"
            )
    elif size != spec.n_outputs:
        raise SpaceError(
            f"build(hp) returned a model with {size} outputs, but the regression target has "
            f"{spec.n_outputs}; end the model with Dense({spec.n_outputs})"
        )


# --------------------------------------------------------------------------------------------
# The HyperModel wrapper (created lazily: subclassing needs keras_tuner)


@functools.cache
def _hypermodel_class() -> type:
    import keras_tuner

    class SpaceHyperModel(keras_tuner.HyperModel):
        """A HyperModel around a ``build(hp)`` function whose models pass :func:`check_model`.

        Attributes:
            build_fn: the wrapped function.
            spec: the :class:`DataSpec` the models are checked against.
            builtin: True for the built-in spaces.
        """

        def __init__(
            self,
            build_fn: Callable[[Any], Any],
            spec: DataSpec,
            *,
            name: str | None = None,
            builtin: bool = False,
        ) -> None:
            super().__init__(name=name or getattr(build_fn, "__name__", None))
            self.build_fn = build_fn
            self.spec = spec
            self.builtin = builtin

        def build(self, hp: Any) -> Any:
            """Call the build function with ``hp``, check the model and return it.

            Exceptions raised by the build function propagate unchanged (the tuner marks
            the trial failed with them).
            """
            model = self.build_fn(hp)
            check_model(model, self.spec)
            return model

        def fit(self, hp: Any, model: Any, *args: Any, **kwargs: Any) -> Any:
            """Fit with the space's ``batch_size`` hyperparameter, when it has one and the
            search did not fix the batch size."""
            if kwargs.get("batch_size") is None and "batch_size" in hp.values:
                kwargs["batch_size"] = int(hp.values["batch_size"])
            return super().fit(hp, model, *args, **kwargs)

        def __repr__(self) -> str:
            kind = "built-in" if self.builtin else "user"
            return f"SpaceHyperModel({self.name!r}, {kind}, {self.spec.family or '?'})"

    SpaceHyperModel.__module__ = __name__
    SpaceHyperModel.__qualname__ = "SpaceHyperModel"
    return SpaceHyperModel


def __getattr__(name: str) -> Any:
    """Lazy module attribute ``SpaceHyperModel`` (defining it imports keras_tuner)."""
    if name == "SpaceHyperModel":
        return _hypermodel_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")




# --------------------------------------------------------------------------------------------
# Choosing the space


def get_space(space: Any, dataset: Any) -> keras_tuner.HyperModel:
    """Turn the user's ``space`` into a KerasTuner HyperModel for ``dataset``.

    Args:
        space: None for the built-in space of the data's family; a ``build(hp)`` function
            returning a compiled Keras model (wrapped in a :class:`SpaceHyperModel` that
            checks each model with :func:`check_model`); or a ``keras_tuner.HyperModel``
            instance, returned as is.
        dataset: the Dataset the models will train on (``family``, ``task``,
            ``input_shape``, ``n_classes``, ``y_train`` are read).

    Raises:
        SpaceError: for anything else, or a family without a built-in space.
    """
    import keras_tuner

    if isinstance(space, keras_tuner.HyperModel):
        return space
    if isinstance(space, type) and issubclass(space, keras_tuner.HyperModel):
        raise SpaceError(
            f"space is the HyperModel class {space.__name__}; pass an instance: "
            f"{space.__name__}(...)"
        )
    from . import families

    spec = DataSpec.of(dataset)
    cls = _hypermodel_class()
    if space is None:
        with_space = [f for f in families.registered() if f.has_space]
        family = next((f for f in with_space if f.name == spec.family), None)
        if family is None:
            raise SpaceError(
                f"there is no built-in space for dataset.family {spec.family!r}; use one of "
                f"{', '.join(f.name for f in with_space)} or pass a build(hp) function"
            )
        build = family.build_space
        return cls(functools.partial(build, spec=spec), spec,
                   name=getattr(build, "__name__", family.name), builtin=True)
    if callable(space):
        return cls(space, spec)
    raise SpaceError(
        "space must be a build(hp) function returning a compiled Keras model, a "
        f"keras_tuner.HyperModel, or None for the built-in space; got {_show(space)}"
    )


# --------------------------------------------------------------------------------------------
# Describing a space (the panel's enqueue form and the Bayesian view)


def space_hyperparameters(hypermodel: Any) -> keras_tuner.HyperParameters:
    """Build the space once on fresh HyperParameters and return them (the whole space).

    The model built is thrown away (``keras.backend.clear_session()``); errors of the build
    propagate.
    """
    import keras
    import keras_tuner

    hp = keras_tuner.HyperParameters()
    try:
        hypermodel.build(hp)
    finally:
        keras.backend.clear_session()
    return hp


def _plain(value: Any) -> Any:
    """A JSON-friendly Python scalar (numpy scalars become int/float/bool)."""
    if isinstance(value, (bool, str)) or value is None:
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if hasattr(value, "item"):
        return value.item()
    return value


_KINDS = {
    "Int": "int",
    "Float": "float",
    "Choice": "choice",
    "Boolean": "boolean",
    "Fixed": "fixed",
}


def hp_spec(hp_obj: Any) -> dict[str, Any]:
    """Describe one KerasTuner hyperparameter as a JSON-serialisable dict.

    Keys (always all present, None where they do not apply): ``name``; ``kind``: "int",
    "float", "choice", "boolean" or "fixed"; ``default``; ``min``, ``max``, ``step`` and
    ``sampling`` ("linear", "log", "reverse_log") for int and float; ``values``: the choices
    of a choice, [False, True] for a boolean, [value] for a fixed; ``ordered`` for a choice;
    ``conditions``: a list of {"name", "values"} parents it depends on (empty in flat spaces).
    """
    kind = _KINDS.get(type(hp_obj).__name__)
    if kind is None:
        raise SpaceError(
            f"hyperparameter {getattr(hp_obj, 'name', '?')!r} has an unknown type "
            f"{_type_name(hp_obj)}"
        )
    spec: dict[str, Any] = {
        "name": hp_obj.name,
        "kind": kind,
        "default": _plain(hp_obj.default),
        "min": None,
        "max": None,
        "step": None,
        "sampling": None,
        "values": None,
        "ordered": None,
        "conditions": [
            {"name": c.name, "values": [_plain(v) for v in c.values]}
            for c in getattr(hp_obj, "conditions", [])
        ],
    }
    if kind in ("int", "float"):
        spec.update(
            min=_plain(hp_obj.min_value),
            max=_plain(hp_obj.max_value),
            step=_plain(hp_obj.step),
            sampling=hp_obj.sampling,
        )
    elif kind == "choice":
        spec.update(values=[_plain(v) for v in hp_obj.values], ordered=bool(hp_obj.ordered))
    elif kind == "boolean":
        spec["values"] = [False, True]
    else:
        spec["values"] = [_plain(hp_obj.value)]
    return spec


def describe_space(hypermodel: Any) -> list[dict[str, Any]]:
    """One :func:`hp_spec` dict per hyperparameter of the space, in declaration order."""
    return [hp_spec(h) for h in space_hyperparameters(hypermodel).space]


# --------------------------------------------------------------------------------------------
# Checking values given for a space (enqueue)


def _is_bool(value: Any) -> bool:
    return isinstance(value, (bool, np.bool_))


def _check_value(hp_obj: Any, value: Any) -> Any:
    """Return ``value`` as the hyperparameter's type, or raise SpaceError."""
    spec = hp_spec(hp_obj)
    name, kind = spec["name"], spec["kind"]
    if kind == "boolean":
        if not _is_bool(value):
            raise SpaceError(f"hyperparameter '{name}' is True or False; got {_show(value)}")
        return bool(value)
    if kind in ("int", "float"):
        if _is_bool(value) or not isinstance(value, numbers.Real):
            raise SpaceError(f"hyperparameter '{name}' takes a number; got {_show(value)}")
        if kind == "int":
            whole = isinstance(value, numbers.Integral) or (
                math.isfinite(value) and float(value).is_integer()
            )
            if not whole:
                raise SpaceError(
                    f"hyperparameter '{name}' takes a whole number; got {_show(value)}"
                )
            value = int(value)
        else:
            value = float(value)
            if not math.isfinite(value):
                raise SpaceError(f"hyperparameter '{name}' takes a finite number; got {value}")
        if not spec["min"] <= value <= spec["max"]:
            raise SpaceError(
                f"hyperparameter '{name}' must be between {spec['min']} and {spec['max']}; "
                f"got {value}"
            )
        return value
    # choice or fixed: the value must equal one of the allowed values, of a compatible type.
    allowed = spec["values"]
    for option in allowed:
        same_kind = _is_bool(option) == _is_bool(value) and (
            isinstance(option, str) == isinstance(value, str)
        )
        if same_kind and value == option:
            return option
    shown = ", ".join(repr(v) for v in allowed)
    if kind == "fixed":
        raise SpaceError(f"hyperparameter '{name}' is fixed at {shown}; got {_show(value)}")
    raise SpaceError(f"hyperparameter '{name}' must be one of {shown}; got {_show(value)}")


def check_values(
    space_hps: keras_tuner.HyperParameters, values: Mapping[str, Any]
) -> dict[str, Any]:
    """Validate hyperparameter values given by the user (enqueue) against a space.

    Whole-number floats given for an int are accepted and cast; ints are accepted for a
    float. Values need not lie on a hyperparameter's step grid, only within its range.

    Args:
        space_hps: the space's HyperParameters, e.g. from :func:`space_hyperparameters`.
        values: hyperparameter name -> value; may be partial.

    Returns:
        A value for every active hyperparameter, in the space's order: the given ones
        (cast to the hyperparameter's type), defaults for the rest.

    Raises:
        SpaceError: an unknown name, a value of the wrong type, out of range or not among
            the choices, or a value for a hyperparameter inactive under the other values.
    """
    if not isinstance(values, Mapping):
        raise SpaceError(
            f"hyperparameter values must be a dict of name -> value; got {_show(values)}"
        )
    names = list(dict.fromkeys(h.name for h in space_hps.space))
    for key in values:
        if key not in names:
            raise SpaceError(
                f"unknown hyperparameter {key!r}; the space has: {', '.join(names)}"
                + did_you_mean(str(key), names)
            )
    result: dict[str, Any] = {}
    for hp_obj in space_hps.space:
        if hp_obj.name in result:
            continue
        if not all(c.is_active(result) for c in hp_obj.conditions):
            continue
        if hp_obj.name in values:
            result[hp_obj.name] = _check_value(hp_obj, values[hp_obj.name])
        else:
            result[hp_obj.name] = _plain(hp_obj.default)
    inactive = [k for k in values if k not in result]
    if inactive:
        raise SpaceError(
            f"hyperparameter {inactive[0]!r} is not used with these values; "
            f"the active ones are: {', '.join(result)}"
        )
    return result
