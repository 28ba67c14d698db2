"""The yardstick of a table search: gradient-boosted trees fitted on the search's own rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import automl_nb
from automl_nb import referee
from automl_nb.data import load_data
from automl_nb.events import PlanMade
from automl_nb.panel._data import best_info
from automl_nb.record import SearchRecord


def table(n: int = 300, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "size": np.where(np.arange(n) % 11 == 0, np.nan, rng.normal(10, 3, n)),
        "colour": rng.choice(["red", "green", "blue", None], n),
        "age": rng.integers(0, 50, n),
    })
    df["price"] = 2 * df["size"].fillna(10) + (df["colour"] == "red") * 5 + rng.normal(0, 1, n)
    df["sold"] = np.where(df["price"] > df["price"].median(), "yes", "no")
    return df


def by_hand(dataset, classify: bool) -> float:
    """The trees fitted here, independently: pandas categories, sklearn's own scorers."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.metrics import accuracy_score, r2_score

    train, val = pd.DataFrame(dataset.x_train), pd.DataFrame(dataset.x_val)
    for name in train.columns:
        if not pd.api.types.is_numeric_dtype(train[name]):
            kinds = pd.CategoricalDtype(sorted(set(train[name].dropna().astype(str))))
            train[name] = train[name].astype(str).astype(kinds)
            val[name] = val[name].astype(str).astype(kinds)
    model = (HistGradientBoostingClassifier if classify else HistGradientBoostingRegressor)(
        categorical_features="from_dtype", random_state=0)
    model.fit(train, dataset.y_train)
    score = accuracy_score if classify else r2_score
    return float(score(dataset.y_val, model.predict(val)))


@pytest.mark.parametrize("target, metric", [("sold", "accuracy"), ("price", "r2")])
def test_the_verdict_is_the_trees_score_on_the_same_split(target, metric):
    df = table().drop(columns=["price" if target == "sold" else "sold"])
    dataset = load_data(df, target=target, seed=0)
    verdict = referee.judge(dataset, seed=0)
    assert isinstance(verdict, PlanMade) and verdict.decision == "referee"
    assert verdict.detail["metric"] == metric
    assert verdict.detail["rows"] == len(dataset.y_train)
    assert verdict.detail["score"] == pytest.approx(by_hand(dataset, target == "sold"), abs=1e-9)
    assert "gradient-boosted trees" in verdict.message
    if metric == "r2":  # the built-in loss (relative to the training variance) converts to R2
        weight = dataset.preprocessing["target"]["loss_weight"]
        y = dataset.y_val.astype(np.float64)
        mse = 2.5
        r2 = 1 - mse / y.var()
        assert referee.network_score(verdict, "val_loss", mse * weight) == pytest.approx(r2)


def test_a_referee_that_cannot_fit_says_so_and_raises_nothing():
    from types import SimpleNamespace

    broken = SimpleNamespace(
        task="classification", family="tabular", preprocessing={},
        x_train={"a": np.zeros(4)},
        x_val={"b": np.zeros(2)},  # not the training columns: the trees cannot predict
        y_train=np.array([0, 1, 0, 1]), y_val=np.array([0, 1]))
    verdict = referee.judge(broken)
    assert verdict.detail["score"] is None
    assert verdict.message.startswith("no yardstick for this table: gradient-boosted trees could not")
    assert referee.standing(verdict, "val_accuracy", 0.9) == verdict.message


def test_standing_in_words():
    trees = PlanMade(decision="referee", message="m",
                     detail={"metric": "r2", "score": 0.93, "loss_scale": 0.5})
    assert referee.standing(trees, "val_loss", 0.05) == (
        "the best network: validation R2 0.9000; gradient-boosted trees on the same rows: 0.9300")
    accuracy = PlanMade(decision="referee", message="m", detail={"metric": "accuracy", "score": 0.8})
    assert referee.standing(accuracy, "val_accuracy", 0.85) == (
        "the best network: validation accuracy 0.8500; gradient-boosted trees on the same rows: 0.8000")
    # an objective that does not convert: the trees' score alone
    assert referee.standing(accuracy, "val_auc", 0.9) == (
        "gradient-boosted trees on the same rows: validation accuracy 0.8000")
    assert referee.standing(None, "val_loss", 0.1) is None


def test_the_record_keeps_the_verdict_and_the_best_card_shows_it():
    from automl_nb.events import EpochEnded, SearchStarted, TrialEnded, TrialStarted

    record = SearchRecord()
    record.apply(SearchStarted(name="t", directory="d", data={}, oracle="random",
                               objective="val_accuracy", direction="max", trials=2,
                               time_budget_s=None, epochs=2, seed=0))
    record.apply(PlanMade(decision="referee", message="m",
                          detail={"metric": "accuracy", "score": 0.8}))
    record.apply(TrialStarted(trial_id="0000", hyperparameters={"units": 8}))
    record.apply(EpochEnded(trial_id="0000", epoch=1, metrics={"val_accuracy": 0.9}, score=0.9))
    record.apply(TrialEnded(trial_id="0000", status="completed", epochs=1, score=0.9))
    assert record.referee is not None and record.referee.detail["score"] == 0.8
    info = best_info(record)
    assert info.referee == ("the best network: validation accuracy 0.9000; gradient-boosted trees "
                            "on the same rows: 0.8000")
    from automl_nb.panel._html import best_html

    assert "Yardstick: the best network: validation accuracy 0.9000" in best_html(info)


def test_applies_to_tables_only_and_can_be_turned_off():
    tab = load_data(table().drop(columns=["price"]), target="sold", seed=0)
    image = load_data("digits", seed=0)
    from types import SimpleNamespace

    on, off = SimpleNamespace(referee=True), SimpleNamespace(referee=False)
    assert referee.applies(on, tab)
    assert not referee.applies(off, tab)
    assert not referee.applies(on, image)
    assert not referee.applies(on, None)


@pytest.mark.slow
def test_a_table_search_journals_its_yardstick_first(tmp_path):
    df = table().drop(columns=["price"])
    s = automl_nb.search(df, target="sold", trials=1, epochs=1, seed=0, directory=tmp_path / "on")
    s.wait(timeout=300)
    reopened = automl_nb.open(tmp_path / "on")
    assert reopened.record.referee is not None
    assert reopened.record.referee.detail["metric"] == "accuracy"
    from automl_nb.ui.text import referee_text

    assert referee_text(s).startswith("the best network: validation accuracy ")
    off = automl_nb.search(df, target="sold", trials=1, epochs=1, seed=0, referee=False,
                           directory=tmp_path / "off")
    off.wait(timeout=300)
    assert off.record.referee is None
    digits = automl_nb.search("digits", trials=1, epochs=1, seed=0, directory=tmp_path / "img")
    digits.wait(timeout=300)
    assert digits.record.referee is None
