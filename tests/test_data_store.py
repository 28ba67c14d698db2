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


# -- the settings file ---------------------------------------------------------------------------
RECORDINGS = Path(automl_nb.__file__).parent / "recordings"


def test_settings_go_to_the_directory_and_come_back_the_same(tmp_path):
    import dataclasses
    import json

    from automl_nb.settings import SETTINGS_VERSION, Budget
    from automl_nb.store import Store

    s = automl_nb.search("iris", time="2m", trials=7, seed=3, directory=tmp_path / "s", start=False)
    again = Store(s.directory).read_settings()
    assert again == s.settings and again.version == SETTINGS_VERSION
    assert again.budget == Budget(trials=7, time_budget_s=120.0, epochs=10)
    saved = json.loads((s.directory / "search.json").read_text())
    # the file keeps today's keys: the budget's at the top level, and the version
    assert (saved["version"], saved["trials"], saved["time_budget_s"], saved["epochs"]) == (
        SETTINGS_VERSION, 7, 120.0, 10)
    assert "budget" not in saved
    changed = dataclasses.replace(again, workers=2, space_ref="m:build")
    Store(s.directory).write_settings(changed)
    assert Store(s.directory).read_settings() == changed
    with pytest.raises(dataclasses.FrozenInstanceError):
        again.seed = 4  # type: ignore[misc]


@pytest.mark.parametrize("name", sorted(p.name for p in RECORDINGS.iterdir() if p.is_dir()))
def test_a_settings_file_without_a_version_still_reads(tmp_path, name):
    """The recordings' settings were written before settings had a version: the same keys,
    some missing, which take the defaults the code used for a missing key."""
    import json
    import shutil

    from automl_nb.settings import SETTINGS_VERSION
    from automl_nb.store import Store

    old = json.loads((RECORDINGS / name / "search.json").read_text())
    assert "version" not in old and "warm_start" not in old  # what makes it an old file
    shutil.copytree(RECORDINGS / name, tmp_path / name)
    settings = Store(tmp_path / name).read_settings()
    assert (settings.name, settings.oracle, settings.objective) == (
        old["name"], old["oracle"], old["objective"])
    assert (settings.budget.trials, settings.budget.time_budget_s, settings.budget.epochs) == (
        old["trials"], old["time_budget_s"], old["epochs"])
    assert settings.dataset == old["dataset"] and settings.data == old["data"]
    assert (settings.warm_start, settings.patience, settings.ensemble, settings.workers) == (
        False, None, True, 1)
    assert settings.version == SETTINGS_VERSION  # read into this version's object
    reopened = automl_nb.open(tmp_path / name)
    assert reopened.settings == settings and reopened.budget.epochs == old["epochs"]


def test_a_settings_file_from_a_newer_version_reads_and_a_broken_one_says_so(tmp_path):
    import json

    from automl_nb.errors import SearchError
    from automl_nb.store import Store

    s = automl_nb.search("iris", directory=tmp_path / "s", start=False)
    path = s.directory / "search.json"
    newer = {**json.loads(path.read_text()), "version": 99, "quantize": "int8"}
    path.write_text(json.dumps(newer))
    assert Store(s.directory).read_settings() == s.settings  # what it does not know is left out
    for broken in ("[1, 2]", '{"name": "x"}', "{not json"):
        path.write_text(broken)
        with pytest.raises(SearchError, match="search.json cannot be read"):
            Store(s.directory).read_settings()
