"""The preprocessing spec as Keras layers: exact, inside the model, and saved with it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from automl_nb.data import load_data
from automl_nb.data.labels import unscale_target
from automl_nb.data.layers import (
    MIN_STEPS,
    compose,
    epoch_passes,
    fit_data,
    input_layers,
    model_inputs,
    repeat_rows,
    target_inverse,
    train_rows,
)

keras = pytest.importorskip("keras")


def features_of(spec, x):
    """What the space's model receives for raw ``x``."""
    inputs, features = input_layers(spec)
    return np.asarray(keras.Model(inputs, features).predict(model_inputs(x), verbose=0))


def test_arrays_are_standardised_with_the_training_statistics():
    rng = np.random.default_rng(0)
    x = rng.normal([3.0, -200.0, 0.0], [1.0, 50.0, 1e-3], size=(60, 3))
    ds = load_data((x, [0, 1] * 30), seed=0)
    got = features_of(ds.preprocessing, ds.x_val)
    mean, std = ds.x_train.mean(axis=0), ds.x_train.std(axis=0)
    np.testing.assert_allclose(got, (ds.x_val - mean) / std, rtol=1e-4, atol=1e-4)


def test_uint8_images_are_rescaled_and_gain_their_channel_inside_the_model():
    x = np.random.default_rng(1).integers(0, 256, (20, 5, 4), dtype=np.uint8)
    ds = load_data((x, [0, 1] * 10))
    inputs, _ = input_layers(ds.preprocessing)
    assert inputs.dtype == "uint8" and tuple(inputs.shape) == (None, 5, 4)
    got = features_of(ds.preprocessing, ds.x_val)
    np.testing.assert_allclose(got, ds.x_val[..., None] / 255.0, atol=1e-6)


def test_sequences_are_standardised_per_channel():
    x = np.random.default_rng(2).normal([1.0, 10.0], [2.0, 5.0], size=(40, 7, 2))
    ds = load_data((x, [0, 1] * 20))
    rows = ds.x_train.reshape(-1, 2)
    got = features_of(ds.preprocessing, ds.x_val)
    np.testing.assert_allclose(got, (ds.x_val - rows.mean(axis=0)) / rows.std(axis=0), rtol=1e-4,
                               atol=1e-4)


def test_a_dataframe_missing_values_and_unseen_text_are_handled_in_the_graph():
    rng = np.random.default_rng(0)
    n = 40
    frame = pd.DataFrame({
        "age": np.where(np.arange(n) % 7 == 0, np.nan, rng.normal(40, 10, n)),
        "color": np.array(["red", "blue", None], dtype=object)[np.arange(n) % 3],
        "member": (np.arange(n) % 2).astype(bool),
        "label": ["yes", "no"] * 20,
    })
    ds = load_data(frame, target="label", seed=0)
    spec, names = ds.preprocessing, ds.feature_names
    age = spec["columns"][0]
    raw = pd.DataFrame({"member": [True, False], "color": ["purple", None], "age": [None, 50.0]})
    got = features_of(spec, load_rows(spec, raw))
    assert got.shape == (2, len(names))
    assert got[0, names.index("age")] == pytest.approx(0.0, abs=1e-6)  # the median, centred
    assert got[0, names.index("age=missing")] == 1.0 and got[1, names.index("age=missing")] == 0.0
    z = (50.0 - age["center"]) / age["scale"]  # robustly scaled, smoothly clipped
    assert got[1, names.index("age")] == pytest.approx(z / np.sqrt(1 + (z / 3) ** 2), rel=1e-5)
    assert got[0, names.index("color=[other]")] == 1.0  # unseen in training
    assert got[1, names.index("color=(missing)")] == 1.0
    assert got[0, [i for i, n in enumerate(names) if n.startswith("color=") and n != "color=[other]"]].sum() == 0


def load_rows(spec, frame):
    from automl_nb.data.frames import frame_columns

    return frame_columns(spec, frame, "data")


