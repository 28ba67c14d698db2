"""Fixtures of the browser tests: one JupyterLab server and one headless Chromium for the session.

The server runs from this interpreter (``sys.executable -m jupyter lab``) on a free port
with a random token, over a temporary root that holds copies of the notebooks under
test. Its configuration, settings, workspaces and runtime files live in the same
temporary folder, so no user setting, saved workspace or news pop-up reaches the page.
At teardown every kernel is shut down through the REST API, then the server is
terminated (killed after a grace period), and any process it left behind is killed: no
process outlives the test session.

Screenshots go to ``artifacts/browser/`` at the repository root (git-ignored), one per
step, plus ``FAILED-<test>.png`` of every open page when a test fails, and the server's
log is copied there at the end.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
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

REPO = Path(__file__).resolve().parents[2]
NOTEBOOK = REPO / "notebooks" / "03_steer_a_search.ipynb"
ARTIFACTS = REPO / "artifacts" / "browser"
CHROMIUM = os.environ.get("AUTOML_NB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-dev-shm-usage",
    # a hidden or occluded page must keep rendering and running its timers
    "--disable-background-timer-throttling",
    "--disable-backgrounding-occluded-windows",
    "--disable-renderer-backgrounding",
]
SERVER_START_TIMEOUT = 90.0
SERVER_STOP_TIMEOUT = 15.0

# JupyterLab / Notebook 7 user settings: no news or update pop-ups, every cell in the DOM
# (windowing off), no auto-closing brackets or completer in the way of typed code.
SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
        "doNotDisturbMode": False,
    },
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {
        "windowingMode": "none",
        "kernelShutdown": False,
    },
    "@jupyterlab/codemirror-extension/plugin.jupyterlab-settings": {
        "defaultConfig": {"autoClosingBrackets": False},
    },
    "@jupyterlab/completer-extension/manager.jupyterlab-settings": {
        "autoCompletion": False,
        "showDocumentationPanel": False,
    },
}


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "steps: the module's tests are steps of one scenario; after a failed step "
        "the later ones are skipped",
    )


#: module name -> the first step that failed in it
_FAILED_STEP: dict[str, str] = {}


def pytest_runtest_setup(item):
    if item.get_closest_marker("steps") is not None:
        failed = _FAILED_STEP.get(item.module.__name__)
        if failed is not None:
            pytest.skip(f"step {failed} failed, and this step builds on it")


# -- failure screenshots -------------------------------------------------------------------


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)
    if report.failed and item.get_closest_marker("steps") is not None:
        _FAILED_STEP.setdefault(item.module.__name__, item.name)


#: Pages to photograph when a test fails (tests and fixtures register theirs here).
OPEN_PAGES: list = []


@pytest.fixture(autouse=True)
def _screenshot_on_failure(request):
    yield
    report = getattr(request.node, "rep_call", None)
    if report is None or not report.failed:
        return
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for i, page in enumerate(list(OPEN_PAGES)):
        try:
            if page.is_closed():
                continue
            suffix = f"-{i}" if i else ""
            page.screenshot(
                path=str(ARTIFACTS / f"FAILED-{request.node.name}{suffix}.png"),
                full_page=False,
                timeout=15_000,
            )
        except Exception as exc:  # noqa: BLE001 - a failed screenshot must not hide the failure
            print(f"could not save a failure screenshot: {exc}", file=sys.stderr)


# -- the Jupyter server -------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class JupyterServer:
    """A running ``jupyter lab`` over ``root``; ``url(path)`` adds the token."""

    def __init__(self, root: Path, port: int, token: str, proc: subprocess.Popen, log: Path):
        self.root = root
        self.port = port
        self.token = token
        self.proc = proc
        self.log = log
        self.base = f"http://127.0.0.1:{port}"

    def url(self, path: str) -> str:
        sep = "&" if "?" in path else "?"
        return f"{self.base}/{path.lstrip('/')}{sep}token={self.token}"

    def api(self, method: str, path: str, timeout: float = 10.0, body: dict | None = None):
        headers = {"Authorization": f"token {self.token}"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(
            f"{self.base}/api/{path.lstrip('/')}", method=method, headers=headers, data=data
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
        return json.loads(body) if body else None

    def log_tail(self, n: int = 60) -> str:
        try:
            lines = self.log.read_text(errors="replace").splitlines()
        except OSError:
            return "(no server log)"
        return "\n".join(lines[-n:])

    def kernels(self) -> list[dict]:
        return self.api("GET", "kernels") or []

    def start_session(self, path: str) -> str:
        """Start the notebook's python3 kernel through the REST API; returns the kernel id.

        JupyterLab then connects the opened notebook to this session. Left to itself it
        starts a kernel only once it has the list of kernel specs, and when that list is
        late (a busy 2-core machine) it asks with a "Select Kernel" dialog instead.
        """
        session = self.api(
            "POST",
            "sessions",
            timeout=90,
            body={
                "path": path,
                "name": Path(path).name,
                "type": "notebook",
                "kernel": {"name": "python3"},
            },
        )
        return session["kernel"]["id"]

    def sessions_for(self, path: str) -> list[dict]:
        return [s for s in self.api("GET", "sessions") or [] if s.get("path") == path]

    def shutdown_kernels(self) -> None:
        for kernel in self.kernels():
            try:
                self.api("DELETE", f"kernels/{kernel['id']}", timeout=20)
            except (urllib.error.URLError, OSError) as exc:
                print(f"could not shut down kernel {kernel['id']}: {exc}", file=sys.stderr)


def _write_settings(settings_dir: Path) -> None:
    for rel, values in SETTINGS.items():
        path = settings_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values, indent=1))


def _children(pid: int) -> list:
    try:
        import psutil

        return psutil.Process(pid).children(recursive=True)
    except Exception:  # noqa: BLE001 - psutil missing or the process gone
        return []


def _stop_server(server: JupyterServer) -> None:
    # 1. every kernel, through the API (the server then reaps them)
    leftovers = _children(server.proc.pid)
    try:
        for kernel in server.kernels():
            try:
                server.api("DELETE", f"kernels/{kernel['id']}", timeout=20)
            except (urllib.error.URLError, OSError) as exc:
                print(f"could not shut down kernel {kernel['id']}: {exc}", file=sys.stderr)
    except (urllib.error.URLError, OSError) as exc:
        print(f"could not list kernels: {exc}", file=sys.stderr)
    # 2. the server: SIGTERM, then SIGKILL after a grace period
    if server.proc.poll() is None:
        server.proc.send_signal(signal.SIGTERM)
        try:
            server.proc.wait(SERVER_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            server.proc.kill()
            server.proc.wait(10)
    # 3. anything it started that is still alive (kernels live in sessions of their own)
    for child in leftovers:
        with contextlib.suppress(Exception):  # already gone
            if child.is_running():
                child.kill()
                child.wait(5)


@pytest.fixture(scope="session")
def jupyter_server(tmp_path_factory):
    """JupyterLab on 127.0.0.1:<free port> over a temporary root holding the notebooks."""
    if not NOTEBOOK.exists():
        pytest.fail(f"the notebook under test is missing: {NOTEBOOK}")
    base = tmp_path_factory.mktemp("jupyter")
    root = base / "root"
    root.mkdir()
    shutil.copy(NOTEBOOK, root / NOTEBOOK.name)
    # a second copy in its own folder, so Notebook 7 gets its own kernel and search directory
    (root / "nb7").mkdir()
    shutil.copy(NOTEBOOK, root / "nb7" / NOTEBOOK.name)
    config, data, settings, workspaces, runtime = (
        base / d for d in ("config", "data", "settings", "ws", "rt")
    )
    for d in (config, data, settings, workspaces, runtime):
        d.mkdir()
    _write_settings(settings)
    # the repository's prebuilt JupyterLab extension and its server extension, as the wheel
    # (or make install) puts them in place
    (data / "labextensions").mkdir()
    (data / "labextensions" / "automl-nb").symlink_to(REPO / "share" / "jupyter" / "labextensions" / "automl-nb")
    (config / "jupyter_server_config.d").mkdir()
    shutil.copy(REPO / "jupyter-config" / "server-config" / "automl_nb.json",
                config / "jupyter_server_config.d" / "automl_nb.json")

    env = dict(os.environ)
    env.update(
        JUPYTER_CONFIG_DIR=str(config),
        JUPYTER_DATA_DIR=str(data),  # no user kernel specs or extensions; the venv's stay
        JUPYTERLAB_SETTINGS_DIR=str(settings),
        JUPYTERLAB_WORKSPACES_DIR=str(workspaces),
        JUPYTER_RUNTIME_DIR=str(runtime),
        JUPYTER_PLATFORM_DIRS="1",
        TF_CPP_MIN_LOG_LEVEL="2",
        PYTHONUNBUFFERED="1",
        PATH=str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", ""),
    )
    env.pop("JUPYTER_TOKEN", None)
    port = _free_port()
    token = secrets.token_hex(16)
    log = base / "server.log"
    cmd = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--ServerApp.open_browser=False",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabServerApp.workspaces_dir=" + str(workspaces),
        "--LabServerApp.user_settings_dir=" + str(settings),
        "--MappingKernelManager.cull_idle_timeout=0",
        "--LabApp.extension_manager=readonly",  # no PyPI look-ups from the extension manager
        "--LabApp.expose_app_in_browser=True",  # window.jupyterapp: switch themes as a user does
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--ServerApp.allow_root=True")  # CI containers run as root
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            cmd, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = JupyterServer(root, port, token, proc, log)
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            if proc.poll() is not None:
                pytest.fail(
                    f"jupyter lab exited with status {proc.returncode}:\n{server.log_tail()}"
                )
            try:
                server.api("GET", "status", timeout=2)
                break
            except (urllib.error.URLError, OSError, ValueError):
                if time.monotonic() > deadline:
                    pytest.fail(
                        f"jupyter lab did not answer /api/status in {SERVER_START_TIMEOUT:.0f}s:\n"
                        f"{server.log_tail()}"
                    )
                time.sleep(0.25)
        yield server
    finally:
        _stop_server(server)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        try:
            shutil.copy(log, ARTIFACTS / "server.log")
        except OSError:
            pass


# -- the browser ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium driven by Playwright (never a downloaded browser)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium; "
            "`make test` does it) or point AUTOML_NB_CHROMIUM at a Chromium binary"
        )
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    try:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()
    finally:
        pw.stop()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob("*.png"):
        old.unlink()
    return ARTIFACTS


@pytest.fixture(scope="session")
def new_page(browser, artifacts):
    """Factory: a fresh page (own context) at 1400x1000, registered for failure screenshots."""
    contexts = []
    console: list[str] = []

    def make():
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        context.set_default_timeout(30_000)
        contexts.append(context)
        page = context.new_page()
        n = len(contexts)
        page.on("dialog", lambda d: d.dismiss())  # window.alert/confirm never block a step
        page.on(
            "console",
            lambda m: (
                m.type in ("error", "warning") and console.append(f"[page {n}] {m.type}: {m.text}")
            ),
        )
        page.on("pageerror", lambda e: console.append(f"[page {n}] uncaught: {e}"))
        OPEN_PAGES.append(page)
        return page

    yield make
    for context in contexts:
        with contextlib.suppress(Exception):  # the browser may be gone already
            context.close()
    OPEN_PAGES.clear()
    # the pages' errors and warnings, for a failure on CI
    (artifacts / "console.log").write_text("\n".join(console) + "\n")
