"""Two searches in one kernel do not interfere, and neither changes process-wide state.

A search runs on its own thread: Keras's global state is per thread, KerasTuner's traceback flag
is silenced for the search's thread only, and a seed reaches Keras's default seeds for that
search's builds only (``automl_nb._kt_compat.seeded_build``), never the user's ``random`` or NumPy.
"""

from __future__ import annotations

import random

import numpy as np
import pytest

import automl_nb
from automl_nb import SearchState

pytestmark = pytest.mark.slow


def _hyperparameters(search) -> list[dict]:
    return [dict(t.hyperparameters) for t in search.record.trials.values()]


def test_two_searches_side_by_side_run_the_trials_each_runs_alone(tmp_path, searches):
    alone = {}
    for seed in (1, 2):
        # no warm start: its first trials (the space's defaults, the portfolio) are the same
        # for every seed, and this test tells the two searches apart by their trials
        s = automl_nb.search("iris", oracle="random", trials=3, epochs=1, seed=seed,
                             warm_start=False, directory=tmp_path / f"alone{seed}")
        searches.append(s)
        assert s.wait(240) is SearchState.DONE, s.error
        alone[seed] = _hyperparameters(s)
    assert alone[1] != alone[2]

    random.seed(5)
    np.random.seed(5)
    expected = (random.random(), float(np.random.random()))
    random.seed(5)
    np.random.seed(5)
    together = {
        seed: automl_nb.search("iris", oracle="random", trials=3, epochs=1, seed=seed,
                               warm_start=False, directory=tmp_path / f"together{seed}")
        for seed in (1, 2)
    }
    searches.extend(together.values())
    for seed, s in together.items():
        assert s.wait(240) is SearchState.DONE, s.error
        assert _hyperparameters(s) == alone[seed]  # the same trials as alone, none of the other's
        assert {e.kind for e in s.events()} >= {"search_started", "trial_ended", "search_ended"}
        assert len(s.results) == 3
    assert (random.random(), float(np.random.random())) == expected
