"""The panel on a real Search driven by the scripted trainer (no TensorFlow)."""

from __future__ import annotations

import automl_nb
from automl_nb.panel import Panel
from automl_nb.testing import ScriptedTrainer
from tests.conftest import wait_for


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


def test_a_live_panel_follows_a_search_and_equals_a_late_one(scripted, comms):
    search = scripted(trials=4, epochs=3)
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


def test_controls_reach_a_real_search(scripted, comms):
    search = scripted(ScriptedTrainer(batch_seconds=0.01), trials=3, epochs=50)
    panel = Panel(search, autostart=False)
    try:
        wait_for(lambda: search.record.running is not None, what="a running trial")
        panel.flush()
        running = panel.record.running
        assert running is not None
        tid = running.trial_id
        panel.table.click("prune", tid)
        assert panel.status_message.value == f"trial {tid} stops at its next batch and is marked pruned"
        wait_for(lambda: search.record.trials[tid].status == "pruned", what="prune")
        panel.table.click("prune", tid)  # no longer running: refused, not raised
        assert panel.status_message.value == f"trial {tid} is pruned; only a running trial can be pruned"
        panel.stop_button.click()
        assert panel.status_message.value == "stopping: the running trial ends at its next batch"
        assert search.wait(30) is automl_nb.SearchState.DONE
        panel.flush()
        assert panel.record.trials[tid].status == "pruned"
        assert panel.pause_button.disabled and panel.stop_button.disabled
        panel.pause_button.click()  # refused with a sentence naming the state
        assert panel.status_message.value == "the search is done; there is nothing to pause"
    finally:
        if not search.state.is_finished():
            search.stop()
        panel.close()
