"""Warm start: a search's first trials are the space's defaults, then a portfolio of
configurations known to work, queued like a user's enqueue so the oracle learns from them."""

from __future__ import annotations

import pytest

from automl_nb import SearchState, families
from automl_nb._search import Search
from automl_nb.builtin_spaces import BAYESIAN_RANDOM_START
from automl_nb.events import PlanMade, TrialStarted, read_journal
from automl_nb.store import Store
from automl_nb.testing import DEFAULT_SPACE, ScriptedTrainer

DEFAULTS = {spec["name"]: spec["default"] for spec in DEFAULT_SPACE}
PORTFOLIO = [("slow-sgd", {"optimizer": "sgd", "learning_rate": 0.01}), ("wide", {"units": 256})]


def started(search):
    return [e for e in search.events() if isinstance(e, TrialStarted)]


def test_the_defaults_then_the_portfolio_run_first_and_count_as_trials(scripted):
    s = scripted(ScriptedTrainer(portfolio=PORTFOLIO), trials=4, epochs=1, warm_start=True)
    assert s.wait(20) is SearchState.DONE
    trials = started(s)
    assert [t.source for t in trials] == ["portfolio", "portfolio", "portfolio", "oracle"]
    assert [t.info.get("portfolio") for t in trials[:3]] == ["defaults", "slow-sgd", "wide"]
    assert trials[0].hyperparameters == DEFAULTS
    assert trials[1].hyperparameters == {**DEFAULTS, "optimizer": "sgd", "learning_rate": 0.01}
    assert trials[2].hyperparameters == {**DEFAULTS, "units": 256}
    (plan,) = [e for e in s.events() if isinstance(e, PlanMade)]
    assert plan.decision == "warm_start" and "defaults, slow-sgd, wide" in plan.message


def test_a_trials_budget_smaller_than_the_portfolio_cuts_it(scripted):
    s = scripted(ScriptedTrainer(portfolio=PORTFOLIO), trials=2, epochs=1, warm_start=True)
    assert s.wait(20) is SearchState.DONE
    assert [t.info.get("portfolio") for t in started(s)] == ["defaults", "slow-sgd"]


def test_without_warm_start_the_oracle_chooses_from_the_first_trial(scripted):
    s = scripted(ScriptedTrainer(portfolio=PORTFOLIO), trials=2, epochs=1, warm_start=False)
    assert s.wait(20) is SearchState.DONE
    assert [t.source for t in started(s)] == ["oracle", "oracle"]


def test_a_users_trial_goes_before_the_portfolio_left_in_the_queue(scripted):
    trainer = ScriptedTrainer(portfolio=PORTFOLIO, batch_seconds=0.002, batches_per_epoch=10)
    s = scripted(trainer, trials=3, epochs=5, warm_start=True, step=True)
    from .conftest import wait_for

    wait_for(lambda: s.state is SearchState.PAUSED, what="the first trial to end")
    assert s.enqueue({"units": 32})
    s.resume()
    wait_for(lambda: s.state is SearchState.PAUSED and len(s.record.trials) == 2,
             what="the second trial to end")
    assert [(t.source, t.hyperparameters["units"]) for t in started(s)] == [
        ("portfolio", 64), ("enqueued", 32)
    ]
    s.stop()


def test_a_reopened_search_runs_only_the_portfolio_entries_it_had_not(scripted, tmp_path, searches):
    s = scripted(ScriptedTrainer(portfolio=PORTFOLIO), trials=2, epochs=1, warm_start=True,
                 directory=tmp_path / "w")
    assert s.wait(20) is SearchState.DONE
    again = Search(directory=tmp_path / "w", settings=Store(tmp_path / "w").read_settings(),
                   dataset=None, history=read_journal(tmp_path / "w"),
                   trainer=ScriptedTrainer(portfolio=PORTFOLIO))
    searches.append(again)
    assert again.extend(trials=2)
    assert again.wait(20) is SearchState.DONE
    assert [t.info.get("portfolio") for t in started(again)] == ["defaults", "slow-sgd", "wide", None]


