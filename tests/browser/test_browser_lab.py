"""End to end in JupyterLab: notebooks/03_steer_a_search.ipynb, steered from the panel.

One notebook session and one search serve every step, in this order (each test is one
step; after a failed step the later ones are skipped, since they build on it):

 1. the magic starts a search and the panel renders; the learning curves gain points
 2. a mistyped magic shows one sentence, no traceback, and the search runs on
 3. Pause holds (status paused, no new point for 5 s); Resume goes on with the same trial
 4. the enqueue form (in its section) queues values (Run next), then Prune on the running row: pruned
    at its next batch (the journal: no full epoch after the prune's), and the next trial that
    starts runs the queued values
 5. Export writes a .keras file that plain Keras loads (in a fresh process and in the kernel)
 6. Promote on a completed trial: a new row names its parent, its curve continues the parent's
 7. Stop ends the search (unless it ended on its own); ``s.results`` in the kernel agrees with
    the panel
 8. Final fit retrains the best trial; Export then writes the retrained model
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
import textwrap
import time

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from automl_nb.events import read_journal

from .helpers import Notebook, Panel, Shots, poll

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]
step = pytest.mark.steps  # a step of the one scenario: skipped once an earlier step failed

NOTEBOOK = "03_steer_a_search.ipynb"
START = "%automl digits --oracle random --trials 4 --epochs 30"
TYPO = "%automl digits --oracle baysian"
LOAD = 'path = "automl_runs/steer/best.keras"'
RESULTS = "s.results"
EXPORT = "automl_runs/steer/best.keras"
RUN = "automl_runs/steer"  # the search's folder (its journal, events.jsonl)
EPOCHS = 30
# what the enqueue form asks for (all differ from the space's defaults)
QUEUED = {"blocks": "1", "kernel_size": "5", "pooling": "avg", "dense_units": "128"}


class Session:
    """What the steps share: the page, the notebook, the panel, and trial ids found on the way."""

    def __init__(self, page, notebook, shots, server):
        self.page = page
        self.nb = notebook
        self.shots = shots
        self.server = server
        self._panel: Panel | None = None
        self.ids: dict[str, str] = {}

    @property
    def panel(self) -> Panel:
        if self._panel is None:
            raise AssertionError("no panel: step 1 (start the search) did not run or failed")
        return self._panel

    @panel.setter
    def panel(self, panel: Panel) -> None:
        self._panel = panel

    def shot(self, name: str, focus=None, block: str = "start") -> None:
        if focus is None and self._panel is not None:
            focus = self._panel.root
        self.shots.take(self.page, name, focus, block)


@pytest.fixture(scope="module")
def lab(jupyter_server, new_page, artifacts):
    kernel_id = jupyter_server.start_session(NOTEBOOK)
    page = new_page()
    nb = Notebook(page)
    nb.open(jupyter_server.url(f"lab/tree/{NOTEBOOK}"))
    nb.wait_kernel_connected()
    nb.collapse_left_sidebar()
    session = Session(page, nb, Shots(artifacts, "lab"), jupyter_server)
    session.shot("opened")
    yield session
    sessions = jupyter_server.sessions_for(NOTEBOOK)
    # end this notebook's search with its kernel, so the next module has the CPU to itself
    jupyter_server.shutdown_kernels()
    assert [s["kernel"]["id"] for s in sessions] == [kernel_id], (
        f"the notebook did not keep the kernel started for it: {sessions}"
    )


def _running_with_room(panel: Panel, min_left: int, timeout: float = 120):
    """A snapshot with one running trial past its first epochs, ``min_left`` epochs to go.

    Commands apply at a batch end, and a trial's first batch (and its first validation)
    includes TensorFlow's tracing, seconds long: steer a trial that is past it.
    """

    def ready(s):
        running = s.running()
        return (
            s.state == "running"
            and len(running) == 1
            and s.epochs_done(running[0]) >= 2
            and s.epochs_left(running[0]) >= min_left
        )

    snap = panel.wait(
        ready,
        timeout=timeout,
        what=f"a running trial past epoch 2 with at least {min_left} epochs to go",
    )
    return snap, snap.running()[0]["id"]


def _read_json(path) -> dict:
    """The file's JSON, or {} while it is missing or half written."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


