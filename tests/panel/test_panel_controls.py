"""Every control of the panel calls the Search, and a refusal shows its sentence."""

from __future__ import annotations

import ipywidgets
import pytest

from automl_nb.events import CommandIssued, StateChanged
from automl_nb.testing.panel import FakeSearch, started, trial_events


@pytest.fixture
def panel(fake: FakeSearch, make_panel):
    fake.publish(started(trials=5, epochs=5))
    fake.publish(StateChanged(state="running", previous="idle"))
    fake.feed(trial_events("0000", {"units": 32, "activation": "relu"}, 5))
    fake.feed(trial_events("0001", {"units": 64}, 2, status="pruned"))
    fake.feed(trial_events("0002", {"units": 48}, 1, status="running", planned=5))
    return make_panel(fake)


def test_pause_button_toggles_with_the_state(fake, panel):
    assert panel.pause_button.description == "Pause"
    panel.pause_button.click()
    assert fake.calls == [("pause",)]
    assert panel.status_message.value == "pausing at the next batch end"
    panel.flush()
    assert panel.pause_button.description == "Resume" and "paused" in panel.status_line.value
    panel.pause_button.click()
    assert fake.calls[-1] == ("resume",)
    panel.flush()
    assert panel.pause_button.description == "Pause"


def test_stop_and_budget_buttons(fake, panel):
    panel.stop_button.click()
    panel.add_trials_input.value = 7
    panel.add_trials_button.click()
    panel.add_time_button.click()
    assert fake.calls == [("stop",), ("extend", 7, None), ("extend", None, 60.0)]
    assert panel.status_message.value == "budget extended"


def test_a_refused_command_shows_its_sentence_instead_of_raising(fake, panel):
    fake.refuse["prune"] = "trial 0000 is completed; only a running trial can be pruned"
    assert not panel.table.click("prune", "0000")
    assert panel.status_message.value == fake.refuse["prune"]
    fake.refuse["stop"] = "the search is done; there is nothing to stop"
    panel.stop_button.click()
    assert panel.status_message.value == "the search is done; there is nothing to stop"


def test_a_raised_value_error_shows_its_message(fake, panel):
    fake.raise_on["enqueue"] = "units=1000 is above its maximum 256"
    panel.enqueue_button.click()
    assert panel.status_message.value == "units=1000 is above its maximum 256"
    fake.raise_on["extend"] = "trials must be a positive whole number; got 0"
    panel.add_trials_button.click()
    assert panel.status_message.value.startswith("trials must be")


def test_commands_issued_elsewhere_show_in_the_status_line(fake, panel):
    fake.publish(
        CommandIssued(
            command="prune",
            args={"trial_id": "0002"},
            accepted=True,
            message="pruning trial 0002 at its next batch",
        )
    )
    panel.flush()
    assert panel.status_message.value == "pruning trial 0002 at its next batch"


def test_row_actions_from_python(fake, panel):
    panel.table.click("prune", "0002")
    panel.table.click("promote", "0001", epochs=7)
    panel.table.click("promote", "0000")
    assert fake.calls == [("prune", "0002"), ("promote", "0001", 7), ("promote", "0000", 5)]
    assert panel.status_message.value == "trial 0000 will train 5 more epochs next"
    with pytest.raises(ValueError, match="action must be one of"):
        panel.table.click("delete", "0000")


def test_row_actions_from_the_browser(fake, panel):
    """What trial_table.js sends: a custom message on the table's comm."""
    comm = panel.table.comm
    comm.receive(
        {"method": "custom", "content": {"action": "promote", "trial_id": "0000", "epochs": 3}}
    )
    comm.receive({"method": "custom", "content": {"action": "prune", "trial_id": "0002"}})
    comm.receive({"method": "custom", "content": {"action": "bogus", "trial_id": "0002"}})
    assert fake.calls == [("promote", "0000", 3), ("prune", "0002")]
    comm.receive({"method": "update", "state": {"sort": "score"}, "buffer_paths": []})
    assert panel.table.sort == "score"


