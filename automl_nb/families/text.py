"""The text family: a 1-D array (or a list) of free-text strings with labels, ``(X, y)``.

**Recognised** (:func:`is_free_text`) when the strings are mostly distinct (at least
:data:`MIN_DISTINCT` of them, 50%) and mostly several words long (a median of at least
:data:`MIN_WORDS`, 3 words); a string column of one word a row, or of a few repeated values,
stays a category (the tabular family's). Asked before the tabular family.

**Preprocessing inside the model**: the strings reach the model raw (one string input); the
built-in space's first layer is a Keras ``TextVectorization`` (lowercase, punctuation
stripped, split on whitespace) whose vocabulary and IDF weights were learnt from the
training split only when the data was loaded (:func:`text_vocabulary`, kept in the spec, the
same counts ``TextVectorization.adapt`` makes), so a word seen only in validation rows is not
in it, and the exported ``.keras`` file takes raw strings. An empty string, or one of unseen
words only, is all out-of-vocabulary and still gets a prediction.

**The built-in space** (:func:`build_text`): a bag of n-grams (multi-hot or TF-IDF, of
``vocabulary`` tokens, ``ngrams`` 1 or 2) into a linear or small dense head (the defaults:
the strong fast baseline), or a token embedding averaged over the text's
tokens (padding left out), the second choice the portfolio tries.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

from ..builtin_spaces import DataSpec, hp_batch_size, hp_dropout, hp_learning_rate
from ..data.dataset import Dataset, check_lengths, reject_target
from ..data.labels import (
    encode_labels,
    fit_labels,
    label_kind,
    label_values,
    split_indices,
    target_scaling,
)
from ..errors import DataError
from .base import DataFamily, Example, is_frame_like, refuse_options

#: Text when at least this fraction of the values are distinct ...
MIN_DISTINCT = 0.5
#: ... and their median length in words is at least this.
MIN_WORDS = 3
#: The most tokens (words and word pairs) the spec keeps from the training split.
MAX_VOCABULARY = 20000
#: The longest token sequence the embedding choice reads (longer texts are cut).
SEQUENCE_LENGTH = 128
#: What ``TextVectorization``'s "lower_and_strip_punctuation" strips (Keras' own pattern).
_PUNCTUATION = re.compile(r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']')


def _strings(data: Any) -> np.ndarray | None:
    """``data`` as a 1-D object array of str (None counts as ""), or None if it is not one."""
    if isinstance(data, (str, bytes)) or is_frame_like(data):
        return None
    if isinstance(data, np.ndarray):
        if data.ndim != 1 or data.dtype.kind not in "OU":
            return None
        values = data.tolist()
    elif isinstance(data, (list, tuple)):
        values = list(data)
    else:
        return None
    if not values or not all(v is None or isinstance(v, str) for v in values):
        return None
    return np.array(["" if v is None else v for v in values], dtype=object)


def is_free_text(values: Any) -> bool:
    """Whether ``values`` (strings) read as free text rather than a category: at least
    :data:`MIN_DISTINCT` of them distinct and a median of at least :data:`MIN_WORDS` words."""
    values = list(values)
    if not values:
        return False
    distinct = len(set(values)) / len(values)
    words = float(np.median([len(str(v).split()) for v in values]))
    return distinct >= MIN_DISTINCT and words >= MIN_WORDS


def tokens(text: str) -> list[str]:
    """``TextVectorization``'s words of ``text``: lowercased, punctuation stripped, split."""
    return _PUNCTUATION.sub("", text.lower()).split()


def text_vocabulary(texts: Any, max_tokens: int = MAX_VOCABULARY) -> dict[str, Any]:
    """The training split's tokens (words and word pairs, joined by a space as
    ``TextVectorization`` joins n-grams), most frequent first, and each one's IDF weight
    (``log(1 + documents / (1 + documents with it))``, Keras' formula), at most
    ``max_tokens``; and the mean words a text."""
    counts: Counter[str] = Counter()
    documents: Counter[str] = Counter()
    words = 0
    for text in texts:
        grams = tokens(str(text))
        words += len(grams)
        grams = grams + [f"{a} {b}" for a, b in pairwise(grams)]
        counts.update(grams)
        documents.update(set(grams))
    n = max(1, len(texts))
    vocabulary = [t for t, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:max_tokens]]
    idf = [round(math.log(1 + n / (1 + documents[t])), 6) for t in vocabulary]
    return {"vocabulary": vocabulary, "idf": idf, "mean_words": round(words / n, 2)}


