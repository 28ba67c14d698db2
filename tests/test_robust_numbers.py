"""Numbers that cannot explode: a table's number columns are robustly scaled (median,
inter-quartile range of the training split) and smoothly clipped inside the model, so a value
far outside the training range reaches the network bounded, in the search and in the export.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

from automl_nb.data import load_data
from automl_nb.data.frames import frame_columns, robust_scale
from automl_nb.data.layers import input_layers, model_inputs

keras = pytest.importorskip("keras")


def features_of(spec, frame):
    inputs, features = input_layers(spec)
    x = frame_columns(spec, frame, "data")
    return np.asarray(keras.Model(inputs, features).predict(model_inputs(x), verbose=0))


def _table(n=200, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 10, n)
    return pd.DataFrame({"x": x, "noise": rng.normal(size=n), "y": 3 * x + rng.normal(0, 0.5, n)})


def test_the_spec_keeps_the_training_median_and_inter_quartile_range():
    ds = load_data(_table(), target="y", seed=0)
    x = next(c for c in ds.preprocessing["columns"] if c["name"] == "x")
    train = ds.x_train["x"].astype(np.float64)
    assert x["center"] == pytest.approx(np.median(train))
    q25, q75 = np.percentile(train, [25, 75])
    assert x["scale"] == pytest.approx(q75 - q25)


def test_a_zero_quartile_range_falls_back_to_a_wider_one_then_to_one():
    mostly_zero = np.r_[np.zeros(95), np.ones(5)]  # quartiles and deciles equal: the full range
    assert robust_scale(mostly_zero, float(mostly_zero.var())) == pytest.approx(1.0)
    assert robust_scale(np.r_[np.zeros(15), np.full(70, 5.0), np.full(15, 9.0)], 1.0) == 9.0
    spread = np.linspace(0, 4, 101)
    assert robust_scale(spread, 1.0) == pytest.approx(2.0)
    assert robust_scale(np.full(10, 7.0), 0.0) == 1.0
    assert robust_scale(np.array([]), 0.0) == 1.0


def test_the_median_maps_to_zero_huge_values_stay_below_three_and_order_is_kept():
    ds = load_data(_table(), target="y", seed=0)
    spec, names = ds.preprocessing, ds.feature_names
    x = next(c for c in spec["columns"] if c["name"] == "x")
    values = np.array([-1e9, -1e4, -50.0, x["center"] - x["scale"], x["center"],
                       x["center"] + 0.1, x["center"] + x["scale"], 50.0, 1e4, 1e9])
    rows = pd.DataFrame({"x": values, "noise": np.zeros(len(values))})
    got = features_of(spec, rows)[:, names.index("x")]
    assert got[values == x["center"]] == pytest.approx(0.0, abs=1e-6)
    assert np.all(np.abs(got) <= 3.0) and np.all(np.isfinite(got))
    assert np.all(np.diff(got) >= 0)  # monotone; float32 saturates at 3 for the huge ones
    assert np.all(np.diff(got[2:-2]) > 0)
    assert abs(got[0]) > 2.99 and got[-1] > 2.99
    # near identity for small values: one quartile range from the median is about 1
    one = got[values == x["center"] + x["scale"]][0]
    assert one == pytest.approx(1 / np.sqrt(1 + 1 / 9), rel=1e-5)


def test_missing_values_are_filled_with_the_median_and_flagged_as_before():
    frame = _table()
    frame.loc[::7, "x"] = np.nan
    ds = load_data(frame, target="y", seed=0)
    spec, names = ds.preprocessing, ds.feature_names
    got = features_of(spec, pd.DataFrame({"x": [np.nan, np.inf], "noise": [0.0, 0.0]}))
    assert got[:, names.index("x")] == pytest.approx([0.0, 0.0], abs=1e-6)
    assert list(got[:, names.index("x=missing")]) == [1.0, 1.0]


def test_a_spec_written_before_robust_scaling_standardises_as_it_did():
    ds = load_data(_table(), target="y", seed=0)
    spec = ds.preprocessing
    for column in spec["columns"]:
        del column["center"], column["scale"]
    x = next(c for c in spec["columns"] if c["name"] == "x")
    got = features_of(spec, pd.DataFrame({"x": [1000.0], "noise": [0.0]}))
    assert got[0, ds.feature_names.index("x")] == pytest.approx(
        (1000.0 - x["mean"]) / np.sqrt(x["variance"]), rel=1e-5)


FRESH = textwrap.dedent("""
    import sys
    sys.modules["automl_nb"] = None  # a machine without automl-nb
    import numpy as np, keras, tensorflow as tf
    model = keras.saving.load_model(sys.argv[1], safe_mode=True)
    with np.load(sys.argv[2]) as raw:
        feed = {k: tf.constant(raw[k]) for k in raw.files}
    np.save(sys.argv[3], np.asarray(model.predict(feed, verbose=0)))
""")


@pytest.mark.slow
def test_rows_far_outside_the_training_range_get_bounded_predictions(tmp_path):
    import automl_nb
    from automl_nb import SearchState

    frame = _table(n=300, seed=1)
    s = automl_nb.search(frame, target="y", oracle="random", trials=2, epochs=3, seed=0,
                         batch_size=32, directory=tmp_path / "search")
    assert s.wait(300) is SearchState.DONE, s.error
    y = frame["y"].to_numpy()
    low, high, span = y.min(), y.max(), np.ptp(y)
    far = pd.DataFrame({"x": np.array([-1000.0, -100.0, 50.0, 100.0, 1000.0, 1e6]),
                        "noise": np.array([0.0, 1e3, -1e3, 0.0, 1e4, 0.0])})
    x = frame_columns(s.dataset.preprocessing, far, "data")
    ours = np.asarray(s.best_model().predict(model_inputs(x), verbose=0)).ravel()
    # a network on standardised inputs would answer about 3 * 1e6 for x = 1e6
    assert np.all(np.isfinite(ours))
    assert np.all(ours > low - 2 * span) and np.all(ours < high + 2 * span), (ours, low, high)
    path = s.export(tmp_path / "m.keras")
    np.savez(tmp_path / "far.npz", **x)
    result = subprocess.run([sys.executable, "-c", FRESH, str(path), str(tmp_path / "far.npz"),
                             str(tmp_path / "got.npy")],
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    got = np.load(tmp_path / "got.npy").ravel()
    np.testing.assert_allclose(got, ours, rtol=1e-4, atol=1e-4)
    assert np.all(got > low - 2 * span) and np.all(got < high + 2 * span)
