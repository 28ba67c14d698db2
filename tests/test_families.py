"""The data family registry: every registered family passes one conformance test, and a new
family is one module registered from outside the package, searched like a built-in one."""

from __future__ import annotations

import importlib.util
import json
import sys
import textwrap

import numpy as np
import pytest

from automl_nb import SearchState, families
from automl_nb.data import Dataset, load_data
from automl_nb.data.dataset import n_samples
from automl_nb.data.images import ImageFiles
from automl_nb.events import TrialStarted
from automl_nb.predictor import Predictor
from automl_nb.settings import Settings
from automl_nb.store import Store, dataset_meta

FAMILIES = [f.name for f in families.registered()]


def structure(x):
    """What the model's inputs look like, without their values: the columns and their kinds,
    or one sample's shape and the dtype's kind."""
    if isinstance(x, dict):
        return {k: np.asarray(v).dtype.kind for k, v in x.items()}
    if isinstance(x, ImageFiles):
        return (tuple(x.shape), "u")
    return (tuple(x.shape[1:]), x.dtype.kind)


def same_inputs(a, b):
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            np.testing.assert_array_equal(np.asarray(a[k]), np.asarray(b[k]))
    elif isinstance(a, ImageFiles):
        assert a.paths == b.paths and np.array_equal(a.codes, b.codes)
    else:
        np.testing.assert_array_equal(a, b)


def check_family(family, directory):
    """The conformance of one family (no TensorFlow): recognise, load, describe, store and read
    back, export's inputs, and the predictor's input from raw rows, for each of its examples."""
    examples = family.examples(directory)
    assert examples, f"{family.name} gives no example to check"
    for i, example in enumerate(examples):
        what = f"{family.name} example {i}"
        assert family.recognise(example.data, example.kwargs.get("target")), what
        assert families.recognise(example.data, example.kwargs.get("target")) is family, what
        ds = load_data(example.data, seed=0, **example.kwargs)
        assert isinstance(ds, Dataset) and ds.family == family.name, what
        assert ds.preprocessing["family"] == family.name
        json.dumps(ds.preprocessing), json.dumps(ds.summary())
        line = family.describe(ds)
        assert isinstance(line, str) and line and "\n" not in line, what
        assert families.describe(ds)["description"] == line

        # the search directory: settings and data written, then read back the same
        store = Store(directory / f"search-{family.name}-{i}")
        settings = Settings(name=family.name, data=families.describe(ds), oracle="random",
                            objective="val_loss", direction="min", dataset=dataset_meta(ds))
        store.create(Settings.from_dict(json.loads(json.dumps(settings.to_dict()))), ds)
        again = store.read_data(store.read_settings())
        assert again is not None and again.family == family.name, what
        for part in ("x_train", "x_val", "y_train", "y_val"):
            same_inputs(getattr(again, part), getattr(ds, part))
        assert again.preprocessing == ds.preprocessing

        # the exported model's predictor: raw rows become what the model trained on
        inputs = json.loads(json.dumps(family.export_inputs(ds.preprocessing)))
        x = family.predictor_inputs(inputs, example.rows)
        assert n_samples(x) == example.n, what
        assert structure(x) == structure(ds.x_val), what
        predictor = Predictor(directory / "model.keras", {"family": family.name, "inputs": inputs})
        assert predictor.family is family and family.accepts(inputs) in repr(predictor)
    return examples


@pytest.mark.parametrize("name", FAMILIES)
def test_every_registered_family_conforms(name, tmp_path):
    check_family(families.get(name), tmp_path)


def test_the_registry_asks_in_order_and_refuses_twins():
    assert FAMILIES[:4] == ["text", "tabular", "image", "sequence"]
    table = {"kind": "columns", "columns": [{"name": "a", "input": "a", "kind": "numeric"}]}
    assert families.get("tabular").accepts(table) == "rows of a table"
    assert families.get("image").accepts({"kind": "array", "shape": [4, 4, 3], "dtype": "uint8"}) == (
        "arrays or image files")
    assert families.get("sequence").accepts({"kind": "array", "shape": [9, 1], "dtype": "float32"}) == "arrays"
    with pytest.raises(ValueError, match="registered already"):
        families.register(families.get("tabular"))
    with pytest.raises(KeyError, match="no data family named 'audio'"):
        families.get("audio")
    assert families.recognise(42) is None


def test_a_familys_own_options_reach_it_and_the_others_refuse_them():
    from automl_nb.errors import DataError

    x, y = np.zeros((10, 3)), np.arange(10) % 2
    for data in ((x, y), "iris"):
        with pytest.raises(DataError, match="text_columns does not apply to") as err:
            load_data(data, text_columns=["a"])
        assert err.value.argument == "text_columns"


