"""Set-up: ``make lab`` starts JupyterLab on the quickstart notebook, as root too.

The test runs the Makefile's own ``lab`` recipe headless (``LAB_FLAGS`` adds
``--no-browser``, a free port and a token of its own; ``-o install`` and ``BIN=`` point it
at this interpreter's environment instead of installing one), checks that JupyterLab
answers and serves the quickstart notebook, and kills every process it started.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from .conftest import wait_for

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, token: str) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_lab_starts_jupyterlab_on_the_quickstart(tmp_path):
    port, token = _free_port(), secrets.token_hex(16)
    flags = (f"--no-browser --ServerApp.ip=127.0.0.1 --ServerApp.port={port} "
             f"--ServerApp.port_retries=0 --IdentityProvider.token={token}")
    env = {
        **os.environ,  # JupyterLab's own files in tmp_path: no user setting in, nothing left behind
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "workspaces"),
    }
    command = ["make", "--no-print-directory", "-o", "install", "lab",
               f"BIN={Path(sys.executable).parent}", f"LAB_FLAGS={flags}"]
    log = tmp_path / "lab.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        def answers():
            if proc.poll() is not None:
                raise AssertionError(f"make lab exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
            try:
                return _get(f"{base}/api/status", token)[0] == 200
            except OSError:
                return False

        wait_for(answers, timeout=120, interval=0.25, what="JupyterLab to answer")
        recipe = log.read_text().splitlines()[0]  # make echoes the command it runs
        assert recipe.endswith(" notebooks/01_quickstart.ipynb"), recipe  # the notebook it opens
        if os.getuid() == 0:  # as root, JupyterLab starts only with --allow-root
            assert " --allow-root " in recipe, recipe
        # the server's root is the notebook's folder (notebooks/)
        status, body = _get(f"{base}/api/contents/01_quickstart.ipynb?content=1", token)
        assert status == 200, body[:500]
        notebook = json.loads(body)
        assert notebook["type"] == "notebook"
        sources = ["".join(c["source"]) for c in notebook["content"]["cells"]]
        assert "%load_ext automl_nb" in sources
        assert any(s.startswith("%automl digits") for s in sources)
        status, page = _get(f"{base}/lab/tree/01_quickstart.ipynb", token)
        assert status == 200 and b"JupyterLab" in page
        assert _get(f"{base}/api/status", "wrong-token")[0] == 403  # the token guards it
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(20)
        if _group_alive(proc.pid):
            os.killpg(proc.pid, signal.SIGKILL)
    wait_for(lambda: not _group_alive(proc.pid), timeout=20, interval=0.1,
             what="every process make lab started to end")
