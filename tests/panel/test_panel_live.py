"""The panel over an event stream: what each flush sends, replay equals live, nothing leaks."""

from __future__ import annotations

import re
import threading
import time

import ipywidgets

from automl_nb.events import EpochEnded, SearchEnded, SearchStarted, StateChanged
from automl_nb.panel import Panel
from automl_nb.panel import _data as charts
from automl_nb.testing.panel import FakeSearch, scripted_events, started, trial_events


def parts(panel: Panel) -> dict[str, ipywidgets.Widget]:
    return {
        "curves": panel.curves_chart.widget,
        "objective": panel.objective_chart.widget,
        "parallel": panel.parallel_chart.widget,
        "importance": panel.importance_chart.widget,
        "table": panel.table,
        "status_line": panel.status_line,
        "progress": panel.progress,
        "best": panel.best_html,
        "header": panel.header,
        "pause": panel.pause_button,
        "message": panel.status_message,
        "form": panel.enqueue_form,
    }


def counts(panel: Panel) -> dict[str, int]:
    return {name: len(w.comm.messages) for name, w in parts(panel).items()}


def deltas(widget: ipywidgets.Widget) -> list[dict]:
    """The custom messages a Chart sent: ``{"kind": "delta", "traces": ..., "layout": ...}``."""
    return [m["content"] for m in widget.comm.messages if m.get("method") == "custom"]


def delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {k: after[k] - before[k] for k in after if after[k] != before[k]}


def running_search(fake: FakeSearch) -> None:
    """Started, one finished trial, a second one running at epoch 1."""
    fake.publish(started(trials=5, epochs=5))
    fake.publish(StateChanged(state="running", previous="idle"))
    fake.feed(trial_events("0000", {"units": 32, "activation": "relu"}, 5))
    fake.feed(
        trial_events("0001", {"units": 64, "activation": "tanh"}, 1, status="running", planned=5)
    )


def fast_clock() -> float:
    """Time running 20 times faster: the cadences and the message budget shrink alike."""
    return time.monotonic() * 20


def snapshot(panel: Panel) -> dict:
    """Everything the panel shows, as data."""
    return {
        "curves": panel.curves_chart.data(),
        "objective": panel.objective_chart.data(),
        "parallel": panel.parallel_chart.data(),
        "importance": panel.importance_chart.data(),
        "rows": panel.table.current_rows(),
        "columns": list(panel.table.columns),
        "best": panel.best_html.value,
        "header": panel.header.value,
        # the clock moves between two panels of a running search: drop the times
        "status": re.sub(r" · (elapsed|about) [^·]*", "", panel.status_line.value),
        "progress": panel.progress.value,
        "pause": panel.pause_button.description,
        "form": sorted(panel.enqueue_inputs),
    }


def test_one_more_epoch_sends_only_the_curve_the_table_and_the_status(fake, make_panel):
    running_search(fake)
    panel = make_panel(fake)
    before = counts(panel)
    fake.publish(EpochEnded(trial_id="0001", epoch=2, metrics={"val_accuracy": 0.7}))
    assert panel.flush()
    # a chart's update is one message with the changed properties; the bar moves an epoch on
    assert delta(before, counts(panel)) == {"curves": 1, "table": 1, "status_line": 1, "progress": 1}
    update = deltas(panel.curves_chart.widget)[-1]
    slot = panel.curves_chart.slot_of["0001"]
    assert list(update["traces"]) == [str(slot)]  # one trace, and only its points
    assert set(update["traces"][str(slot)]) == {"x", "y"}
    assert update["traces"][str(slot)]["x"] == [1, 2]
    assert update["layout"] == {}
    # the table sent the running row only (rows unchanged)
    table_msg = panel.table.comm.messages[-1]["state"]
    assert set(table_msg) == {"live"} and list(table_msg["live"]) == ["0001"]
    assert table_msg["live"]["0001"]["epochs"] == 2


def test_a_finished_trial_updates_the_summary_charts_once(fake, make_panel):
    running_search(fake)
    panel = make_panel(fake)
    before = counts(panel)
    fake.feed(trial_events("0001", {"units": 64}, 5)[2:])  # epochs 2..5 and the end
    fake.feed(trial_events("0002", {"units": 16}, 5))
    assert panel.flush()
    sent = delta(before, counts(panel))
    # one message a chart's update, one a plain widget; the hyperparameter charts also put
    # away their empty sentences (parallel coordinates needs 2 trials, importance 3)
    # (the best trial is still 0000, so the best card has nothing to send)
    assert sent == {
        "curves": 1,
        "objective": 1,
        "parallel": 2,
        "importance": 2,
        "table": 1,
        "status_line": 1,
        "progress": 1,
    }
    assert panel.parallel_chart.widget.empty == panel.importance_chart.widget.empty == ""
    assert panel.objective_chart.data()["completed"][0] == (1, 2, 3)
    assert not panel.flush()  # nothing new: nothing sent
    assert delta(before, counts(panel)) == sent