def test_the_target_inverse_is_exact_and_the_model_answers_in_the_targets_units():
    rng = np.random.default_rng(3)
    ds = load_data((rng.normal(size=(200, 2)), rng.lognormal(5, 2.0, 200)), seed=0)
    target = ds.preprocessing["target"]
    assert target["log"]
    z = keras.Input((1,))
    inverse = keras.Model(z, target_inverse(z, target))
    values = np.linspace(-3, 3, 13).reshape(-1, 1).astype(np.float32)
    np.testing.assert_allclose(inverse.predict(values, verbose=0), unscale_target(target, values), rtol=1e-4)


def test_compose_keeps_the_users_compile_arguments_and_weights_a_regression_loss():
    rng = np.random.default_rng(4)
    ds = load_data((rng.normal(size=(50, 3)), rng.normal(1000.0, 200.0, 50)), seed=0)

    def my_loss(y_true, y_pred):  # a function no registry knows
        return keras.ops.mean(keras.ops.square(y_true - y_pred), axis=-1)

    inner = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)], name="net")
    inner.compile(optimizer=keras.optimizers.SGD(0.01), loss=my_loss, metrics=["mae"])
    model = compose(inner, ds.preprocessing)
    assert model.loss is my_loss and isinstance(model.optimizer, keras.optimizers.SGD)
    assert not inner.compiled  # one optimizer, the outer model's
    weight = ds.preprocessing["target"]["loss_weight"]
    args, kwargs = fit_data(ds, 16, 0)
    history = model.fit(*args, epochs=1, verbose=0, **kwargs).history
    assert set(history) == {"loss", "mae", "val_loss", "val_mae"}
    z = model.predict(ds.x_val, verbose=0)[:, 0]
    mse = float(np.mean((z - ds.y_val) ** 2))
    assert history["val_loss"][0] == pytest.approx(mse * weight, rel=1e-3)  # relative to the variance
    assert history["val_mae"][0] == pytest.approx(float(np.mean(np.abs(z - ds.y_val))), rel=1e-3)


def test_fit_data_gives_keras_string_tensors_and_an_image_stream(tmp_path):
    from PIL import Image

    frame = pd.DataFrame({"c": ["a", "b", None, "a"] * 5, "y": [0, 1] * 10})
    args, kwargs = fit_data(load_data(frame, target="y"), 8, 0)
    assert args[0]["c"].dtype.name == "string" and kwargs["batch_size"] == 8
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        for i in range(5):
            Image.fromarray(np.full((6, 6, 3), 40 * i, np.uint8)).save(tmp_path / name / f"{i}.png")
    ds = load_data(tmp_path, validation_split=0.4, seed=0)
    (train,), kwargs = fit_data(ds, 4, 0)
    images, _ = train[0]
    assert images.dtype == np.uint8 and images.shape == (4, 6, 6, 3) and len(train) == 2
    assert "batch_size" not in kwargs and len(kwargs["validation_data"]) == 1
    (both,), kwargs = fit_data(ds, 4, 0, final=True)
    assert len(both.files) == 10 and kwargs == {}


