"""%automl and %%automl on IPython's test shell, and in a notebook run headless.

Parsing, name resolution, display and steering run against scripted searches
(``automl_nb.testing``, no TensorFlow); the tests marked slow run tiny real searches.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from IPython.core.error import UsageError

from automl_nb.testing import ScriptedTrainer, scripted_search
from automl_nb.ui import args as _args
from automl_nb.ui import magics

from .conftest import ipython_shell

ROOT = Path(__file__).resolve().parents[1]
search_module = importlib.import_module("automl_nb._entry")  # the module, not the function


@pytest.fixture(scope="module")
def ip():
    shell = ipython_shell()
    shell.run_line_magic("load_ext", "automl_nb")
    return shell


@pytest.fixture
def automl(ip):
    """The registered AutoMLMagics instance, with no latest search and a clean namespace."""
    instance = ip.magics_manager.registry["AutoMLMagics"]
    instance.latest = None
    before = set(ip.user_ns)
    yield instance
    for name in set(ip.user_ns) - before:
        del ip.user_ns[name]
    instance.latest = None


@pytest.fixture
def fake(monkeypatch, tmp_path):
    """Replace automl_nb._entry.search with scripted searches; records each call."""
    calls: list[tuple[object, dict]] = []
    made = []

    def fake_search(data, **kwargs):
        calls.append((data, kwargs))
        search = scripted_search(
            ScriptedTrainer(batches_per_epoch=2),
            directory=tmp_path / f"run{len(calls)}",
            trials=2,
            epochs=2,
            start=False,
        )
        made.append(search)
        return search

    monkeypatch.setattr(search_module, "search", fake_search)
    yield calls
    for search in made:
        search.stop()
        search.wait(10)


@pytest.fixture
def shown(monkeypatch):
    """Record what the magic displays as a panel."""
    displayed: list[object] = []
    monkeypatch.setattr(magics, "_display", displayed.append)
    return displayed


def line(ip, text):
    return ip.run_line_magic("automl", text)


def run_cell(ip, source):
    """Run a cell as a front end does (stored in history); raise what it raised."""
    result = ip.run_cell(source, store_history=True)
    if result.error_in_exec is not None:
        raise result.error_in_exec
    if result.error_before_exec is not None:
        raise result.error_before_exec
    return result.result


# -- the extension ------------------------------------------------------------------------------


def test_load_ext_registers_the_magics_without_tensorflow():
    code = textwrap.dedent(
        """
        import sys
        from IPython.core.error import UsageError
        from IPython.testing.globalipapp import get_ipython
        ip = get_ipython()
        ip.run_line_magic("load_ext", "automl_nb")
        assert ip.find_line_magic("automl") is not None
        assert ip.find_cell_magic("automl") is not None
        for bad in ("digits --oracle nope", "X_trian", "pause"):
            try:
                ip.run_line_magic("automl", bad)
            except UsageError:
                print("refused:", bad)
            else:
                raise AssertionError(f"%automl {bad} raised no UsageError")
        heavy = sorted(m for m in ("tensorflow", "keras", "keras_tuner") if m in sys.modules)
        print("heavy:", heavy)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[-4:] == [
        "refused: digits --oracle nope", "refused: X_trian", "refused: pause", "heavy: []"
    ]


def test_usage_is_the_docstring(ip, automl, capsys):
    usage = _args.magic_usage()
    assert ip.find_line_magic("automl").__doc__ == usage
    assert ip.find_cell_magic("automl").__doc__ == usage
    ip.run_line_magic("pinfo", "%automl")
    out = capsys.readouterr().out
    assert "--oracle NAME" in out and "%automl prune ID" in out and "Examples:" in out


def test_help_option_prints_the_usage(ip, automl, capsys):
    assert line(ip, "--help") is None
    out = capsys.readouterr().out
    assert out.strip() == _args.magic_usage().strip()