@step
def test_01_panel_renders_and_charts_grow(lab):
    nb = lab.nb
    nb.run_cell(nb.code_cell("%load_ext automl_nb"), timeout=60)
    start = nb.code_cell(START)
    nb.run_cell(start, timeout=120)
    panel = lab.panel = Panel(lab.page, start)
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
    assert "automl-nb" in header and "digits" in header, header
    assert "Traceback" not in nb.output_text(start)
    snap = panel.wait(
        lambda s: s.running() and s.points >= 1,
        timeout=120,
        what="a running trial with a first point on the learning curves",
    )
    lab.shot("panel-first-point")
    first = snap.points
    snap = panel.wait(
        lambda s: s.points >= first + 2,
        timeout=60,
        what=f"the learning curves to grow past {first} points",
    )
    tid = snap.running()[0]["id"] if snap.running() else None
    assert tid is not None and tid in snap.curves, snap
    xs = snap.curves[tid]["x"]
    assert xs == list(range(xs[0], xs[0] + len(xs))), f"epochs of {tid} are not consecutive: {xs}"
    assert snap.state == "running", snap
    lab.shot("panel-growing")


@step
def test_02_mistyped_magic_is_one_sentence(lab):
    nb, panel = lab.nb, lab.panel
    cell = nb.code_cell(TYPO)
    nb.run_cell(cell, timeout=60)
    text = poll(lambda: nb.output_text(cell), timeout=30, what="the typo cell's output")
    lines = [line for line in text.splitlines() if line.strip()]
    assert "Traceback" not in text, f"a traceback for a typo:\n{text}"
    assert len(lines) == 1, f"expected one line, got {len(lines)}:\n{text}"
    assert "UsageError" in text and "--oracle" in text and "baysian" in text, text
    assert "bayesian" in text.replace("baysian", ""), f"the message names no valid oracle: {text}"
    lab.shot("typo-message", cell, "center")
    # the running search is not disturbed
    before = panel.snapshot().points
    panel.wait(
        lambda s: s.points > before and s.state == "running",
        timeout=60,
        what="the search to go on after the typo",
    )


@step
def test_03_pause_holds_and_resume_continues(lab):
    panel = lab.panel
    _, tid = _running_with_room(panel, min_left=10)
    panel.button("Pause").click()
    snap = panel.wait(lambda s: s.state == "paused", timeout=10, what="the status to say paused")
    expect(panel.button("Resume"), "the Pause button turned into Resume").to_be_visible(
        timeout=10_000
    )
    # an epoch whose last batch ran before the pause still ends (validation, then the flush)
    settled = {"n": -1, "since": time.monotonic()}

    def stable(s):
        if s.points != settled["n"]:
            settled["n"], settled["since"] = s.points, time.monotonic()
        return time.monotonic() - settled["since"] >= 1.5

    snap = panel.wait(stable, timeout=20, what="the point count to settle after the pause")
    held = snap.points
    row = snap.row(tid)
    assert row is not None and row["status"] == "running", snap
    lab.shot("paused")
    window_end = time.monotonic() + 5.0  # the observation window: nothing may move in it
    while time.monotonic() < window_end:
        s = panel.snapshot()
        assert s.points == held, f"a point was added while paused ({held} -> {s.points}): {s}"
        assert s.state == "paused", f"the status left paused on its own: {s}"
        time.sleep(0.25)
    paused_epochs = panel.snapshot().row(tid)["epochs"]

    panel.button("Resume").click()
    panel.wait(lambda s: s.state == "running", timeout=10, what="the status to say running")
    snap = panel.wait(lambda s: s.points > held, timeout=30, what="a new point after Resume")
    expect(panel.button("Pause"), "the Resume button turned back into Pause").to_be_visible(
        timeout=10_000
    )
    # the same trial goes on where it stopped: its epochs continue, not restart
    xs = snap.curves[tid]["x"]
    assert xs == list(range(1, len(xs) + 1)), f"trial {tid} restarted or skipped epochs: {xs}"
    row = snap.row(tid)
    assert row["status"] == "running", f"trial {tid} is {row['status']} after Resume: {snap}"
    print(f"trial {tid}: paused at {paused_epochs}, resumed to {row['epochs']}")
    lab.shot("resumed")