def test_an_ordered_category_adds_its_position_and_a_plain_one_does_not():
    n = 60
    grades = pd.Categorical(np.array(["low", "mid", "high", None], dtype=object)[np.arange(n) % 4],
                            categories=["low", "mid", "high"], ordered=True)
    frame = pd.DataFrame({
        "grade": grades,
        "shade": pd.Categorical(["a", "b", "c"] * 20),  # a category, not ordered
        "label": ["yes", "no"] * 30,
    })
    ds = load_data(frame, target="label", seed=0)
    spec, names = ds.preprocessing, ds.feature_names
    grade = next(c for c in spec["columns"] if c["name"] == "grade")
    assert grade["order"]["values"] == ["low", "mid", "high"]
    assert "grade:order" in names and "shade:order" not in names
    order = ["low", "mid", "high"]
    known = np.array([order.index(v) for v in ds.x_train["grade"] if v], dtype=float)
    assert 0 < len(known) < len(ds.x_train["grade"])  # the training split, missing values aside
    assert grade["order"]["mean"] == pytest.approx(known.mean())
    assert grade["order"]["std"] == pytest.approx(known.std())
    raw = pd.DataFrame({"grade": ["high", "low", None, "unheard-of"], "shade": ["a"] * 4})
    got = features_of(spec, load_rows(spec, raw))
    assert got.shape == (4, len(names))
    position = got[:, names.index("grade:order")]
    want = (np.array([2.0, 0.0]) - known.mean()) / known.std()
    np.testing.assert_allclose(position[:2], want, rtol=1e-5)
    assert position[2] == 0.0 and position[3] == 0.0  # missing and unseen: the neutral value
    assert got[2, names.index("grade=(missing)")] == 1.0


def test_a_small_split_is_passed_over_until_an_epoch_has_min_steps_batches():
    assert MIN_STEPS == 16
    assert epoch_passes(200, 64) == 6  # 4 batches a pass; 6 passes make 19
    assert epoch_passes(200, None) == 3  # fit's own batch of 32
    assert epoch_passes(16 * 64, 64) == 1 and epoch_passes(16 * 64 - 1, 64) == 2
    assert epoch_passes(100_000, 128) == 1 and epoch_passes(0, 32) == epoch_passes(None, 32) == 1
    for rows in (1, 7, 150, 999):
        for batch in (16, 32, 64, 128):
            passes = epoch_passes(rows, batch)
            assert passes == 1 or rows * passes >= MIN_STEPS * batch  # MIN_STEPS full batches
            assert passes == 1 or rows * (passes - 1) < MIN_STEPS * batch  # and no pass more


def test_repeat_rows_repeats_every_row_alike_and_keeps_x_and_y_together():
    frame = pd.DataFrame({"c": ["a", "b", "c", "d", "e"] * 8, "n": np.arange(40.0), "y": np.arange(40) % 2})
    ds = load_data(frame, target="y", validation=frame.iloc[:10])
    (x, y), _ = fit_data(ds, 32, 0)
    assert train_rows(ds) == 40
    x2, y2, passes = repeat_rows(x, y, 32)
    assert passes == epoch_passes(40, 32) == 13
    assert len(y2) == 40 * 13 and x2["c"].dtype.name == "string" and x2["c"].shape[0] == 40 * 13
    numbers = np.asarray(x2["n"]).ravel()
    assert (np.bincount(numbers.astype(int)) == 13).all()  # every row 13 times
    assert (y2 == numbers.astype(int) % 2).all()  # each row's target beside it
    assert [v.decode() for v in x2["c"].numpy()[:6].ravel()] == ["a", "b", "c", "d", "e", "a"]
    arrays = np.arange(12.0).reshape(6, 2)
    xa, ya, passes = repeat_rows(arrays, np.arange(6), 16)
    assert passes == 43 and xa.shape == (6 * 43, 2) and (xa[:, 0] == 2 * ya).all()
    same = repeat_rows(arrays, np.arange(6 * 100), 16)  # rows that do not line up: left alone
    assert same[2] == 1 and same[0] is arrays
    big = np.zeros((5000, 3))
    assert repeat_rows(big, np.zeros(5000), 128)[0] is big  # 39 batches: one pass


def test_an_image_folder_has_no_train_rows_to_repeat(tmp_path):
    from PIL import Image

    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        for i in range(3):
            Image.fromarray(np.full((4, 4, 3), 40 * i, np.uint8)).save(tmp_path / name / f"{i}.png")
    ds = load_data(tmp_path, validation_split=0.34, seed=0)
    assert train_rows(ds) is None
    (stream,), _ = fit_data(ds, 2, 0)
    assert repeat_rows(stream, None, 2) == (stream, None, 1)