# -- every mistake is a UsageError that names the argument ---------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", r"^%automl needs DATA or a command; for example: %automl digits"),
        ("digits --trails 3", r"^unknown option --trails; did you mean --trials\?$"),
        (
            "digits --oracle bayes",
            r"^--oracle 'bayes' is not an oracle; choose one of: bayesian, hyperband, random",
        ),
        (
            "digits --time '10 minutes'",
            (
                r"^--time '10 minutes' is not a duration; write seconds \(90\) or a number with s, "
                r"m or h \(90s, 10m, 1h\)$"
            ),
        ),
        ("digits --time 0", r"^--time '0' must be more than zero seconds"),
        ("digits --trials 0", r"^--trials must be at least 1; got 0$"),
        ("digits --epochs", r"^--epochs needs a value: --epochs N$"),
        ("X_trian y_train", r"^no variable 'X_trian' in the notebook; did you mean 'X_train'\?$"),
        ("X_train y_trian", r"^no variable 'y_trian' in the notebook; did you mean 'y_train'\?$"),
        ("digit", r"^no variable 'digit' in the notebook; did you mean 'digits'\?$"),
        (
            "zzz",
            (
                r"^no variable 'zzz' in the notebook, and it is not a bundled data set \(digits, "
                r"iris, wine, breast_cancer\) or a file or folder$"
            ),
        ),
        ("no/such/file.csv", r"^DATA 'no/such/file.csv' is not a file or folder, a variable"),
        ("a b c", r"^DATA takes one name or two \(X y\); got 3: a b c$"),
        ("X_train data.csv", r"^DATA with two values takes two variables X y; 'data.csv' is not"),
        (
            "X_train y_train --validation X_vall y_val",
            r"^no variable 'X_vall' in the notebook; did you mean 'X_val'\?$",
        ),
        ("digits --data X_train", r"^give DATA once: either before the options"),
        ("--trials 3", r"^%automl needs data: %automl --data X_train y_train, or a bundled set"),
        ("digits --name 2s", r"^--name '2s' is not a Python variable name$"),
        ("'unclosed", r"^%automl could not read its arguments: No closing quotation$"),
        ("pause", r"^there is no search yet: start one with %automl DATA"),
        ("pasue", r"^no variable 'pasue' in the notebook; did you mean 'pause'\?$"),
        ("status --search s_missing", r"^--search: no variable 's_missing' in the notebook"),
        ("status --search X_train", r"^--search 'X_train' is a ndarray, not a search"),
        ("prune", r"^%automl prune needs ID; usage: %automl prune ID"),
        ("promote 0001 --epochs many", r"^--epochs 'many' is not a whole number"),
        ("enqueue", r"^%automl enqueue needs NAME=VALUE"),
        ("open", r"^%automl open needs DIR"),
    ],
)
def test_usage_errors(ip, automl, text, message):
    ip.user_ns.update(
        X_train=np.zeros((8, 3)), y_train=np.zeros(8), X_val=np.zeros((4, 3)), y_val=np.zeros(4)
    )
    with pytest.raises(UsageError, match=message):
        line(ip, text)


def test_usage_error_shows_without_a_traceback(ip, automl, capsys):
    result = ip.run_cell("%automl X_trian", store_history=True)
    assert isinstance(result.error_in_exec, UsageError)
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert "UsageError: no variable 'X_trian' in the notebook" in text
    assert "Traceback" not in text


def test_library_errors_become_usage_errors(ip, automl, tmp_path):
    # checked by automl_nb.search() before any TensorFlow: a ValueError becomes a UsageError
    with pytest.raises(UsageError, match=r"^--objective 'val_acc' is not a metric .*val_accuracy"):
        line(ip, f"iris --objective val_acc --dir {tmp_path / 'a'}")
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "notes.txt").write_text("x")
    with pytest.raises(UsageError, match=r"is not empty and holds no search"):
        line(ip, f"iris --dir {tmp_path / 'c'}")


def test_existing_search_directory_suggests_overwrite_and_open(ip, automl, tmp_path):
    """The library's error reaches the magic in its words, built from the error's fields."""
    old = tmp_path / "old"
    scripted_search(directory=old, start=False)
    with pytest.raises(UsageError) as info:
        line(ip, f"iris --dir {old}")
    assert str(info.value) == (
        f"--dir '{old}' already holds a search; pass --overwrite to replace it or "
        f"%automl open {old} to reopen and continue it"
    )


