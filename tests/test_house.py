"""The shape of the package, checked: the rules a change must keep (see ARCHITECTURE.md).

1. No import cycle inside the package, function-level imports and imports under
   ``TYPE_CHECKING`` included (a cycle hidden from the interpreter is still one for a reader).
2. No module reads or writes another module's underscore attribute.
3. Private paths of dependencies (``keras_tuner.src``, ``keras.src``, ``tensorflow.python``)
   are imported in ``_kt_compat.py`` only.
4. The oracle is extended in one place (``oracles.steer``), never by assigning a method to an
   instance.
5. Every module starts with a docstring that says what it is for, and none is over
   ``MAX_LINES`` lines unless listed here with its reason.
6. Statuses are named by their members in ``status.py``, never as bare words.
7. No module-level mutable state but the documented caches and locks in ``DOCUMENTED_STATE``;
   ``_kt_compat`` holds small private-part touches, each tested, and no behaviour classes.
8. The settings file (``search.json``) is read and written by ``store.py`` alone, and the
   settings are read as attributes of ``automl_nb.settings.Settings``, never as a dict.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "automl_nb"
PRIVATE_PATHS = ("keras_tuner.src", "keras.src", "tensorflow.python")
COMPAT = "automl_nb._kt_compat"
MAX_LINES = 600
#: Modules allowed past MAX_LINES, with the reason.
LONG_MODULES: dict[str, str] = {}
#: Underscore names that are documented public API (namedtuple's methods, os._exit).
CONVENTIONAL = {"_replace", "_asdict", "_fields", "_make", "_exit",  # + os._exit
                "_repr_mimebundle_"}  # IPython's display protocol


def modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = modules()


def _imports(name: str, path: Path) -> set[str]:
    """The package's modules ``name`` imports, anywhere in it: at the top, in a function, or
    under ``TYPE_CHECKING`` (for the type checker only, but a dependency all the same)."""
    tree = ast.parse(path.read_text())
    is_package = path.name == "__init__.py"
    base = name.split(".") if is_package else name.split(".")[:-1]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("automl_nb"):
                    found.add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = base[: len(base) - (node.level - 1)] if node.level > 1 else list(base)
                target = ".".join(parts + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.startswith("automl_nb"):
                for alias in node.names:
                    sub = f"{target}.{alias.name}"
                    found.add(sub if sub in MODULES else target)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    found.discard(name)
    return {m for m in found if m in MODULES}


def test_no_import_cycle_inside_the_package():
    graph = {name: _imports(name, path) for name, path in MODULES.items()}
    cycles = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def walk(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                walk(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            walk(node)
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def _defined_private_names(tree: ast.AST) -> set[str]:
    """Underscore names a module defines: functions, classes, module and class attributes,
    and ``self._x``/``cls._x`` it assigns."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
    return {n for n in names if n.startswith("_") and not n.startswith("__")}


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_touches_another_modules_underscore_names(name):
    if name == COMPAT:
        return  # the one place that touches dependencies' private parts, on purpose
    path = MODULES[name]
    tree = ast.parse(path.read_text())
    own = _defined_private_names(tree)
    bad = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("automl_nb")):
            bad += [f"imports {alias.name}" for alias in node.names
                    if alias.name.startswith("_") and not alias.name.startswith("__")
                    and f"{node.module or ''}.{alias.name}".lstrip(".") not in MODULES
                    and not _is_module(name, node, alias.name)]
        if isinstance(node, ast.Attribute):
            attr = node.attr
            if not attr.startswith("_") or attr.startswith("__") or attr in CONVENTIONAL:
                continue
            if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
                continue
            if attr in own:
                continue  # the module's own private name, on another instance of its own class
            bad.append(f"line {node.lineno}: .{attr}")
    assert not bad, f"{name} touches underscore names it does not own: {', '.join(bad)}"


def _is_module(name: str, node: ast.ImportFrom, alias: str) -> bool:
    """``from . import _kt_compat``: importing a private module of the package is fine."""
    path = MODULES[name]
    base = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    parts = base[: len(base) - (node.level - 1)] if node.level > 1 else list(base)
    target = ".".join(parts + ([node.module] if node.module else []))
    return f"{target}.{alias}" in MODULES


