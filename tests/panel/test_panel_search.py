"""The panel on a real Search driven by the scripted trainer (no TensorFlow)."""

from __future__ import annotations

import time

import pytest

import automl_nb
from automl_nb.panel import Panel


def wait_for(predicate, timeout: float = 10.0, what: str = "condition"):
    """Poll the search (not the panel's timer) until ``predicate`` holds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.005)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def scripted_or_skip(request):
    """The core's ``scripted`` fixture (a real Search with a scripted trainer)."""
    pytest.importorskip("automl_nb.testing")
    return request.getfixturevalue("scripted")


def snapshot(panel: Panel) -> dict:
    return {
        "curves": panel.curves_chart.data(),
        "objective": panel.objective_chart.data(),
        "parallel": panel.parallel_chart.data(),
        "importance": panel.importance_chart.data(),
        "rows": panel.table.current_rows(),
        "best": panel.best_html.value,
        "header": panel.header.value,
    }


def test_a_live_panel_follows_a_search_and_equals_a_late_one(scripted_or_skip, comms):
    search = scripted_or_skip(trials=4, epochs=3)
    panel = Panel(search, autostart=False)
    search.wait(30)
    panel.flush()
    assert panel.record.state == "done" and len(panel.table.rows) == 4
    late = Panel(search)  # a finished search: replayed, no flusher
    assert not late.live
    assert snapshot(late) == snapshot(panel)
    assert "scripted" in panel.header.value and "done" in panel.status_line.value
    # the form was built from the space the search announced
    assert set(panel.enqueue_inputs) >= {"units", "learning_rate", "optimizer"}
    reopened = automl_nb.open(search.directory).panel()  # from the journal alone
    assert not reopened.live
    assert snapshot(reopened) == snapshot(panel)
    for p in (panel, late, reopened):
        p.close()
    assert comms.open_comms() == []


def test_controls_reach_a_real_search(scripted_or_skip, comms):
    from automl_nb.testing import ScriptedTrainer

    search = scripted_or_skip(ScriptedTrainer(batch_seconds=0.01), trials=3, epochs=50)
    panel = Panel(search, autostart=False)
    try:
        wait_for(lambda: search.record.running is not None, what="a running trial")
        panel.flush()
        running = panel.record.running
        assert running is not None
        panel.table.click("prune", running.trial_id)
        assert "prun" in panel.status_message.value
        wait_for(lambda: search.record.trials[running.trial_id].status == "pruned", what="prune")
        panel.table.click("prune", running.trial_id)  # no longer running: refused, not raised
        assert running.trial_id in panel.status_message.value
        panel.stop_button.click()
        search.wait(30)
        panel.flush()
        assert panel.pause_button.disabled and panel.stop_button.disabled
        panel.pause_button.click()  # refused with a sentence naming the state
        assert panel.status_message.value
    finally:
        if not search.state.is_finished():
            search.stop()
        panel.close()