@step
def test_04_enqueue_then_prune(lab):
    panel = lab.panel
    panel.open_section("enqueue")
    for name in ("kernel_size", "pooling", "dense_units"):
        panel.choose(name, QUEUED[name])
    panel.set_slider("blocks", QUEUED["blocks"])
    panel.check("augmentation", True)
    lab.shot("form-filled", panel.button("Run next"), "end")

    # Prune a trial after the first one has ended: a trial's end is the panel's busiest
    # moment (every chart and the table change), and the prune is timed from the click.
    panel.wait(
        lambda s: any(r["status"] not in ("running", None) for r in s.rows),
        timeout=120,
        what="a first trial to end",
    )
    snap, tid = _running_with_room(panel, min_left=10)
    panel.button("Run next").click()
    snap = panel.wait(
        lambda s: "queued" in s.message, timeout=15, what="the panel to confirm the queued values"
    )
    for name, value in QUEUED.items():
        assert f"{name}={value}" in snap.message, f"{name}={value} not in {snap.message!r}"

    prune = panel.row_button(tid, "Prune")
    prune.wait_for(state="visible")
    panel.watch_badge(tid, "pruned")
    prune.click()
    # generous here: the page may be busy drawing (see watch_badge)
    snap = panel.wait(
        lambda s: (s.row(tid) or {}).get("status") == "pruned",
        timeout=20,
        what=f"trial {tid}'s badge to say pruned",
    )
    latency = panel.badge_latency(tid, "pruned")
    print(f"trial {tid}: its badge said pruned {latency}s after the click")
    # it stopped at its next batch: in the journal (written before the panel hears an event),
    # between the accepted prune and the trial's end there is at most the epoch that was
    # validating when the prune came, then the partial one it cut
    events = read_journal(lab.server.root / RUN)
    asked = next(i for i, e in enumerate(events) if e.kind == "command" and e.command == "prune"
                 and e.accepted and e.args.get("trial_id") == tid)
    ended = next(i for i, e in enumerate(events) if e.kind == "trial_ended" and e.trial_id == tid)
    assert events[ended].status == "pruned", events[ended]
    full = [e.epoch for e in events[asked + 1:ended]
            if e.kind == "epoch_ended" and e.trial_id == tid and not e.partial]
    assert len(full) <= 1, f"trial {tid} trained whole epochs {full} after the prune"
    lab.ids["pruned"] = tid
    lab.shot("pruned", panel.table, "center")

    snap = panel.wait(
        lambda s: any(r["id"] > tid and r["status"] == "running" for r in s.rows),
        timeout=90,
        what=f"the next trial after {tid} to start",
    )
    nxt = next(r for r in snap.rows if r["id"] > tid and r["status"] == "running")
    lab.ids["queued"] = nxt["id"]
    for name, value in QUEUED.items():
        assert nxt.get(name) == value, (
            f"trial {nxt['id']} (the next one) has {name}={nxt.get(name)!r}, not the queued {value!r}: {nxt}"
        )
    # Details: every hyperparameter, and where the trial came from
    panel.row_button(nxt["id"], "Details").click()
    details = panel.details
    details.wait_for(state="visible", timeout=10_000)
    text = poll(
        lambda: details.inner_text(),
        until=lambda t: f"Trial {nxt['id']}" in t,
        timeout=10,
        what=f"the details of trial {nxt['id']}",
    )
    assert "enqueued" in text, f"the details do not say the trial was enqueued:\n{text}"
    assert "augmentation" in text and "yes" in text.split("augmentation", 1)[1][:20], text
    lab.shot("queued-trial-details", details, "center")
    panel.button("Close").click()
    details.wait_for(state="hidden", timeout=10_000)