@pytest.mark.parametrize("name", sorted(MODULES))
def test_private_dependency_paths_only_in_the_compat_module(name):
    if name == COMPAT:
        return
    text = MODULES[name].read_text()
    tree = ast.parse(text)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.startswith(PRIVATE_PATHS)]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(PRIVATE_PATHS):
            found.append(node.module)
    assert not found, f"{name} imports private paths {found}; reach them through {COMPAT}"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_method_is_assigned_to_an_oracle_instance(name):
    tree = ast.parse(MODULES[name].read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Attribute) and target.attr in (
                    "populate_space", "create_trial", "end_trial", "update_trial"
                ):
                    pytest.fail(f"{name} line {node.lineno} replaces {target.attr} on an instance; "
                                "extend the oracle through oracles.steer")


@pytest.mark.parametrize("name", sorted(MODULES))
def test_each_module_says_what_it_is_for_and_stays_small(name):
    path = MODULES[name]
    text = path.read_text()
    doc = ast.get_docstring(ast.parse(text))
    assert doc and len(doc.split()) >= 5, f"{name} has no docstring saying what it is for"
    lines = text.count("\n")
    if name not in LONG_MODULES:
        assert lines <= MAX_LINES, f"{name} has {lines} lines (over {MAX_LINES}); split it"


# -- statuses are named by their enum members ---------------------------------------------
STATUS_MODULE = "automl_nb.status"


def _status_words() -> set[str]:
    from automl_nb import status

    return {m.value for enum in (status.SearchState, status.TrialStatus, status.OracleStatus)
            for m in enum}


#: A status word used as a string constant outside ``status.py`` on purpose: (module, word)
#: -> why it is not a status there.
STATUS_WORD_USES: dict[tuple[str, str], str] = {
    ("automl_nb.backends.workers.chief", "paused"): "a field of the chief's poll answer",
    ("automl_nb.backends.workers.worker", "paused"): "a field of the chief's poll answer",
    ("automl_nb.teaching.bayesian", "completed"): "a field: how many trials the oracle completed",
    ("automl_nb.teaching.bayesian", "running"): "a field: whether the next trial runs now",
    ("automl_nb.teaching.hyperband", "done"): "a bracket's status (not started, running, done, "
                                               "ended early), not a trial's or the search's",
    ("automl_nb.teaching.hyperband", "running"): "a bracket's status, as for done",
}


