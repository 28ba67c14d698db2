"""The Jupyter server extension behind the JupyterLab sidebar: every search under the root.

Loaded by Jupyter Server (``etc/jupyter/jupyter_server_config.d/automl_nb.json`` enables
``automl_nb.server``); ``import automl_nb`` never imports this module, nor jupyter_server.
Its handlers, all under ``<base_url>/automl-nb/`` and all behind the server's own
authentication (``APIHandler`` + ``tornado.web.authenticated``: no token, no answer):

- ``GET  searches``  every search under the server's root (:func:`automl_nb.doors.summaries`),
  each with its ``path`` relative to the root, as JSON;
- ``POST command``   ``{"path", "command": "pause"|"resume"|"stop"}``: sent to the search's
  owner through its inbox (:func:`automl_nb.doors.send`); answers with the owner's sentence
  when it comes within a couple of seconds;
- ``POST open``      ``{"path"}``: writes a notebook next to the search whose one cell attaches
  to it and shows its panel; answers with the notebook's path;
- ``POST starter``   ``{"cwd"}``: writes a starter notebook for your own data in ``cwd``.

Only directories under the server's root are served: a path with ``..``, an absolute path
outside the root or a symlink that leads out of it is refused with 403.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

import tornado.web
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join
from tornado.ioloop import IOLoop

from . import doors
from .errors import SearchError

#: the commands the sidebar's buttons send
SIDEBAR_COMMANDS = ("pause", "resume", "stop")
#: how long a command's answer is waited for before the handler returns without it
ANSWER_TIMEOUT_S = 2.5
#: how deep under the root searches are looked for
MAX_DEPTH = 4


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "automl_nb.server"}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    web_app = serverapp.web_app
    base = url_path_join(serverapp.base_url, "automl-nb")
    web_app.add_handlers(
        ".*$",
        [
            (url_path_join(base, "searches"), SearchesHandler),
            (url_path_join(base, "command"), CommandHandler),
            (url_path_join(base, "open"), OpenHandler),
            (url_path_join(base, "starter"), StarterHandler),
        ],
    )
    serverapp.log.info("automl_nb: the AutoML searches sidebar is served under %s", base)


# --------------------------------------------------------------------------------------
# paths: only under the root
# --------------------------------------------------------------------------------------
def resolve(root: str | os.PathLike[str], path: str) -> Path:
    """``path`` (relative to ``root``, ``/``-separated as Jupyter's API paths are, or an
    absolute path inside it) as a real path under ``root``; ``tornado.web.HTTPError(403)``
    for anything that leads out (``..``, an absolute path elsewhere, a symlink out)."""
    real_root = Path(os.path.realpath(root))
    if not isinstance(path, str) or "\x00" in path:
        raise tornado.web.HTTPError(403, "not a path under the server's root")
    parts = path.replace("\\", "/").split("/")
    if ".." in parts:
        raise tornado.web.HTTPError(403, "a path with '..' is not served")
    candidate = Path(path) if os.path.isabs(path) else real_root / path.strip("/")
    real = Path(os.path.realpath(candidate))
    if real != real_root and real_root not in real.parents:
        raise tornado.web.HTTPError(403, "only directories under the server's root are served")
    return real


def relative(root: str | os.PathLike[str], path: str | os.PathLike[str]) -> str | None:
    """``path`` relative to ``root`` (``/``-separated, ``""`` for the root itself), or None
    when its real path is outside the root."""
    real_root = Path(os.path.realpath(root))
    real = Path(os.path.realpath(path))
    if real != real_root and real_root not in real.parents:
        return None
    return real.relative_to(real_root).as_posix() if real != real_root else ""


def searches_under(root: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Every search under ``root`` as the sidebar shows it (paths relative to the root; a
    search reached through a symlink that leads out of the root is left out)."""
    out = []
    for summary in doors.summaries(root, max_depth=MAX_DEPTH):
        rel = relative(root, summary.path)
        if rel is None:
            continue
        item = summary.to_json()
        item["path"] = rel
        out.append(item)
    return out


