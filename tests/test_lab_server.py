"""The Jupyter server extension behind the Lab sidebar (automl_nb/server.py), over real HTTP.

One ``jupyter server`` subprocess on a free loopback port with a token, the extension enabled
by the config file the wheel ships (jupyter-config/), over a temporary root that holds a live
scripted search (``python -m automl_nb.testing.owner``, a process of its own), a folder outside
the root and a symlink out of it. Both processes are ended at teardown.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from automl_nb import doors

REPO = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    base = tmp_path_factory.mktemp("labserver")
    root, outside, config = base / "root", base / "outside", base / "config"
    for d in (root, outside, config / "jupyter_server_config.d"):
        d.mkdir(parents=True)
    shutil.copy(REPO / "jupyter-config" / "server-config" / "automl_nb.json",
                config / "jupyter_server_config.d" / "automl_nb.json")
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(config), JUPYTER_DATA_DIR=str(base / "data"),
               JUPYTER_RUNTIME_DIR=str(base / "rt"), PYTHONPATH=str(REPO))
    env.pop("JUPYTER_TOKEN", None)
    owner = subprocess.Popen(
        [sys.executable, "-m", "automl_nb.testing.owner", str(root / "runs" / "live"), "--create",
         "--trials", "50", "--epochs", "50", "--batch-seconds", "0.1"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True)
    # a finished search outside the root, and a symlink in the root that leads to it
    done = subprocess.run(
        [sys.executable, "-m", "automl_nb.testing.owner", str(outside / "secret"), "--create",
         "--trials", "1", "--epochs", "1"], env=env, capture_output=True, text=True, timeout=60,
        check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    (root / "escape").symlink_to(outside)
    port, token = _free_port(), "t0ken" + os.urandom(8).hex()
    cmd = [sys.executable, "-m", "jupyter", "server", "--no-browser", "--ServerApp.ip=127.0.0.1",
           f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
           f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--ServerApp.allow_root=True")
    log = open(base / "server.log", "wb")  # noqa: SIM115 - closed at teardown
    server = subprocess.Popen(cmd, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    info = {"base": f"http://127.0.0.1:{port}", "token": token, "root": root, "log": base / "server.log"}
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, (base / "server.log").read_text()
            try:
                urllib.request.urlopen(info["base"] + "/api/status?token=" + token, timeout=2)
                break
            except (urllib.error.URLError, OSError):
                assert time.monotonic() < deadline, (base / "server.log").read_text()
                time.sleep(0.25)
        assert owner.stdout.readline().startswith("started"), "the owner did not start"
        yield info
    finally:
        _stop(server)
        _stop(owner)
        log.close()


def call(lab, method: str, path: str, body: dict | None = None, token: bool = True):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"token {lab['token']}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(lab["base"] + "/automl-nb/" + path, data=data,
                                     headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        text = exc.read()
        try:
            return exc.code, json.loads(text or b"{}")
        except ValueError:
            return exc.code, {"text": text.decode(errors="replace")}


def test_lists_every_search_under_the_root_and_nothing_outside(lab):
    status, data = call(lab, "GET", "searches")
    assert status == 200, data
    paths = [s["path"] for s in data["searches"]]
    assert paths == ["runs/live"], paths  # the symlinked search outside is left out
    live = data["searches"][0]
    assert live["state"] == "running" and live["owner"]["alive"]
    assert live["trials_budget"] == 50


def test_pause_and_resume_reach_the_owner(lab):
    directory = lab["root"] / "runs" / "live"
    status, data = call(lab, "POST", "command", {"path": "runs/live", "command": "pause"})
    assert status == 200 and data["accepted"], data
    assert doors.summary(directory).state == "paused"
    status, data = call(lab, "POST", "command", {"path": "runs/live", "command": "resume"})
    assert status == 200 and data["accepted"], data
    assert doors.summary(directory).state == "running"
    status, data = call(lab, "POST", "command", {"path": "runs/live", "command": "explode"})
    assert status == 400


def test_open_writes_an_attached_notebook_beside_the_search(lab):
    status, data = call(lab, "POST", "open", {"path": "runs/live"})
    assert status == 201, data
    assert data["path"] == "runs/live-attached.ipynb"
    nb = json.loads((lab["root"] / data["path"]).read_text())
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    assert nb["cells"][0]["source"] == (
        "import automl_nb\ns = automl_nb.attach('live')\ns.panel()")
    status, again = call(lab, "POST", "open", {"path": "runs/live"})
    assert again["path"] == "runs/live-attached-1.ipynb"  # never over an existing one
    status, starter = call(lab, "POST", "starter", {"cwd": "runs"})
    assert status == 201 and starter["path"] == "runs/automl_search.ipynb"
    cells = json.loads((lab["root"] / starter["path"]).read_text())["cells"]
    assert any("automl_nb.search(" in c["source"] for c in cells)


def test_every_handler_needs_the_token(lab):
    for method, path, body in [("GET", "searches", None),
                               ("POST", "command", {"path": "runs/live", "command": "stop"}),
                               ("POST", "open", {"path": "runs/live"}),
                               ("POST", "starter", {"cwd": ""})]:
        status, _ = call(lab, method, path, body, token=False)
        assert status == 403, (method, path, status)
    assert doors.summary(lab["root"] / "runs" / "live").state == "running"  # no stop got through


@pytest.mark.parametrize("path", ["../outside/secret", "runs/../../outside/secret",
                                  "escape/secret", "/etc", "ABSOLUTE_OUTSIDE"])
def test_paths_out_of_the_root_are_refused(lab, path):
    if path == "ABSOLUTE_OUTSIDE":
        path = str(lab["root"].parent / "outside" / "secret")  # absolute, outside the root
    for endpoint, body in [("command", {"path": path, "command": "pause"}),
                           ("open", {"path": path}), ("starter", {"cwd": path})]:
        status, data = call(lab, "POST", endpoint, body)
        assert status == 403, (endpoint, path, status, data)
    assert not list((lab["root"].parent / "outside").rglob("*.ipynb"))
