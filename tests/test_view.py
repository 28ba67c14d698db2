"""What a view needs from a search (automl_nb.view), checked both ways.

1. A real scripted Search, a Replay of a recording that ships with the package and the panel
   tests' FakeSearch each have every member of the protocols they stand for, each of the
   kind the protocol says (a property or attribute, or a method that takes every call the
   protocol allows).
2. The views (panel/, teaching/, ui/text.py) use no member of a search that the protocols do
   not list, and every member listed is used: read from their source, so a view that starts
   to read something new of a search fails here until the protocol says so.
"""

from __future__ import annotations

import ast
import functools
import inspect
from pathlib import Path

import pytest

from automl_nb import SearchState
from automl_nb.replays import Replay
from automl_nb.testing import scripted_search
from automl_nb.testing.panel import FakeSearch
from automl_nb.view import HasOracle, RecordedSurrogates, SearchReport, SearchView, Steppable

PACKAGE = Path(__file__).resolve().parents[1] / "automl_nb"
CAPABILITIES = (Steppable, HasOracle, RecordedSurrogates)
#: What each imitation of a search stands for.
SATISFIES = {
    "search": (SearchView, SearchReport, Steppable, HasOracle),
    "replay": (SearchView, Steppable, RecordedSurrogates),
    "fake": (SearchView,),
}


