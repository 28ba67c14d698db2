"""Shared fixtures and helpers: every search a test starts is stopped and joined at teardown;
on CI (the ``CI`` environment variable set) a skipped test is a failed one."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections import defaultdict
from typing import NamedTuple

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# One BLAS thread (NumPy's and SciPy's OpenBLAS, read when NumPy is first imported, which is
# after this; inherited by worker processes and notebook kernels). The tests' matrices are
# tiny: with a thread pool per process on a shared 2-core machine, KerasTuner's Bayesian
# oracle (a Gaussian process fitted and its bound optimised from 50 starts) ran 3-10 times
# slower, the threads spinning against each other. TensorFlow uses its own pools.
for _var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
    os.environ.setdefault(_var, "1")


# -- a skip on CI is a failure ---------------------------------------------------------------------


def on_ci() -> bool:
    """Whether the suite runs on CI: ``CI`` set to anything but "", "0" or "false"."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _skip_reason(report) -> str:
    longrepr = report.longrepr
    reason = str(longrepr[2]) if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
    return reason.removeprefix("Skipped: ")


def _fail_a_skip(report, what: str) -> None:
    report.outcome = "failed"
    report.longrepr = (
        f"{what} was skipped on CI, where every test must run "
        f"(CI={os.environ.get('CI')!r}): {_skip_reason(report)}"
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.skipped and on_ci() and not hasattr(report, "wasxfail"):
        _fail_a_skip(report, item.nodeid)


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    report = outcome.get_result()
    if report.skipped and on_ci():  # a module-level skip (importorskip, pytest.skip(allow_module_level))
        _fail_a_skip(report, collector.nodeid or "a module")


# -- running tests side by side (pytest-xdist) ------------------------------------------------------


def _unit(nodeid: str) -> str:
    """The unit of work a test belongs to: the browser tests are one (one JupyterLab and one
    Chromium a session, and steps that build on each other, in order); any other test is
    a unit of its own (its own tmp_path, ports and processes)."""
    path = nodeid.split("::", 1)[0]
    return "tests/browser" if path.startswith("tests/browser/") else nodeid


@pytest.hookimpl(tryfirst=True)
def pytest_xdist_make_scheduler(config, log):
    """``--dist loadgroup``: tests go to whichever worker is free, the browser tests together.

    xdist's own loadgroup marks a group by rewriting each test's node id, which pytest 9 no
    longer lets it do (``Node.nodeid`` is read-only): its groups were silently split, and a
    browser step ran in another worker than the step it builds on. This scheduler keeps
    xdist's load-by-scope machinery and only says what a unit of work is (:func:`_unit`).
    """
    if config.getoption("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class BrowserTestsTogether(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return _unit(nodeid)

    return BrowserTestsTogether(config, log)


# -- waiting on conditions -------------------------------------------------------------------------


def wait_for(predicate, timeout: float = 10.0, interval: float = 0.005, what: str = "condition"):
    """Poll ``predicate`` until it is truthy or ``timeout`` seconds pass (then fail)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def held_by_pause(search) -> bool:
    """Whether ``search``'s thread is blocked, without a timeout, in the pause of its
    :class:`~automl_nb.control.Control` (at a batch end or a trial boundary).

    Read from the thread's stack: a thread that spins (a timed wait or a sleep in a loop)
    is not held, and neither is one still finishing the batch it was in.
    """
    thread = search._thread
    frame = sys._current_frames().get(thread.ident) if thread is not None else None
    untimed_wait = False
    while frame is not None:
        code = frame.f_code
        if code.co_name == "wait" and code.co_filename == threading.__file__:
            untimed_wait = frame.f_locals.get("timeout", 0) is None
        elif code.co_name in ("at_batch_end", "wait_while_paused") and code.co_filename.endswith(
            os.path.join("automl_nb", "control.py")
        ):
            return untimed_wait
        frame = frame.f_back
    return False


def waiting_in(thread: threading.Thread, function: str, filename: str) -> bool:
    """Whether ``thread`` is blocked, without a timeout, in a ``threading`` wait (an Event's,
    a Condition's) called from ``function`` of a file whose path ends with ``filename``."""
    frame = sys._current_frames().get(thread.ident) if thread.ident is not None else None
    untimed_wait = False
    while frame is not None:
        code = frame.f_code
        if code.co_name == "wait" and code.co_filename == threading.__file__:
            untimed_wait = frame.f_locals.get("timeout", 0) is None
        elif code.co_name == function and code.co_filename.endswith(filename):
            return untimed_wait
        frame = frame.f_back
    return False


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


class FakeClock:
    """A stand-in for the ``time`` module of :mod:`automl_nb.control`: its ``monotonic()``
    moves only when a test calls :meth:`advance`, so a time budget is spent on cue."""

    def __init__(self, start: float = 1000.0):
        self.now = start

    def monotonic(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def __getattr__(self, name):
        return getattr(time, name)


@pytest.fixture
def clock(monkeypatch) -> FakeClock:
    """The search's running clock (budgets), moved by hand: ``clock.advance(seconds)``."""
    from automl_nb import control

    fake = FakeClock()
    monkeypatch.setattr(control, "time", fake)
    return fake


# -- searches ----------------------------------------------------------------------------------------


class Batch(NamedTuple):
    """One batch Keras trained: its epoch (0-based), loss (the epoch's running mean, as Keras
    logs it) and the optimizer's step count after it."""

    epoch: int
    loss: float
    iterations: int


@pytest.fixture
def batches(monkeypatch) -> dict[str, list[Batch]]:
    """Every batch Keras trains in this process, by trial id, counted at the batch's end.

    The search's per-trial callback is wrapped so each batch is counted before the callback
    looks at the controls (where a pause holds the thread): one entry a batch, whatever the
    number of times a batch consults the engine.
    """
    from automl_nb.backends import tuner

    counted: dict[str, list[Batch]] = defaultdict(list)
    original = tuner._StreamCallback.on_train_batch_end

    def counting(self, batch, logs=None):
        iterations = int(self.model.optimizer.iterations.numpy())
        counted[self.trial_id].append(Batch(self.epoch, float((logs or {})["loss"]), iterations))
        return original(self, batch, logs)

    monkeypatch.setattr(tuner._StreamCallback, "on_train_batch_end", counting)
    return counted



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


TINY_SPACE = '''
"""A build(hp) at the top level of a module: importable in the kernel and in a worker."""
import keras


def build(hp):
    units = hp.Int("units", 4, 16, step=4)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(units, activation="relu"),
                              keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(hp.Float("lr", 1e-3, 1e-2, sampling="log")),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
'''


def dense_units(model) -> list[int]:
    """The widths of a model's Dense layers, inside any model it wraps (a search's model may
    hold the space's model behind its preprocessing layers)."""
    import keras

    found = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.Dense):
            found.append(layer.units)
        elif hasattr(layer, "layers"):
            found += dense_units(layer)
    return found


@pytest.fixture
def tiny_space(tmp_path, monkeypatch):
    """``"tiny_space:build"``: a module with a ``build(hp)`` for iris (units 4-16, lr),
    importable here and in worker processes (its folder is put on the import path)."""
    folder = tmp_path / "spaces"
    folder.mkdir()
    (folder / "tiny_space.py").write_text(TINY_SPACE)
    monkeypatch.syspath_prepend(str(folder))
    yield "tiny_space:build"
    sys.modules.pop("tiny_space", None)


def ipython_shell():
    """IPython's test shell, the same one whichever test asks first.

    ``IPython.testing.globalipapp.get_ipython()`` starts the shell on its first call and
    returns None on every later one, so later callers take the running instance instead.
    """
    from IPython.core.getipython import get_ipython
    from IPython.testing import globalipapp

    return globalipapp.get_ipython() or get_ipython()
