"""What a data family is, and the registry of them: the one place a search asks about its data.

A *data family* (tabular, image, sequence; text next) is one module with one
:class:`DataFamily` object. It answers every question that depends on the kind of data:

- **recognise** a user's input (``recognise``) and **load** it into a
  :class:`~automl_nb.data.Dataset` (``load``; ``reload`` for file-backed data a search
  directory refers to), and **describe** it in one line for the panel and the command line;
- how its inputs are kept in a search directory's ``data.npz`` (``saved_inputs`` /
  ``restored_inputs``);
- its Keras **preprocessing layers** (``input_layers``) and what ``fit`` gets (``fit_data``);
- what an exported model's **predictor** accepts: the sidecar's ``inputs`` (``export_inputs``)
  and a user's raw input turned into the model's (``predictor_inputs``, then ``model_inputs``);
- its **built-in space** (``build_space``) and warm-start **portfolio**;
- tiny **examples** of its inputs, which its conformance test (``tests/test_families.py``)
  runs every question above on.

The registry keeps the families in the order :func:`recognise` asks them (``register``'s
``before`` puts a more specific family, such as text over tabular, ahead). Family names are
what users see in results and journals, and what a search directory records, so a name never
changes once released. Nothing here imports TensorFlow or Keras: the methods that build layers
or tensors import them when called.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from ..data.dataset import Dataset, concat
from ..errors import DataError, Keyword

if TYPE_CHECKING:  # pragma: no cover
    from ..builtin_spaces import DataSpec

__all__ = ["DataFamily", "Example", "array_layers", "get", "model_inputs", "recognise",
           "refuse_options", "register", "registered", "source_family", "unregister"]


@dataclass
class Example:
    """A tiny input of a family, as a user gives it: what every family's conformance test
    (``tests/test_families.py``) loads, stores, describes and predicts from.

    Attributes: ``data`` (what ``automl_nb.search`` takes), ``rows`` (raw input for ``n``
    samples, as the exported model's ``predict`` takes it), ``kwargs`` (``load_data``'s other
    arguments, such as ``target``).
    """

    data: Any
    rows: Any
    n: int
    kwargs: dict[str, Any] = field(default_factory=dict)


class DataFamily(ABC):
    """One kind of data, from the user's input to the exported model's predictions.

    Subclass it, set ``name`` (and ``portfolio``), implement the abstract methods, and
    register an instance (``automl_nb.families.register``). The defaults here serve data held
    as a NumPy array or a dict of 1-D column arrays; a family with other inputs overrides them.
    """

    #: The family's name: ``Dataset.family``, the results, the journal and ``search.json``.
    name: ClassVar[str] = ""
    #: The ``Dataset.source["kind"]`` values this family reads again (``reload``).
    source_kinds: ClassVar[tuple[str, ...]] = ()
    #: The warm start after the built-in space's defaults: (entry name, partial values).
    portfolio: ClassVar[tuple[tuple[str, dict[str, Any]], ...]] = ()

    # -- the user's input ---------------------------------------------------------------
    @abstractmethod
    def recognise(self, data: Any, target: Any = None, **options: Any) -> bool:
        """Whether ``data`` (as given to ``automl_nb.search``, never a Dataset or a bundled
        set's name) is this family's. ``options`` are the family-specific arguments the user
        gave ``load_data`` (such as ``text_columns=``), which may decide it. Cheap, and never
        raises."""

    @abstractmethod
    def load(self, data: Any, *, target: Any, validation: Any, seed: int | None,
             validation_split: float, task: str | None, **options: Any) -> Dataset:
        """The :class:`Dataset` of ``data``: raw inputs, encoded labels, the validation split
        and the ``preprocessing`` spec learnt from the training split. Raises
        :class:`~automl_nb.errors.DataError` with a sentence for bad input, and for an
        option the family does not take (:func:`refuse_options`)."""

    def reload(self, source: dict[str, Any]) -> Dataset:
        """The Dataset again from ``Dataset.source`` (file-backed data), checking the files."""
        raise DataError(f"the {self.name} family reads no data reference of kind {source.get('kind')!r}")

    @abstractmethod
    def describe(self, dataset: Dataset) -> str:
        """One line on what the data is, for the panel's header and the command line
        (``"8 × 8 images, grey"``); ``automl_nb.families.describe`` puts it in the data's
        summary as ``description``, which ``search.json`` keeps."""

    # -- the search directory -------------------------------------------------------------
    def saved_inputs(self, x: Any, part: str) -> dict[str, np.ndarray]:
        """``x`` (``part`` is "x_train" or "x_val") as named arrays for ``data.npz``, text as
        fixed-width strings (never pickled objects)."""
        if isinstance(x, dict):
            return {f"{part}.{i}": _fixed_width(v) for i, v in enumerate(x.values())}
        return {part: _fixed_width(np.asarray(x))}

    def restored_inputs(self, arrays: Any, spec: dict[str, Any], part: str) -> Any:
        """What :meth:`saved_inputs` wrote, read back from ``data.npz`` as the model takes it."""
        if spec.get("inputs") == "columns":
            return {c["name"]: _text_objects(arrays[f"{part}.{i}"])
                    for i, c in enumerate(spec["columns"])}
        return _text_objects(arrays[part])

    # -- the model ---------------------------------------------------------------------------
    def input_layers(self, spec: dict[str, Any]) -> tuple[Any, Any]:
        """(the model's raw Keras inputs, the features the space's model receives) for a
        ``preprocessing`` spec; by default an array's (:func:`array_layers`). Imports Keras."""
        return array_layers(spec)

    def fit_data(self, dataset: Dataset, batch_size: int | None, seed: int | None, *,
                 final: bool = False) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """The positional and keyword arguments of ``fit`` (or ``tuner.search``): the inputs
        as :meth:`model_inputs` makes them and the labels; ``final`` trains on training and
        validation data together, without validation."""
        x, y = dataset.x_train, dataset.y_train
        if final:
            x, y = concat(x, dataset.x_val), np.concatenate([y, dataset.y_val])
        kwargs: dict[str, Any] = {"batch_size": batch_size, "shuffle": True}
        if not final:
            kwargs["validation_data"] = (self.model_inputs(dataset.x_val), dataset.y_val)
        return (self.model_inputs(x), y), kwargs

    def model_inputs(self, x: Any) -> Any:
        """Raw inputs as Keras takes them (see :func:`model_inputs`)."""
        return model_inputs(x)

    # -- the exported model -----------------------------------------------------------------
    @abstractmethod
    def export_inputs(self, spec: dict[str, Any]) -> dict[str, Any]:
        """What the model takes, for the ``.json`` beside an export (``inputs``): a plain
        dict that :meth:`predictor_inputs` reads back."""

    @abstractmethod
    def predictor_inputs(self, inputs: dict[str, Any], data: Any) -> Any:
        """A user's raw ``data`` as the model's inputs, before tensors (``model_inputs``);
        ``inputs`` is the sidecar's. Raises ValueError with a sentence when it does not fit."""

    def accepts(self, inputs: dict[str, Any]) -> str:
        """What the predictor takes, in a few words (``"arrays"``), for its repr."""
        return "arrays"

    # -- the built-in space -----------------------------------------------------------------
    def build_space(self, hp: Any, spec: DataSpec) -> Any:
        """The built-in hypermodel: a compiled Keras model for ``hp`` (KerasTuner's
        HyperParameters). A family without one leaves this as it is; a search on it then
        needs the user's ``space``."""
        raise NotImplementedError

    # -- for the conformance test ----------------------------------------------------------
    @abstractmethod
    def examples(self, directory: Path) -> list[Example]:
        """Tiny inputs of this family, each kind it recognises (files written under
        ``directory``, which exists), seeded: what its conformance test runs on."""

    @property
    def has_space(self) -> bool:
        """Whether the family has a built-in space."""
        return type(self).build_space is not DataFamily.build_space

    def __repr__(self) -> str:
        return f"<data family {self.name!r}>"


def array_layers(spec: dict[str, Any]) -> tuple[Any, Any]:
    """An array's input and preprocessing: one ``keras.Input`` in the array's own dtype and
    shape, then ``Rescaling`` (uint8 images, or the spec's scale), a ``Reshape`` when the space
    takes another shape (an (H, W) image gains its channel) and ``Normalization`` with the
    training split's mean and variance along the last axis; float32 features in every case."""
    import keras
    from keras import layers, ops

    raw = keras.Input(shape=tuple(spec["shape"]), name="inputs", dtype=spec["dtype"])
    x = raw
    if spec.get("scale") is not None:
        x = layers.Rescaling(spec["scale"])(x)
    if list(spec["features_shape"]) != list(spec["shape"]):
        x = layers.Reshape(tuple(spec["features_shape"]))(x)
    normalize = spec.get("normalize")
    if normalize:
        x = layers.Normalization(axis=-1, mean=normalize["mean"], variance=normalize["variance"])(x)
    if x is raw:
        x = ops.cast(x, "float32")
    return raw, x


def array_inputs(inputs: dict[str, Any], data: Any) -> np.ndarray:
    """A user's array for a model of arrays (the sidecar's ``inputs``: ``shape``, ``dtype``):
    in its own dtype, one sample given alone gaining its batch axis, an (N, H, W, 1) set for an
    (H, W) model reshaped; uint8 models take whole values 0..255 of any numeric dtype."""
    if is_frame_like(data) and not isinstance(data, dict):
        raise ValueError(
            "data is a table, but this model was trained on arrays; pass a NumPy array of "
            f"samples shaped {tuple(inputs.get('shape') or ())}"
        )
    shape = tuple(inputs.get("shape") or ())
    array = np.asarray(data)
    if array.dtype == object:
        raise ValueError(
            "data must be a numeric NumPy array (or rows of a table for a DataFrame's model); "
            "got an array of Python objects"
        )
    if shape and tuple(array.shape[1:]) != shape:
        if tuple(array.shape) == shape:
            array = array[None, ...]  # one sample
        elif array.ndim >= 1 and array.size == len(array) * int(np.prod(shape)):
            array = array.reshape((len(array), *shape))  # (N, H, W, 1) for an (H, W) model
        else:
            raise ValueError(
                f"data has shape {tuple(array.shape)}, but the model takes samples shaped "
                f"{shape} (so an array shaped (n, {', '.join(map(str, shape))}))"
            )
    if inputs.get("dtype") == "uint8" and array.dtype != np.uint8:
        if array.size and (array.min() < 0 or array.max() > 255 or np.any(array != np.round(array))):
            raise ValueError(
                "the model takes images as uint8 values 0..255, as the search got them; "
                f"data holds {array.dtype} values from {array.min():g} to {array.max():g}"
            )
        array = array.astype(np.uint8)
    return array


def array_export_inputs(spec: dict[str, Any]) -> dict[str, Any]:
    """The sidecar's ``inputs`` of a model of arrays."""
    return {"kind": "array", "shape": spec["shape"], "dtype": spec["dtype"]}


def is_frame_like(data: Any) -> bool:
    """A DataFrame, a dict of columns or a list of row dicts."""
    if type(data).__module__.split(".")[0] == "pandas":
        return True
    if isinstance(data, dict):
        return True
    return isinstance(data, list) and bool(data) and all(isinstance(r, dict) for r in data)



def model_inputs(x: Any) -> Any:
    """Raw inputs as Keras takes them: numeric arrays as they are, text (an array of str
    objects, alone or as a dict's column) as string tensors (Keras' array adapter takes no
    NumPy strings). Imports TensorFlow only for text."""
    if isinstance(x, dict):
        return {k: _strings(v) for k, v in x.items()}
    return _strings(x)


def _strings(values: Any) -> Any:
    if not (isinstance(values, np.ndarray) and values.dtype == object):
        return values
    import tensorflow as tf

    return tf.constant(values.astype(str))


def _fixed_width(values: np.ndarray) -> np.ndarray:
    """Text (str objects) as fixed-width strings, which ``np.save`` writes without pickle."""
    return values.astype(str) if values.dtype == object else values


def _text_objects(values: Any) -> Any:
    """A column read back from ``data.npz``: text as str objects, as the model's inputs take."""
    return values.astype(object) if values.dtype.kind == "U" else values


# ---------------------------------------------------------------------------------------------
# the registry

_FAMILIES: list[DataFamily] = []  # in the order recognise() asks them


def register(family: DataFamily, *, before: str | None = None) -> DataFamily:
    """Add ``family`` to the registry (last, or ahead of the family named ``before``, which
    :func:`recognise` then asks after it). Its name must be new. Returns it."""
    if not isinstance(family, DataFamily) or not family.name:
        raise TypeError(f"a data family is a DataFamily instance with a name; got {family!r}")
    if any(f.name == family.name for f in _FAMILIES):
        raise ValueError(f"a data family named {family.name!r} is registered already")
    names = [f.name for f in _FAMILIES]
    if before is not None and before not in names:
        raise ValueError(f"no data family named {before!r} to register {family.name!r} before")
    _FAMILIES.insert(names.index(before) if before is not None else len(_FAMILIES), family)
    return family


def unregister(name: str) -> None:
    """Take the family named ``name`` out of the registry (a test's toy family)."""
    _FAMILIES[:] = [f for f in _FAMILIES if f.name != name]


def registered() -> tuple[DataFamily, ...]:
    """The registered families, in the order :func:`recognise` asks them."""
    return tuple(_FAMILIES)


def get(name: str) -> DataFamily:
    """The family named ``name``; a :class:`KeyError` with the names there are if none."""
    for family in _FAMILIES:
        if family.name == name:
            return family
    raise KeyError(f"no data family named {name!r}; the families are: "
                   + ", ".join(f.name for f in _FAMILIES))


def recognise(data: Any, target: Any = None, **options: Any) -> DataFamily | None:
    """The first registered family that recognises ``data`` (with ``options``), or None."""
    for family in _FAMILIES:
        if family.recognise(data, target, **options):
            return family
    return None


def refuse_options(options: dict[str, Any], what: str) -> None:
    """A family's ``load`` given options it does not take: one sentence naming the first."""
    if options:
        name = min(options)
        raise DataError(f"does not apply to {what}", argument=name, value=options[name],
                        hint=("drop ", Keyword(name)))


def source_family(source: dict[str, Any]) -> DataFamily:
    """The family that reads again the data reference ``source`` (``Dataset.source``): the
    one it names (``family``), else the one that reads its ``kind``."""
    if source.get("family"):
        return get(source["family"])
    kind = source.get("kind")
    for family in _FAMILIES:
        if kind in family.source_kinds:
            return family
    raise DataError(f"the search's data reference has an unknown kind {kind!r}")


def is_path(data: Any) -> bool:
    """Whether ``data`` names a file or folder (a str or a path object)."""
    return isinstance(data, (str, os.PathLike))