@pytest.fixture(scope="module")
def searches(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("view")
    search = scripted_search(directory=tmp / "scripted", trials=2, epochs=2)
    assert search.wait(20) is SearchState.DONE
    replay = Replay("digits-bayesian", speed=float("inf"), start=False)  # a recording with snapshots
    yield {"search": search, "replay": replay, "fake": FakeSearch(directory=tmp / "fake")}


def members(protocol: type) -> dict[str, str]:
    """A protocol's members, inherited ones included: name -> "property" or "method"."""
    out: dict[str, str] = {}
    for cls in reversed(protocol.__mro__):
        if not getattr(cls, "_is_protocol", False) or cls.__module__ != "automl_nb.view":
            continue
        for name, value in vars(cls).items():
            if not name.startswith("_"):
                out[name] = "property" if isinstance(value, property) else "method"
    return out


def kind_on(obj: object, name: str) -> str | None:
    """How ``obj`` has ``name``: "property", "method", "attribute" (a plain value), or None."""
    try:
        static = inspect.getattr_static(obj, name)
    except AttributeError:
        return None
    if isinstance(static, property | functools.cached_property):
        return "property"
    if isinstance(static, staticmethod | classmethod) or inspect.isfunction(static):
        return "method"
    return "attribute"


def takes_every_call(declared, implemented) -> str | None:
    """Why the bound method ``implemented`` refuses a call that the protocol's ``declared``
    allows (all its arguments by position, all by keyword, only the required ones); None if
    it takes them all."""
    params = list(inspect.signature(declared).parameters.values())[1:]  # without self
    required = [p for p in params if p.default is inspect.Parameter.empty]
    signature = inspect.signature(implemented)
    calls = {
        "by position": ([object()] * len(params), {}),
        "by keyword": ([], {p.name: object() for p in params}),
        "required only": ([object()] * len(required), {}),
    }
    for what, (args, kwargs) in calls.items():
        try:
            signature.bind(*args, **kwargs)
        except TypeError as exc:
            return f"{what}: {exc}"
    return None


@pytest.mark.parametrize("which", list(SATISFIES))
def test_each_imitation_of_a_search_has_every_member_of_its_protocols(searches, which):
    obj = searches[which]
    for protocol in SATISFIES[which]:
        assert isinstance(obj, protocol), f"{which} is not a {protocol.__name__}"
        for name, declared in members(protocol).items():
            found = kind_on(obj, name)
            assert found is not None, f"{which} has no {name} ({protocol.__name__})"
            if declared == "property":
                assert found in ("property", "attribute"), (
                    f"{which}.{name} is a {found}; {protocol.__name__} reads it as a value")
                getattr(obj, name)  # and it can be read
            else:
                assert found == "method", (
                    f"{which}.{name} is a {found}; {protocol.__name__} calls it")
                refused = takes_every_call(getattr(protocol, name), getattr(obj, name))
                assert refused is None, f"{which}.{name} refuses a call {refused}"


def test_a_protocol_that_a_value_lacks_is_told_apart(searches):
    """The kind check can fail: a property where a method is wanted, a missing member."""
    assert kind_on(searches["search"], "state") == "property"
    assert kind_on(searches["search"], "pause") == "method"
    assert kind_on(searches["search"], "directory") == "attribute"
    assert kind_on(searches["fake"], "step") is None
    assert not isinstance(searches["fake"], Steppable)

    def pause(self, now):  # a pause that needs an argument the panel never gives
        ...

    assert takes_every_call(SearchView.pause, pause.__get__(object())) is not None


# -- the views use what the protocols list, and no more ---------------------------------------

#: The modules whose reads of a search the protocols list: the module -> the protocols it may use.
VIEWS = {
    **{p: (SearchView, *CAPABILITIES) for p in sorted((PACKAGE / "panel").rglob("*.py"))},
    **{p: (SearchView, *CAPABILITIES) for p in sorted((PACKAGE / "teaching").rglob("*.py"))},
    PACKAGE / "ui" / "text.py": (SearchReport, *CAPABILITIES),
}
#: Names that hold a search in every view (``search``, ``self.search``), and per module.
SEARCH_NAMES = {"search"}
MORE_NAMES = {PACKAGE / "teaching" / "_common.py": {"source"}}  # record_of, oracle_of
#: Read of a name above that is not the search's: oracle_of(source) also takes an oracle,
#: recognised by its populate_space.
NOT_THE_SEARCHS = {(PACKAGE / "teaching" / "_common.py", "populate_space")}


def _holds_a_search(node: ast.AST, names: set[str]) -> bool:
    if isinstance(node, ast.Name):
        return node.id in names
    return (isinstance(node, ast.Attribute) and node.attr in names
            and isinstance(node.value, ast.Name) and node.value.id == "self")


def search_reads(path: Path) -> list[tuple[int, str]]:
    """(line, member) for every read of a search in the module: ``search.x``, ``self.search.x``,
    ``getattr(search, "x")``, ``hasattr(search, "x")``; a getattr of a name not written in the
    source is a read of ``"?"`` (nothing could check it)."""
    names = SEARCH_NAMES | MORE_NAMES.get(path, set())
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and _holds_a_search(node.value, names):
            out.append((node.lineno, node.attr))
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
              and node.func.id in ("getattr", "hasattr", "setattr") and node.args
              and _holds_a_search(node.args[0], names)):
            arg = node.args[1] if len(node.args) > 1 else None
            named = isinstance(arg, ast.Constant) and isinstance(arg.value, str)
            out.append((node.lineno, arg.value if named else "?"))
    return [(line, name) for line, name in out if (path, name) not in NOT_THE_SEARCHS]


def test_the_views_read_of_a_search_only_what_the_protocols_list():
    unlisted, used = [], set()
    for path, protocols in VIEWS.items():
        allowed = set().union(*(members(p) for p in protocols))
        for line, name in search_reads(path):
            used.add(name)
            if name not in allowed:
                unlisted.append(f"{path.relative_to(PACKAGE.parent)}:{line} reads {name!r} of a "
                                f"search; add it to a protocol in automl_nb/view.py")
    assert not unlisted, "\n".join(unlisted)
    listed = set().union(*(members(p) for p in (SearchReport, *CAPABILITIES)))
    assert listed - used == set(), "listed in automl_nb/view.py, read by no view"


def test_the_scan_sees_each_way_a_view_reads_a_search(tmp_path):
    view = tmp_path / "view.py"
    view.write_text(
        "def f(search, other):\n"
        "    search.record, other.record\n"
        "    getattr(search, 'step', None), hasattr(search, 'oracle')\n"
        "    getattr(search, other)\n"
        "class V:\n"
        "    def g(self):\n"
        "        return self.search.results\n"
    )
    assert sorted(search_reads(view)) == [(2, "record"), (3, "oracle"), (3, "step"), (4, "?"),
                                          (7, "results")]