def vocabulary_for(spec: DataSpec, size: int, ngrams: int) -> tuple[list[str], list[float]]:
    """The first ``size`` tokens of the spec's vocabulary with ``ngrams`` 1 (words only) or 2,
    and their IDF weights."""
    pairs = [(t, w) for t, w in zip(spec.vocabulary, spec.idf) if ngrams == 2 or " " not in t]
    pairs = pairs[:size] or [("", 1.0)]
    return [t for t, _ in pairs], [w for _, w in pairs]


def build_text(hp: Any, spec: DataSpec) -> Any:
    """Text: ``TextVectorization`` (the training split's vocabulary) then a bag of n-grams
    (``output_mode`` multi_hot or tf_idf) into a linear head (``units`` 0) or a dense layer of
    ``units``, or (``model`` "embedding") an ``Embedding`` of ``embedding_dim`` averaged over
    the tokens.

    Hyperparameters: model, vocabulary, ngrams, output_mode, units, embedding_dim, dropout,
    learning_rate, batch_size.
    """
    import keras
    from keras import layers, ops

    model = hp.Choice("model", ["bag", "embedding"], default="bag")
    size = hp.Choice("vocabulary", [5000, 10000, 20000], default=20000)
    ngrams = hp.Choice("ngrams", [1, 2], default=2)
    output_mode = hp.Choice("output_mode", ["multi_hot", "tf_idf"], default="tf_idf")
    units = hp.Choice("units", [0, 32, 128], default=0)
    embedding_dim = hp.Choice("embedding_dim", [16, 32, 64], default=32)
    dropout = hp_dropout(hp, default=0.2)
    learning_rate = hp_learning_rate(hp, default=5e-3)
    hp_batch_size(hp, default=32)

    vocabulary, idf = vocabulary_for(spec, size, ngrams)
    inputs = keras.Input(shape=(), dtype="string", name="text")
    if model == "bag":
        kwargs: dict[str, Any] = {"idf_weights": idf} if output_mode == "tf_idf" else {}
        x = layers.TextVectorization(vocabulary=vocabulary, ngrams=ngrams, output_mode=output_mode,
                                     **kwargs)(inputs)
        x = ops.cast(x, "float32")  # multi_hot counts come as integers
    else:
        x = layers.TextVectorization(vocabulary=vocabulary, ngrams=ngrams, output_mode="int",
                                     output_sequence_length=SEQUENCE_LENGTH)(inputs)
        # the mean of the tokens' embeddings, padding left out; an empty text's is zeros
        present = ops.expand_dims(ops.cast(ops.not_equal(x, 0), "float32"), -1)
        embedded = layers.Embedding(len(vocabulary) + 2, embedding_dim)(x)
        x = ops.sum(embedded * present, axis=1) / ops.maximum(ops.sum(present, axis=1), 1.0)
    if dropout > 0:
        x = layers.Dropout(dropout)(x)
    if units:
        x = layers.Dense(units, activation="relu")(x)
        if dropout > 0:
            x = layers.Dropout(dropout)(x)
    if spec.task == "classification":
        outputs = layers.Dense(spec.n_outputs, activation="softmax", name="output")(x)
        loss, metrics = "sparse_categorical_crossentropy", ["accuracy"]
    else:
        outputs = layers.Dense(spec.n_outputs, name="output")(x)
        loss, metrics = "mse", ["mae"]
    net = keras.Model(inputs, outputs, name=f"text_{model}")
    net.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate), loss=loss,
                metrics=metrics)
    return net