@pytest.mark.parametrize("family", ["tabular", "sequence", "image"])
def test_every_portfolio_entry_is_valid_for_its_space(family):
    import keras_tuner

    from automl_nb.spaces import DataSpec, check_values

    shape = {"tabular": (6,), "sequence": (40, 1), "image": (8, 8, 1)}[family]
    spec = DataSpec(family=family, task="classification", input_shape=shape, n_classes=3, n_outputs=3)
    build, portfolio = families.get(family).build_space, families.get(family).portfolio
    hp = keras_tuner.HyperParameters()
    build(hp, spec)
    names = [name for name, _ in portfolio]
    assert len(names) == len(set(names)) and "defaults" not in names
    for name, values in portfolio:
        chosen = hp.copy()
        chosen.values = check_values(hp, values)
        model = build(chosen, spec)
        assert model.compiled, name
        assert {k: chosen.values[k] for k in values} == values, name


@pytest.mark.slow
def test_the_bayesian_oracle_learns_from_the_portfolio(tmp_path, searches):
    import automl_nb

    s = automl_nb.search("iris", oracle="bayesian", trials=2, epochs=1, seed=0, directory=tmp_path / "b")
    searches.append(s)
    assert s.wait(240) is SearchState.DONE, s.error
    first = started(s)[0]
    assert (first.source, first.info.get("portfolio")) == ("portfolio", "defaults")
    oracle = s.oracle
    defaults = {hp.name: hp.default for hp in oracle.get_space().space}
    assert first.hyperparameters == defaults
    trial = oracle.get_trial(first.trial_id)  # the oracle's own record of it, scored
    assert trial.status == "COMPLETED"
    assert trial.score == pytest.approx(s.record.trials[first.trial_id].score)
    assert trial.hyperparameters.values == defaults
    assert len(oracle.trials) == 2  # and it counted as one of the two trials


@pytest.mark.slow
def test_hyperband_places_the_warm_start_in_a_first_round(tmp_path, searches):
    import automl_nb

    s = automl_nb.search("iris", oracle="hyperband", epochs=3, seed=0, directory=tmp_path / "h")
    searches.append(s)
    assert s.wait(300) is SearchState.DONE, s.error
    trials = started(s)
    portfolio = [t for t in trials if t.source == "portfolio"]
    names = ["defaults"] + [name for name, _ in families.get("tabular").portfolio]
    assert [t.info["portfolio"] for t in portfolio] == names and trials[0] is portfolio[0]
    for trial in portfolio:  # each in a bracket's first round, with that round's epochs (3 / 3)
        assert trial.info["placed"] == "hyperband" and trial.info["round"] == 0
        assert trial.epochs == 1
    # they took Hyperband's own places: the brackets hold as many trials as without them
    assert len(trials) == 6 and {t.source for t in trials} == {"portfolio", "oracle"}


@pytest.mark.slow
def test_the_bayesian_oracle_starts_modelling_sooner_with_a_builtin_space(tmp_path, searches):
    import keras

    import automl_nb

    def own_space(hp):
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(hp.Int("units", 4, 8, step=4)),
                                  keras.layers.Dense(3, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    builtin = automl_nb.search("iris", oracle="bayesian", trials=2, seed=0, start=False,
                               directory=tmp_path / "builtin")
    own = automl_nb.search("iris", space=own_space, oracle="bayesian", trials=2, seed=0, start=False,
                           directory=tmp_path / "own")
    for s in (builtin, own):
        searches.append(s)
        s._trainer.tuner()  # what a start builds first
    assert builtin.oracle.num_initial_points == BAYESIAN_RANDOM_START == 10
    assert own.oracle.num_initial_points is None  # KerasTuner's own: 3 a hyperparameter