@pytest.mark.parametrize("name", FAMILIES)
def test_every_family_builds_its_layers_fit_data_and_space(name, tmp_path):
    import keras
    import keras_tuner

    from automl_nb.data.layers import compose, fit_data
    from automl_nb.spaces import get_space

    family = families.get(name)
    for example in family.examples(tmp_path):
        ds = load_data(example.data, seed=0, **example.kwargs)
        inputs, features = family.input_layers(ds.preprocessing)
        x = family.model_inputs(family.predictor_inputs(family.export_inputs(ds.preprocessing),
                                                        example.rows))
        out = keras.Model(inputs, features).predict(x, verbose=0)
        assert out.shape == (example.n, *ds.input_shape)
        args, kwargs = fit_data(ds, 8, 0)
        assert len(args) == 1 or len(args[1]) == len(ds.y_train)
        assert "validation_data" in kwargs
        model = compose(get_space(None, ds).build(keras_tuner.HyperParameters()), ds.preprocessing)
        assert model.predict(x, verbose=0).shape[0] == example.n


TOY = '''
"""A toy data family for a test: points in the plane, given as a dict."""

import numpy as np

from automl_nb.data.arrays import array_spec
from automl_nb.data.dataset import Dataset
from automl_nb.data.labels import split_indices
from automl_nb.families.base import (
    DataFamily, Example, array_export_inputs, array_inputs)


class PointsFamily(DataFamily):
    name = "points"
    portfolio = (("wide", {"units": 256}),)

    def recognise(self, data, target=None, **options):
        return isinstance(data, dict) and set(data) == {"points", "labels"}

    def load(self, data, *, target, validation, seed, validation_split, task, **options):
        x = np.asarray(data["points"], dtype=np.float32)
        y = np.asarray(data["labels"], dtype=np.int64)
        train, val = split_indices(len(x), y, seed, validation_split)
        return Dataset(
            name="points", family=self.name, task="classification",
            x_train=x[train], y_train=y[train], x_val=x[val], y_val=y[val],
            class_names=["left", "right"], feature_names=["x", "y"],
            preprocessing=array_spec(x[train]), label_dtype="str")

    def describe(self, dataset):
        return f"{len(dataset.y_train) + len(dataset.y_val)} points in the plane"

    def export_inputs(self, spec):
        return array_export_inputs(spec)

    def predictor_inputs(self, inputs, data):
        return array_inputs(inputs, data)

    def examples(self, directory):
        rng = np.random.default_rng(0)
        points = rng.normal(size=(40, 2))
        return [Example({"points": points, "labels": (points[:, 0] > 0).astype(int)},
                        points[:3], 3)]


FAMILY = PointsFamily()
'''


@pytest.fixture
def toy_family(tmp_path):
    """The toy family's module written to tmp_path, imported and registered; unregistered after."""
    path = tmp_path / "toy_points_family.py"
    path.write_text(textwrap.dedent(TOY))
    spec = importlib.util.spec_from_file_location("toy_points_family", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    family = families.register(module.FAMILY)
    yield family
    families.unregister(family.name)
    sys.modules.pop(spec.name, None)


def test_a_new_family_is_one_module_and_one_registration(toy_family, tmp_path, searches):
    from automl_nb.panel._data import data_text
    from automl_nb.testing import ScriptedTrainer, scripted_search

    assert toy_family in families.registered() and not toy_family.has_space
    (example,) = check_family(toy_family, tmp_path)

    trainer = ScriptedTrainer(portfolio=list(toy_family.portfolio))
    s = scripted_search(trainer, directory=tmp_path / "search", trials=3, epochs=1,
                        warm_start=True, data=example.data)
    searches.append(s)
    assert s.wait(20) is SearchState.DONE
    assert s.dataset.family == "points"
    data = s.settings.data
    assert data["family"] == "points" and data["description"] == "40 points in the plane"
    assert "40 points in the plane" in data_text(data)
    started = [e for e in s.events() if isinstance(e, TrialStarted)]
    assert [t.info.get("portfolio") for t in started[:2]] == ["defaults", "wide"]
    assert len(s.results) == 3

    store = Store(tmp_path / "search")
    again = store.read_data(store.read_settings())
    assert again.family == "points"
    np.testing.assert_array_equal(again.x_train, s.dataset.x_train)

    families.unregister("points")  # the directory outlives the family: shown, without its data
    try:
        assert store.read_data(store.read_settings()) is None
    finally:
        families.register(toy_family)


def test_text_inputs_are_kept_without_pickle_and_reach_keras_as_strings(tmp_path):
    """What a family of strings (text) inherits: a 1-D array of str objects is written to
    data.npz as fixed-width strings, read back as str objects, and given to Keras as a string
    tensor."""
    family = families.get("sequence")  # any family: these are the protocol's defaults
    texts = np.array(["a short message", "", "ünïcode too"], dtype=object)
    saved = family.saved_inputs(texts, "x_train")
    assert saved["x_train"].dtype.kind == "U"
    path = tmp_path / "texts.npz"
    np.savez(path, **saved)
    with np.load(path, allow_pickle=False) as arrays:
        back = family.restored_inputs(arrays, {"inputs": "array"}, "x_train")
    assert back.dtype == object and back.tolist() == texts.tolist()
    tensor = family.model_inputs(back)
    assert tensor.dtype.name == "string" and [t.decode() for t in tensor.numpy()] == texts.tolist()
