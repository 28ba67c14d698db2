"""Regenerate docs/panel.png: the live panel of a real KerasTuner search in JupyterLab.

A small real search (digits, Bayesian optimisation, 6 trials of up to 6 epochs, seed 0;
a few minutes of CPU) runs in a notebook in a JupyterLab server of its own, and headless
Chromium (Debian's ``/usr/bin/chromium``, driven by Playwright; never a downloaded browser)
photographs the panel while the search runs: four trials finished, the fifth two epochs in.

The server and the browser are started the way the browser tests start them
(``tests/browser/conftest.py``, ``tests/browser/helpers.py``): a temporary root, settings
and runtime folders, a random token; both are stopped in a ``finally`` block, every wait
has a time limit. Run it from the repository root::

    make screenshot            # or: .venv/bin/python docs/make_screenshot.py [--out PATH]
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import nbformat

from tests.browser.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    JupyterServer,
    _free_port,
    _stop_server,
    _write_settings,
)
from tests.browser.helpers import Notebook, Panel, Snapshot, poll

PATH = "panel.ipynb"
SEARCH = (
    "import automl_nb\n"
    "s = automl_nb.search('digits', oracle='bayesian', trials=6, epochs=6, seed=0,\n"
    "                     directory='automl_runs/panel', overwrite=True)\n"
    "s.panel()"
)
VIEWPORT = {"width": 1280, "height": 900}
FINISHED = 4  # trials finished before the picture is taken
RUNNING_EPOCHS = 2  # epochs the running trial has done by then (its curve and progress bar)
SEARCH_TIMEOUT = 900.0


def start_server(base: Path) -> JupyterServer:
    root = base / "root"
    config, data, settings, workspaces, runtime = (
        base / d for d in ("config", "data", "settings", "ws", "rt")
    )
    for d in (root, config, data, settings, workspaces, runtime):
        d.mkdir()
    _write_settings(settings)
    (data / "labextensions").mkdir()
    (data / "labextensions" / "automl-nb").symlink_to(
        REPO / "share" / "jupyter" / "labextensions" / "automl-nb"
    )
    (config / "jupyter_server_config.d").mkdir()
    shutil.copy(
        REPO / "jupyter-config" / "server-config" / "automl_nb.json",
        config / "jupyter_server_config.d" / "automl_nb.json",
    )
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(SEARCH)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, root / PATH)

    env = dict(os.environ)
    env.update(
        JUPYTER_CONFIG_DIR=str(config),
        JUPYTER_DATA_DIR=str(data),
        JUPYTERLAB_SETTINGS_DIR=str(settings),
        JUPYTERLAB_WORKSPACES_DIR=str(workspaces),
        JUPYTER_RUNTIME_DIR=str(runtime),
        JUPYTER_PLATFORM_DIRS="1",
        TF_CPP_MIN_LOG_LEVEL="3",
        PYTHONUNBUFFERED="1",
        PATH=str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", ""),
    )
    env.pop("JUPYTER_TOKEN", None)
    port, token = _free_port(), secrets.token_hex(16)
    cmd = [
        sys.executable, "-m", "jupyter", "lab", "--no-browser",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        f"--LabServerApp.workspaces_dir={workspaces}",
        f"--LabServerApp.user_settings_dir={settings}",
        "--LabApp.extension_manager=readonly",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")  # containers run as root
    log = base / "server.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            cmd, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = JupyterServer(root, port, token, proc, log)
    deadline = time.monotonic() + 90
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"jupyter lab exited ({proc.returncode}):\n{server.log_tail()}")
        try:
            server.api("GET", "status", timeout=2)
            return server
        except (urllib.error.URLError, OSError, ValueError):
            if time.monotonic() > deadline:
                _stop_server(server)
                raise RuntimeError(f"jupyter lab did not start in 90s:\n{server.log_tail()}")
            time.sleep(0.25)


def _ready(snap: Snapshot) -> bool:
    """Enough to show: FINISHED trials completed and the next one some epochs in."""
    if snap.state in ("done", "failed", "stopped"):
        raise RuntimeError(f"the search ended before the picture was taken: {snap!r}")
    completed = sum(r["status"] == "completed" for r in snap.rows)
    return completed >= FINISHED and any(
        snap.epochs_done(r) >= RUNNING_EPOCHS for r in snap.running()
    )


def photograph(server: JupyterServer, browser, out: Path) -> None:
    context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
    context.set_default_timeout(30_000)
    try:
        page = context.new_page()
        page.on("dialog", lambda d: d.dismiss())
        server.start_session(PATH)
        nb = Notebook(page)
        nb.open(server.url(f"lab/tree/{PATH}"))
        nb.wait_kernel_connected()
        nb.collapse_left_sidebar()
        cell = nb.code_cell("automl_nb.search(")
        nb.run_cell(cell, timeout=180)
        panel = Panel(page, cell)
        panel.wait_visible(timeout=120)
        panel.wait(
            _ready,
            timeout=SEARCH_TIMEOUT,
            what=f"{FINISHED} completed trials and one {RUNNING_EPOCHS} epochs in",
            interval=0.3,
        )
        poll(
            lambda: page.evaluate(
                "() => [...document.querySelectorAll('.amnb-chart[data-chart=objective],"
                " .amnb-chart[data-chart=curves]')].every((c) => c.dataset.empty === 'false'"
                " && c.querySelector('.js-plotly-plot .main-svg'))"
            ),
            timeout=60,
            what="the objective and learning-curve charts to be drawn",
        )
        panel.root.evaluate("(el) => el.scrollIntoView({block: 'start'})")
        page.mouse.move(2, 2)  # no hover label over a chart
        box = panel.root.bounding_box()
        bottom = page.evaluate(
            "() => document.querySelector('.jp-StatusBar-Widget, #jp-main-statusbar')"
            "?.getBoundingClientRect().top ?? window.innerHeight"
        )
        page.screenshot(
            path=str(out),
            clip={"x": box["x"], "y": box["y"], "width": box["width"],
                  "height": min(box["height"], bottom - box["y"])},
        )
        print(f"wrote {out} ({out.stat().st_size // 1024} KB): {panel.snapshot()!r}")
    finally:
        context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "panel.png")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        sys.exit(f"{CHROMIUM} is missing: apt-get install -y chromium (or set AUTOML_NB_CHROMIUM)")
    from playwright.sync_api import sync_playwright

    base = Path(tempfile.mkdtemp(prefix="automl-nb-shot-"))
    server = start_server(base)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            try:
                photograph(server, browser, args.out.resolve())
            finally:
                browser.close()
    finally:
        _stop_server(server)
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
