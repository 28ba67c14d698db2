"""The documentation site: every public name has an entry in the API reference.

``make docs`` (part of ``make test``) builds the site with ``mkdocs build --strict``, which
fails on a broken link or a reference mkdocstrings cannot resolve. This fast check adds what
the build cannot know: a name added to ``automl_nb.__all__`` without an entry in
``docs/reference/api.md`` fails here.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import automl_nb

ROOT = Path(__file__).resolve().parents[1]
API_PAGE = ROOT / "docs" / "reference" / "api.md"


def _entries() -> list[str]:
    """The dotted paths of the page's mkdocstrings entries (``::: automl_nb.search``)."""
    return re.findall(r"^::: ([\w.]+)\s*$", API_PAGE.read_text(encoding="utf-8"), re.MULTILINE)


def _resolve(path: str) -> object:
    """The object an entry names: the longest importable module prefix, then attributes."""
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)
        return obj
    raise AssertionError(f"{path} names nothing importable")


def test_every_public_name_has_an_entry_in_the_api_reference():
    documented = [_resolve(path) for path in _entries()]
    missing = [name for name in automl_nb.__all__
               if not any(obj is getattr(automl_nb, name) for obj in documented)]
    assert not missing, f"{API_PAGE.relative_to(ROOT)} has no ::: entry for {missing}"