def test_details_show_every_hyperparameter_and_export_the_trial(fake, panel):
    assert panel.details.layout.display == "none"
    panel.table.click("details", "0000")
    assert panel.details.layout.display == "flex" and panel.table.selected == "0000"
    html = panel.details_html.value
    assert "units" in html and "activation" in html and "<svg" in html and "completed" in html
    panel.details_export_button.click()
    assert fake.calls == [("export", fake.directory / "trial-0000.keras", "0000")]
    assert "trial-0000.keras" in panel.status_message.value
    panel.details_close_button.click()
    assert panel.details.layout.display == "none" and panel.table.selected == ""


def test_details_of_the_running_trial_follow_its_epochs(fake, panel):
    panel.table.click("details", "0002")
    assert "epochs 1–1" in panel.details_html.value
    fake.feed(trial_events("0002", {"units": 48}, 2, status="running")[2:])
    panel.flush()
    assert "epochs 1–2" in panel.details_html.value


def test_the_enqueue_form_is_typed_by_kind_and_runs_next(fake, panel):
    inputs = panel.enqueue_inputs
    assert isinstance(inputs["units"], ipywidgets.IntSlider)
    assert (inputs["units"].min, inputs["units"].max, inputs["units"].step) == (16, 256, 16)
    assert isinstance(inputs["learning_rate"], ipywidgets.FloatLogSlider)
    assert isinstance(inputs["activation"], ipywidgets.Dropdown)
    assert isinstance(inputs["batch_norm"], ipywidgets.Checkbox)
    assert inputs["optimizer"].disabled  # fixed: shown, not sent
    inputs["units"].value = 128
    inputs["activation"].value = "gelu"
    inputs["batch_norm"].value = True
    panel.enqueue_button.click()
    assert fake.calls == [
        (
            "enqueue",
            {
                "units": 128,
                "learning_rate": pytest.approx(1e-3),
                "activation": "gelu",
                "batch_norm": True,
            },
        )
    ]
    assert panel.status_message.value == "queued as the next trial"


def test_enqueue_before_the_space_is_known_says_so(make_panel):
    bare = FakeSearch()
    panel = make_panel(bare)
    panel.enqueue_button.click()
    assert bare.calls == [] and "not known yet" in panel.status_message.value


def test_export_best_to_the_default_or_a_typed_path(fake, panel):
    panel.export_button.click()
    assert fake.calls[-1] == ("export", None, None)
    assert str(fake.directory / "best.keras") in panel.status_message.value
    panel.export_path.value = " models/digits.keras "
    panel.export_button.click()
    assert fake.calls[-1] == ("export", "models/digits.keras", None)
    fake.raise_on["export"] = "path must end in .keras; got 'x.h5' (try 'x.keras')"
    panel.export_button.click()
    assert panel.status_message.value == fake.raise_on["export"]


def test_best_card_shows_the_best_trial(panel):
    assert "trial <code>0000</code>" in panel.best_html.value
    assert "units" in panel.best_html.value


def test_final_fit_runs_in_a_thread_and_reports_in_the_card(fake, panel):
    fake.final_fit_gate.clear()
    thread = panel.best_box.final_fit()
    assert thread is not None and panel.final_fit_button.disabled
    assert "final fit of trial 0000" in panel.final_fit_status.value
    panel.final_fit_button.click()  # a second click while it runs
    assert panel.status_message.value == "a final fit is already running"
    fake.final_fit_gate.set()
    thread.join(5)
    assert fake.calls == [("final_fit", None, None)]
    assert "done" in panel.final_fit_status.value and not panel.final_fit_button.disabled


def test_final_fit_refused_says_why(fake, panel):
    fake.raise_on["final_fit"] = "the search is running; final fit runs once it is done"
    panel.final_fit_button.click()
    panel.best_box.final_fit_thread.join(5)
    assert "the search is running" in panel.final_fit_status.value
    assert panel.status_message.value == fake.raise_on["final_fit"]
    assert not panel.final_fit_button.disabled


def test_buttons_are_disabled_once_the_search_is_done(fake, panel):
    fake.publish(StateChanged(state="done", previous="running"))
    panel.flush()
    assert panel.pause_button.disabled and panel.stop_button.disabled
    assert not panel.add_trials_button.disabled  # extend continues a finished search
