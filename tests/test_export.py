"""The model a user takes away works on its own: every family searched, exported, and loaded in a
fresh process where automl-nb cannot be imported, predicting from the raw input the search took.

One tiny search per family (1 trial, 1 epoch) runs in this process; one fresh process then
loads every export (``.keras`` with plain Keras in safe mode; SavedModel with TensorFlow;
TFLite with TensorFlow's interpreter) and predicts. Its predictions must equal the search's
own model's, and those must give the score the search recorded for the trial.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import automl_nb
from automl_nb import SearchState
from automl_nb.data.layers import model_inputs
from automl_nb.store import PREDICTIONS_NAME

pytestmark = pytest.mark.slow

#: family -> the formats exported for it (SavedModel and TFLite on tabular and image at least)
FORMATS = {
    "tabular": ("keras", "savedmodel", "tflite"),
    "frame": ("keras", "savedmodel", "tflite"),
    "image_hw": ("keras", "savedmodel", "tflite"),
    "image_hwc": ("keras",),
    "folder": ("keras", "tflite"),
    "sequence": ("keras",),
    "regression": ("keras", "savedmodel"),
}


def _data(tmp: Path) -> dict:
    from PIL import Image

    rng = np.random.default_rng(0)
    n = 120
    x_tab = rng.normal(size=(n, 4)) * [1, 10, 100, 0.1] + [0, 5, -50, 1]
    y_tab = (x_tab[:, 0] + x_tab[:, 1] / 10 > 0.5).astype(int) + (x_tab[:, 2] > -50)
    frame = pd.DataFrame({
        "size": np.where(np.arange(n) % 9 == 0, np.nan, rng.normal(10, 3, n)),
        "colour": np.array(["red", "green", None, "blue"], dtype=object)[rng.integers(0, 4, n)],
        "owner name": rng.choice(["ann", "bo"], n),
        "grade": pd.Categorical(rng.choice(["low", "mid", "high"], n), categories=["low", "mid", "high"],
                                ordered=True),  # an ordered category: one-hot and its position
        "label": rng.choice(["cat", "dog", "eel"], n),
    })
    hw = rng.integers(0, 256, (80, 8, 8), dtype=np.uint8)
    hwc = rng.integers(0, 256, (80, 8, 8, 3), dtype=np.uint8)
    folder = tmp / "pets"
    for c, name in enumerate(["cat", "dog"]):
        (folder / name).mkdir(parents=True)
        for i in range(15):
            pixels = rng.integers(0, 120, (8, 8, 3)) + 100 * c
            Image.fromarray(pixels.astype(np.uint8)).save(folder / name / f"{i}.png")
    seq = rng.normal(size=(80, 12, 2)).astype(np.float32)
    x_reg = rng.normal(size=(200, 3))
    y_reg = np.round(np.exp(2 + 1.5 * x_reg[:, 0]) * 1000).astype(np.int64)  # an integer price, very skewed
    return {
        "tabular": ((x_tab, y_tab), {}),
        "frame": (frame, {"target": "label"}),
        "image_hw": ((hw, rng.integers(0, 2, 80)), {}),
        "image_hwc": ((hwc, rng.integers(0, 3, 80)), {}),
        "folder": (folder, {}),
        "sequence": ((seq, rng.integers(0, 2, 80)), {}),
        "regression": ((x_reg, y_reg), {}),
    }


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("export")
    out: dict = {}
    for family, (data, kwargs) in _data(tmp).items():
        s = automl_nb.search(data, oracle="random", trials=1, epochs=1, seed=0, batch_size=16,
                             directory=tmp / f"search_{family}", **kwargs)
        assert s.wait(300) is SearchState.DONE, s.error
        ds = s.dataset
        x_val = ds.x_val
        if family == "folder":
            x_val = np.stack([x_val.image(i) for i in range(len(x_val))])
        expected = np.asarray(s.best_model().predict(model_inputs(x_val), verbose=0))
        paths = {}
        for fmt in FORMATS[family]:
            name = {"keras": "m.keras", "savedmodel": "m_savedmodel", "tflite": "m.tflite"}[fmt]
            paths[fmt] = str(s.export(tmp / family / name, format=fmt))
        raw = tmp / family / "raw.npz"
        if isinstance(x_val, dict):
            np.savez(raw, **{f"c{i}": v.astype(str) if v.dtype == object else v
                             for i, v in enumerate(x_val.values())})
        else:
            np.savez(raw, x=x_val)
        out[family] = {"search": s, "expected": expected, "paths": paths, "raw": str(raw),
                       "columns": list(x_val) if isinstance(x_val, dict) else None,
                       "files": s.dataset.x_val.paths if family == "folder" else None}
    # one fresh process, without automl-nb, loads and predicts with every export
    plan = {family: {k: v for k, v in case.items() if k in ("paths", "raw", "columns", "files")}
            for family, case in out.items()}
    (tmp / "plan.json").write_text(json.dumps(plan))
    result = subprocess.run([sys.executable, "-c", FRESH, str(tmp / "plan.json"), str(tmp / "got.npz")],
                            capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    with np.load(tmp / "got.npz") as got:
        for key in got.files:
            family, fmt = key.split(".")
            out[family].setdefault("got", {})[fmt] = got[key]
    return out


FRESH = textwrap.dedent("""
    import json, sys
    sys.modules["automl_nb"] = None  # a machine without automl-nb
    import numpy as np, keras, tensorflow as tf
    from PIL import Image
    plan, results = json.load(open(sys.argv[1])), {}
    for family, case in plan.items():
        with np.load(case["raw"]) as raw:
            if case["columns"]:
                x = {name: raw[f"c{i}"] for i, name in enumerate(case["columns"])}
            elif case["files"]:  # an image folder's model takes the images, decoded as PIL does
                x = np.stack([np.asarray(Image.open(f).convert("RGB")) for f in case["files"]])
            else:
                x = raw["x"]
        for fmt, path in case["paths"].items():
            if fmt == "keras":
                model = keras.saving.load_model(path, safe_mode=True)
                feed = {k: tf.constant(v) for k, v in x.items()} if isinstance(x, dict) else x
                out = model.predict(feed, verbose=0)
            elif fmt == "savedmodel":  # as TensorFlow Serving calls it: by input name
                serve = tf.saved_model.load(path).signatures["serving_default"]
                specs = serve.structured_input_signature[1]
                meta = json.load(open(path + ".json"))["inputs"]
                if isinstance(x, dict):
                    names = {c["name"]: c["input"] for c in meta["columns"]}
                    feed = {names[k]: tf.constant(v.reshape(-1, 1), dtype=specs[names[k]].dtype)
                            for k, v in x.items()}
                else:
                    (name, spec), = specs.items()
                    feed = {name: tf.constant(x, dtype=spec.dtype)}
                out = next(iter(serve(**feed).values())).numpy()
            else:
                runner = tf.lite.Interpreter(model_path=path).get_signature_runner()
                details = runner.get_input_details()
                meta = json.load(open(path + ".json"))["inputs"]
                if isinstance(x, dict):
                    names = {c["name"]: c["input"] for c in meta["columns"]}
                    feed = {names[k]: v.reshape(-1, 1).astype(details[names[k]]["dtype"]) for k, v in x.items()}
                else:
                    (name, detail), = details.items()
                    feed = {name: x.astype(detail["dtype"])}
                out = next(iter(runner(**feed).values()))
            results[f"{family}.{fmt}"] = np.asarray(out)
    np.savez(sys.argv[2], **results)
