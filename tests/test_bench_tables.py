"""bench/tables.py makes its markdown from results files alone (a hand-made folder here)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"


@pytest.fixture()
def tables():
    sys.path.insert(0, str(BENCH))
    try:
        spec = importlib.util.spec_from_file_location("bench_tables", BENCH / "tables.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.path.remove(str(BENCH))


def _file(folder: Path, name: str, runs: list[dict], bench: str = "quality", smoke: bool = False):
    data = {"bench": bench, "commit": {"hash": "abcdef1234", "dirty": False},
            "date": "2026-12-07T16:00:00+00:00", "machine": {}, "load": {}, "smoke": smoke,
            "runs": runs}
    (folder / name).write_text(json.dumps(data))


def _run(task, system, test, group="report", budget=30.0):
    return {"task": task, "system": system, "test": test, "group": group, "budget_s": budget}


def test_tables_take_medians_over_files_and_skip_smoke_and_other_benches(tables, tmp_path):
    _file(tmp_path, "quality-1.json", [_run("ames", "automl_nb", 0.80), _run("ames", "hgb", 0.90),
                                       _run("wage", "automl_nb", 0.30), _run("wage", "hgb", 0.32),
                                       _run("digits", "automl_nb", 0.99, group="tuning")])
    _file(tmp_path, "quality-2.json", [_run("ames", "automl_nb", 0.84), _run("ames", "automl_nb", 0.70)])
    _file(tmp_path, "quality-3-smoke.json", [_run("ames", "hgb", 0.10)], smoke=True)
    _file(tmp_path, "quantize-1.json", [_run("ames", "hgb", 0.20)], bench="quantize")
    (tmp_path / "broken.json").write_text("{")
    text = tables.main(["--results", str(tmp_path)])
    lines = text.splitlines()
    assert "| task | automl_nb | hgb |" in lines
    assert "| ames | 0.800 (3) | 0.900 |" in lines  # the median of 0.80, 0.84 and 0.70
    assert "| wage | 0.300 | 0.320 |" in lines
    assert "| mean of 2 | 0.550 | 0.610 |" in lines
    assert "digits" not in text and "0.100" not in text and "0.200" not in text
    assert "quality-1.json (commit abcdef12" in text and "quality-2.json" in text


def test_tables_write_between_the_markers(tables, tmp_path):
    _file(tmp_path, "quality-1.json", [_run("ames", "automl_nb", 0.8)])
    readme = tmp_path / "README.md"
    readme.write_text("intro\n<!-- quality:report -->\nold table\n<!-- /quality:report -->\nend\n")
    tables.main(["--results", str(tmp_path), "--out", str(readme)])
    text = readme.read_text()
    assert text.startswith("intro\n<!-- quality:report -->\n") and text.endswith("<!-- /quality:report -->\nend\n")
    assert "old table" not in text and "| ames | 0.800 |" in text
    assert "(no tuning results)" in tables.main(["--results", str(tmp_path), "--group", "tuning"])
