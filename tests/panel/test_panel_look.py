"""The panel at first sight (issue 16), from Python: what each chart holds and says, the one
status message, the progress bar, the sections, Export's formats. The browser tests check
the same on the page (tests/browser/test_browser_look.py)."""

from __future__ import annotations

import pathlib
import re

import pytest

from automl_nb.control import CommandResult
from automl_nb.events import CommandIssued, EpochEnded, SearchEnded, StateChanged, TrialEnded
from automl_nb.panel import _colours
from automl_nb.panel._assets import asset
from automl_nb.panel._data.axes import axis_label, integer_dtick, log_ticks, tick_text
from automl_nb.panel._messages import MessageBoard
from automl_nb.panel.chart import Chart
from automl_nb.panel.figures import TOP
from automl_nb.testing.panel import FakeSearch, started, trial_events


def running_search(fake: FakeSearch, finished: int = 2) -> None:
    fake.publish(started(trials=5, epochs=5))
    fake.publish(StateChanged(state="running", previous="idle"))
    for i in range(finished):
        fake.feed(trial_events(f"{i:04d}", {"units": 32 * (i + 1), "activation": "relu",
                                            "learning_rate": 10 ** -(i + 2)}, 5))
    fake.feed(trial_events(f"{finished:04d}", {"units": 16}, 2, status="running", planned=5))


# -- the axes ---------------------------------------------------------------------------------


def test_whole_number_axes_step_by_round_numbers():
    assert [integer_dtick(n) for n in (1, 2, 8, 9, 17, 40, 120, 999)] == [1, 1, 1, 2, 5, 5, 20, 200]


def test_log_axes_get_few_round_ticks():
    assert log_ticks(1e-4, 1e-1) == ((1e-4, 1e-3, 1e-2, 1e-1), ("1e-4", "1e-3", "0.01", "0.1"))
    values, text = log_ticks(1e-9, 1e3)  # twelve decades: every other one or so
    assert len(values) <= 6 and values[0] == 1e-9 and all(t.startswith("1") for t in text)
    assert log_ticks(16, 256)[1] == ("20", "50", "100", "200")  # not 8, 7, 6, 10, 9, 8...
    assert log_ticks(8, 64)[1] == ("10", "20", "50")
    assert log_ticks(2, 3)[1] == ("2", "3")
    assert tick_text(3e-3) == "3e-3" and tick_text(0.25) == "0.25" and tick_text(2e4) == "2e4"
    with pytest.raises(ValueError, match="positive"):
        log_ticks(0, 1)


def test_axis_labels_break_into_short_lines():
    assert axis_label("learning_rate") == "learning<br>rate"
    assert axis_label("batch_norm") == "batch_norm"
    assert axis_label("a_very_long_hyperparameter_name") == "a_very_long<br>hyperparame…"
    assert all(len(line) <= 12 for line in axis_label("x" * 40).split("<br>"))


# -- the chart widget -------------------------------------------------------------------------


def test_a_chart_sends_only_what_changed_in_one_message(comms):
    chart = Chart("demo", [{"type": "scatter", "x": [], "y": [], "line": {"width": 1}}], {"xaxis": {}})
    sent = lambda: [m["content"] for m in chart.comm.messages if m.get("method") == "custom"]
    assert chart.push({0: {"x": (1, 2), "y": [0.5, 0.6], "line.width": 1}}) == 1
    assert sent() == [{"kind": "delta", "traces": {"0": {"x": [1, 2], "y": [0.5, 0.6]}}, "layout": {}}]
    assert chart.push({0: {"x": [1, 2], "line.width": 1}}, {"xaxis.dtick": 1}) == 1  # only the layout
    assert sent()[-1] == {"kind": "delta", "traces": {}, "layout": {"xaxis.dtick": 1}}
    assert chart.push({0: {"x": [1, 2]}}, {"xaxis.dtick": 1}) == 0 and len(sent()) == 2
    # the traits hold the truth (a view made later shows it), changed in place, not re-sent
    assert chart.data[0]["x"] == [1, 2] and chart.plot_layout["xaxis"] == {"dtick": 1}
    assert not any("data" in (m.get("state") or {}) for m in chart.comm.messages)
    assert chart.say("nothing yet") == 1 and chart.say("nothing yet") == 0


