"""What a search keeps of its data: in-memory data once, raw and compressed; files by reference.

No TensorFlow: the searches here are written (``start=False``) and reopened, never trained.
"""

from __future__ import annotations

import logging
import os
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import automl_nb


def _images(root: Path, n: int = 6) -> Path:
    from PIL import Image

    rng = np.random.default_rng(0)
    for name in ("cat", "dog"):
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            Image.fromarray(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)).save(root / name / f"{i}.png")
    return root


def test_arrays_are_saved_once_in_their_raw_dtype_compressed(tmp_path):
    """Integers (images, labels) are compressed; floats, which barely compress, are stored."""
    x = np.zeros((200, 16, 16), dtype=np.uint8)
    x[:, 4:8, 4:8] = 200
    s = automl_nb.search((x, np.arange(200) % 2), directory=tmp_path / "s", start=False)
    path = s.directory / "data.npz"
    with zipfile.ZipFile(path) as z:
        assert all(info.compress_type == zipfile.ZIP_DEFLATED for info in z.infolist())
    assert not list(s.directory.glob("*.partial"))
    with np.load(path, allow_pickle=False) as saved:
        assert saved["x_train"].dtype == np.uint8 and saved["x_train"].shape == (160, 16, 16)
        assert len(saved["x_train"]) + len(saved["x_val"]) == 200  # each sample once
    assert path.stat().st_size < x.nbytes / 10
    again = automl_nb.open(s.directory).dataset
    np.testing.assert_array_equal(again.x_val, s.dataset.x_val)
    assert again.preprocessing == s.dataset.preprocessing


def test_float_arrays_are_stored_and_read_back_exactly(tmp_path):
    x = np.random.default_rng(0).normal(size=(120, 5)).astype("float32")
    s = automl_nb.search((x, np.arange(120) % 3), directory=tmp_path / "f", start=False)
    with zipfile.ZipFile(s.directory / "data.npz") as z:
        methods = {info.filename: info.compress_type for info in z.infolist()}
    assert methods["x_train.npy"] == methods["x_val.npy"] == zipfile.ZIP_STORED
    assert methods["y_train.npy"] == methods["y_val.npy"] == zipfile.ZIP_DEFLATED
    again = automl_nb.open(s.directory).dataset
    np.testing.assert_array_equal(again.x_train, s.dataset.x_train)
    np.testing.assert_array_equal(again.y_val, s.dataset.y_val)


def test_a_dataframes_columns_come_back_as_they_went(tmp_path):
    frame = pd.DataFrame({
        "size": [1.0, np.nan, 3.0, 4.0] * 10,
        "colour": ["red", None, "blue", "red"] * 10,
        "label": ["a", "b"] * 20,
    })
    s = automl_nb.search(frame, target="label", directory=tmp_path / "s", start=False)
    again = automl_nb.open(s.directory).dataset
    for name, values in s.dataset.x_train.items():
        assert again.x_train[name].dtype == values.dtype
        np.testing.assert_array_equal(again.x_train[name], values)
    assert again.task_reason == s.dataset.task_reason


def test_a_folder_search_keeps_a_reference_and_says_when_the_folder_changed_or_is_gone(tmp_path, caplog):
    folder = _images(tmp_path / "pets")
    s = automl_nb.search(folder, directory=tmp_path / "s", start=False)
    assert sorted(p.name for p in s.directory.iterdir()) == ["events.jsonl", "search.json"]
    assert automl_nb.open(s.directory).dataset.x_train.paths == s.dataset.x_train.paths

    (folder / "dog" / "0.png").unlink()
    with caplog.at_level(logging.WARNING, logger="automl_nb"):
        reopened = automl_nb.open(s.directory)
    assert reopened.dataset is None
    sentence = f"the image folder {str(folder.resolve())!r} changed since the search started (it held 12 images"
    assert sentence in caplog.text
    answer = reopened.start()
    assert not answer and answer.message.startswith(sentence)
    assert "start a new search" in answer.message

    os.rename(folder, tmp_path / "moved")
    answer = automl_nb.open(s.directory).start()
    assert not answer and "this search trained on is gone" in answer.message


def test_a_csv_search_keeps_a_reference_and_notices_a_changed_file(tmp_path):
    path = tmp_path / "prices.csv"
    rng = np.random.default_rng(0)
    pd.DataFrame({"rooms": rng.integers(1, 6, 300), "price": rng.integers(50_000, 900_000, 300)}).to_csv(
        path, index=False)
    s = automl_nb.search(path, target="price", directory=tmp_path / "s", start=False)
    assert s.dataset.task == "regression" and not (s.directory / "data.npz").exists()
    np.testing.assert_array_equal(automl_nb.open(s.directory).dataset.y_val, s.dataset.y_val)
    with open(path, "a") as fh:
        fh.write("3,123456\n")
    answer = automl_nb.open(s.directory).start()
    assert not answer and "changed since the search started" in answer.message


@pytest.mark.parametrize("name", ["iris", "digits"])
def test_a_bundled_set_is_not_copied(tmp_path, name):
    s = automl_nb.search(name, directory=tmp_path / "s", start=False, seed=3)
    assert not (s.directory / "data.npz").exists()
    again = automl_nb.open(s.directory).dataset
    np.testing.assert_array_equal(again.y_val, s.dataset.y_val)