def test_a_library_keyword_reaches_the_magic_as_its_flag(ip, automl, tmp_path):
    import pandas as pd

    ip.user_ns["df"] = pd.DataFrame({"a": [1.0, 2.0, 3.0], "label": [0, 1, 0]})
    with pytest.raises(UsageError) as info:
        line(ip, f"df --dir {tmp_path / 'r'}")
    assert str(info.value) == (
        "--target is required when data is a DataFrame; pass --target <column> "
        "(columns are: a, label)"
    )
    with pytest.raises(UsageError) as info:
        line(ip, f"iris --target species --dir {tmp_path / 'r'}")
    assert str(info.value) == (
        "--target applies only to a DataFrame or CSV file, but data is the bundled set 'iris'; "
        "drop --target"
    )


def test_cell_that_defines_no_build_function(ip, automl, fake):
    with pytest.raises(UsageError, match=r"^the cell defines no function build\(hp\); define one"):
        ip.run_cell_magic("automl", "iris", "x = 1\n")
    with pytest.raises(UsageError, match=r"^the cell defines no function model\(hp\) \(--build"):
        ip.run_cell_magic("automl", "iris --build model", "def build(hp):\n    pass\n")
    assert fake == []


def test_cell_must_define_build_itself(ip, automl, fake):
    ip.run_cell("def build(hp):\n    return None\n")
    with pytest.raises(UsageError, match="the cell defines no function build"):
        ip.run_cell_magic("automl", "iris", "y = 2\n")


def test_build_must_be_a_function_of_hp(ip, automl, fake):
    with pytest.raises(UsageError, match=r"^build is a int, not a function"):
        ip.run_cell_magic("automl", "iris", "build = 3\n")
    with pytest.raises(UsageError, match=r"^build\(hp\) must take one argument, hp; build is "):
        ip.run_cell_magic("automl", "iris", "def build():\n    pass\n")
    assert fake == []


def test_cell_needs_data(ip, automl, fake):
    with pytest.raises(
        UsageError, match=r"^%%automl needs data: %%automl --data X_train y_train, or a bundled set"
    ):
        ip.run_cell_magic("automl", "--trials 2", "def build(hp):\n    pass\n")


def test_cell_with_a_command_word(ip, automl):
    with pytest.raises(UsageError, match=r"'pause' is a command: use it on a line"):
        ip.run_cell_magic("automl", "pause", "def build(hp):\n    pass\n")


def test_an_error_in_the_cell_is_the_users_own_traceback(ip, automl, fake):
    with pytest.raises(NameError):
        ip.run_cell_magic("automl", "iris", "def build(hp):\n    pass\nundefined_name\n")
    assert fake == []


# -- what the magic hands to the library ------------------------------------------------------------


def test_arguments_reach_the_library(ip, automl, fake, tmp_path):
    X, y = np.zeros((8, 3)), np.zeros(8)
    ip.user_ns.update(X_train=X, y_train=y, pair=(X, y))
    search = line(
        ip,
        f"X_train y_train --oracle hyperband --trials 3 --epochs 4 --time 1h30m --seed 0 "
        f"--objective val_loss --dir {tmp_path / 'r'} --overwrite --batch-size 16 --no-panel "
        f"--validation pair",
    )
    data, kwargs = fake[0]
    assert data[0] is X and data[1] is y
    assert kwargs["validation"][0] is X
    assert kwargs == {
        **kwargs,
        "oracle": "hyperband",
        "trials": 3,
        "epochs": 4,
        "time": 5400.0,
        "seed": 0,
        "objective": "val_loss",
        "directory": str(tmp_path / "r"),
        "overwrite": True,
        "batch_size": 16,
        "space": None,
        "target": None,
        "start": False,
        "deterministic": False,
    }
    assert automl.latest is search
    line(ip, f"X_train y_train --seed 1 --deterministic --dir {tmp_path / 'd'} --no-panel")
    assert (fake[1][1]["seed"], fake[1][1]["deterministic"]) == (1, True)


def test_data_can_be_a_bundled_name_a_path_a_variable_or_an_option(ip, automl, fake, tmp_path):
    csv = tmp_path / "train.csv"
    csv.write_text("a,label\n1,x\n")
    frame = object()
    ip.user_ns.update(df=frame, stop=frame)
    line(ip, "digits --no-panel")
    line(ip, f"{csv} --target label --no-panel")
    line(ip, "df --target label --no-panel")
    line(ip, "--data stop --no-panel")  # a variable named like a command word
    assert [call[0] for call in fake] == ["digits", str(csv), frame, frame]
    assert fake[1][1]["target"] == "label"


