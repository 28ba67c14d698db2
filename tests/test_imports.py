"""The core stays light: no TensorFlow at import, no UI in the core."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path


def run(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                         timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_import_pulls_in_no_tensorflow_or_ui():
    # (how long it takes is measured by bench/import_time.py, not asserted here)
    out = run("""
        import sys
        import automl_nb
        heavy = [m for m in ("tensorflow", "keras", "keras_tuner", "ipywidgets", "plotly", "pandas",
                             "sklearn", "IPython") if m in sys.modules]
        print(",".join(heavy) or "none")
    """)
    assert out == "none"


def test_the_core_runs_with_the_ui_libraries_blocked():
    out = run("""
        import sys
        for name in ("ipywidgets", "plotly", "IPython", "anywidget"):
            sys.modules[name] = None  # any import of them now raises ImportError
        import tempfile
        import automl_nb
        from automl_nb import _entry, _search, control, events, record, data, spaces, oracles, store
        from automl_nb import errors, _kt_compat, teaching
        from automl_nb.backends import base, engine, local, scripted
        from automl_nb.backends import workers
        from automl_nb.testing import ScriptedTrainer, scripted_search
        s = scripted_search(ScriptedTrainer(), directory=tempfile.mkdtemp() + "/s", trials=2, epochs=2)
        print(s.wait(20).value, len(s.results))
    """)
    assert out == "done 2"


def test_search_module_imports_no_tensorflow():
    out = run("""
        import sys
        import automl_nb._search, automl_nb._entry, automl_nb.backends.local, automl_nb._kt_compat
        import automl_nb.backends.workers, automl_nb.store, automl_nb.teaching
        print("tensorflow" in sys.modules, "keras" in sys.modules)
    """)
    assert out == "False False"


def test_tensorflow_log_level_is_set_only_when_the_user_has_not(monkeypatch):
    from automl_nb._util import quiet_tensorflow_startup

    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    quiet_tensorflow_startup()
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "2"
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "0")  # the user wants TensorFlow's INFO lines
    quiet_tensorflow_startup("3")
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "0"


def test_tensorflow_log_level_is_set_in_one_place():
    """Only ``_util.quiet_tensorflow_startup`` writes TF_CPP_MIN_LOG_LEVEL."""
    package = Path(__file__).resolve().parents[1] / "automl_nb"
    writers = sorted(str(p.relative_to(package)) for p in package.rglob("*.py")
                     if '"TF_CPP_MIN_LOG_LEVEL"' in p.read_text())
    assert writers == ["_util.py"]
