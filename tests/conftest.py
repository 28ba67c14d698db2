"""Shared fixtures: every search a test starts is stopped and joined at teardown."""

from __future__ import annotations

import os
import time

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def wait_for(predicate, timeout: float = 10.0, interval: float = 0.005, what: str = "condition"):
    """Poll ``predicate`` until it is truthy or ``timeout`` seconds pass (then fail)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def trials_in_journal(directory, finished: int):
    """A predicate for :func:`wait_for`: the journal in ``directory`` shows at least
    ``finished`` ended trials and a trial that started after them and still runs."""
    from automl_nb.events import read_journal

    def check() -> bool:
        events = read_journal(directory)
        ended = sum(e.kind == "trial_ended" for e in events)
        started = sum(e.kind == "trial_started" for e in events)
        return ended >= finished and started > ended

    return check


@pytest.fixture
def searches():
    """Collects searches; stops and joins each at teardown so no thread outlives its test."""
    made = []
    yield made
    for s in made:
        if s._thread is None:
            continue  # never started
        if not s.state.is_finished():
            s.stop()
        s.wait(60)
        assert s.state.is_finished(), f"search {s.name} did not end"
        assert not s._thread.is_alive()


@pytest.fixture
def scripted(tmp_path, searches):
    """Factory: scripted_search(...) in tmp_path, registered for cleanup."""
    from automl_nb.testing import ScriptedTrainer, scripted_search

    counter = iter(range(1000))

    def make(trainer=None, **kwargs):
        kwargs.setdefault("directory", tmp_path / f"s{next(counter)}")
        s = scripted_search(trainer or ScriptedTrainer(), **kwargs)
        searches.append(s)
        return s

    return make


def ipython_shell():
    """IPython's test shell, the same one whichever test asks first.

    ``IPython.testing.globalipapp.get_ipython()`` starts the shell on its first call and
    returns None on every later one, so later callers take the running instance instead.
    """
    from IPython.core.getipython import get_ipython
    from IPython.testing import globalipapp

    return globalipapp.get_ipython() or get_ipython()