def test_variable_shadows_a_bundled_name(ip, automl, fake):
    frame = object()
    ip.user_ns["iris"] = frame
    line(ip, "iris --target species --no-panel")
    assert fake[0][0] is frame


def test_cell_defines_the_space(ip, automl, fake):
    search = ip.run_cell_magic(
        "automl",
        "--data digits --trials 2 --no-panel",
        "def build(hp):\n    return hp\n",
    )
    data, kwargs = fake[0]
    assert data == "digits"
    assert kwargs["space"] is ip.user_ns["build"]
    assert kwargs["space"]("x") == "x"
    assert search is automl.latest


def test_cell_runs_ipython_syntax_in_the_notebook_namespace(ip, automl, fake):
    ip.run_cell_magic(
        "automl",
        "iris --build make --no-panel",
        "units = 7\n%alias_magic automl_alias_test automl\ndef make(hp):\n    return units\n",
    )
    assert fake[0][1]["space"]("hp") == 7
    assert ip.user_ns["units"] == 7


def test_name_binds_the_search(ip, automl, fake):
    search = line(ip, "iris --name s --no-panel")
    assert ip.user_ns["s"] is search is automl.latest


def test_wait_blocks_until_done_and_prints_the_leaderboard(ip, automl, fake, capsys):
    search = line(ip, "iris --wait --no-panel")
    assert search.state.value == "done"
    out = capsys.readouterr().out
    assert "trial 0000 completed" in out and "trial 0001 completed" in out
    assert "rank trial_id" in out
    assert "search 'scripted' is done: 2 trials (2 completed) of 2" in out


def test_no_panel_without_wait_prints_a_line_per_trial(ip, automl, fake, capsys):
    search = line(ip, "iris --no-panel")
    search.wait(10)
    out = capsys.readouterr().out
    assert out.count("trial 000") == 2


# -- one panel, whatever the cell looks like -----------------------------------------------------


def test_called_from_code_it_displays_the_panel_and_returns_the_search(ip, automl, fake, shown):
    search = line(ip, "iris")
    assert shown == [search]


def test_bare_line_lets_ipython_show_the_result_once(ip, automl, fake, shown):
    result = run_cell(ip, "%automl iris")
    assert shown == []  # IPython displays the returned Search: the one panel
    assert result is automl.latest


def test_assigned_line_displays_the_panel(ip, automl, fake, shown):
    assert run_cell(ip, "s = %automl iris") is None
    assert shown == [ip.user_ns["s"]]


def test_an_earlier_line_of_the_cell_displays_its_own_panel(ip, automl, fake, shown):
    result = run_cell(ip, "%automl iris --name first\n%automl status")
    assert shown == [ip.user_ns["first"]]
    assert result is None


def test_last_expr_or_assign_shows_the_assigned_search(ip, automl, fake, shown, monkeypatch):
    monkeypatch.setattr(ip, "ast_node_interactivity", "last_expr_or_assign")
    run_cell(ip, "s = %automl iris")
    assert shown == []  # IPython shows s


def test_semicolon_silences_the_result_but_not_the_panel(ip, automl, fake, shown):
    assert run_cell(ip, "%automl iris;") is None
    assert shown == [automl.latest]


def test_no_panel_shows_no_panel(ip, automl, fake, shown):
    assert run_cell(ip, "%automl iris --no-panel") is None
    assert shown == []
    assert automl.latest is not None


def test_wait_displays_first_and_returns_nothing_to_show(ip, automl, fake, shown):
    assert run_cell(ip, "%automl iris --wait") is None
    assert shown == [automl.latest]
    assert automl.latest.state.value == "done"


def test_cell_magic_result_is_shown_by_ipython(ip, automl, fake, shown):
    result = run_cell(ip, "%%automl iris\ndef build(hp):\n    return None\n")
    assert shown == [] and result is automl.latest


# -- steering ------------------------------------------------------------------------------------