def test_rounds_follow_the_cadence_however_fast_events_come(fake, make_panel):
    now = [0.0]
    running_search(fake)
    panel = make_panel(fake, clock=lambda: now[0])
    curves = panel.curves_chart.widget.comm.messages
    table = panel.table.comm.messages
    n_curves, n_table, n_status = len(curves), len(table), len(panel.status_line.comm.messages)
    for step in range(1, 41):  # 4 seconds, an epoch every 0.1 s
        now[0] = step * 0.1
        fake.publish(EpochEnded(trial_id="0001", epoch=step + 1, metrics={"val_accuracy": 0.5}))
        panel.flush(force=False)
    # curves and table at most every 0.5 s, the status line at most every 0.25 s
    assert len(curves) - n_curves <= 4 / 0.5 + 1
    assert len(table) - n_table <= 4 / 0.5 + 1
    assert len(panel.status_line.comm.messages) - n_status <= 4 / 0.25 + 1
    panel.flush()  # forced: everything pending goes out
    assert panel.curves_chart.data()["0001"][0][-1] == 41


def test_a_panel_rebuilt_by_replay_equals_the_live_one(fake, make_panel):
    events = list(scripted_events(trials=55, epochs=3, prune_every=5, finish=False))
    fake.publish(events[0])
    live = make_panel(fake, max_curves=12, keep_best=3)
    for i, event in enumerate(events[1:]):
        fake.publish(event)
        if i % 7 == 0:
            live.flush()
    # a promotion continues its parent's curve
    fake.feed(
        trial_events("0055", {"units": 32}, 2, initial_epoch=3, parent_id="0002", source="promoted")
    )
    fake.feed(trial_events("0056", {"units": 48}, 2, status="running", planned=3))
    live.flush()
    replayed = make_panel(fake, max_curves=12, keep_best=3)
    assert snapshot(replayed) == snapshot(live)
    shown = live.curves_chart.data()
    assert len(shown) == 12 and "0056" in shown
    assert set(charts.best_trial_ids(live.record, 3)) <= set(shown)
    for curve in charts.learning_curves(live.record, trial_ids=list(shown)):
        assert shown[curve.trial_id][:2] == (curve.epochs, curve.values)
    promoted = charts.trial_curve(live.record, "0055")
    assert "0055" in shown  # past the running one and the best, the latest trials fill the chart
    assert shown["0055"][0][0] == 3 and promoted.joined
    assert shown["0056"][2] == charts.curve_style("running").width
    assert live.table.current_rows() == charts.table_rows(live.record)


def test_a_finished_search_reopened_from_its_journal_shows_the_same_and_starts_no_timer(
    tmp_path, make_panel
):
    first = FakeSearch(directory=tmp_path, journal=True)
    first.feed(scripted_events(trials=6, epochs=3, prune_every=3))
    live = make_panel(first, autostart=True)
    assert not live.live and live._thread is None
    reopened = FakeSearch(directory=tmp_path, journal=True)  # reads events.jsonl back
    assert len(reopened.events()) == len(first.events())
    again = make_panel(reopened, autostart=True)
    assert not again.live
    assert snapshot(again) == snapshot(live)
    assert "done" in again.status_line.value and again.progress.value == 1.0
    assert again.pause_button.disabled and again.stop_button.disabled


def test_displaying_the_same_panel_twice_shows_one_model(fake, make_panel):
    running_search(fake)
    panel = make_panel(fake)
    first, second = panel._repr_mimebundle_(), panel._repr_mimebundle_()
    assert first == second
    assert first["application/vnd.jupyter.widget-view+json"]["model_id"] == panel.model_id


def test_close_leaks_no_comm_and_unsubscribes(fake, comms):
    running_search(fake)
    already = len(comms.comms)
    panel = Panel(fake, autostart=True)
    made = comms.comms[already:]
    assert len(made) > 50 and panel.live
    thread = panel._thread
    panel.close()
    assert thread is not None and not thread.is_alive() and not panel.live
    assert [c.comm_id for c in made if not c.closed] == []
    assert not set(ipywidgets.Widget.widgets) & {c.comm_id for c in made}
    fake.publish(EpochEnded(trial_id="0001", epoch=2, metrics={"val_accuracy": 0.7}))
    assert not panel._events  # unsubscribed
    assert not panel.flush()
    panel.close()  # twice is fine