def test_every_chart_shares_one_plotly_library(fake, make_panel):
    running_search(fake)
    panel = make_panel(fake)
    libraries = {c.widget.library for c in (panel.objective_chart, panel.curves_chart,
                                            panel.parallel_chart, panel.importance_chart)}
    assert len(libraries) == 1 and libraries != {""}


# -- empty states -------------------------------------------------------------------------------


def test_charts_without_data_say_what_will_appear(fake, make_panel):
    fake.publish(started(trials=5, epochs=5))
    panel = make_panel(fake)
    for renderer in (panel.objective_chart, panel.curves_chart, panel.parallel_chart,
                     panel.importance_chart):
        assert renderer.widget.empty, f"{renderer.widget.name} has no sentence"
    assert "as trials finish" in panel.objective_chart.widget.empty
    fake.feed(trial_events("0000", {"units": 32}, 1, status="running", planned=5))
    panel.flush()
    assert panel.curves_chart.widget.empty == ""  # a first epoch: a curve to draw
    assert panel.objective_chart.widget.empty  # no trial has finished yet


def test_the_empty_sentences_go_once_there_is_enough_data(fake, make_panel):
    running_search(fake, finished=3)
    panel = make_panel(fake)
    for renderer in (panel.objective_chart, panel.curves_chart, panel.parallel_chart,
                     panel.importance_chart):
        assert renderer.widget.empty == "", renderer.widget.name


# -- readable charts ----------------------------------------------------------------------------


def test_trial_and_epoch_axes_have_whole_number_ticks(fake, make_panel):
    running_search(fake)
    panel = make_panel(fake)
    for chart in (panel.objective_chart.widget, panel.curves_chart.widget):
        xaxis = chart.plot_layout["xaxis"]
        assert xaxis["tickformat"] == "d" and isinstance(xaxis["dtick"], int) and xaxis["dtick"] >= 1


def test_learning_curves_name_the_best_and_the_running_trial_and_mute_the_rest(fake, make_panel):
    running_search(fake)
    panel = make_panel(fake)
    chart, slot = panel.curves_chart.widget, panel.curves_chart.slot_of
    best_id = panel.record.best().trial_id
    other_id = next(t for t in ("0000", "0001") if t != best_id)
    best, other, running = (chart.data[slot[t]] for t in (best_id, other_id, "0002"))
    assert best["showlegend"] and best["name"] == f"★ trial {best_id} · best"
    assert best["line"]["color"] == _colours.BEST["color"]
    assert running["showlegend"] and running["name"] == "trial 0002 · running"
    assert running["line"]["color"] == _colours.RUNNING[0] and running["line"]["width"] > 2
    assert not other["showlegend"] and other["line"]["color"] == _colours.MUTED
    assert other["opacity"] < 1 and other["line"]["width"] < best["line"]["width"]
    assert {t: chart.data[s]["meta"] for t, s in slot.items()} == {t: t for t in slot}
    assert "trial %{meta}" in best["hovertemplate"]  # every curve names its trial on hover
    star = chart.data[panel.curves_chart.slots]
    assert star["marker"]["symbol"] == "star" and star["customdata"] == [best_id]