@pytest.fixture
def running(ip, automl, tmp_path):
    """A slow scripted search bound to s and remembered as the latest."""
    search = scripted_search(
        ScriptedTrainer(batches_per_epoch=50, batch_seconds=0.01),
        directory=tmp_path / "steer",
        trials=3,
        epochs=2,
    )
    ip.user_ns["s"] = search
    automl.latest = search
    yield search
    search.stop()
    search.wait(10)


def _wait_for(predicate, timeout=10.0):
    import time

    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.01)


def test_pause_resume_stop(ip, running):
    result = line(ip, "pause")
    assert result and str(result).startswith("paused")
    assert running.state.value == "paused"
    assert str(line(ip, "pause")) == "the search is already paused"
    assert line(ip, "resume") and running.state.value == "running"
    assert line(ip, "stop --search s")
    running.wait(10)
    assert running.state.value == "done"
    refused = line(ip, "pause")
    assert not refused and "nothing to pause" in str(refused)


def test_prune_promote_enqueue_extend(ip, running):
    _wait_for(lambda: running.record.running is not None)
    trial = running.record.running.trial_id
    assert "stops at its next batch" in str(line(ip, f"prune {trial}"))
    _wait_for(lambda: running.record.trials[trial].status == "pruned")
    result = line(ip, f"promote {trial} --epochs 1")
    assert result and "1 more epochs" in str(result)
    result = line(ip, "enqueue units=64 optimizer=sgd dropout=0.2")
    assert result and "queued units=64, optimizer=sgd, dropout=0.2" in str(result)
    result = line(ip, "extend --trials 2 --time 5m")
    assert result and str(result).startswith("budget raised: 2 more trials and 5m more time")
    with pytest.raises(UsageError, match=r"^extend needs --trials N or --time DURATION"):
        line(ip, "extend")
    with pytest.raises(UsageError, match=r"^unknown hyperparameter 'bogus'; the space has: units"):
        line(ip, "enqueue bogus=1")
    with pytest.raises(UsageError, match=r"^enqueue takes name=value pairs .*; got 'lr'$"):
        line(ip, "enqueue lr")
    refused = line(ip, "prune 0099")
    assert not refused and "there is no trial 0099" in str(refused)


def test_status_results_and_open(ip, automl, running, capsys):
    line(ip, "stop")
    running.wait(10)
    line(ip, "status")
    out = capsys.readouterr().out
    assert out.startswith("search 'scripted' is done:") and f"directory: {running.directory}" in out
    frame = line(ip, "results")
    assert list(frame.columns[:6]) == [
        "trial_id",
        "status",
        "score",
        "epochs",
        "duration_s",
        "parent_id",
    ]
    automl.latest = None
    opened = line(ip, f"open {running.directory} --name again --no-panel")
    assert opened is automl.latest is ip.user_ns["again"]
    assert opened.directory == running.directory
    assert "search 'scripted' is done" in capsys.readouterr().out
    with pytest.raises(UsageError, match=r"^directory '.*nowhere' does not exist"):
        line(ip, f"open {running.directory / 'nowhere'}")


def test_export_before_any_trial_finished(ip, automl, tmp_path):
    automl.latest = scripted_search(directory=tmp_path / "fresh", start=False)
    with pytest.raises(UsageError, match=r"^no trial has finished with a score yet"):
        line(ip, f"export {tmp_path / 'best.keras'}")


def test_search_option_picks_a_named_search(ip, automl, running, tmp_path):
    other = scripted_search(directory=tmp_path / "other", start=False)
    ip.user_ns["other"] = other
    refused = line(ip, "pause --search other")
    assert "has not started" in str(refused)
    assert running.state.value == "running"


@pytest.mark.parametrize(
    ("pairs", "values"),
    [
        (["lr=0.001", "units=64"], {"lr": 0.001, "units": 64}),
        (
            ["act=relu", "bn=true", "flag=False", "x=None"],
            {"act": "relu", "bn": True, "flag": False, "x": None},
        ),
        (["sizes=[1, 2]", "name='a b'", "neg=-3"], {"sizes": [1, 2], "name": "a b", "neg": -3}),
        (["tuner/epochs=3"], {"tuner/epochs": 3}),
    ],
)
def test_parse_values(pairs, values):
    assert magics.parse_values(pairs) == values


# -- tiny real searches ---------------------------------------------------------------------------

