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
    out = quality.main(["--smoke", "--task", "digits", "--json", str(tmp_path / "q.json")])
    (digits,) = out
    systems = digits["systems"]
    assert set(systems) == {"automl_nb", "kt_bayesian", "optuna_tpe", "hand"}  # no hgb: not a table
    for name, run in systems.items():
        assert run["test"] is not None and 0 <= run["test"] <= 1, (name, run)
        assert run["trials"] >= 1 and len(run["best_so_far"]) == len(digits["marks_s"])
    printed = capsys.readouterr().out
    assert "automl_nb / kt_bayesian: test" in printed and "load " in printed
    assert (tmp_path / "q.json").exists()


def test_smoke_on_a_table_with_text_and_missing_values(quality):
    pytest.importorskip("plotnine")
    (penguins,) = quality.main(["--smoke", "--task", "penguins", "--system", "automl_nb,hgb"])
    assert set(penguins["systems"]) == {"automl_nb", "hgb"}
    assert all(run["test"] is not None for run in penguins["systems"].values())


def test_unknown_task_or_system_is_refused(quality):
    with pytest.raises(SystemExit):
        quality.main(["--task", "mnist"])
