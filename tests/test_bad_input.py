"""Bad input, from every door: ``automl_nb.search()``, ``%automl`` and ``python -m automl_nb``.

Each mistake gets one sentence that names the argument and says what would work; nothing is
left on disk (no search directory, no ``automl_runs/``); the kernel, and a search already
running in it, stay usable. The cases with a custom ``space=`` import TensorFlow (search()
builds the model once, on the calling thread, before it writes anything): they are slow.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from IPython.core.error import UsageError

import automl_nb
from automl_nb.data import DataError
from automl_nb.errors import SearchError
from automl_nb.oracles import OracleError
from automl_nb.testing import ScriptedTrainer, scripted_search

from .conftest import ipython_shell

# -- inputs ----------------------------------------------------------------------------------

RNG = np.random.default_rng(0)
X = RNG.random((40, 4))
Y = np.arange(40) % 3


def with_value(array: np.ndarray, index: tuple, value: float) -> np.ndarray:
    out = array.astype(float).copy()
    out[index] = value
    return out


def frame() -> pd.DataFrame:
    df = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    df["label"] = np.array(["x", "y", "z"])[Y]
    return df


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    """CSV files and image folders, good and bad, under tmp_path/inputs."""

    root = tmp_path / "inputs"
    root.mkdir()
    df = frame()
    df.to_csv(root / "ok.csv", index=False)
    df.assign(label="x").to_csv(root / "one_class.csv", index=False)
    df.assign(label=df.label.where(df.index != 3)).to_csv(root / "nan_label.csv", index=False)
    (root / "empty.csv").write_text("")
    broken = root / "broken"
    for cls in ("cat", "dog"):
        (broken / cls).mkdir(parents=True)
        for i in range(2):
            (broken / cls / f"{i}.png").write_bytes(b"not an image")
    (root / "no_classes").mkdir()
    for cls in ("cat", "dog"):
        (root / "no_images" / cls).mkdir(parents=True)
    (root / "afile").write_text("not a folder")
    (root / "mine").mkdir()
    (root / "mine" / "notes.txt").write_text("precious")
    return {p.name.replace(".", "_"): p for p in root.iterdir()}


def snapshot(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def one_sentence(message: str) -> str:
    assert "\n" not in message and "Traceback" not in message, message
    return message


# -- the Python API ----------------------------------------------------------------------------

# (id, data and keywords (from the files fixture), the error, the words)
API_CASES = [
    # data
    (
        "length mismatch",
        lambda f: ((X, Y[:30]), {}),
        DataError,
        r"^data: X has 40 rows but y has 30 labels; they must be the same length$",
    ),
    (
        "NaN in X",
        lambda f: ((with_value(X, (3, 1), np.nan), Y), {}),
        DataError,
        r"^data: X has 1 NaN or infinite value; impute them first \(e\.g\. sklearn\.impute",
    ),
    (
        "infinity in X",
        lambda f: ((with_value(X, (2, 0), np.inf), Y), {}),
        DataError,
        r"^data: X has 1 NaN or infinite value; impute them first",
    ),
    (
        "NaN in y",
        lambda f: ((X, with_value(Y, (5,), np.nan)), {}),
        DataError,
        r"^y has 1 missing \(NaN or infinite\) label; drop those samples or fill them in first$",
    ),
    (
        "infinity in y",
        lambda f: ((X, with_value(Y, (5,), -np.inf)), {}),
        DataError,
        r"^y has 1 missing \(NaN or infinite\) label; drop those samples",
    ),
    (
        "a single class",
        lambda f: ((X, np.zeros(40, int)), {}),
        DataError,
        r"^y has a single class '0'; classification needs at least two classes$",
    ),
    (
        "a constant float target",
        lambda f: (frame().assign(label=1.25), {"target": "label"}),
        DataError,
        (
            r"^target 'label' has the single value 1\.25 in every row; a regression needs targets "
            r"that differ, so pass a target column that varies$"
        ),
    ),
    (
        "empty arrays",
        lambda f: ((np.zeros((0, 4)), np.zeros(0)), {}),
        DataError,
        r"^data: X has no rows; pass at least one sample per set$",
    ),
    ("empty lists", lambda f: (([], []), {}), DataError, r"^data: X has no rows"),
    (
        "too few samples",
        lambda f: ((X[:4], Y[:4]), {}),
        DataError,
        r"^data has 4 samples, too few to hold out validation_split=0\.2",
    ),
    (
        "empty DataFrame",
        lambda f: (frame().iloc[:0], {"target": "label"}),
        DataError,
        r"^data has no rows; pass a DataFrame with at least a few samples$",
    ),
    (
        "target missing",
        lambda f: (frame(), {}),
        DataError,
        (
            r"^target= is required when data is a DataFrame; pass target='<column>' "
            r"\(columns are: a, b, c, d, label\)$"
        ),
    ),
    (
        "target misspelt",
        lambda f: (frame(), {"target": "lable"}),
        DataError,
        (
            r"^target 'lable' is not a column of the data; columns are: a, b, c, d, label; "
            r"did you mean 'label'\?$"
        ),
    ),
    (
        "NaN in the target column",
        lambda f: (f["nan_label_csv"], {"target": "label"}),
        DataError,
        (
            r"^data: target 'label' has 1 missing value; drop those rows first "
            r"\(df\.dropna\(subset=\['label'\]\)\)$"
        ),
    ),
    (
        "a single class in a CSV",
        lambda f: (f["one_class_csv"], {"target": "label"}),
        DataError,
        r"^target 'label' has a single class 'x'; classification needs at least two classes$",
    ),
    (
        "a folder of images none of which can be read",
        lambda f: (f["broken"], {}),
        DataError,
        r"^data: none of the images sampled in '.*broken' can be read \(for instance '.*cat/0\.png'\)",
    ),
    (
        "text labels as a regression",
        lambda f: ((X, np.array(["x", "y", "z"])[Y]), {"task": "regression"}),
        DataError,
        r"^task 'regression' does not fit y, which holds text labels; leave task= out for a classification$",
    ),
    (
        "an empty image folder",
        lambda f: (f["no_classes"], {}),
        DataError,
        r"^data: image folder '.*no_classes' has no class sub-folders; put each class's images",
    ),
    (
        "class folders without images",
        lambda f: (f["no_images"], {}),
        DataError,
        r"^data: image folder '.*no_images' holds no images \(\.png, .*\) in its class sub-folders",
    ),
    (
        "a missing CSV",
        lambda f: (f["ok_csv"].with_name("nope.csv"), {"target": "label"}),
        DataError,
        r"^data '.*nope\.csv' does not exist \(looked in .*\); pass the path of an existing CSV file$",
    ),
    (
        "an empty CSV",
        lambda f: (f["empty_csv"], {"target": "label"}),
        DataError,
        r"^data '.*empty\.csv' is empty; pass a CSV file with a header row and data rows$",
    ),
    (
        "a misspelt bundled name",
        lambda f: ("digts", {}),
        DataError,
        r"^data 'digts' is not a bundled data set, .*; did you mean 'digits'\?$",
    ),
    (
        "validation length mismatch",
        lambda f: ((X, Y), {"validation": (X[:10], Y[:8])}),
        DataError,
        r"^validation: X has 10 rows but y has 8 labels; they must be the same length$",
    ),
    (
        "NaN in validation X",
        lambda f: ((X, Y), {"validation": (with_value(X[:10], (0, 0), np.nan), Y[:10])}),
        DataError,
        r"^validation: X has 1 NaN or infinite value",
    ),
    # arguments
    (
        "unknown oracle",
        lambda f: ((X, Y), {"oracle": "bayes"}),
        OracleError,
        (
            r"^oracle 'bayes' is not known; choose one of: bayesian, hyperband, random"
            r"; did you mean 'bayesian'\?$"
        ),
    ),
    (
        "unknown objective",
        lambda f: ((X, Y), {"objective": "val_acc"}),
        SearchError,
        (
            r"^objective 'val_acc' is not a metric of this classification search; choose one of: "
            r"val_loss, val_accuracy, loss, accuracy; did you mean 'val_accuracy'\?$"
        ),
    ),
    (
        "zero trials",
        lambda f: ((X, Y), {"trials": 0}),
        SearchError,
        r"^trials must be at least 1; got 0$",
    ),
    (
        "negative trials",
        lambda f: ((X, Y), {"trials": -3}),
        SearchError,
        r"^trials must be at least 1; got -3$",
    ),
    (
        "fractional trials",
        lambda f: ((X, Y), {"trials": 2.5}),
        SearchError,
        r"^trials must be a whole number of at least 1; got 2\.5$",
    ),
    (
        "zero epochs",
        lambda f: ((X, Y), {"epochs": 0}),
        SearchError,
        r"^epochs must be at least 1; got 0$",
    ),
    (
        "negative epochs",
        lambda f: ((X, Y), {"epochs": -1}),
        SearchError,
        r"^epochs must be at least 1; got -1$",
    ),
    (
        "zero batch size",
        lambda f: ((X, Y), {"batch_size": 0}),
        SearchError,
        r"^batch_size must be at least 1; got 0$",
    ),
    (
        "a negative seed",
        lambda f: ((X, Y), {"seed": -1}),
        SearchError,
        r"^seed must be a whole number of 0 or more, or None; got -1$",
    ),
    (
        "a time in words",
        lambda f: ((X, Y), {"time": "10 minutes"}),
        SearchError,
        (
            r"^time '10 minutes' is not a duration; write seconds \(90\) or a number with s, m or h "
            r"\(90s, 10m, 1h\)$"
        ),
    ),
    (
        "a zero time",
        lambda f: ((X, Y), {"time": "0s"}),
        SearchError,
        r"^time '0s' must be more than zero seconds; write seconds",
    ),
    (
        "a negative time",
        lambda f: ((X, Y), {"time": -5}),
        SearchError,
        r"^time -5 must be more than zero seconds",
    ),
    (
        "a time of the wrong type",
        lambda f: ((X, Y), {"time": [10]}),
        SearchError,
        r"^time is a list, not a duration",
    ),
    (
        "a directory that is a file",
        lambda f: ((X, Y), {"directory": f["afile"]}),
        SearchError,
        r"^directory '.*afile' is a file; choose a folder path for the search$",
    ),
    (
        "a directory inside a file",
        lambda f: ((X, Y), {"directory": f["afile"] / "run"}),
        SearchError,
        r"^directory '.*afile/run' could not be written \(Not a directory\); choose a writable folder$",
    ),
    (
        "a folder of one's own",
        lambda f: ((X, Y), {"directory": f["mine"], "overwrite": True}),
        SearchError,
        r"^directory '.*mine' is not empty and holds no search; choose a new or empty folder$",
    ),
]


@pytest.mark.parametrize(
    ("make", "error", "words"), [c[1:] for c in API_CASES], ids=[c[0] for c in API_CASES]
)
def test_search_answers_bad_input_with_one_sentence(
    tmp_path, monkeypatch, files, make, error, words
):
    monkeypatch.chdir(tmp_path)  # a default directory would be made here, under automl_runs/
    data, kwargs = make(files)
    kwargs.setdefault("directory", tmp_path / "run")
    before = snapshot(tmp_path)
    with pytest.raises(error, match=words) as info:
        automl_nb.search(data, **kwargs)
    one_sentence(str(info.value))
    assert isinstance(info.value, ValueError)  # the magic and the command line catch these
    assert snapshot(tmp_path) == before, "search() left something on disk"


def test_another_searchs_directory_needs_overwrite(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    old = scripted_search(directory=tmp_path / "old", start=False)
    before = snapshot(tmp_path)
    with pytest.raises(
        SearchError,
        match=(
            r"^directory '.*old' already holds a search; pass overwrite=True to replace it "
            r"or automl_nb\.open\('.*old'\) to reopen and continue it$"
        ),
    ):
        automl_nb.search((X, Y), directory=tmp_path / "old")
    assert snapshot(tmp_path) == before
    assert automl_nb.open(tmp_path / "old").name == old.name  # untouched


def test_extend_without_a_budget_names_what_would_work(tmp_path):
    search = scripted_search(directory=tmp_path / "s", start=False)
    with pytest.raises(
        SearchError,
        match=r"^extend\(\) needs more trials or more time, such as trials=5 or time='5m'$",
    ):
        search.extend()


def test_no_default_directory_is_left_behind(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DataError):
        automl_nb.search((X, Y[:3]))  # no directory= given: automl_runs/... would be made
    with pytest.raises(SearchError):
        automl_nb.search((X, Y), objective="val_mae")
    assert not (tmp_path / "automl_runs").exists()


def test_a_journal_that_cannot_be_written_at_start_leaves_nothing(tmp_path, monkeypatch):
    """search() whose first event cannot be journaled: one sentence, its directory removed."""
    import errno

    from automl_nb import events

    def full(self, event, *, sync=False):
        raise events.JournalError(
            f"could not write the journal {self.path}: {os.strerror(errno.ENOSPC)}; "
            "free some disk space or choose a writable directory="
        )

    monkeypatch.setattr(events.Journal, "append", full)
    with pytest.raises(
        SearchError,
        match=r"^could not write the journal .*events\.jsonl: "
        r"No space left on device; free some disk space",
    ):
        automl_nb.search((X, Y), directory=tmp_path / "run")
    assert not (tmp_path / "run").exists()


# -- a bad build(hp): checked by search() before it writes anything (imports TensorFlow) --------


def _builds():
    import keras

    def raises(hp):
        hp.Int("units", 4, 8)
        raise ValueError("my layer is broken")

    def not_a_model(hp):
        return 3

    def uncompiled(hp):
        return keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])

    def wrong_outputs(hp):
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(5, activation="softmax")])
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    def wrong_inputs(hp):
        model = keras.Sequential([keras.Input((7,)), keras.layers.Dense(3, activation="softmax")])
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    return {
        "raises": raises,
        "not_a_model": not_a_model,
        "uncompiled": uncompiled,
        "wrong_outputs": wrong_outputs,
        "wrong_inputs": wrong_inputs,
    }


SPACE_CASES = [
    (
        "raises",
        (
            r"^build\(hp\) raised ValueError: my layer is broken \(built once with the default "
            r"hyperparameters, to check it\); fix it and start the search again$"
        ),
    ),
    ("not_a_model", r"^build\(hp\) must return a compiled keras\.Model; it returned int$"),
    (
        "uncompiled",
        (
            r"^build\(hp\) returned a model that is not compiled; call "
            r"model\.compile\(optimizer=\.\.\., loss=\.\.\., metrics=\[\.\.\.\]\) before returning it$"
        ),
    ),
    (
        "wrong_outputs",
        (
            r"^build\(hp\) returned a model with 5 outputs, but the data has 3 classes; "
            r"end the model with Dense\(3, activation='softmax'\)$"
        ),
    ),
    (
        "wrong_inputs",
        (
            r"^build\(hp\) returned a model whose input shape is \(7,\) but one sample of the "
            r"data has shape \(4,\); use keras\.Input\(shape=\(4,\)\)$"
        ),
    ),
]


@pytest.mark.slow
@pytest.mark.parametrize(("build", "words"), SPACE_CASES, ids=[c[0] for c in SPACE_CASES])
def test_a_bad_build_is_one_sentence_before_anything_is_written(
    tmp_path, monkeypatch, build, words
):
    monkeypatch.chdir(tmp_path)
    before = snapshot(tmp_path)
    with pytest.raises(SearchError, match=words) as info:
        automl_nb.search((X, Y), space=_builds()[build], oracle="random", trials=1, epochs=1)
    one_sentence(str(info.value))
    assert snapshot(tmp_path) == before
    if build == "raises":  # the user's own bug keeps its traceback, as the cause
        assert isinstance(info.value.__cause__, ValueError)
    else:
        assert info.value.__cause__ is None


@pytest.mark.slow
def test_a_space_that_is_not_a_build_function(tmp_path):
    with pytest.raises(
        SearchError,
        match=r"^space must be a build\(hp\) function returning a compiled "
        r"Keras model, a keras_tuner\.HyperModel, or None",
    ):
        automl_nb.search((X, Y), space=3, directory=tmp_path / "run")
    assert not (tmp_path / "run").exists()


@pytest.mark.slow
def test_a_bad_build_with_overwrite_keeps_the_old_search(tmp_path):
    """The build is checked before overwrite=True removes anything."""
    scripted_search(directory=tmp_path / "old", start=False)
    before = snapshot(tmp_path)
    with pytest.raises(SearchError, match=r"build\(hp\) must return a compiled keras\.Model"):
        automl_nb.search(
            (X, Y), space=_builds()["not_a_model"], directory=tmp_path / "old", overwrite=True
        )
    assert snapshot(tmp_path) == before


# -- the magic ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ip():
    shell = ipython_shell()
    shell.run_line_magic("load_ext", "automl_nb")
    return shell


@pytest.fixture
def notebook(ip, tmp_path, monkeypatch):
    """The magic with a clean latest search, notebook variables, and cwd in tmp_path."""
    monkeypatch.chdir(tmp_path)
    magics = ip.magics_manager.registry["AutoMLMagics"]
    magics.latest = None
    before = set(ip.user_ns)
    ip.user_ns.update(
        X=X,
        y=Y,
        y_short=Y[:30],
        X_nan=with_value(X, (3, 1), np.nan),
        y_one=np.zeros(40, int),
        X_empty=np.zeros((0, 4)),
        y_empty=np.zeros(0),
        df=frame(),
    )
    yield magics
    for name in set(ip.user_ns) - before:
        del ip.user_ns[name]
    magics.latest = None


MAGIC_CASES = [
    (
        "length mismatch",
        "X y_short",
        r"^data: X has 40 rows but y has 30 labels; they must be the same length$",
    ),
    ("NaN in X", "X_nan y", r"^data: X has 1 NaN or infinite value; impute them first"),
    (
        "a single class",
        "X y_one",
        r"^y has a single class '0'; classification needs at least two classes$",
    ),
    ("empty data", "X_empty y_empty", r"^data: X has no rows; pass at least one sample per set$"),
    (
        "target missing",
        "df",
        (
            r"^--target is required when data is a DataFrame; pass --target <column> "
            r"\(columns are: a, b, c, d, label\)$"
        ),
    ),
    (
        "target misspelt",
        "df --target lable",
        r"^--target 'lable' is not a column of the data; columns are: a, b, c, d, label; did you mean 'label'\?$",
    ),
    ("unreadable images", "{broken}", r"^data: none of the images sampled in '.*broken' can be read"),
    (
        "an empty image folder",
        "{no_classes}",
        r"^data: image folder '.*no_classes' has no class sub-folders",
    ),
    (
        "a missing CSV",
        "{missing} --target label",
        r"^DATA '.*nope\.csv' is not a file or folder, a variable or a bundled data set",
    ),
    (
        "unknown oracle",
        "X y --oracle bayes",
        r"^--oracle 'bayes' is not an oracle; choose one of: bayesian, hyperband, random; did you mean 'bayesian'\?$",
    ),
    (
        "unknown objective",
        "X y --objective val_acc",
        r"^--objective 'val_acc' is not a metric of this classification",
    ),
    ("zero trials", "X y --trials 0", r"^--trials must be at least 1; got 0$"),
    ("negative epochs", "X y --epochs -2", r"^--epochs must be at least 1; got -2$"),
    (
        "a time in words",
        "X y --time 10minutes",
        r"^--time '10minutes' is not a duration; write seconds",
    ),
    ("a negative time", "X y --time -5s", r"^--time '-5s' must be more than zero seconds"),
    (
        "a directory that is a file",
        "X y --dir {afile}",
        r"^--dir '.*afile' is a file; choose a folder path for the search$",
    ),
]


@pytest.mark.parametrize(
    ("text", "words"), [c[1:] for c in MAGIC_CASES], ids=[c[0] for c in MAGIC_CASES]
)
def test_magic_answers_bad_input_with_a_usage_error(ip, notebook, files, tmp_path, text, words):
    text = text.format(missing=files["ok_csv"].with_name("nope.csv"), **files)
    before = snapshot(tmp_path)
    with pytest.raises(UsageError, match=words) as info:
        ip.run_line_magic("automl", text)
    one_sentence(str(info.value))
    assert snapshot(tmp_path) == before
    assert notebook.latest is None


def test_magic_on_another_searchs_directory_suggests_overwrite_and_open(ip, notebook, tmp_path):
    scripted_search(directory=tmp_path / "old", start=False)
    with pytest.raises(
        UsageError,
        match=(
            r"^--dir '.*old' already holds a search; pass --overwrite to replace it "
            r"or %automl open .*old to reopen and continue it$"
        ),
    ):
        ip.run_line_magic("automl", f"X y --dir {tmp_path / 'old'}")


def test_a_bad_line_shows_one_line_and_leaves_the_kernel_and_a_running_search_usable(
    ip, notebook, tmp_path, capsys, searches
):
    running = scripted_search(
        ScriptedTrainer(batch_seconds=0.002), directory=tmp_path / "live", trials=50, epochs=5
    )
    searches.append(running)
    notebook.latest = running
    result = ip.run_cell("%automl X y_short --trials 2", store_history=True)
    assert isinstance(result.error_in_exec, UsageError)
    out = capsys.readouterr()
    text = out.out + out.err
    assert "UsageError: data: X has 40 rows but y has 30 labels" in text
    assert "Traceback" not in text
    # the kernel runs the next cell; the search that was running is still the latest and obeys
    assert ip.run_cell("1 + 1", store_history=True).result == 2
    assert notebook.latest is running and running.state.value == "running"
    assert ip.run_line_magic("automl", "pause")
    assert running.state.value == "paused"
    assert ip.run_line_magic("automl", "stop")
    assert running.wait(10).value == "done"


CELL_CASES = [
    (
        "raises",
        "def build(hp):\n    raise ValueError('my layer is broken')\n",
        r"^build\(hp\) raised ValueError: my layer is broken \(built once with the default hyperparameters",
    ),
    (
        "uncompiled",
        (
            "import keras\ndef build(hp):\n"
            "    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])\n"
        ),
        r"^build\(hp\) returned a model that is not compiled; call model\.compile",
    ),
    (
        "wrong_outputs",
        (
            "import keras\ndef build(hp):\n"
            "    m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation='softmax')])\n"
            "    m.compile('adam', 'sparse_categorical_crossentropy')\n    return m\n"
        ),
        (
            r"^build\(hp\) returned a model with 2 outputs, but the data has 3 classes; end the model with "
            r"Dense\(3, activation='softmax'\)$"
        ),
    ),
]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("cell", "words"), [c[1:] for c in CELL_CASES], ids=[c[0] for c in CELL_CASES]
)
def test_cell_with_a_bad_build_is_a_usage_error_at_once(ip, notebook, tmp_path, cell, words):
    before = snapshot(tmp_path)
    with pytest.raises(UsageError, match=words) as info:
        ip.run_cell_magic("automl", "--data X y --oracle random --trials 1 --epochs 1", cell)
    one_sentence(str(info.value))
    assert snapshot(tmp_path) == before  # no automl_runs/ folder
    assert notebook.latest is None


# -- the command line ------------------------------------------------------------------------------


def cli(*args: str, cwd: Path) -> str:
    """Run the command line's ``main`` in this process (``python -m automl_nb`` calls it; a
    subprocess each would cost 1.5-2 s of CPU, the import of scikit-learn and the rest, and
    tests/test_cli.py runs the real ``python -m automl_nb`` for bad input); check exit 2 and
    one line on stderr; return the message."""
    import contextlib
    import io
    import warnings

    from automl_nb.ui.cli import main

    out, err = io.StringIO(), io.StringIO()
    here = os.getcwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            status = main(list(args))
    finally:
        os.chdir(here)
    assert status == 2, (out.getvalue(), err.getvalue())
    lines = err.getvalue().splitlines()
    assert len(lines) == 1, err.getvalue()
    assert lines[0].startswith("automl-nb: error: ")
    return lines[0][len("automl-nb: error: ") :]


CLI_CASES = [
    ("zero trials", "search digits --trials 0", r"^--trials must be at least 1; got 0$"),
    ("negative epochs", "search digits --epochs -1", r"^--epochs must be at least 1; got -1$"),
    (
        "a time in words",
        "search digits --time 10min",
        r"^--time '10min' is not a duration; write seconds \(90\) or a number with s, m or h",
    ),
    (
        "a negative time",
        "search digits --time -5s",
        r"^--time '-5s' must be more than zero seconds",
    ),
    (
        "unknown oracle",
        "search digits --oracle grid",
        r"^--oracle 'grid' is not an oracle; choose one of: bayesian, hyperband, random$",
    ),
    (
        "unknown objective",
        "search iris --objective val_auc",
        r"^--objective 'val_auc' is not a metric of this classification search; choose one of: ",
    ),
    (
        "a directory that is a file",
        "search iris --dir {afile}",
        r"^--dir '.*afile' is a file; choose a folder path for the search$",
    ),
    (
        "another search's directory",
        "search iris --dir {old}",
        (
            r"^--dir '.*old' already holds a search; pass --overwrite to replace it or "
            r"python -m automl_nb open .*old to reopen and continue it$"
        ),
    ),
    (
        "a missing CSV",
        "search {missing} --target label",
        r"^data '.*nope\.csv' does not exist \(looked in .*\); pass the path of an existing CSV file$",
    ),
    (
        "target missing",
        "search {ok_csv}",
        r"^--target is required when data is a DataFrame; pass --target <column> \(columns are: a, b, c, d, label\)$",
    ),
    (
        "target misspelt",
        "search {ok_csv} --target lable",
        r"^--target 'lable' is not a column of the data; columns are: a, b, c, d, label; did you mean 'label'\?$",
    ),
    (
        "a single class",
        "search {one_class_csv} --target label",
        r"^target 'label' has a single class 'x'",
    ),
    (
        "NaN in the target",
        "search {nan_label_csv} --target label",
        r"^data: target 'label' has 1 missing value",
    ),
    ("an empty CSV", "search {empty_csv} --target label", r"^data '.*empty\.csv' is empty"),
    ("unreadable images", "search {broken}", r"^data: none of the images sampled in '.*broken' can be read"),
    (
        "an empty image folder",
        "search {no_classes}",
        r"^data: image folder '.*no_classes' has no class sub-folders",
    ),
    (
        "open a folder with no search",
        "open {mine}",
        r"^directory '.*mine' holds no search \(no search\.json or events\.jsonl\)$",
    ),
]


@pytest.mark.parametrize(
    ("args", "words"), [c[1:] for c in CLI_CASES], ids=[c[0] for c in CLI_CASES]
)
def test_command_line_answers_bad_input_with_one_line_and_exit_2(tmp_path, files, args, words):
    import re

    scripted_search(directory=tmp_path / "old", start=False)
    argv = [
        a.format(missing=files["ok_csv"].with_name("nope.csv"), old=tmp_path / "old", **files)
        for a in args.split()
    ]
    before = snapshot(tmp_path)
    message = cli(*argv, cwd=tmp_path)
    assert re.search(words, message), message
    assert snapshot(tmp_path) == before  # no --dir, no automl_runs/