class TextFamily(DataFamily):
    """Free text: one string a sample."""

    name = "text"
    portfolio = (
        # the second choice, a token embedding averaged over the text, then a dense head on
        # multi-hot n-grams (not yet measured on the bench: issue 31, item 6)
        ("embedding", {"model": "embedding", "ngrams": 1, "learning_rate": 1e-2}),
        ("dense-head", {"units": 32, "output_mode": "multi_hot"}),
    )

    def recognise(self, data: Any, target: Any = None, **options: Any) -> bool:
        if not isinstance(data, (tuple, list)) or len(data) != 2:
            return False
        values = _strings(data[0])
        return values is not None and is_free_text(values)

    def load(self, data: Any, *, target: Any, validation: Any, seed: int | None,
             validation_split: float, task: str | None, **options: Any) -> Dataset:
        refuse_options(options, f"{self.name} data")
        reject_target(target, "texts (X, y)")
        x = _strings(data[0])
        if x is None:
            raise DataError("data must be (texts, labels): a 1-D array or list of strings")
        y_values = label_values(data[1], "data", "y")
        check_lengths(len(x), len(y_values), "data")
        labels = fit_labels(y_values, label_kind(y_values, "y"), "y", task)
        if validation is None:
            train, val = split_indices(len(x), labels.codes, seed, validation_split)
            x_train, x_val = x[train], x[val]
            y_train, y_val = labels.values[train], labels.values[val]
        else:
            if not (isinstance(validation, (tuple, list)) and len(validation) == 2):
                raise DataError("validation must be a pair (texts, labels) when data is (texts, y)")
            x_val = _strings(validation[0])
            if x_val is None:
                raise DataError("validation's texts must be a 1-D array or list of strings")
            val_values = label_values(validation[1], "validation", "y_val")
            check_lengths(len(x_val), len(val_values), "validation")
            x_train, y_train = x, labels.values
            y_val = encode_labels(val_values, labels, "y_val", "y")
        spec = self.spec(x_train)
        if labels.task == "regression":
            spec["target"] = target_scaling(y_train)
        return Dataset(
            name="texts", family=self.name, task=labels.task,
            x_train=x_train, y_train=y_train, x_val=x_val, y_val=y_val,
            class_names=labels.class_names, feature_names=None,
            preprocessing=spec, label_dtype=labels.label_dtype, task_reason=labels.reason,
        )

    @staticmethod
    def spec(x_train: np.ndarray) -> dict[str, Any]:
        """The preprocessing spec: raw strings in, the training split's vocabulary."""
        return {"inputs": "text", "shape": [], "features_shape": [], "dtype": "string",
                **text_vocabulary(x_train)}

    def describe(self, dataset: Dataset) -> str:
        spec = dataset.preprocessing
        return (f"text: 1 column, mean {spec['mean_words']:g} words; "
                f"vocabulary {len(spec['vocabulary']):,}")

    def input_layers(self, spec: dict[str, Any]) -> tuple[Any, Any]:
        import keras

        raw = keras.Input(shape=(), dtype="string", name="text")
        return raw, raw

    def export_inputs(self, spec: dict[str, Any]) -> dict[str, Any]:
        return {"kind": "text"}

    def predictor_inputs(self, inputs: dict[str, Any], data: Any) -> Any:
        if isinstance(data, str):
            data = [data]
        values = _strings(data)
        if values is None:
            raise ValueError("data must be a list (or 1-D array) of strings, one a sample; got "
                             f"{type(data).__name__}")
        return values

    def accepts(self, inputs: dict[str, Any]) -> str:
        return "lists of strings"

    build_space = staticmethod(build_text)

    def examples(self, directory: Path) -> list[Example]:
        rng = np.random.default_rng(0)
        words = ["good", "bad", "film", "plot", "actor", "great", "dull", "scene", "music", "long"]
        texts = [" ".join(rng.choice(words, rng.integers(3, 9))) + f", take {i}." for i in range(30)]
        labels = np.array(["pos" if "good" in t else "neg" for t in texts])
        return [Example((texts, labels), ["a good film", "", "zzz unseen"], 3),
                Example((np.array(texts, dtype=object), rng.normal(size=30)), texts[:2], 2)]


FAMILY = TextFamily()