def test_the_best_trial_is_marked_the_same_way_everywhere(fake, make_panel):
    running_search(fake, finished=3)
    panel = make_panel(fake)
    best = panel.record.best().trial_id
    star = panel.objective_chart.widget.data[-1]
    assert star["marker"]["symbol"] == "star" and star["marker"]["color"] == _colours.BEST["color"]
    assert star["customdata"] == [best]
    assert panel.curves_chart.widget.data[-1]["customdata"] == [best]
    assert panel.table.best == best
    assert "★" in panel.best_html.value and _colours.BEST["color"] in panel.best_html.value
    # parallel coordinates: the best line alone reaches the gold end of the scale
    line = panel.parallel_chart.widget.data[0]["line"]
    ids = [t.trial_id for t in panel.record.trials.values() if t.status == "completed"]
    colours = dict(zip(ids, line["color"], strict=True))
    assert colours[best] == 1.0 and all(c <= TOP for t, c in colours.items() if t != best)
    scale = {round(p, 3): c for p, c in line["colorscale"]}
    assert scale[1.0] == _colours.BEST["color"] and scale[TOP] != _colours.BEST["color"]


def test_the_front_end_uses_the_same_gold_for_the_best(fake):
    for name in ("trial_table.css", "hyperband.css"):
        assert f"--amnb-best: {_colours.BEST['color']}" in asset(name), name


def test_parallel_coordinates_wrap_their_labels_and_put_the_objective_last(fake, make_panel):
    running_search(fake, finished=3)
    panel = make_panel(fake)
    dims = panel.parallel_chart.widget.data[0]["dimensions"]
    labels = [d["label"] for d in dims]
    assert labels[-1] == "val_accuracy"
    assert "learning<br>rate" in labels and all(len(p) <= 12 for lab in labels for p in lab.split("<br>"))
    assert panel.parallel_chart.widget.plot_layout["margin"]["t"] >= 40  # room for two lines


# -- progress and the one status message ----------------------------------------------------


def test_the_progress_bar_moves_with_the_epochs_of_the_running_trial(fake, make_panel):
    running_search(fake)  # 2 of 5 trials done, the third at epoch 2 of 5
    panel = make_panel(fake)
    assert panel.progress.value == pytest.approx((2 + 2 / 5) / 5, abs=1e-3)
    fake.publish(EpochEnded(trial_id="0002", epoch=3, metrics={"val_accuracy": 0.7}))
    panel.flush()
    assert panel.progress.value == pytest.approx((2 + 3 / 5) / 5, abs=1e-3)


def test_the_message_board_keeps_the_latest_and_clears_stale_sentences():
    board = MessageBoard()
    assert board.say("the panel's own", 10.5)
    # the search's answer to the same click, said before it (seq 10) and heard after: ignored
    assert not board.hear(CommandIssued(command="export", args={}, accepted=True, message="x", seq=10))
    assert board.text == "the panel's own"
    assert board.hear(StateChanged(state="paused", previous="running", seq=11)) and board.text == ""
    board.hear(CommandIssued(command="prune", args={"trial_id": "0003"}, accepted=True,
                             message="pruning trial 0003", seq=12))
    assert not board.hear(TrialEnded(trial_id="0002", status="completed", score=0.5, best_epoch=1,
                                     epochs=1, duration_s=1.0, seq=13))
    assert board.text == "pruning trial 0003"
    assert board.hear(TrialEnded(trial_id="0003", status="pruned", score=0.5, best_epoch=1,
                                 epochs=1, duration_s=1.0, seq=14))
    assert board.text == ""
    board.hear(CommandIssued(command="stop", args={}, accepted=True, message="stopping", seq=15))
    board.hear(StateChanged(state="done", previous="stopping", seq=16))
    board.hear(SearchEnded(state="done", reason="stopped by the user", seq=17))
    assert board.text == "stopped by the user"


class Answering(FakeSearch):
    """A fake that, like Search, answers each command with a CommandIssued in its journal."""

    def stop(self):
        self.publish(StateChanged(state="stopping", previous=self.record.state))
        self.publish(CommandIssued(command="stop", args={}, accepted=True,
                                   message="stopping: the running trial ends at its next batch"))
        return CommandResult("stop", True, "stopping: the running trial ends at its next batch")

    def export(self, path=None, trial_id=None, format="keras"):
        target = super().export(path, trial_id, format)
        self.publish(CommandIssued(command="export", args={}, accepted=True,
                                   message=f"exported trial 0001 to {target}"))
        return target