@step
def test_05_export_loads_in_plain_keras(lab):
    nb, panel = lab.nb, lab.panel
    target = lab.server.root / EXPORT
    assert not target.exists()
    panel.button("Export").click()
    snap = panel.wait(
        lambda s: "export" in s.message, timeout=120, what="the Export button's message"
    )
    # the panel's own sentence or the search's answer to the export command, whichever came last
    assert re.search(
        rf"exported (the best model|trial \d+|the ensemble of trials [\d, ]+) to {re.escape(EXPORT)}$",
        snap.message
    ), snap.message
    assert target.exists(), f"Export said {snap.message!r} but {target} is missing"
    meta = json.loads((target.parent / (target.name + ".json")).read_text())
    best = panel.best_card.inner_text()
    assert f"trial {meta['trial_id']}" in best, (
        f"exported trial {meta['trial_id']}, the panel says {best!r}"
    )
    lab.shot("exported", panel.button("Export"), "center")

    # plain Keras, in a fresh interpreter with no automl_nb imported
    script = textwrap.dedent(
        """
        import sys
        import numpy as np
        import keras
        model = keras.saving.load_model(sys.argv[1])
        x = np.zeros((2, *model.input_shape[1:]), dtype="float32")
        y = model.predict(x, verbose=0)
        assert y.shape == (2, 10), y.shape
        assert not [m for m in sys.modules if m.startswith("automl_nb")], "automl_nb was imported"
        print("loaded", model.count_params())
        """
    )
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
    done = subprocess.run(
        [sys.executable, "-c", script, str(target)],
        check=False,
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
        cwd=lab.server.root / "nb7",
    )
    assert done.returncode == 0 and "loaded" in done.stdout, (
        f"plain Keras could not load {target}:\n{done.stdout}\n{done.stderr[-3000:]}"
    )
    # and in the kernel, with the notebook's own cell
    cell = nb.code_cell(LOAD)
    nb.run_cell(cell, timeout=120)
    text = nb.output_text(cell)
    assert f"plain Keras loaded {EXPORT}" in text, text
    assert "Traceback" not in text, text


@step
def test_06_promote_a_completed_trial(lab):
    panel = lab.panel
    parent = lab.ids["queued"]
    snap = panel.wait(
        lambda s: (s.row(parent) or {}).get("status") == "completed",
        timeout=150,
        what=f"trial {parent} (the queued one) to complete (at most {EPOCHS} epochs)",
    )
    parent_curve = snap.curves[parent]
    # every epoch it trained is drawn: all of them, or fewer when early stopping (the default
    # patience of 3) ended it on a plateau
    trained = len(parent_curve["x"])
    assert 1 <= trained <= EPOCHS and parent_curve["x"] == list(range(1, trained + 1)), (
        parent_curve["x"]
    )

    box = panel.row(parent).locator("input.amnb-epochs")
    box.fill("3")
    panel.row_button(parent, "Promote").click()
    snap = panel.wait(
        lambda s: f"trial {parent} trains on" in s.message,
        timeout=15,
        what="the panel to confirm the promotion",
    )
    assert "3 more epochs" in snap.message, snap.message
    # the promotion waits for the running trial: prune it, unless it is about to end anyway
    running = [r for r in snap.running() if not r["parent"]]
    if running and snap.epochs_left(running[0]) >= 5:
        other = running[0]["id"]
        try:
            panel.row_button(other, "Prune").click(timeout=15_000)
        except PlaywrightTimeout:
            # its button went with it: early stopping (patience 3) ended it on a plateau first
            status = (panel.snapshot().row(other) or {}).get("status")
            assert status == "completed", f"trial {other}'s Prune could not be clicked ({status})"
        else:
            # (it may still be in its first batch, which includes TensorFlow's tracing; or
            # finish its last epoch before the prune takes effect)
            panel.wait(
                lambda s: (s.row(other) or {}).get("status") in ("pruned", "completed"),
                timeout=30,
                what=f"trial {other} to be pruned",
            )

    snap = panel.wait(
        lambda s: any(r["parent"] == parent for r in s.rows),
        timeout=120,
        what=f"a new row that continues trial {parent}",
    )
    child = next(r for r in snap.rows if r["parent"] == parent)["id"]
    lab.ids["promoted"] = child
    snap = panel.wait(
        lambda s: child in s.curves and len(s.curves[child]["x"]) >= 2,
        timeout=90,
        what=f"trial {child}'s first epoch on the learning curves",
    )
    curve = snap.curves[child]
    last_x, last_y = parent_curve["x"][-1], parent_curve["y"][-1]
    assert curve["x"][0] == last_x and math.isclose(curve["y"][0], last_y, rel_tol=1e-6), (
        f"trial {child}'s curve starts at ({curve['x'][0]}, {curve['y'][0]}), not at its parent's "
        f"last point ({last_x}, {last_y})"
    )
    assert curve["x"] == list(range(last_x, last_x + len(curve["x"]))), (
        f"trial {child}'s epochs do not continue its parent's: {curve['x']}"
    )
    # the first point is the anchor the chart draws at the parent's last one; the second is the
    # child's own first epoch: near where the parent ended, not where a fresh model starts
    fresh, own = parent_curve["y"][0], curve["y"][1]
    assert abs(own - last_y) < abs(own - fresh), (
        f"trial {child}'s first epoch scored {own}: nearer a fresh model's first epoch ({fresh}) "
        f"than its parent's last ({last_y}); it did not train on from the parent"
    )
    lab.shot("promoted-curve")
    lab.shot("promoted-row", panel.table, "center")
    # the table and the learning curves redraw apart: the row can say completed while the
    # chart has yet to draw the last epoch, so wait for both
    snap = panel.wait(
        lambda s: (s.row(child) or {}).get("status") == "completed"
        and len((s.curves.get(child) or {}).get("x", ())) >= 4,
        timeout=90,
        what=f"the promoted trial {child} to complete, on the table and the learning curves",
    )
    assert snap.curves[child]["x"] == list(range(last_x, last_x + 4)), snap.curves[child]
    assert snap.row(child)["epochs"] == str(last_x + 3), snap.row(child)


