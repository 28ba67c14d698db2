"""The same notebook in Notebook 7 (``/notebooks/...``): the panel renders and updates live.

It opens a second copy of the notebook (``nb7/``), so it has a kernel and a search directory
of its own; the JupyterLab module's kernel is shut down by then. The last test checks the
panel's layout (each chart drawn within its place), after every behaviour has been checked.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .helpers import Notebook, Panel, Shots, poll

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

START = "%automl digits --oracle random --trials 4 --epochs 30"
WORKERS = "%automl digits --oracle random --trials 4 --epochs 10 --seed 0 --workers 2"
PATH = "nb7/03_steer_a_search.ipynb"


class Notebook7:
    def __init__(self, page, nb, shots):
        self.page, self.nb, self.shots = page, nb, shots
        self.panel: Panel | None = None


@pytest.fixture(scope="module")
def notebook7(jupyter_server, new_page, artifacts):
    kernel_id = jupyter_server.start_session(PATH)
    page = new_page()
    nb = Notebook(page)
    nb.open(jupyter_server.url(f"notebooks/{PATH}"))
    nb.wait_kernel_connected()
    yield Notebook7(page, nb, Shots(artifacts, "nb7"))
    sessions = jupyter_server.sessions_for(PATH)
    jupyter_server.shutdown_kernels()
    assert [s["kernel"]["id"] for s in sessions] == [kernel_id], (
        f"the notebook did not keep the kernel started for it: {sessions}"
    )


@pytest.mark.steps
def test_notebook7_renders_the_live_panel(notebook7):
    page, nb, shots = notebook7.page, notebook7.nb, notebook7.shots
    assert page.locator("#main-panel, .jp-NotebookPanel").first.is_visible()
    assert "/lab" not in page.url, f"Notebook 7 redirected to JupyterLab: {page.url}"
    nb.run_cell(nb.code_cell("%load_ext automl_nb"), timeout=60)
    start = nb.code_cell(START)
    nb.run_cell(start, timeout=120)
    panel = notebook7.panel = Panel(page, start)
    panel.wait_visible(timeout=60)
    for name in ("Pause", "Stop", "Export", "Final fit"):
        expect(panel.button(name), f"the panel's {name!r} button").to_be_visible(timeout=30_000)
    # the enqueue form (Run next) waits in a section, closed at first
    expect(panel.button("Run next"), "the form's 'Run next' button").to_be_hidden()
    header = poll(
        panel.header.inner_text,
        until=lambda t: "random" in t,
        timeout=30,
        what="the panel's header to name the oracle",
    )
    assert "automl-nb" in header, header
    snap = panel.wait(
        lambda s: s.running() and s.points >= 1,
        timeout=120,
        what="a running trial with a first point on the learning curves",
    )
    first = snap.points
    snap = panel.wait(
        lambda s: s.points >= first + 2,
        timeout=60,
        what=f"the learning curves to grow past {first} points",
    )
    assert snap.state == "running" and snap.running(), snap
    # no trial has finished yet: the objective chart says what will appear, and no axes
    objective = panel.chart("objective")
    assert objective.get_attribute("data-empty") == "true", "the objective chart is not empty"
    assert "as trials finish" in objective.locator(".amnb-chart-empty").inner_text()
    shots.take(page, "panel", panel.root)

    panel.button("Stop").click()
    panel.wait(lambda s: s.state == "done", timeout=60, what="the search to end after Stop")
    expect(panel.button("Stop")).to_be_disabled(timeout=10_000)
    shots.take(page, "stopped", panel.root)


@pytest.mark.steps
def test_notebook7_panel_names_the_worker_of_each_trial(notebook7):
    """A search with two worker processes: the table's worker column and the status line say
    which worker runs each trial, and both workers take trials."""
    page, nb, shots = notebook7.page, notebook7.nb, notebook7.shots
    cell = nb.code_cell(WORKERS)
    nb.run_cell(cell, timeout=120)
    panel = Panel(page, cell)
    panel.wait_visible(timeout=60)
    header = poll(panel.header.inner_text, until=lambda t: "worker processes" in t, timeout=30,
                  what="the header to say the trials run in worker processes")
    assert "trials in 2 worker processes" in header, header
    snap = panel.wait(
        lambda s: len(s.running()) == 2 and " on w0 " in s.status and " on w1 " in s.status,
        timeout=120,
        what="two trials running at once, the status line naming both workers",
    )
    assert {r.get("worker") for r in snap.running()} == {"w0", "w1"}, snap.rows
    shots.take(page, "workers-running", panel.root)
    snap = panel.wait(
        lambda s: s.state == "done" and len(s.rows) == 4 and {r["status"] for r in s.rows} == {"completed"},
        timeout=180,
        what="the search with workers to end, every row completed",
    )
    assert {r.get("worker") for r in snap.rows} == {"w0", "w1"}, snap.rows
    shots.take(page, "workers-done", panel.table, "center")


def test_charts_fit_their_cells(notebook7):
    """Each Plotly chart of the panel is drawn at the width of its place (not wider: its
    right part would be cut off). Not a step of the scenario; the last test of the suite."""
    if notebook7.panel is None:
        pytest.skip("the panel did not render")
    charts = notebook7.panel.root.evaluate(
        """(root) => [...root.querySelectorAll('.js-plotly-plot')].map((gd) => ({
             title: String((gd.layout.title || {}).text || gd.layout.title || '').slice(0, 40),
             box: Math.round(gd.getBoundingClientRect().width),
             drawn: Math.round((gd._fullLayout || {}).width || 0),
           }))"""
    )
    assert charts, "no Plotly chart in the panel"
    wider = [c for c in charts if c["drawn"] > c["box"] + 2]
    assert not wider, (
        "charts drawn wider than their place in the panel (their right part is cut off): "
        + "; ".join(f"{c['title']!r} drawn {c['drawn']}px in {c['box']}px" for c in wider)
    )
