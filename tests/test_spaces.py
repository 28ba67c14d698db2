"""Tests of automl_nb.spaces: built-in spaces, the build(hp) wrapper, describe and check."""

from __future__ import annotations

import copy
import json
import pickle
import subprocess
import sys
import types

import keras
import keras_tuner as kt
import numpy as np
import pytest

from automl_nb.spaces import (
    DataSpec,
    SpaceError,
    check_model,
    check_values,
    describe_space,
    get_space,
    hp_spec,
    space_hyperparameters,
)


def make_dataset(family, input_shape, n_classes=None, n=32, seed=0, y_dim=None):
    """A stand-in for automl_nb.data.Dataset with tiny random data."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, *input_shape), dtype=np.float32)
    if n_classes:
        y = rng.integers(0, n_classes, size=n)
        task = "classification"
    else:
        y = rng.normal(size=(n,) if y_dim is None else (n, y_dim)).astype(np.float32)
        task = "regression"
    return types.SimpleNamespace(
        family=family,
        task=task,
        input_shape=tuple(input_shape),
        n_classes=n_classes,
        x_train=x,
        y_train=y,
    )


DATASETS = {
    "digits": make_dataset("image", (8, 8, 1), 10),
    "mnist": make_dataset("image", (28, 28, 1), 10),
    "tabular": make_dataset("tabular", (13,), 3),
    "binary": make_dataset("tabular", (4,), 2),
    "regression": make_dataset("tabular", (5,)),
    "sequence": make_dataset("sequence", (20, 3), 4),
    "sequence_reg": make_dataset("sequence", (20, 3)),
}

NAMES = {
    "tabular": ["layers", "units", "dropout", "batch_norm", "optimizer", "learning_rate",
                "batch_size"],
    "sequence": ["blocks", "filters", "kernel_size", "downsample", "head", "recurrent",
                 "dense_units", "dropout", "learning_rate", "batch_size"],
    "image": ["blocks", "filters", "kernel_size", "pooling", "dense_units", "dropout",
              "augmentation", "learning_rate", "batch_size"],
}
#: The defaults' learning rate and batch size, a family (chosen with bench/quality.py).
RATE_AND_BATCH = {"tabular": (2e-3, 64), "sequence": (2e-3, 64), "image": (2e-3, 64)}


@pytest.fixture(autouse=True)
def _clear_session():
    yield
    keras.backend.clear_session(free_memory=False)  # names reset; no gc.collect() (0.5-1.8 s a test)


def expected_outputs(ds):
    return ds.n_classes if ds.task == "classification" else 1


def build_with(hypermodel, values):
    """Build the space with ``values``, defaults for the rest (filled by check_values)."""
    space = space_hyperparameters(hypermodel)
    hp = space.copy()
    hp.values = check_values(space, values)
    return hypermodel.build(hp)


# --------------------------------------------------------------------------------------------
# Built-in spaces


@pytest.mark.parametrize("key", sorted(DATASETS))
def test_builtin_space_builds_with_defaults(key):
    ds = DATASETS[key]
    hm = get_space(None, ds)
    assert isinstance(hm, kt.HyperModel)
    assert hm.builtin
    hp = kt.HyperParameters()
    model = hm.build(hp)
    assert [h.name for h in hp.space] == NAMES[ds.family]
    assert tuple(model.inputs[0].shape) == (None, *ds.input_shape)
    assert tuple(model.outputs[0].shape) == (None, expected_outputs(ds))
    assert model.compiled
    rate, batch = RATE_AND_BATCH[ds.family]
    assert model.optimizer.learning_rate.numpy() == pytest.approx(rate)
    assert hp.values["batch_size"] == batch
    # Small enough for a laptop CPU.
    assert model.count_params() < 200_000


@pytest.mark.parametrize("key", sorted(DATASETS))
def test_builtin_space_builds_with_random_samples(key):
    ds = DATASETS[key]
    hm = get_space(None, ds)
    space = space_hyperparameters(hm)
    for trial in range(5):
        values = {h.name: h.random_sample(1000 * trial + i) for i, h in enumerate(space.space)}
        hp = space.copy()
        hp.values = values
        model = hm.build(hp)
        assert tuple(model.outputs[0].shape) == (None, expected_outputs(ds)), values


@pytest.mark.parametrize("key", ["digits", "mnist", "sequence"])
def test_largest_settings_never_pool_below_two(key):
    ds = DATASETS[key]
    hm = get_space(None, ds)
    biggest = {"blocks": 4 if key == "sequence" else 3, "filters": 64, "kernel_size": 5,
               "dense_units": 128}
    values = {k: v for k, v in biggest.items() if k in NAMES[ds.family]}
    variants = ({"pooling": "max"}, {"pooling": "avg"}) if key != "sequence" else (
        {"downsample": "pool"}, {"downsample": "stride", "head": "flatten"})
    for variant in variants:
        model = build_with(hm, {**values, **variant})
        pools = [
            layer
            for layer in model.layers
            if "Pooling" in type(layer).__name__ and "Global" not in type(layer).__name__
        ]
        for layer in pools:
            spatial = layer.output.shape[1:-1]
            assert all(d >= 2 for d in spatial), (layer.name, spatial)
        assert model.count_params() < 300_000
    if key == "digits":  # 8 -> 4 -> 2, and the third block is not pooled
        assert len(pools) == 2


def test_sequence_gru_and_tabular_options_build():
    ds = DATASETS["sequence"]
    model = build_with(get_space(None, ds), {"recurrent": True, "blocks": 2, "filters": 16})
    assert any(isinstance(layer, keras.layers.GRU) for layer in model.layers)
    # the GRU reads the sequence the convolutions have shortened: 20 -> 10 -> 5 steps
    gru = next(layer for layer in model.layers if isinstance(layer, keras.layers.GRU))
    assert gru.input.shape[1] == 5
    flat = build_with(get_space(None, ds), {"head": "flatten", "downsample": "stride"})
    assert any(isinstance(layer, keras.layers.Flatten) for layer in flat.layers)
    tab = get_space(None, DATASETS["tabular"])
    for optimizer in ("adam", "rmsprop", "sgd"):
        model = build_with(tab, {"optimizer": optimizer, "batch_norm": True, "layers": 3})
        assert type(model.optimizer).__name__.lower() == optimizer
        assert sum(isinstance(la, keras.layers.BatchNormalization) for la in model.layers) == 3


@pytest.mark.parametrize(
    ("key", "values"),
    [
        ("digits", {"augmentation": True}),
        ("tabular", {}),
        ("regression", {}),
        ("sequence", {}),
        ("sequence_reg", {"recurrent": True, "blocks": 1}),
    ],
)
def test_one_quick_fit_per_family(key, values):
    ds = DATASETS[key]
    model = build_with(get_space(None, ds), values)
    history = model.fit(ds.x_train, ds.y_train, epochs=1, batch_size=16, verbose=0)
    metric = "accuracy" if ds.task == "classification" else "mae"
    assert set(history.history) == {"loss", metric}
    assert np.isfinite(history.history["loss"][0])


def test_multi_target_regression_and_2d_images():
    ds = make_dataset("tabular", (6,), y_dim=3)
    assert DataSpec.of(ds).n_outputs == 3
    model = get_space(None, ds).build(kt.HyperParameters())
    assert tuple(model.outputs[0].shape) == (None, 3)
    keras.backend.clear_session()
    gray = make_dataset("image", (8, 8), 10)  # no channel axis: one is added
    model = get_space(None, gray).build(kt.HyperParameters())
    assert tuple(model.outputs[0].shape) == (None, 10)


def test_builtin_hypermodel_copies_and_pickles():
    hm = get_space(None, DATASETS["tabular"])
    for clone in (copy.deepcopy(hm), pickle.loads(pickle.dumps(hm))):
        assert type(clone).__name__ == "SpaceHyperModel"
        model = clone.build(kt.HyperParameters())
        assert tuple(model.outputs[0].shape) == (None, 3)


# --------------------------------------------------------------------------------------------
# get_space and the user's build(hp)


def test_get_space_passes_a_hypermodel_through():
    class Mine(kt.HyperModel):
        def build(self, hp):
            raise NotImplementedError

    mine = Mine()
    assert get_space(mine, DATASETS["tabular"]) is mine
    with pytest.raises(SpaceError, match=r"HyperModel class Mine; pass an instance: Mine\(...\)"):
        get_space(Mine, DATASETS["tabular"])


def test_get_space_rejects_other_things():
    with pytest.raises(SpaceError) as err:
        get_space(42, DATASETS["tabular"])
    assert str(err.value) == (
        "space must be a build(hp) function returning a compiled Keras model, a "
        "keras_tuner.HyperModel, or None for the built-in space; got 42 (int)"
    )
    with pytest.raises(SpaceError, match=r"got 'mlp' \(str\)"):
        get_space("mlp", DATASETS["tabular"])
    audio = types.SimpleNamespace(**{**vars(DATASETS["tabular"]), "family": "audio"})
    with pytest.raises(SpaceError, match="no built-in space for dataset.family 'audio'"):
        get_space(None, audio)
    bad_task = types.SimpleNamespace(**{**vars(DATASETS["tabular"]), "task": "ranking"})
    with pytest.raises(SpaceError, match="dataset.task must be"):
        get_space(None, bad_task)


def user_build(n_out=3, compile_it=True, shape=(13,)):
    def build(hp):
        inputs = keras.Input(shape=shape)
        x = keras.layers.Dense(hp.Int("units", 4, 32, default=8), activation="relu")(inputs)
        outputs = keras.layers.Dense(n_out, activation="softmax")(x)
        model = keras.Model(inputs, outputs)
        if compile_it:
            model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        return model

    return build


def test_user_build_is_wrapped_and_checked():
    hm = get_space(user_build(), DATASETS["tabular"])
    assert isinstance(hm, kt.HyperModel) and not hm.builtin
    assert hm.name == "build"
    hp = kt.HyperParameters()
    assert tuple(hm.build(hp).outputs[0].shape) == (None, 3)
    assert hp.values == {"units": 8}


def test_user_build_exceptions_pass_through():
    def build(hp):
        hp.Int("units", 1, 4)
        raise ZeroDivisionError("boom")

    with pytest.raises(ZeroDivisionError, match="boom"):
        get_space(build, DATASETS["tabular"]).build(kt.HyperParameters())


def test_user_build_must_return_a_model():
    hm = get_space(lambda hp: 42, DATASETS["tabular"])
    with pytest.raises(
        SpaceError, match=r"^build\(hp\) must return a compiled keras.Model; it returned int$"
    ):
        hm.build(kt.HyperParameters())


def test_user_build_must_compile():
    hm = get_space(user_build(compile_it=False), DATASETS["tabular"])
    with pytest.raises(
        SpaceError,
        match=r"not compiled; call model.compile\(optimizer=..., loss=..., metrics=\[...\]\)",
    ):
        hm.build(kt.HyperParameters())


def test_user_build_output_size_is_checked():
    hm = get_space(user_build(n_out=10), DATASETS["tabular"])
    with pytest.raises(SpaceError, match=r"model with 10 outputs, but the data has 3 classes"):
        hm.build(kt.HyperParameters())
    reg = get_space(user_build(n_out=3, shape=(5,)), DATASETS["regression"])
    with pytest.raises(SpaceError, match=r"3 outputs, but the regression target has 1"):
        reg.build(kt.HyperParameters())


def test_user_build_input_shape_is_checked():
    hm = get_space(user_build(shape=(12,)), DATASETS["tabular"])
    with pytest.raises(SpaceError, match=r"input shape is \(12,\) but one sample .* \(13,\)"):
        hm.build(kt.HyperParameters())


def test_check_model_accepts_sigmoid_binary_and_unbuilt_models():
    binary = DATASETS["binary"]
    inputs = keras.Input(shape=(4,))
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(inputs))
    model.compile(optimizer="adam", loss="binary_crossentropy")
    check_model(model, binary)
    seq = keras.Sequential([keras.layers.Dense(2)])  # shapes unknown until called
    seq.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    check_model(seq, binary)


# --------------------------------------------------------------------------------------------
# describe_space and hp_spec


def test_describe_space_tabular():
    specs = describe_space(get_space(None, DATASETS["tabular"]))
    json.dumps(specs)
    by_name = {s["name"]: s for s in specs}
    assert [s["name"] for s in specs] == NAMES["tabular"]
    assert by_name["learning_rate"] == {
        "name": "learning_rate",
        "kind": "float",
        "default": 2e-3,
        "min": 1e-4,
        "max": 1e-2,
        "step": None,
        "sampling": "log",
        "values": None,
        "ordered": None,
        "conditions": [],
    }
    units = by_name["units"]
    assert (units["kind"], units["min"], units["max"], units["step"], units["sampling"]) == (
        "int",
        16,
        256,
        2,
        "log",
    )
    assert units["default"] == 256
    assert by_name["layers"]["sampling"] == "linear"
    assert by_name["optimizer"]["kind"] == "choice"
    assert by_name["optimizer"]["values"] == ["adam", "rmsprop", "sgd"]
    assert by_name["optimizer"]["default"] == "adam"
    assert by_name["batch_norm"]["kind"] == "boolean"
    assert by_name["batch_norm"]["values"] == [False, True]
    assert by_name["dropout"]["step"] == pytest.approx(0.1)


@pytest.mark.parametrize("family", ["image", "sequence"])
def test_describe_space_other_families(family):
    ds = DATASETS["digits" if family == "image" else "sequence"]
    specs = describe_space(get_space(None, ds))
    json.dumps(specs)
    assert [s["name"] for s in specs] == NAMES[family]
    assert all(s["default"] is not None for s in specs)


def test_hp_spec_fixed_and_conditions():
    hp = kt.HyperParameters()
    hp.Fixed("epochs", 3)
    hp.Choice("model", ["a", "b"])
    with hp.conditional_scope("model", ["b"]):
        hp.Int("depth", 1, 4)
    fixed, _, depth = (hp_spec(h) for h in hp.space)
    assert fixed["kind"] == "fixed" and fixed["values"] == [3] and fixed["default"] == 3
    assert depth["conditions"] == [{"name": "model", "values": ["b"]}]
    json.dumps([fixed, depth])


# --------------------------------------------------------------------------------------------
# check_values


@pytest.fixture(scope="module")
def tab_hps():
    hps = space_hyperparameters(get_space(None, DATASETS["tabular"]))
    keras.backend.clear_session()
    return hps


def test_check_values_fills_defaults(tab_hps):
    assert check_values(tab_hps, {}) == {
        "layers": 2,
        "units": 256,
        "dropout": 0.1,
        "batch_norm": False,
        "optimizer": "adam",
        "learning_rate": 2e-3,
        "batch_size": 64,
    }
    got = check_values(tab_hps, {"units": 128.0, "learning_rate": 1e-2, "optimizer": "sgd"})
    assert got["units"] == 128 and type(got["units"]) is int
    assert got["learning_rate"] == 1e-2
    assert got["optimizer"] == "sgd"
    assert list(got) == list(check_values(tab_hps, {}))  # the space's order


def test_check_values_casts(tab_hps):
    got = check_values(tab_hps, {"layers": np.int64(3), "dropout": 0, "batch_norm": np.bool_(True)})
    assert got["layers"] == 3 and type(got["layers"]) is int
    assert got["dropout"] == 0.0 and type(got["dropout"]) is float
    assert got["batch_norm"] is True
    assert check_values(tab_hps, {"learning_rate": 0.005})["learning_rate"] == 0.005


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"lr": 0.01},
            (
                r"^unknown hyperparameter 'lr'; the space has: layers, units, dropout, "
                r"batch_norm, optimizer, learning_rate, batch_size$"
            ),
        ),
        ({"learning_rat": 0.01}, r"; did you mean 'learning_rate'\?$"),
        ({"learning_rate": 1}, r"'learning_rate' must be between 0.0001 and 0.01; got 1.0"),
        ({"units": 1000}, r"'units' must be between 16 and 256; got 1000"),
        ({"units": 64.5}, r"'units' takes a whole number; got 64.5 \(float\)"),
        ({"units": True}, r"'units' takes a number; got True \(bool\)"),
        ({"learning_rate": "1e-3"}, r"'learning_rate' takes a number; got '1e-3' \(str\)"),
        ({"learning_rate": float("nan")}, r"'learning_rate' takes a finite number"),
        ({"optimizer": "adamw"}, r"'optimizer' must be one of 'adam', 'rmsprop', 'sgd'; got"),
        ({"batch_norm": 1}, r"'batch_norm' is True or False; got 1 \(int\)"),
    ],
)
def test_check_values_errors(tab_hps, values, message):
    with pytest.raises(SpaceError, match=message):
        check_values(tab_hps, values)


def test_check_values_choices_of_numbers_and_fixed():
    hp = kt.HyperParameters()
    hp.Choice("dense_units", [0, 32, 64], default=32)
    hp.Choice("rate", [0.5, 1.0])
    hp.Fixed("epochs", 3)
    got = check_values(hp, {"dense_units": 64.0, "rate": 1, "epochs": 3})
    assert got == {"dense_units": 64, "rate": 1.0, "epochs": 3}
    assert type(got["dense_units"]) is int
    with pytest.raises(SpaceError, match=r"'dense_units' must be one of 0, 32, 64; got True"):
        check_values(hp, {"dense_units": True})
    with pytest.raises(SpaceError, match=r"'epochs' is fixed at 3; got 4 \(int\)"):
        check_values(hp, {"epochs": 4})
    with pytest.raises(SpaceError, match="must be a dict of name -> value"):
        check_values(hp, [("epochs", 3)])


def test_check_values_conditional_spaces_keep_active_only():
    hp = kt.HyperParameters()
    hp.Choice("model", ["mlp", "cnn"])
    with hp.conditional_scope("model", ["cnn"]):
        hp.Int("filters", 8, 64, default=16)
    assert check_values(hp, {}) == {"model": "mlp"}
    assert check_values(hp, {"model": "cnn"}) == {"model": "cnn", "filters": 16}
    with pytest.raises(SpaceError, match=r"'filters' is not used with these values"):
        check_values(hp, {"filters": 32})


# --------------------------------------------------------------------------------------------
# Import cost


def test_importing_spaces_and_oracles_does_not_import_tensorflow():
    code = (
        "import sys, automl_nb.spaces, automl_nb.oracles\n"
        "heavy = [m for m in ('tensorflow', 'keras', 'keras_tuner') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_the_spaces_batch_size_reaches_fit_unless_the_search_fixes_one(monkeypatch):
    ds = DATASETS["tabular"]
    hm = get_space(None, ds)
    space = space_hyperparameters(hm)
    hp = space.copy()
    hp.values = check_values(space, {"batch_size": 16})
    model = hm.build(hp)
    seen = []
    monkeypatch.setattr(type(model), "fit", lambda self, *a, **k: seen.append(k.get("batch_size")))
    hm.fit(hp, model, ds.x_train, ds.y_train, batch_size=None)
    hm.fit(hp, model, ds.x_train, ds.y_train, batch_size=8)
    assert seen == [16, 8]