BUILD_CELL = """
import keras

def build(hp):
    model = keras.Sequential([
        keras.Input(shape=(4,)),
        keras.layers.Dense(hp.Int("units", 4, 16, step=4), activation="relu"),
        keras.layers.Dense(3, activation="softmax"),
    ])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
"""


@pytest.mark.slow
def test_real_line_search(ip, automl, tmp_path, capsys):
    search = line(
        ip,
        f"iris --oracle random --trials 2 --epochs 1 --dir {tmp_path} --wait --no-panel --name s",
    )
    assert search.state.value == "done" and ip.user_ns["s"] is search
    assert len(search.results) == 2
    out = capsys.readouterr().out
    assert "trial 0000 completed" in out and "rank trial_id" in out


@pytest.mark.slow
def test_real_cell_search(ip, automl, tmp_path, capsys):
    search = ip.run_cell_magic(
        "automl",
        f"iris --oracle random --trials 1 --epochs 1 --dir {tmp_path} --wait --no-panel",
        BUILD_CELL,
    )
    assert search.state.value == "done"
    assert list(search.results["units"].dropna())  # the cell's hyperparameter
    assert "val_accuracy" in capsys.readouterr().out


@pytest.mark.slow
def test_real_cell_whose_build_returns_no_model(ip, automl, tmp_path):
    with pytest.raises(
        UsageError,
        match=r"build\(hp\) must return a compiled keras.Model; it "
        r"returned int",
    ):
        ip.run_cell_magic(
            "automl",
            f"iris --oracle random --trials 2 --epochs 1 --dir {tmp_path} --wait --no-panel",
            "def build(hp):\n    return 3\n",
        )
    assert automl.latest is None  # checked before the search was made: nothing written
    assert not any(tmp_path.iterdir())


# -- a notebook, run headless ------------------------------------------------------------------------


def _outputs_text(cell) -> str:
    parts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            parts.append(output["text"])
        elif "data" in output:
            parts.extend(str(v) for v in output["data"].values())
        elif output.get("output_type") == "error":
            parts.append(f"ERROR {output['ename']}: {output['evalue']}")
    return "".join(parts)


@pytest.mark.slow
def test_notebook_runs_headless(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    cells = [
        "%load_ext automl_nb\nimport sys\nprint(sys.prefix)",
        (
            f"%automl iris --oracle random --trials 2 --epochs 1 --dir {tmp_path / 'a'} "
            "--wait --no-panel --name s"
        ),
        "%automl results",
        (
            f"%%automl iris --oracle random --trials 1 --epochs 1 --dir {tmp_path / 'b'} --wait "
            f"--no-panel\n{BUILD_CELL}"
        ),
        (
            f"%automl iris --oracle random --trials 2 --epochs 1 --dir {tmp_path / 'c'} --no-panel "
            "--name live"
        ),
        "print(live.wait(120).value)",
        "%automl status --search s",
        f"%automl iris --oracle random --trials 1 --epochs 1 --dir {tmp_path / 'd'} --wait",
        "%automl X_trian",
    ]
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    nb.cells[-1].metadata["tags"] = ["raises-exception"]
    client = nbclient.NotebookClient(
        nb, kernel_name="python3", timeout=300, resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    texts = [_outputs_text(cell) for cell in nb.cells]
    assert texts[0].strip() == sys.prefix  # the kernel runs in this environment
    for text in texts[:-1]:
        assert "ERROR" not in text and "Traceback" not in text, text
    assert "trial 0000 completed" in texts[1] and "rank trial_id" in texts[1]
    assert "trial_id" in texts[2] and "<table" in texts[2]  # the results table
    assert "search 'b' is done: 1 trial (1 completed)" in texts[3]
    assert texts[5].strip() == "done"
    # the live text display was updated from the search thread, in its own cell
    assert "trial 0000 completed" in texts[4] and "trial 0001 completed" in texts[4]
    assert "search 'a' is done: 2 trials (2 completed) of 2" in texts[6]
    # the panel, shown once, with --wait
    views = [
        output
        for output in nb.cells[7].outputs
        if "application/vnd.jupyter.widget-view+json" in output.get("data", {})
    ]
    assert len(views) == 1, nb.cells[7].outputs
    assert "no variable 'X_trian' in the notebook" in texts[8]
    assert "Traceback" not in texts[8]