""")


@pytest.mark.parametrize("family", list(FORMATS))
def test_every_export_predicts_in_a_fresh_process_what_the_search_scored(exported, family):
    case = exported[family]
    s, expected = case["search"], case["expected"]
    for fmt in FORMATS[family]:
        got = case["got"][fmt]
        tolerance = 1e-5 if fmt == "keras" else 1e-4
        np.testing.assert_allclose(got, expected, rtol=tolerance, atol=tolerance * max(1, np.abs(expected).max()),
                                   err_msg=f"{family} as {fmt}")
    # those predictions are what the search scored: the trial's own validation score
    trial = s.record.best()
    ds = s.dataset
    if ds.task == "classification":
        assert trial.score == pytest.approx(float(np.mean(expected.argmax(axis=1) == ds.y_val)), abs=1e-6)
    else:
        mse = float(np.mean((expected[:, 0] - ds.y_val) ** 2))
        assert trial.score == pytest.approx(mse * ds.preprocessing["target"]["loss_weight"], rel=1e-3)


def test_the_sidecar_keeps_class_names_and_no_recipe(exported):
    meta = json.loads(Path(exported["frame"]["paths"]["keras"] + ".json").read_text())
    assert meta["class_names"] == ["cat", "dog", "eel"] and meta["task"] == "classification"
    assert "preprocessing" not in meta
    assert [c["name"] for c in meta["inputs"]["columns"]] == ["size", "colour", "owner name", "grade"]
    assert "grade:order" in exported["frame"]["search"].dataset.feature_names
    assert meta["export_format"] == "keras"
    assert json.loads(Path(exported["image_hw"]["paths"]["tflite"] + ".json").read_text())["inputs"] == {
        "kind": "array", "shape": [8, 8], "dtype": "uint8"}


def test_load_predicts_from_what_the_search_took_in_original_labels_and_units(exported):
    frame_case = exported["frame"]
    predictor = automl_nb.load(frame_case["paths"]["keras"])
    rows = pd.DataFrame({"owner name": ["ann", "zed"], "size": [None, 12.5], "colour": ["red", None],
                         "grade": ["high", None], "label": ["cat", "cat"]})
    labels = predictor.predict(rows)
    assert set(labels) <= {"cat", "dog", "eel"} and len(labels) == 2
    assert predictor.predict(rows.to_dict("records")) == labels
    hw = exported["image_hw"]
    predictor = automl_nb.load(hw["paths"]["keras"])
    x = hw["search"].dataset.x_val
    expected = hw["expected"].argmax(axis=1).tolist()
    assert predictor.predict(x) == expected  # (N, H, W) uint8, as the search took it
    assert predictor.predict(x[..., None]) == expected  # (N, H, W, 1) too
    assert predictor.predict(x[0]) == expected[:1]  # one image
    with pytest.raises(ValueError, match="takes images as uint8 values 0..255"):
        predictor.predict(x / 255.0)
    folder = exported["folder"]
    predictor = automl_nb.load(folder["paths"]["keras"])
    names = folder["search"].dataset.class_names
    assert predictor.predict(folder["files"]) == [names[i] for i in folder["expected"].argmax(axis=1)]
    regression = exported["regression"]
    predictor = automl_nb.load(regression["paths"]["keras"])
    values = predictor.predict(regression["search"].dataset.x_val)
    np.testing.assert_allclose(values, regression["expected"][:, 0], rtol=1e-5)
    assert regression["search"].dataset.preprocessing["target"]["log"]  # a skewed price
    assert np.median(values) > 1000  # in the target's units


def test_a_folder_search_writes_no_copy_of_its_images(exported):
    s = exported["folder"]["search"]
    assert not (s.directory / "data.npz").exists()
    source = s.settings.dataset["source"]
    assert source["kind"] == "images" and source["fingerprint"]["files"] == 30
    images = [p for p in s.directory.rglob("*") if p.suffix.lower() in (".png", ".jpg", ".npy", ".npz")
              and p.name != PREDICTIONS_NAME]
    assert images == []
    kept = list(s.directory.rglob(PREDICTIONS_NAME))  # the ensemble's: class probabilities, no pixels
    assert kept
    for path in kept:
        rows, columns = np.load(path, allow_pickle=False).shape
        assert rows == len(s.dataset.y_val) and columns in (1, len(s.dataset.class_names))


def test_export_checks_its_format_and_path(exported, tmp_path):
    from automl_nb.errors import SearchError

    s = exported["tabular"]["search"]
    with pytest.raises(SearchError, match="must end in .keras") as info:
        s.export(tmp_path / "best.h5")
    assert info.value.argument == "path"
    with pytest.raises(SearchError, match="must end in .tflite for format='tflite'"):
        s.export(tmp_path / "best.keras", format="tflite")
    with pytest.raises(SearchError, match="must be one of 'keras', 'savedmodel', 'tflite'"):
        s.export(tmp_path / "best.onnx", format="onnx")
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "notes.txt").write_text("mine")
    with pytest.raises(SearchError, match="exists and is not a SavedModel"):
        s.export(tmp_path / "taken", format="savedmodel")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]  # nothing half-written


def test_a_final_fit_trains_on_both_splits_of_raw_data_and_exports(exported, tmp_path):
    for family in ("folder", "frame"):
        s = exported[family]["search"]
        model = s.final_fit(epochs=1)
        path = s.export(tmp_path / f"{family}_final.keras")
        meta = json.loads(Path(str(path) + ".json").read_text())
        assert meta["final_fit"] is True
        predictor = automl_nb.load(path)
        if family == "folder":
            assert len(predictor.predict(exported["folder"]["files"])) == len(exported["folder"]["files"])
        else:
            rows = s.dataset.x_val
            assert len(predictor.predict(pd.DataFrame(rows))) == len(rows["size"])
        assert model is s.best_model()


def test_a_final_fit_by_default_trains_to_the_best_epoch_on_training_and_validation_rows(tmp_path):
    """Without ``epochs``, each trial retrains for as many epochs as it took to its best one,
    on every row of both splits (an epoch as long as the trials' at least)."""
    from automl_nb.data.layers import epoch_passes

    rng = np.random.default_rng(1)
    x = rng.normal(size=(600, 4))
    f = np.sin(2 * x[:, 0]) + np.cos(2 * x[:, 1]) * x[:, 2]  # noisy: its best epoch comes mid-way
    y = np.digitize(f + rng.normal(scale=0.6, size=600), np.quantile(f, [1 / 3, 2 / 3]))
    s = automl_nb.search((x, y), oracle="random", trials=1, epochs=30, seed=0, batch_size=16,
                         objective="val_loss", directory=tmp_path / "s")
    assert s.wait(300) is SearchState.DONE, s.error
    best = s.record.best()
    # what this test tells apart: the best epoch, the epochs trained, the search's epochs
    assert best.best_epoch < best.epochs and best.best_epoch != s.settings.budget.epochs, best
    model = s.final_fit()
    assert model.history.epoch == list(range(best.best_epoch))
    rows = len(s.dataset.y_train) + len(s.dataset.y_val)
    assert len(s.dataset.y_val) > 0 and rows == 600
    assert model.history.params["steps"] == math.ceil(epoch_passes(rows, 16) * rows / 16)
    command = s.record.last_command
    assert command.command == "final_fit" and command.args["epochs"] == best.best_epoch
    assert command.message == f"trial {best.trial_id} retrained on all data for {best.best_epoch} epochs"
