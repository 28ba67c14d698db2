"""The shape of the package, checked: the rules a change must keep (see ARCHITECTURE.md).

1. No import cycle inside the package, function-level imports included.
2. No module reads or writes another module's underscore attribute.
3. Private paths of dependencies (``keras_tuner.src``, ``keras.src``, ``tensorflow.python``)
   are imported in ``_kt_compat.py`` only.
4. The oracle is extended in one place (``oracles.steer``), never by assigning a method to an
   instance.
5. Every module starts with a docstring that says what it is for, and none is over
   ``MAX_LINES`` lines unless listed here with its reason.
6. The settings file (``search.json``) is read and written by ``store.py`` alone, and the
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
CONVENTIONAL = {"_replace", "_asdict", "_fields", "_make", "_exit"}  # + os._exit


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


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(name: str, path: Path) -> set[str]:
    """The package's modules ``name`` imports at run time (anywhere in it, not under TYPE_CHECKING)."""
    tree = ast.parse(path.read_text())
    is_package = path.name == "__init__.py"
    base = name.split(".") if is_package else name.split(".")[:-1]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
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


SETTINGS_FILE = "search.json"
SETTINGS_OWNER = "automl_nb.store"
#: What reaches the settings file: its name's constant and the Store's path to it.
SETTINGS_FILE_NAMES = {"SETTINGS_NAME", "settings_path"}


def _docstring_nodes(tree: ast.AST) -> set[int]:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                out.add(id(first.value))
    return out


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