def test_stopping_does_not_stay_after_the_search_is_done(tmp_path, make_panel):
    search = Answering(directory=tmp_path)
    running_search(search)
    panel = make_panel(search)
    panel.stop_button.click()
    panel.flush()
    assert panel.status_message.value.startswith("stopping")
    search.publish(StateChanged(state="done", previous="stopping", reason="stopped by the user"))
    search.publish(SearchEnded(state="done", reason="stopped by the user"))
    panel.flush()
    assert panel.status_message.value == "stopped by the user"
    # and a panel made afterwards, from the journal, never shows the stale sentence
    assert make_panel(search).status_message.value == "stopped by the user"


def test_exports_sentence_is_not_overwritten_by_the_search_s_own_answer(tmp_path, make_panel):
    search = Answering(directory=tmp_path)
    running_search(search)
    panel = make_panel(search)
    panel.export_button.click()  # the search's CommandIssued is folded later, by the flusher
    panel.flush()
    assert panel.status_message.value == f"exported the best model to {tmp_path / 'best.keras'}"


# -- export formats, sections ------------------------------------------------------------------


def test_export_offers_keras_savedmodel_and_tflite_and_passes_the_choice(fake, make_panel):
    running_search(fake)
    panel = make_panel(fake)
    assert [v for _, v in panel.export_format.options] == ["keras", "savedmodel", "tflite"]
    assert panel.export_format.value == "keras"
    panel.export_button.click()
    panel.export_format.value = "tflite"
    panel.export_path.value = "m.tflite"
    panel.export_button.click()
    assert fake.calls[-2:] == [("export", None, None), ("export", "m.tflite", None, "tflite")]
    assert panel.status_message.value == "exported the best model to m.tflite"


def test_a_search_that_exports_keras_only_says_so_for_other_formats(tmp_path, make_panel):
    class KerasOnly(FakeSearch):
        def export(self, path=None, trial_id=None):  # the Search of before the export formats
            return super().export(path, trial_id)

    search = KerasOnly(directory=tmp_path)
    running_search(search)
    panel = make_panel(search)
    panel.export_format.value = "savedmodel"
    panel.export_button.click()
    assert search.calls == [] and "exports .keras only" in panel.status_message.value
    panel.export_format.value = "keras"
    panel.export_button.click()
    assert search.calls == [("export", None, None)]


def test_the_rest_is_in_sections_closed_at_first(fake, make_panel):
    running_search(fake)
    panel = make_panel(fake)
    assert list(panel.sections) == ["hyperparameters", "teaching", "enqueue"]
    assert not any(s.is_open for s in panel.sections.values())
    first_sight = [panel.header, panel.controls, panel.status_box, panel.best_box, panel.charts,
                   panel.table]
    assert all(w in panel.children for w in first_sight)
    assert panel.charts.children == (panel.objective_chart.widget, panel.curves_chart.widget)
    panel.open_section("enqueue")
    assert panel.sections["enqueue"].is_open and panel.sections["enqueue"].selected_index == 0
    with pytest.raises(ValueError, match="name must be one of hyperparameters, teaching, enqueue"):
        panel.open_section("teach")


def test_the_front_end_files_name_no_fixed_width():
    """Charts follow their place: no chart is drawn at a fixed pixel width."""
    chart = pathlib.Path(__file__).resolve().parents[2] / "widgets" / "chart.js"
    assert "ResizeObserver" in chart.read_text()
    from automl_nb.panel import figures

    assert "width" not in figures.chart_layout() and re.search(r"minmax\(\d+px, 1fr\)", figures.CHART_GRID)
