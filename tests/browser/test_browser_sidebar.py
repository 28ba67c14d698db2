"""End to end in JupyterLab: the "AutoML searches" sidebar over a search started from the shell.

A scripted search (``python -m automl_nb.testing.owner``: no TensorFlow, an epoch every
0.1 s, a budget far longer than the test) runs in a process of its own under the server's
root. In the sidebar it appears with its state; Pause there holds it (its journal stops
growing), Resume moves it again; Open writes a notebook beside it, opens it, runs its one
cell and the search's live panel shows. The launcher's "AutoML search" card opens a starter
notebook.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from automl_nb import doors

from .helpers import HIDE_TOASTS, poll

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def shell_search(jupyter_server):
    directory = jupyter_server.root / "runs" / "shell"
    proc = subprocess.Popen(
        [sys.executable, "-m", "automl_nb.testing.owner", str(directory), "--create",
         "--trials", "200", "--epochs", "200", "--batch-seconds", "0.1"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        assert proc.stdout.readline().startswith("started"), "the shell search did not start"
        yield directory
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)


def _journal_lines(directory) -> int:
    return (directory / "events.jsonl").read_bytes().count(b"\n")


def test_sidebar_pauses_resumes_and_opens_a_shell_search(jupyter_server, new_page, shell_search):
    page = new_page()
    # a workspace of its own, reset: the layout other browser tests left (tabs open, the
    # Launcher closed) is not this test's
    page.goto(jupyter_server.url("lab/workspaces/automl-sidebar?reset"))
    page.add_style_tag(content=HIDE_TOASTS)
    page.locator("#jp-left-stack, .jp-SideBar").first.wait_for(timeout=90_000)
    page.locator('.jp-SideBar [data-id="automl-nb-searches"]').click()
    card = page.locator('.amnb-lab-search[data-path="runs/shell"]')
    card.wait_for(timeout=30_000)
    poll(lambda: card.get_attribute("data-state"), until=lambda s: s == "running", timeout=20,
         what="the sidebar to show the shell search running")

    card.get_by_role("button", name="Pause", exact=True).click()
    poll(lambda: doors.summary(shell_search).state, until=lambda s: s == "paused", timeout=10,
         what="the owner to pause")
    poll(lambda: card.get_attribute("data-state"), until=lambda s: s == "paused", timeout=10,
         what="the sidebar to show paused")
    held = _journal_lines(shell_search)
    time.sleep(2.0)  # ~20 epochs would be journaled in this time if it still ran
    assert _journal_lines(shell_search) == held, "the owner's batches went on while paused"

    card.get_by_role("button", name="Resume", exact=True).click()
    poll(lambda: _journal_lines(shell_search), until=lambda n: n > held + 5, timeout=10,
         what="the journal to grow again after Resume")
    poll(lambda: card.get_attribute("data-state"), until=lambda s: s == "running", timeout=10,
         what="the sidebar to show running")

    card.get_by_role("button", name="Open", exact=True).click()
    poll(lambda: (jupyter_server.root / "runs" / "shell-attached.ipynb").exists(), timeout=10,
         what="the attached notebook to be written")
    panel = page.locator(".jp-NotebookPanel .amnb-panel")
    panel.first.wait_for(timeout=120_000)
    assert page.locator(".jp-Dialog").count() == 0, "a kernel-choice dialog came up"

    # the launcher card opens a starter notebook in the file browser's folder (the root)
    # a Launcher tab, or a new one (earlier tests of the session may have closed it)
    launcher = page.locator(".lm-TabBar-tab", has_text="Launcher")
    if launcher.count():
        launcher.first.click()
    else:
        page.locator('button[data-command="launcher:create"], .lm-TabBar-addButton').first.click()
    page.locator(".jp-LauncherCard", has_text="AutoML search").first.click()
    poll(lambda: (jupyter_server.root / "automl_search.ipynb").exists(), timeout=15,
         what="the launcher card to write automl_search.ipynb")
    page.locator(".lm-TabBar-tab", has_text="automl_search.ipynb").first.wait_for(timeout=30_000)
