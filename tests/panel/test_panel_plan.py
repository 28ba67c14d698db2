"""The search's own trials and its plan, as the status line, the command line and Hyperband's
diagram show them: the warm start's portfolio counts against the trial budget like the
oracle's trials, the latest plan decision is on the status line while the search runs, and a
portfolio trial Hyperband placed in a bracket is drawn in that bracket."""

from __future__ import annotations

import dataclasses
import io
import random

import automl_nb
from automl_nb import teaching
from automl_nb.events import PlanMade, SearchEnded, StateChanged
from automl_nb.panel._data.status import status_info, status_text
from automl_nb.record import SearchRecord
from automl_nb.testing.panel import SPACE, sample, started, trial_events
from automl_nb.ui.text import Progress


def _stamped(events) -> list:
    return [dataclasses.replace(e, seq=seq, time=1000.0 + seq) for seq, e in enumerate(events)]


def test_portfolio_trials_count_against_the_trial_budget_and_the_plan_is_shown():
    rng = random.Random(1)
    plan = PlanMade(decision="epochs", message="trial 0002 plans 4 epochs to fit the time left",
                    trial_id="0002")
    events = _stamped([
        started(trials=4),
        StateChanged(state="running", previous="idle"),
        *trial_events("0000", sample(SPACE, rng), 3, source="portfolio", info={"portfolio": "wide"}),
        *trial_events("0001", sample(SPACE, rng), 3, source="oracle"),
        *trial_events("0002", sample(SPACE, rng), 1, source="enqueued", status="running", planned=4),
        plan,
    ])
    info = status_info(SearchRecord(events), now=1100.0)
    assert (info.done, info.extra, info.total) == (2, 0, 4)
    line = status_text(info)
    assert line.startswith("running · 2 of 4 trials")
    assert line.endswith("trial 0002 plans 4 epochs to fit the time left")

    ended = SearchRecord(_stamped([*events, StateChanged(state="done", previous="running"),
                                   SearchEnded(state="done", reason="all 4 trials are done")]))
    assert "plans 4 epochs" not in status_text(status_info(ended, now=1200.0))  # stale once done


def test_the_command_line_prints_each_plan_decision():
    class Fake:
        objective = "val_accuracy"

    out = io.StringIO()
    progress = Progress(Fake(), stream=out, live=False)
    progress(PlanMade(decision="warm_start", message="warm start: the first trials are defaults, wide"))
    assert out.getvalue() == "plan: warm start: the first trials are defaults, wide\n"


def test_hyperband_draws_a_portfolio_trial_in_the_bracket_it_was_placed_in():
    rng = random.Random(2)
    values = sample(SPACE, rng)
    record = SearchRecord(_stamped([
        started(oracle="hyperband", epochs=9, trials=None),
        StateChanged(state="running", previous="idle"),
        *trial_events("0000", values, 1, source="portfolio",
                      info={"portfolio": "wide", "placed": "hyperband", "bracket": 2, "round": 0}),
    ]))
    diagram = teaching.hyperband_diagram(record, max_epochs=9, factor=3)
    placed = [(bracket["bracket"], rnd["round"]) for bracket in diagram["brackets"]
              for rnd in bracket["rounds"] for t in rnd["trials"] if t["trial_id"] == "0000"]
    assert placed == [(2, 0)]  # drawn in the bracket and round Hyperband gave it (1 epoch)
    assert "0000" not in diagram["outside"]


def test_trials_default_to_twenty_or_no_limit_with_a_time_budget(tmp_path):
    plain = automl_nb.search("iris", directory=tmp_path / "a", start=False)
    timed = automl_nb.search("iris", time="2m", directory=tmp_path / "b", start=False)
    capped = automl_nb.search("iris", time="2m", trials=5, directory=tmp_path / "c", start=False)
    assert (plain.budget.trials, timed.budget.trials, capped.budget.trials) == (20, None, 5)
