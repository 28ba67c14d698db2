"""The suite's own machinery (tests/conftest.py): on CI (the ``CI`` environment variable set)
a skipped test fails the run, since a test that cannot run there runs nowhere anyone looks;
and, side by side in xdist workers, the browser tests stay together and in order."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

SKIPPING = '''
import pytest

def test_needs_a_tool():
    pytest.skip("needs a tool this machine lacks")

@pytest.mark.skipif(True, reason="a condition that holds here")
def test_marked():
    pass

def test_runs():
    pass
'''


def _pytest(folder: Path, ci: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "tests.conftest",
         "-rfs", str(folder)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )


@pytest.fixture
def suite(tmp_path):
    folder = tmp_path / "suite"
    folder.mkdir()
    (folder / "test_skips.py").write_text(SKIPPING)
    (tmp_path / "module").mkdir()
    (tmp_path / "module" / "test_module_skip.py").write_text(
        'import pytest\npytest.importorskip("no_such_module_x")\n'
    )
    return tmp_path


def test_skips_fail_on_ci(suite):
    done = _pytest(suite / "suite", "true")
    assert done.returncode == 1, done.stdout
    assert "1 failed, 1 passed, 1 error" in done.stdout, done.stdout  # a skipif fails at its setup
    assert ("test_needs_a_tool was skipped on CI, where every test must run (CI='true'): "
            "needs a tool this machine lacks") in done.stdout
    assert "test_marked was skipped on CI" in done.stdout and "a condition that holds here" in done.stdout
    # a whole module skipped as it is collected (importorskip): an error that stops the run
    done = _pytest(suite / "module", "true")
    assert done.returncode == 2, done.stdout
    assert "test_module_skip.py was skipped on CI" in done.stdout and "no_such_module_x" in done.stdout


def test_skips_stay_skips_off_ci(suite):
    done = _pytest(suite, None)
    assert done.returncode == 0, done.stdout
    assert "1 passed, 3 skipped" in done.stdout, done.stdout


@pytest.mark.parametrize(
    ("value", "ci"),
    [(None, False), ("", False), ("0", False), ("false", False), ("No", False),
     ("true", True), ("1", True), ("yes", True)],
)
def test_what_counts_as_ci(monkeypatch, value, ci):
    from .conftest import on_ci

    if value is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", value)
    assert on_ci() is ci


def test_the_browser_tests_are_one_unit_of_work_and_the_others_one_each():
    from .conftest import _unit

    lab, look = "tests/browser/test_browser_lab.py::test_01_x", "tests/browser/test_browser_look.py::test_1"
    assert _unit(lab) == _unit(look) == "tests/browser"
    for nodeid in ("tests/test_events.py::test_a", "tests/panel/test_panel_live.py::test_b[1]"):
        assert _unit(nodeid) == nodeid