# --------------------------------------------------------------------------------------
# notebooks the sidebar and the launcher open
# --------------------------------------------------------------------------------------
_METADATA = {
    "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}

STARTER_CELLS = [
    ("markdown", (
     "# An AutoML search on your data\n"
     "\n"
     "Point `data` at your own data and run the cells: a KerasTuner search starts in the\n"
     "background and its live panel shows below, with Pause, Resume and Stop. The kernel\n"
     "stays free while it runs; the **AutoML searches** sidebar lists it too.\n"
     "\n"
     "`data` can be a bundled set (`\"digits\"`, `\"iris\"`, `\"wine\"`, `\"breast_cancer\"`),\n"
     "a pandas DataFrame or a CSV path (give its `target=` column), an `(X, y)` pair of\n"
     "arrays, or an image folder (one subfolder a class).")),
    ("code", (
     "import automl_nb\n"
     "\n"
     "data = \"iris\"        # or pd.read_csv(\"my.csv\"), (X, y), \"images/\"\n"
     "target = None        # the column to predict, for a DataFrame or a CSV file\n"
     "\n"
     "s = automl_nb.search(data, target=target, oracle=\"bayesian\", trials=20, time=\"10m\")\n"
     "s.panel()")),
    ("code", "s.results  # one row a trial"),
]


def _cell(kind: str, source: str) -> dict[str, Any]:
    cell: dict[str, Any] = {"cell_type": kind, "id": uuid.uuid4().hex[:8], "metadata": {},
                            "source": source}
    if kind == "code":
        cell.update(execution_count=None, outputs=[])
    return cell


def notebook_json(cells: list[tuple[str, str]]) -> dict[str, Any]:
    """An nbformat 4 notebook with a python3 kernelspec (so Lab asks for no kernel)."""
    return {"cells": [_cell(k, s) for k, s in cells], "metadata": dict(_METADATA),
            "nbformat": 4, "nbformat_minor": 5}


def attach_source(directory: str) -> str:
    """The one cell of an "Open" notebook: attach to the search and show its panel."""
    return f"import automl_nb\ns = automl_nb.attach({directory!r})\ns.panel()"


def _free_name(folder: Path, stem: str) -> Path:
    candidate = folder / f"{stem}.ipynb"
    n = 1
    while candidate.exists():
        candidate = folder / f"{stem}-{n}.ipynb"
        n += 1
    return candidate


def write_notebook(folder: Path, stem: str, cells: list[tuple[str, str]]) -> Path:
    """A new notebook ``<stem>.ipynb`` (or ``<stem>-N.ipynb``) in ``folder``, never over one."""
    path = _free_name(folder, stem)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(notebook_json(cells), out, indent=1)
        out.write("\n")
    return path


def open_notebook(root: str | os.PathLike[str], search_dir: Path) -> Path:
    """Write the notebook that attaches to ``search_dir``: next to it (in its parent folder)
    when that is under the root, else inside it; its cell names the search relative to the
    notebook's folder, where the kernel starts."""
    real_root = Path(os.path.realpath(root))
    folder = search_dir.parent if search_dir != real_root else search_dir
    target = os.path.relpath(search_dir, folder)
    stem = f"{search_dir.name or 'search'}-attached"
    return write_notebook(folder, stem, [("code", attach_source(target))])


# --------------------------------------------------------------------------------------
# handlers
# --------------------------------------------------------------------------------------
class _Base(APIHandler):
    @property
    def root(self) -> str:
        return os.path.expanduser(self.serverapp.root_dir)

    def body(self) -> dict[str, Any]:
        try:
            data = json.loads(self.request.body or b"{}")
        except ValueError as exc:
            raise tornado.web.HTTPError(400, "the body is not JSON") from exc
        if not isinstance(data, dict):
            raise tornado.web.HTTPError(400, "the body is not a JSON object")
        return data

    def search_dir(self, path: Any) -> Path:
        if not isinstance(path, str):
            raise tornado.web.HTTPError(400, "give the search's 'path'")
        real = resolve(self.root, path)
        if not real.is_dir():
            raise tornado.web.HTTPError(404, f"no folder {path!r} under the server's root")
        return real

    def answer(self, status: int, **data: Any) -> None:
        self.set_status(status)
        self.finish(json.dumps(data, default=str))


class SearchesHandler(_Base):
    @tornado.web.authenticated
    async def get(self) -> None:
        found = await IOLoop.current().run_in_executor(None, searches_under, self.root)
        self.answer(200, searches=found)


class CommandHandler(_Base):
    @tornado.web.authenticated
    async def post(self) -> None:
        data = self.body()
        directory = self.search_dir(data.get("path"))
        command = data.get("command")
        if command not in SIDEBAR_COMMANDS:
            raise tornado.web.HTTPError(400, f"the command is one of {', '.join(SIDEBAR_COMMANDS)}")

        def send() -> tuple[str, Any]:
            since = doors.journal_size(directory)
            command_id = doors.send(directory, command)
            return command_id, doors.wait_for_answer(directory, command_id, ANSWER_TIMEOUT_S, since)

        try:
            command_id, answer = await IOLoop.current().run_in_executor(None, send)
        except SearchError as exc:
            self.answer(409, accepted=False, message=str(exc))
            return
        if answer is None:
            self.answer(202, id=command_id, accepted=None,
                        message=f"{command} sent; the search applies it at its next safe point")
        else:
            self.answer(200, id=command_id, accepted=answer.accepted, message=answer.message)


class OpenHandler(_Base):
    @tornado.web.authenticated
    def post(self) -> None:
        directory = self.search_dir(self.body().get("path"))
        if not any(doors.search_directories(directory, max_depth=0)):
            raise tornado.web.HTTPError(404, "that folder holds no search")
        notebook = open_notebook(self.root, directory)
        self.answer(201, path=relative(self.root, notebook))


class StarterHandler(_Base):
    @tornado.web.authenticated
    def post(self) -> None:
        folder = self.search_dir(self.body().get("cwd", ""))
        notebook = write_notebook(folder, "automl_search", STARTER_CELLS)
        self.answer(201, path=relative(self.root, notebook))
