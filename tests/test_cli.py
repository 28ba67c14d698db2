"""``python -m automl_nb``: one line and exit status 2 on bad input; progress and a leaderboard."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest

from automl_nb.testing import ScriptedTrainer, scripted_search
from automl_nb.ui import cli

ROOT = Path(__file__).resolve().parents[1]
SHELL = "search, open, ls, status, watch, pause, resume, stop, prune, promote, extend"


def run(*args: str, cwd: Path = ROOT, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.run(
        [sys.executable, "-m", "automl_nb", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=timeout,
        check=False,
    )


def one_line_error(out: subprocess.CompletedProcess) -> str:
    assert out.returncode == 2, (out.stdout, out.stderr)
    lines = out.stderr.splitlines()
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith("automl-nb: error: ")
    assert "Traceback" not in out.stderr
    return lines[0][len("automl-nb: error: ") :]


# -- bad input: exit 2, one line ------------------------------------------------------------------


def test_bad_oracle_is_one_line_naming_it():
    message = one_line_error(run("search", "digits", "--oracle", "bayes"))
    assert message == (
        "--oracle 'bayes' is not an oracle; choose one of: bayesian, hyperband, random; "
        "did you mean 'bayesian'?"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["search", "digits", "--trails", "3"], "unknown option --trails; did you mean --trials?"),
        (
            ["search", "digits", "--time", "10 minutes"],
            (
                "--time '10 minutes' is not a duration; write seconds (90) or a number with s, m "
                "or h (90s, 10m, 1h)"
            ),
        ),
        (["search", "digits", "--trials", "0"], "--trials must be at least 1; got 0"),
        (["search", "digits", "--wait"], "unknown option --wait"),
        (["search"], "search needs DATA: a bundled data set (digits, iris, wine, breast_cancer)"),
        (["search", "a", "b"], "search takes one DATA; got 2: a b"),
        (["serch", "digits"], f"unknown command 'serch'; commands are: {SHELL}; did you mean"),
        (["digits"], f"unknown command 'digits'; commands are: {SHELL}; to search it:"),
        ([], "name a command: search DATA [options] or open DIR (see --help)"),
        (["open"], "python -m automl_nb open needs DIR; usage: python -m automl_nb open DIR"),
        (["open", "--help=yes"], "--help takes no value; got 'yes'"),
        (["worker", "--threads", "x"], "--threads 'x' is not a whole number; write for example"),
    ],
)
def test_bad_input_in_process(capsys, args, message):
    assert cli.main(args) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"automl-nb: error: {message}")


def test_library_errors_are_one_line(tmp_path):
    message = one_line_error(run("search", "no_such_set"))
    assert message.startswith("data 'no_such_set' is not a bundled data set, a CSV file")
    message = one_line_error(run("search", "iris", "--objective", "val_acc", "--dir", "x"))
    assert message.startswith("--objective 'val_acc' is not a metric")
    message = one_line_error(run("open", str(tmp_path / "nowhere")))
    assert message.startswith("directory '") and "does not exist" in message


def test_existing_directory_suggests_options_not_python(capsys, tmp_path):
    """The library's error reaches the command line in its words, built from the error's fields."""
    old = tmp_path / "old"
    scripted_search(directory=old, start=False)
    assert cli.main(["search", "iris", "--dir", str(old)]) == 2
    assert capsys.readouterr().err == (
        f"automl-nb: error: --dir '{old}' already holds a search; pass --overwrite to replace it "
        f"or python -m automl_nb open {old} to reopen and continue it\n"
    )


def test_deterministic_reaches_the_library(monkeypatch):
    import importlib

    entry = importlib.import_module("automl_nb._entry")
    calls = []

    def fake_search(data, **kwargs):
        calls.append((data, kwargs))
        raise entry.SearchError("stop here")

    monkeypatch.setattr(entry, "search", fake_search)
    assert cli.main(["search", "iris", "--seed", "2", "--deterministic"]) == 2
    data, kwargs = calls[0]
    assert data == "iris" and (kwargs["seed"], kwargs["deterministic"]) == (2, True)
    assert cli.main(["search", "iris"]) == 2
    assert calls[1][1]["deterministic"] is False


def test_the_task_reaches_the_library_and_the_header_says_why(monkeypatch, capsys, tmp_path):
    import importlib

    from automl_nb.testing import scripted_search

    entry = importlib.import_module("automl_nb._entry")
    calls = []

    def fake_search(data, **kwargs):
        calls.append(kwargs)
        search = scripted_search(directory=tmp_path / "s", trials=1, epochs=1, start=False)
        search.settings = dataclasses.replace(search.settings, data={
            **search.settings.data, "task": "regression", "task_reason": "target 'price' holds 812 "
            "distinct whole numbers for 900 rows, too many to be classes"})
        return search

    monkeypatch.setattr(entry, "search", fake_search)
    assert cli.main(["search", "prices.csv", "--target", "price", "--task", "regression"]) == 0
    assert calls[0]["task"] == "regression"
    out = capsys.readouterr().out.splitlines()
    assert out[1] == ("task: regression, as target 'price' holds 812 distinct whole numbers for 900 "
                      "rows, too many to be classes")


def test_help(capsys):
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "python -m automl_nb search DATA [options]" in out and "open DIR" in out
    assert cli.main(["search", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--oracle NAME" in out and "--time DURATION" in out and "--wait" not in out
    assert "--deterministic" in out
    assert cli.main(["open", "--help"]) == 0  # help first, though DIR is missing
    out = capsys.readouterr().out
    assert out.startswith("usage: python -m automl_nb open DIR\n") and "--no-panel" not in out


# -- the text views ------------------------------------------------------------------------------


def test_open_prints_the_leaderboard_best_first(capsys, tmp_path):
    search = scripted_search(
        ScriptedTrainer(batches_per_epoch=1), directory=tmp_path / "s", trials=3, epochs=2
    )
    search.wait(10)
    assert cli.main(["open", str(tmp_path / "s")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("search 'scripted' is done: 3 trials (3 completed) of 3; best")
    table = out[out.index("rank") :].splitlines()
    assert table[0].split()[:6] == ["rank", "trial_id", "status", "val_accuracy", "epochs", "time"]
    scores = [float(row.split()[3]) for row in table[1:]]
    assert scores == sorted(scores, reverse=True) and len(scores) == 3


def test_progress_prints_a_line_per_trial_and_follows_epochs_on_a_terminal(tmp_path):
    import io

    search = scripted_search(
        ScriptedTrainer(batches_per_epoch=1), directory=tmp_path / "p", trials=2, start=False
    )
    plain, live = io.StringIO(), io.StringIO()
    search.subscribe(cli.Progress(search, plain))
    search.subscribe(cli.Progress(search, live, live=True))
    search.start()
    search.wait(10)
    lines = plain.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("trial 0000 completed  val_accuracy 0.")
    assert "3 epochs" in lines[0] and "units=" in lines[0]
    assert "\r  trial 0001  epoch 2/3  val_accuracy" in live.getvalue()


# -- tiny real searches ----------------------------------------------------------------------------


@pytest.mark.slow
def test_real_search_prints_progress_and_a_leaderboard(tmp_path):
    out = run(
        "search",
        "digits",
        "--oracle",
        "random",
        "--trials",
        "2",
        "--epochs",
        "1",
        "--dir",
        str(tmp_path / "x"),
    )
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("searching digits with the random oracle: 2 trials, 1 epoch")
    assert sum(line.startswith("trial 000") for line in lines) == 2
    assert any(line.split()[:2] == ["rank", "trial_id"] for line in lines)
    assert "search 'x' is done: 2 trials (2 completed) of 2" in out.stdout
    assert f"reopen it with: python -m automl_nb open {tmp_path / 'x'}" in out.stdout

    reopened = run("open", str(tmp_path / "x"))
    assert reopened.returncode == 0, reopened.stderr
    assert "search 'x' is done" in reopened.stdout and "rank" in reopened.stdout
