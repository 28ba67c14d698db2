"""The built-in search spaces' builds, and the :class:`DataSpec` every space is built for.

A data family (:mod:`automl_nb.families`) offers one built-in hypermodel, a ``build(hp,
spec)`` function: :func:`build_mlp` (tabular), :func:`build_sequence` and :func:`build_cnn`
(image) are here with the pieces they share (the input, the head, the common
hyperparameters), for a new family's build to reuse; each family's module holds its
portfolio, the configurations a search tries right after the space's defaults.
:func:`automl_nb.spaces.get_space` wraps a family's build for a data set. Every
hyperparameter is declared at the top of a build, whatever the values, so each space is one
flat, fixed set (simpler for the panel and the Bayesian oracle), and its defaults make a good
first trial.

Importing this module does not import TensorFlow or Keras; the builds import Keras.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import SpaceError

if TYPE_CHECKING:  # pragma: no cover
    import keras

__all__ = ["BAYESIAN_RANDOM_START", "DataSpec", "build_cnn", "build_mlp", "build_sequence",
           "head_and_compile", "hp_batch_size", "hp_dropout", "hp_learning_rate", "space_input"]


@dataclass(frozen=True)
class DataSpec:
    """The few facts about a data set that a search space needs (no arrays, cheap to copy).

    Attributes:
        family: the data family's name ("tabular", "sequence", "image", ...).
        task: "classification" or "regression".
        input_shape: one sample's shape, without the batch dimension.
        n_classes: the number of classes (classification), else None.
        n_outputs: the size of the model's last layer: n_classes, or the number of targets.
        vocabulary, idf: a text family's training tokens and their IDF weights (from its
            preprocessing spec), which its built-in space's ``TextVectorization`` takes; empty
            for other families.
    """

    family: str
    task: str
    input_shape: tuple[int | None, ...]
    n_classes: int | None
    n_outputs: int
    vocabulary: tuple[str, ...] = field(default=(), repr=False, compare=False)
    idf: tuple[float, ...] = field(default=(), repr=False, compare=False)

    @classmethod
    def of(cls, dataset: Any) -> DataSpec:
        """Read the spec from a Dataset (anything with the Dataset attributes) or a DataSpec."""
        if isinstance(dataset, DataSpec):
            return dataset
        task = getattr(dataset, "task", None)
        if task not in ("classification", "regression"):
            raise SpaceError(f"dataset.task must be 'classification' or 'regression'; got {task!r}")
        shape = tuple(None if d is None else int(d) for d in dataset.input_shape)
        text = getattr(dataset, "preprocessing", None) or {}
        if task == "classification":
            n_classes = dataset.n_classes
            if not isinstance(n_classes, numbers.Integral) or n_classes < 2:
                raise SpaceError(
                    f"a classification data set needs n_classes >= 2; got {n_classes!r}"
                )
            n_classes = int(n_classes)
            n_outputs = n_classes
        else:
            n_classes = None
            y = getattr(dataset, "y_train", None)
            ndim = getattr(y, "ndim", 1)
            n_outputs = int(y.shape[-1]) if ndim >= 2 else 1
        return cls(
            family=str(getattr(dataset, "family", "")),
            task=task,
            input_shape=shape,
            n_classes=n_classes,
            n_outputs=n_outputs,
            vocabulary=tuple(text.get("vocabulary") or ()),
            idf=tuple(text.get("idf") or ()),
        )


# --------------------------------------------------------------------------------------------
# what the builds share


def hp_learning_rate(hp: Any, default: float = 1e-3) -> float:
    """Log-uniform over 1e-4..1e-2, a range centred on 1e-3 (Adam's usual rate)."""
    return hp.Float("learning_rate", 1e-4, 1e-2, sampling="log", default=default)


def hp_batch_size(hp: Any, default: int = 32) -> int:
    """Fit's batch size: larger batches run more samples a second on a CPU, smaller ones take
    more steps an epoch (``SpaceHyperModel.fit`` passes it on)."""
    return hp.Choice("batch_size", [16, 32, 64, 128], default=default)


def hp_dropout(hp: Any, default: float) -> float:
    """A dropout rate from 0 to 0.5 by tenths."""
    return hp.Float("dropout", 0.0, 0.5, step=0.1, default=default)


def space_input(spec: DataSpec, rank: int) -> tuple[Any, Any]:
    """A keras.Input for one sample, reshaped (adding a channel axis) to ``rank`` dims."""
    import keras

    inputs = keras.Input(shape=spec.input_shape)
    x = inputs
    shape = spec.input_shape
    if rank == 1 and len(shape) != 1:
        x = keras.layers.Flatten()(x)
    elif len(shape) == rank - 1:
        x = keras.layers.Reshape((*shape, 1))(x)
    elif len(shape) != rank:
        raise SpaceError(
            f"the built-in {spec.family} space needs samples with {rank - 1} or {rank} "
            f"dimensions; got input_shape {shape}"
        )
    return inputs, x


def head_and_compile(inputs: Any, x: Any, spec: DataSpec, optimizer: Any, name: str) -> Any:
    """Add the output layer for the task, build the model and compile it."""
    import keras

    if spec.task == "classification":
        outputs = keras.layers.Dense(spec.n_outputs, activation="softmax", name="output")(x)
        loss, metrics = "sparse_categorical_crossentropy", ["accuracy"]
    else:
        outputs = keras.layers.Dense(spec.n_outputs, name="output")(x)
        loss, metrics = "mse", ["mae"]
    model = keras.Model(inputs, outputs, name=name)
    model.compile(optimizer=optimizer, loss=loss, metrics=metrics)
    return model


def build_mlp(hp: Any, spec: DataSpec) -> keras.Model:
    """Tabular MLP: ``layers`` Dense layers of ``units`` each, ReLU, optional batch norm.

    Hyperparameters: layers, units, dropout, batch_norm, optimizer, learning_rate, batch_size.
    """
    import keras

    # The defaults (the first trial): 2 x 256 units, dropout 0.1, Adam at 2e-3, batches of 64,
    # which scored at least as well and sooner than the former 2 x 64, Adam at 1e-3, batches
    # of 32 on the tables at hand (docs/benchmarks.md, "Figures behind the code").
    layers = hp.Int("layers", 1, 3, default=2)
    units = hp.Int("units", 16, 256, step=2, sampling="log", default=256)
    dropout = hp_dropout(hp, default=0.1)
    batch_norm = hp.Boolean("batch_norm", default=False)
    optimizer = hp.Choice("optimizer", ["adam", "rmsprop", "sgd"], default="adam")
    learning_rate = hp_learning_rate(hp, default=2e-3)
    hp_batch_size(hp, default=64)

    inputs, x = space_input(spec, rank=1)
    for _ in range(layers):
        x = keras.layers.Dense(units, use_bias=not batch_norm)(x)
        if batch_norm:
            x = keras.layers.BatchNormalization()(x)
        x = keras.layers.Activation("relu")(x)
        if dropout > 0:
            x = keras.layers.Dropout(dropout)(x)
    if optimizer == "adam":
        opt = keras.optimizers.Adam(learning_rate=learning_rate)
    elif optimizer == "rmsprop":
        opt = keras.optimizers.RMSprop(learning_rate=learning_rate)
    else:
        opt = keras.optimizers.SGD(learning_rate=learning_rate, momentum=0.9)
    return head_and_compile(inputs, x, spec, opt, "mlp")


def _can_pool(size: int | None) -> bool:
    """Pool (by 2) only while the dimension is at least 4, so it never drops below 2."""
    return size is None or size >= 4


def build_sequence(hp: Any, spec: DataSpec) -> keras.Model:
    """Sequences (time, channels): ``blocks`` Conv1D blocks, then a head.

    Block i is Conv1D(min(filters * 2**i, 128), kernel_size) with ReLU that halves the
    sequence while it is at least 4 steps long: by a max pooling after it (``downsample``
    "pool") or by its stride ("stride"). The head keeps only whether patterns are there
    (``head`` "global_max", "global_avg": pooling over time), or where they are too
    ("flatten": every step's features); ``recurrent`` puts a GRU over the shortened sequence
    instead (a recurrent layer only after the convolutions have cut its steps, where it is
    cheap). ``dense_units`` > 0 adds a hidden Dense layer.

    Hyperparameters: blocks, filters, kernel_size, downsample, head, recurrent, dense_units,
    dropout, learning_rate, batch_size.
    """
    import keras

    blocks = hp.Int("blocks", 1, 4, default=2)
    filters = hp.Int("filters", 16, 128, step=2, sampling="log", default=32)
    kernel_size = hp.Choice("kernel_size", [3, 5, 7], default=5)
    downsample = hp.Choice("downsample", ["pool", "stride"], default="pool")
    head = hp.Choice("head", ["global_max", "global_avg", "flatten"], default="global_max")
    recurrent = hp.Boolean("recurrent", default=False)
    dense_units = hp.Choice("dense_units", [0, 64, 128], default=0)
    dropout = hp_dropout(hp, default=0.1)
    learning_rate = hp_learning_rate(hp, default=2e-3)
    hp_batch_size(hp, default=64)

    inputs, x = space_input(spec, rank=2)
    steps = spec.input_shape[0]
    width = filters
    for i in range(blocks):
        halve = _can_pool(steps)
        stride = 2 if halve and downsample == "stride" else 1
        width = min(filters * 2**i, 128)
        x = keras.layers.Conv1D(
            width, kernel_size, strides=stride, padding="same", activation="relu"
        )(x)
        if halve and downsample == "pool":
            x = keras.layers.MaxPooling1D(2)(x)
        if halve:
            steps = None if steps is None else (steps + 1) // 2
    if recurrent:
        x = keras.layers.GRU(width)(x)
    elif head == "flatten" and steps is not None:
        x = keras.layers.Flatten()(x)
    elif head == "global_avg":
        x = keras.layers.GlobalAveragePooling1D()(x)
    else:
        x = keras.layers.GlobalMaxPooling1D()(x)
    if dropout > 0:
        x = keras.layers.Dropout(dropout)(x)
    if dense_units:
        x = keras.layers.Dense(dense_units, activation="relu")(x)
    opt = keras.optimizers.Adam(learning_rate=learning_rate)
    return head_and_compile(inputs, x, spec, opt, "sequence_net")


def build_cnn(hp: Any, spec: DataSpec) -> keras.Model:
    """Small images (height, width, channels): ``blocks`` conv blocks, then a small dense head.

    Block i is Conv2D(min(filters * 2**i, 64), kernel_size) with ReLU, then a 2x2 pooling
    (``pooling``) only while both sides are at least 4 pixels, so an 8x8 digit is pooled at
    most twice and no side ever drops below 2. The features are flattened when at most 4x4 pixels remain,
    else pooled globally. Optional augmentation (small shifts and zooms, training only) comes
    first; ``dense_units`` = 0 means no hidden dense layer.

    Hyperparameters: blocks, filters, kernel_size, pooling, dense_units, dropout,
    augmentation, learning_rate, batch_size.
    """
    import keras

    blocks = hp.Int("blocks", 1, 3, default=2)
    filters = hp.Int("filters", 8, 64, step=2, sampling="log", default=32)
    kernel_size = hp.Choice("kernel_size", [3, 5], default=3)
    pooling = hp.Choice("pooling", ["max", "avg"], default="max")
    dense_units = hp.Choice("dense_units", [0, 32, 64, 128], default=64)
    dropout = hp_dropout(hp, default=0.2)
    augmentation = hp.Boolean("augmentation", default=False)
    learning_rate = hp_learning_rate(hp, default=2e-3)
    hp_batch_size(hp, default=64)

    inputs, x = space_input(spec, rank=3)
    if augmentation:
        x = keras.layers.RandomTranslation(0.1, 0.1, fill_mode="constant")(x)
        x = keras.layers.RandomZoom(0.1, fill_mode="constant")(x)
    height, width = spec.input_shape[0], spec.input_shape[1]
    pool = keras.layers.MaxPooling2D if pooling == "max" else keras.layers.AveragePooling2D
    for i in range(blocks):
        x = keras.layers.Conv2D(
            min(filters * 2**i, 64), kernel_size, padding="same", activation="relu"
        )(x)
        if _can_pool(height) and _can_pool(width):
            x = pool(2)(x)
            height = None if height is None else height // 2
            width = None if width is None else width // 2
    if height is not None and width is not None and height * width <= 16:
        x = keras.layers.Flatten()(x)
    elif pooling == "max":
        x = keras.layers.GlobalMaxPooling2D()(x)
    else:
        x = keras.layers.GlobalAveragePooling2D()(x)
    if dense_units:
        if dropout > 0:
            x = keras.layers.Dropout(dropout)(x)
        x = keras.layers.Dense(dense_units, activation="relu")(x)
    if dropout > 0:
        x = keras.layers.Dropout(dropout)(x)
    opt = keras.optimizers.Adam(learning_rate=learning_rate)
    return head_and_compile(inputs, x, spec, opt, "cnn")


#: The Bayesian oracle's random start with a built-in space: its Gaussian process proposes every
#: trial once this many have completed (the warm start's and the promotions among them).
#: KerasTuner's default, 3 a hyperparameter (27 for the sequence space), is for long searches:
#: in a search of a few minutes the process would propose none or only the last few trials,
#: while its proposals beat the random ones by far (bench/README.md has the runs).
BAYESIAN_RANDOM_START = 10
