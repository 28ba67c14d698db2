"""The cost of every trial (its parameters) and the parameter budget (``max_params``)."""

from __future__ import annotations

import json

import pytest

import automl_nb
from automl_nb import SearchState
from automl_nb.errors import SearchError
from automl_nb.events import (
    EventBus,
    Journal,
    TrialEnded,
    TrialMeasured,
    TrialStarted,
    read_journal,
)
from automl_nb.record import RESULT_COLUMNS, SearchRecord
from automl_nb.settings import Settings

BUDGET = 1000  # units=4 builds a few dozen parameters on iris, units=512 some thousands


def test_params_are_journaled_and_folded_into_the_results(tmp_path):
    bus = EventBus(Journal(tmp_path / "events.jsonl"))
    bus.publish(TrialStarted(trial_id="0000", hyperparameters={"units": 4}))
    bus.publish(TrialMeasured(trial_id="0000", params=35))
    bus.publish(TrialEnded(trial_id="0000", status="completed", score=0.5, epochs=1))
    bus.publish(TrialStarted(trial_id="0001", hyperparameters={"units": 512}))
    events = read_journal(tmp_path / "events.jsonl")
    assert [e.kind for e in events][1] == "trial_measured"
    record = SearchRecord(events)
    assert record.trials["0000"].params == 35 and record.trials["0001"].params is None
    frame = record.results()
    assert list(frame.columns) == [*RESULT_COLUMNS, "units"]
    assert list(frame.columns[:7]) == ["trial_id", "status", "score", "epochs", "duration_s",
                                       "parent_id", "params"]
    assert frame.loc[0, "params"] == 35 and frame["params"].isna()[1]


def test_a_journal_from_before_costs_still_folds(tmp_path):
    path = tmp_path / "events.jsonl"
    lines = [
        {"kind": "trial_started", "seq": 0, "time": 1.0, "trial_id": "0000", "hyperparameters": {}},
        {"kind": "trial_ended", "seq": 1, "time": 2.0, "trial_id": "0000", "status": "completed",
         "score": 0.9},
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    record = SearchRecord(read_journal(path))
    assert record.trials["0000"].params is None
    assert record.results()["params"].isna().all()


def test_settings_keep_max_params_and_old_files_read_without_it():
    settings = Settings(name="s", data={}, oracle="random", objective="val_accuracy",
                        direction="max", max_params=20_000)
    assert Settings.from_dict(settings.to_dict()).max_params == 20_000
    old = settings.to_dict()
    del old["max_params"]
    assert Settings.from_dict(old).max_params is None


@pytest.mark.parametrize("bad", [0, -5, 2.5, "10k", True])
def test_a_bad_max_params_answers_with_one_sentence_naming_it(tmp_path, bad):
    with pytest.raises(SearchError, match="max_params must be") as info:
        automl_nb.search("iris", max_params=bad, directory=tmp_path / "x")
    assert str(info.value).count(". ") == 0
    assert not (tmp_path / "x").exists()


def _build(hp):
    import keras

    units = hp.Choice("units", [4, 256, 512, 1024])
    rate = hp.Float("learning_rate", 1e-3, 1e-2, sampling="log")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(units, activation="relu"),
                              keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(rate), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


@pytest.mark.slow
def test_over_budget_trials_end_at_build_time_and_the_best_is_within_budget(tmp_path, searches):
    s = automl_nb.search("iris", space=_build, oracle="random", trials=10, epochs=1, seed=0,
                         max_params=BUDGET, directory=tmp_path / "b")
    searches.append(s)
    assert s.wait(240) is SearchState.DONE, s.error
    r = s.results.set_index("trial_id")
    assert r["params"].notna().all()
    over = r[r["params"] > BUDGET]
    within = r[r["params"] <= BUDGET]
    assert len(over) >= 3 and len(within) >= 1, r.to_string()
    assert _longest_run(r["status"] == "failed") >= 3, r.to_string()  # would have tripped KerasTuner
    assert (over["status"] == "failed").all() and (over["epochs"] == 0).all()
    assert (within["status"] == "completed").all()
    for trial_id, row in over.iterrows():
        reason = s.record.trials[trial_id].reason
        assert reason == f"{int(row['params']):,} parameters, over max_params={BUDGET:,}"
    trained = {e.trial_id for e in s.events() if e.kind == "epoch_ended"}
    assert trained.isdisjoint(over.index)
    # the oracle learnt them as failures
    statuses = {}
    for trial_file in (tmp_path / "b").rglob("trial.json"):
        data = json.loads(trial_file.read_text())
        statuses[data["trial_id"]] = data["status"]
    assert {statuses[t] for t in over.index} == {"FAILED"}
    # the column is the model's own count, and the best is within budget
    best = s.best_model()
    assert best.count_params() <= BUDGET
    assert r.loc[s.record.best().trial_id, "params"] == best.count_params()


def _longest_run(flags) -> int:
    longest = run = 0
    for flag in flags:
        run = run + 1 if flag else 0
        longest = max(longest, run)
    return longest


def test_max_params_flag_parses_for_the_magic_and_the_shell():
    from automl_nb.ui import options
    from automl_nb.ui.args import ArgumentError, search_parser
    from automl_nb.ui.options import CLI, LINE

    for where in (LINE, CLI):
        args = search_parser(where).parse(["iris", "--max-params", "20000"])
        assert args.max_params == 20_000
        assert options.search_kwargs(args)["max_params"] == 20_000
        assert search_parser(where).parse(["iris"]).max_params is None
        with pytest.raises(ArgumentError, match=r"^--max-params must be at least 1; got 0"):
            search_parser(where).parse(["iris", "--max-params", "0"])
        with pytest.raises(ArgumentError, match=r"^--max-params '10k' is not a whole number"):
            search_parser(where).parse(["iris", "--max-params", "10k"])