def _docstring_nodes(tree: ast.AST) -> set[int]:
    """ids of the string constants that are docstrings (a module's, class's or function's)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def bare_status_literals(name: str, words: set[str]) -> list[str]:
    """``"word"`` constants equal to a status value in module ``name``'s code (docstrings and
    whole-sentence strings are not status words)."""
    tree = ast.parse(MODULES[name].read_text())
    docstrings = _docstring_nodes(tree)
    return [f"line {node.lineno}: {node.value!r}" for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and node.value in words and id(node) not in docstrings
            and (name, node.value) not in STATUS_WORD_USES]


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_bare_status_literal_outside_the_status_module(name):
    if name == STATUS_MODULE:
        return
    bad = bare_status_literals(name, _status_words())
    assert not bad, (f"{name} spells statuses as bare strings ({', '.join(bad)}); name them by "
                     f"their member in {STATUS_MODULE} (or list a non-status use in "
                     "STATUS_WORD_USES)")


def test_the_status_scan_sees_a_bare_literal(tmp_path, monkeypatch):
    module = tmp_path / "probe.py"
    module.write_text('"""A probe."""\n\n\ndef f(t):\n    """Says "completed" in prose."""\n'
                      '    return t.status == "completed" or {"paused": 1}\n')
    monkeypatch.setitem(MODULES, "automl_nb.probe", module)
    assert bare_status_literals("automl_nb.probe", _status_words()) == [
        "line 6: 'completed'", "line 6: 'paused'"]


def test_status_words_are_what_users_see():
    from automl_nb.status import SearchState, TrialStatus

    assert [s.value for s in TrialStatus] == ["running", "completed", "pruned", "failed", "stopped"]
    assert [s.value for s in SearchState] == ["idle", "running", "paused", "stopping", "done",
                                             "failed"]


def test_the_cycle_check_counts_imports_under_type_checking(tmp_path, monkeypatch):
    a, b = tmp_path / "a.py", tmp_path / "b.py"
    a.write_text('"""A."""\nfrom typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n'
                 '    from automl_nb.probe_b import B\n')
    b.write_text('"""B."""\n\n\ndef f():\n    from automl_nb import probe_a\n')
    monkeypatch.setitem(MODULES, "automl_nb.probe_a", a)
    monkeypatch.setitem(MODULES, "automl_nb.probe_b", b)
    assert _imports("automl_nb.probe_a", a) == {"automl_nb.probe_b"}
    assert _imports("automl_nb.probe_b", b) == {"automl_nb.probe_a"}


# -- no module-level mutable state but documented caches ----------------------------------
#: Calls whose result is mutable state (a lock, a counter, a container).
STATEFUL_CALLS = {"Lock", "RLock", "Condition", "Event", "Semaphore", "BoundedSemaphore", "count",
                  "list", "dict", "set", "defaultdict", "OrderedDict", "deque", "Counter",
                  "WeakKeyDictionary", "WeakValueDictionary", "WeakSet", "local", "Queue"}
#: Module-level mutable state kept on purpose: (module, name) -> why it must be the process's.
DOCUMENTED_STATE: dict[tuple[str, str], str] = {
    ("automl_nb._kt_compat", "_quiet_lock"): "guards the one stand-in for KerasTuner's own "
                                             "process-wide config.DEBUG flag",
    ("automl_nb.backends.tuner", "BUILD_LOCK"): "Keras's clear_session resets every thread's "
                                                "state: the process's builds must not overlap",
    ("automl_nb.data.images", "_STREAM"): "a cache: the Keras stream class, made once Keras is "
                                          "imported",
    ("automl_nb.panel.chart", "_library"): "a cache: the kernel's one plotly.js library widget",
    ("automl_nb.panel.chart", "_library_lock"): "guards that cache",
    ("automl_nb.oracles", "_KINDS"): "the registry of oracle kinds: a registration is the "
                                     "process's by design (oracles.register)",
    ("automl_nb.families.base", "_FAMILIES"): "the registry of data families: a registration "
                                              "is the process's by design (families.register)",
    ("automl_nb.doors", "_FOLDS"): "a cache: each journal read so far, folded, so a list of "
                                   "searches asked for every second reads only what is new",
    ("automl_nb.doors", "_FOLDS_LOCK"): "guards that cache",
    ("automl_nb.panel.registry", "_CHARTS"): "the registry of panel charts: a registration is "
                                             "the process's by design (registry.register)",
}


def _is_constant_name(name: str) -> bool:
    return name.isupper() or (name.startswith("_") and name[1:].isupper())


def module_state(name: str) -> list[str]:
    """Module-level names of ``name`` bound to mutable state: a list, dict or set display (or
    comprehension) under a lower-case name, or under an UPPER_CASE one the module changes in
    place; a lock, counter or container made by a call, under any name; a name a function
    rebinds (``global``). UPPER_CASE displays read and never written are constants by
    convention, and so are tuples and frozensets anywhere."""
    tree = ast.parse(MODULES[name].read_text())
    changed = _changed_names(tree)
    found = []
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        names = [t.id for t in targets if isinstance(t, ast.Name)]
        display = isinstance(value, ast.List | ast.Dict | ast.Set | ast.ListComp | ast.DictComp
                             | ast.SetComp)
        call = isinstance(value, ast.Call) and (
            (isinstance(value.func, ast.Name) and value.func.id in STATEFUL_CALLS)
            or (isinstance(value.func, ast.Attribute) and value.func.attr in STATEFUL_CALLS))
        for target in names:
            if target == "__all__" or (name, target) in DOCUMENTED_STATE:
                continue
            if call or (display and (not _is_constant_name(target) or target in changed)):
                found.append(f"line {node.lineno}: {target}")
    for node in ast.walk(tree):
        if isinstance(node, ast.Global):
            found += [f"line {node.lineno}: global {g}" for g in node.names
                      if (name, g) not in DOCUMENTED_STATE]
    return found


MUTATORS = {"append", "extend", "insert", "add", "update", "setdefault", "pop", "popitem",
            "remove", "discard", "clear"}


def _changed_names(tree: ast.AST) -> set[str]:
    """Names the module changes in place: ``NAME.append(...)``, ``NAME[k] = v``, ``del NAME[k]``."""
    changed = set()
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in MUTATORS and isinstance(node.func.value, ast.Name)):
            changed.add(node.func.value.id)
        elif (isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store | ast.Del)
              and isinstance(node.value, ast.Name)):
            changed.add(node.value.id)
    return changed


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_level_mutable_state_but_documented_caches(name):
    bad = module_state(name)
    assert not bad, (f"{name} keeps process-wide state at module level ({', '.join(bad)}); "
                     "keep it on the object that owns it, or document it in DOCUMENTED_STATE")


def test_the_state_scan_sees_a_lock_and_a_lower_case_list(tmp_path, monkeypatch):
    module = tmp_path / "probe.py"
    module.write_text('"""A probe."""\nimport itertools\nimport threading\n\nTABLE = {"a": 1}\n'
                      'NAMES = ("a",)\n_seen: set[str] = set()\n_lock = threading.Lock()\n'
                      'ids = itertools.count()\nwarned = []\nMADE = []\n_one = None\n\n\n'
                      'def f():\n    global _one\n    MADE.append(1)\n    return TABLE["a"]\n')
    monkeypatch.setitem(MODULES, "automl_nb.probe", module)
    assert module_state("automl_nb.probe") == [
        "line 7: _seen", "line 8: _lock", "line 9: ids", "line 10: warned", "line 11: MADE",
        "line 16: global _one"]


# -- _kt_compat holds touches, not behaviour ----------------------------------------------
def test_the_compat_module_holds_small_touches_each_tested():
    """``_kt_compat`` is functions that touch a private part (and its error), not a library
    of behaviour: no public class but CompatError, and each public function is called in
    ``tests/test_kt_compat.py``."""
    tree = ast.parse(MODULES[COMPAT].read_text())
    classes = [n.name for n in tree.body
               if isinstance(n, ast.ClassDef) and not n.name.startswith("_")]
    assert classes == ["CompatError"], (f"behaviour classes in {COMPAT}: move them to the module "
                                        "they serve")
    tests = (Path(__file__).parent / "test_kt_compat.py").read_text()
    untested = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)
                and not n.name.startswith("_") and f"compat.{n.name}(" not in tests]
    assert not untested, f"{COMPAT} functions without a test in test_kt_compat.py: {untested}"


# -- the settings file is the store's -----------------------------------------------------
SETTINGS_FILE = "search.json"
SETTINGS_OWNER = "automl_nb.store"
#: What reaches the settings file: its name's constant and the Store's path to it.
SETTINGS_FILE_NAMES = {"SETTINGS_NAME", "settings_path"}



def _names_settings(node: ast.AST) -> bool:
    return (isinstance(node, ast.Name) and node.id == "settings") or (
        isinstance(node, ast.Attribute) and node.attr == "settings")


def _settings_file_touches(tree: ast.AST) -> list[str]:
    """Where code (not a docstring) names the settings file, reaches its path or reads the
    settings as a dict (``settings[...]``, ``settings.get(...)``), in source order."""
    docs = _docstring_nodes(tree)
    found = []
    for node in ast.walk(tree):
        where = (getattr(node, "lineno", 0), getattr(node, "col_offset", 0))
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if SETTINGS_FILE in node.value and id(node) not in docs:
                found.append((where, f"the text {node.value!r}"))
        elif isinstance(node, ast.Name) and node.id in SETTINGS_FILE_NAMES:
            found.append((where, node.id))
        elif isinstance(node, ast.Attribute) and node.attr in SETTINGS_FILE_NAMES:
            found.append((where, f".{node.attr}"))
        elif isinstance(node, ast.ImportFrom):
            found += [(where, f"imports {a.name}") for a in node.names if a.name in SETTINGS_FILE_NAMES]
        elif isinstance(node, ast.Subscript) and _names_settings(node.value):
            found.append((where, "settings[...]"))
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr == "get" and _names_settings(node.func.value)):
            found.append((where, "settings.get(...)"))
    return [f"line {where[0]}: {what}" for where, what in sorted(found)]


@pytest.mark.parametrize("name", sorted(set(MODULES) - {SETTINGS_OWNER}))
def test_only_the_store_reads_or_writes_the_settings_file(name):
    found = _settings_file_touches(ast.parse(MODULES[name].read_text()))
    assert not found, (f"{name} reaches the settings file or reads settings as a dict ("
                       + "; ".join(found) + "): go through store.Store.read_settings and "
                       "write_settings, and read the Settings' attributes")


SETTINGS_TOUCHES = '''
import json
from .store import SETTINGS_NAME
def f(store, d, search):
    """Reads search.json (a docstring may say so)."""
    json.loads((d / "search.json").read_text())
    store.settings_path.read_text()
    return search.settings["oracle"], search.settings.get("seed")
'''


def test_the_settings_check_sees_what_it_looks_for():
    """The check above finds each way in (so its passing means something), and the store is
    where the settings file is named."""
    found = _settings_file_touches(ast.parse(SETTINGS_TOUCHES))
    assert [f.split(": ", 1)[1] for f in found] == [
        "imports SETTINGS_NAME", "the text 'search.json'", ".settings_path", "settings[...]",
        "settings.get(...)"], found
    assert _settings_file_touches(ast.parse(MODULES[SETTINGS_OWNER].read_text()))