def test_the_flusher_folds_events_from_the_search_thread_and_stops_at_the_end(fake, make_panel):
    fake.publish(started(trials=20, epochs=4))
    panel = make_panel(fake, autostart=True, interval=0.005, clock=fast_clock)
    assert panel.live
    events = list(scripted_events(trials=20, epochs=4))[1:]

    def search_thread():
        for event in events:
            fake.publish(event)

    worker = threading.Thread(target=search_thread)
    worker.start()
    worker.join(10)
    flusher = panel._thread
    assert flusher is not None
    flusher.join(10)  # it ends by itself once the search has ended and all is shown
    assert not flusher.is_alive() and not panel.live
    assert panel.record.last_seq == len(fake.events()) - 1
    assert snapshot(panel) == snapshot(make_panel(fake))


def test_events_after_the_end_restart_the_flusher(fake, make_panel):
    fake.feed(scripted_events(trials=2, epochs=2))
    panel = make_panel(fake, autostart=True, interval=0.005, clock=fast_clock)
    assert not panel.live
    config = fake.record.config
    fake.publish(
        SearchStarted(
            **{
                **{
                    f: getattr(config, f)
                    for f in (
                        "name",
                        "directory",
                        "data",
                        "oracle",
                        "objective",
                        "direction",
                        "time_budget_s",
                        "epochs",
                        "seed",
                        "space",
                    )
                },
                "trials": 3,
                "resumed": True,
            }
        )
    )
    assert panel.live
    fake.feed(trial_events("0002", {"units": 16}, 2))
    fake.publish(SearchEnded(state="done"))
    panel._thread.join(10)
    assert not panel.live
    assert [r["trial_id"] for r in panel.table.current_rows()] == ["0000", "0001", "0002"]


def test_a_panel_made_before_the_search_starts_builds_its_form_later(fake, make_panel):
    panel = make_panel(fake)
    assert panel.enqueue_inputs == {} and "waiting" in panel.header.value
    fake.publish(started())
    panel.flush()
    assert set(panel.enqueue_inputs) == {
        "units",
        "learning_rate",
        "activation",
        "batch_norm",
        "optimizer",
    }
    assert "digits" in panel.header.value


def test_the_end_of_a_search_goes_out_in_one_round_despite_the_cadence(fake, make_panel):
    """With workers, two trials end close together: the status line must not say done while
    the table still shows a trial running (the table's cadence is slower than the status's)."""
    now = [0.0]
    running_search(fake)
    fake.feed(trial_events("0002", {"units": 16}, 1, status="running", planned=5))
    panel = make_panel(fake, clock=lambda: now[0])
    now[0] = 10.0
    fake.feed(trial_events("0001", {"units": 64}, 5)[2:])  # 0001 ends: the table shows it
    panel.flush(force=False)
    now[0] = 10.1  # within the table's cadence, 0002 ends and so does the search
    fake.feed(trial_events("0002", {"units": 16}, 5)[2:])
    fake.publish(StateChanged(state="done", previous="running"))
    fake.publish(SearchEnded(state="done"))
    panel.flush(force=False)
    assert "done" in panel.status_line.value
    assert [r["status"] for r in panel.table.current_rows()] == ["completed"] * 3
    assert panel.progress.value == 1.0


def test_the_message_budget_holds_under_a_flood_and_starves_no_part(fake, make_panel, comms):
    now = [0.0]
    running_search(fake)
    panel = make_panel(fake, clock=lambda: now[0])
    fake.feed(trial_events("0001", {"units": 64}, 5)[2:])
    sent: list[tuple[float, int]] = []
    for step in range(1, 81):  # 8 s; a whole trial every 0.1 s
        now[0] = step * 0.1
        fake.feed(trial_events(f"{step + 1:04d}", {"units": 16 * (step % 8 + 1)}, 3))
        before = comms.total()
        panel.flush(force=False)
        sent.append((now[0], comms.total() - before))
    for start, _ in sent:
        in_window = sum(n for t, n in sent if start <= t < start + 1.0 - 1e-9)
        assert in_window <= 24, f"{in_window} messages in the second from {start:.1f} s"
    for part in ("status", "curves", "table", "objective", "parallel", "importance", "cards"):
        assert panel._cadence.last[part] >= 6.0, f"{part} was not refreshed in the last 2 s"
    panel.flush()  # and a forced flush catches everything up
    assert snapshot(panel) == snapshot(make_panel(fake))