@step
def test_07_stop_and_results(lab):
    nb, panel = lab.nb, lab.panel
    try:
        panel.button("Stop").click(timeout=10_000)
    except PlaywrightTimeout:
        # the search ended on its own first (early stopping makes its trials short); Stop
        # while a trial trains is tests/browser/test_browser_notebook7.py's first step
        assert panel.snapshot().state == "done", f"Stop could not be clicked: {panel.snapshot()}"
    # the status line and the table refresh at their own cadences: wait for both
    snap = panel.wait(
        lambda s: s.state == "done" and s.rows and not s.running(),
        timeout=60,
        what="the search to end after Stop, with no trial left running in the table",
    )
    stopped = [r for r in snap.rows if r["status"] == "stopped"]
    assert len(stopped) <= 1, f"more than one trial stopped: {snap}"
    expect(panel.button("Pause")).to_be_disabled(timeout=10_000)
    expect(panel.button("Stop")).to_be_disabled(timeout=10_000)
    lab.shot("stopped")

    cell = nb.code_cell(RESULTS)
    nb.run_cell(cell, timeout=60)
    rows = cell.locator(".jp-OutputArea table.dataframe").evaluate(
        """(t) => {
          const heads = [...t.querySelectorAll('thead tr:last-child th')].map(h => h.textContent.trim());
          return [...t.querySelectorAll('tbody tr')].map(tr => {
            const cells = [...tr.children].map(c => c.textContent.trim());
            const row = {};
            heads.forEach((h, i) => { if (h) row[h] = cells[i]; });
            return row;
          });
        }"""
    )
    by_id = {r["trial_id"]: r for r in rows}
    for tid in (lab.ids["pruned"], lab.ids["queued"], lab.ids["promoted"]):
        assert tid in by_id, f"s.results has no trial {tid}: {rows}"
    assert by_id[lab.ids["pruned"]]["status"] == "pruned", by_id
    assert by_id[lab.ids["queued"]]["status"] == "completed", by_id
    assert by_id[lab.ids["promoted"]]["parent_id"] == lab.ids["queued"], by_id
    assert {r["trial_id"] for r in rows} == {r["id"] for r in snap.rows}, (rows, snap)
    lab.shot("results", cell, "center")


@step
def test_08_final_fit_then_export(lab):
    panel = lab.panel
    panel.button("Final fit").click()
    status = panel.root.locator(".widget-html-content", has_text="final fit").first
    text = poll(
        lambda: status.inner_text() if status.count() else "",
        until=lambda t: "done" in t or "did not" in t,
        timeout=180,
        what="the final fit to finish",
    )
    assert "done" in text, text
    panel.button("Export").click()
    target = lab.server.root / EXPORT
    meta_path = target.parent / (target.name + ".json")
    meta = poll(
        lambda: _read_json(meta_path),
        until=lambda m: m.get("final_fit") is True,
        timeout=120,
        what="the export of the final-fit model",
    )
    assert target.exists()
    lab.shot("final-fit-exported", panel.button("Export"), "center")
    print("final fit exported:", meta["trial_id"])
