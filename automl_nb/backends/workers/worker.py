"""A worker process: ``python -m automl_nb worker --chief HOST:PORT --token T``.

It limits TensorFlow's thread pools to its share of the cores (before TensorFlow is
imported), reads the search's settings and data from its directory (:class:`~automl_nb.store.
Store`; a custom space crosses as a ``"module:function"`` name), and runs KerasTuner's own
worker loop with the same tuner class as one process (``AutoMLTuner``: the same callback, NaN
check, checkpoint restore with the optimizer state). Only its link to the engine differs
(:class:`_Link`): the real engine is the chief's, reached over :mod:`.rpc`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
import threading
import time
from typing import Any

from ..._kt_compat import deterministic_ops, protos
from ..._util import quiet_tensorflow_startup
from ...control import Action
from ...errors import WorkerError
from ...store import Store
from ..engine import TrialPlan, Verdict
from . import tls
from .rpc import (
    LONG_POLL_S,
    SERVICE,
    SERVICE_METHODS,
    dumps,
    join_address,
    loads,
    parse_address,
    token_interceptor,
)
from .shared import cpu_count, import_space, thread_env

_T0 = time.monotonic()
IDLE_WAIT_S = 0.2  # a worker told "IDLE" asks again after this
ORPHAN_S = 30.0  # a worker that cannot reach its chief for this long exits


class _Link:
    """A worker's line to its chief, and the engine its tuner talks to.

    It offers what a trial asks of the engine (``backends.scheduler.TrialEngine``:
    ``plan_for``, ``begin_trial``, ``batch_end``, ``epoch_end``, ``fail``); the real Engine is
    the chief's, which also schedules.
    ``batch_end`` reads flags that the poller thread keeps fresh, so a batch makes no call.
    """

    def __init__(self, address: str, token: str, worker_id: str | None = None, parent_pid: int | None = None,
                 certificate: bytes | None = None):
        import grpc

        self.address = address
        self.worker_id = worker_id
        self.parent_pid = parent_pid
        #: the chief's certificate this link trusts alone (TLS), or None (plain, on loopback)
        self.certificate = certificate
        raw = (tls.secure_channel(address, certificate) if certificate is not None
               else grpc.insecure_channel(address))
        self.channel = grpc.intercept_channel(raw, token_interceptor(token))
        self._stubs = {
            name: self.channel.unary_unary(
                f"/{SERVICE}/{name}", request_serializer=dumps, response_deserializer=loads
            )
            for name in SERVICE_METHODS
        }
        self.current: str | None = None
        self.paused = False
        self.actions: dict[str, Action] = {}
        self._attention = False
        self._changed = threading.Condition()
        self._plans: dict[str, TrialPlan] = {}

    def call(self, name: str, timeout: float = 60.0, **payload: Any) -> dict:
        return self._stubs[name](payload, timeout=timeout, wait_for_ready=True)

    def hello(self, timeout: float = 60.0) -> dict:
        answer = self.call("Hello", timeout=timeout, worker=self.worker_id, host=socket.gethostname(),
                           pid=os.getpid())
        if answer.get("shutdown"):
            raise WorkerError("the chief has no place for this worker (the search has ended)")
        self.worker_id = answer["worker"]
        return answer

    def oracle_stub(self):
        return protos()[1].OracleStub(self.channel)

    # -- the poller ------------------------------------------------------------------
    def start_polling(self) -> None:
        threading.Thread(target=self._poll_forever, name="automl_nb-poller", daemon=True).start()

    def _poll_forever(self) -> None:
        import grpc

        last_ok = time.monotonic()
        version = None
        while True:
            if self.parent_pid and os.getppid() != self.parent_pid:
                _exit_now("its kernel is gone", 3)
            try:
                answer = self.call("Poll", timeout=LONG_POLL_S + 10, worker=self.worker_id, version=version)
                last_ok = time.monotonic()
            except grpc.RpcError as exc:
                if exc.code() == grpc.StatusCode.UNAUTHENTICATED:
                    _exit_now("the chief refused its token", 2)
                if time.monotonic() - last_ok > ORPHAN_S:
                    _exit_now(f"the chief at {self.address} is unreachable", 3)
                time.sleep(0.5)
                continue
            if answer.get("shutdown"):
                _exit_now("the search has ended", 0)
            with self._changed:
                self.paused = bool(answer.get("paused"))
                trial, action = answer.get("trial"), answer.get("action")
                if trial and action:
                    self.actions[trial] = Action(action)
                self._attention = self.paused or bool(self.actions)
                self._changed.notify_all()
            version = answer.get("version")

    # -- what AutoMLTuner calls ------------------------------------------------------------
    def plan_for(self, trial_id: str, values: dict[str, Any]) -> TrialPlan:
        plan = self._plans.get(trial_id)
        if plan is None:
            data = self.call("Plan", trial=trial_id)
            if not data:
                raise WorkerError(f"the chief has no plan for trial {trial_id}")
            plan = self._plans[trial_id] = TrialPlan(**data)
        return plan

    def begin_trial(self, plan: TrialPlan, values: dict[str, Any], info: dict[str, Any] | None = None) -> None:
        # the chief published TrialStarted (with the trial's info) when it handed it out
        self.current = plan.trial_id

    def batch_end(self, trial_id: str, loss: float | None = None) -> Action | None:
        if not self._attention:
            return None
        with self._changed:
            while self.paused and trial_id not in self.actions:
                self._changed.wait(1.0)
            return self.actions.get(trial_id)

    def epoch_end(self, trial_id: str, epoch_index: int, metrics: dict[str, Any],
                  can_slow: bool = False) -> Verdict:
        """Reports the epoch to the chief; its planner's verdict (stop, or a lower rate)."""
        clean = {k: _number(v) for k, v in metrics.items()}
        answer = self.call("Epoch", worker=self.worker_id, trial=trial_id, epoch=epoch_index, metrics=clean,
                           can_slow=can_slow) or {}
        factor = answer.get("rate_factor")
        return Verdict(stop=bool(answer.get("stop")), rate_factor=None if factor is None else float(factor))

    def fail(self, trial_id: str, reason: str) -> None:
        self.call("Fail", worker=self.worker_id, trial=trial_id, reason=reason)

    def trial_done(self, trial_id: str) -> None:
        with self._changed:
            self.actions.pop(trial_id, None)
            self._plans.pop(trial_id, None)
            self._attention = self.paused or bool(self.actions)
            self.current = None


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _exit_now(why: str, status: int) -> None:
    print(f"automl-nb worker: exiting: {why}", file=sys.stderr, flush=True)
    os._exit(status)


def _die_with_parent(parent_pid: int | None) -> None:
    """Linux: the kernel kills this worker when its parent dies (the poller checks too)."""
    if not parent_pid or not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent_pid:
        _exit_now("its kernel is gone", 3)


#: Imported by Keras only for optional features a worker never uses (its scikit-learn
#: wrappers, slicing pandas DataFrames: a worker trains on NumPy arrays, tensors or a stream).
_NOT_FOR_TRAINING = ("sklearn", "pandas")


def import_tensorflow() -> None:
    """Import TensorFlow and Keras without scikit-learn and pandas: a worker starts sooner.

    Importing TensorFlow (which imports Keras) is most of a worker's start-up, and about a fifth
    of it (``python -X importtime``) is Keras importing scikit-learn for its scikit-learn
    wrappers and pandas to slice DataFrames, both inside ``try: import ... except ImportError``.
    They are hidden while TensorFlow imports and importable again right after, so a
    ``build(hp)`` module that imports them works as anywhere else.
    """
    hidden = [name for name in _NOT_FOR_TRAINING if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment] - makes `import name` fail fast
    try:
        import keras  # noqa: F401 - and with it its backend, TensorFlow
        import tensorflow  # noqa: F401
    finally:
        for name in hidden:
            if sys.modules.get(name, False) is None:
                del sys.modules[name]


def _limit_tensorflow(threads: int) -> None:
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:  # already initialised: the environment variables hold
        pass


class StandInOracleTuner:
    """Mixed into a worker's tuner (before ``keras_tuner.Tuner``): its oracle is a client of
    the chief's, which holds the space, so KerasTuner's ``Tuner._populate_initial_space`` is
    skipped (the hook ``_kt_compat.check_stand_in_hook`` checks)."""

    def _populate_initial_space(self):
        pass


def _worker_tuner_class():
    import keras_tuner

    from ..tuner import AutoMLTuner

    class WorkerTuner(StandInOracleTuner, AutoMLTuner):
        """AutoMLTuner in a worker: the chief schedules, so no scheduler and no local pause.

        KerasTuner asks again at once after an "IDLE" trial (the chief's answer while paused,
        or while others run at the end of the budget): the next ask waits ``IDLE_WAIT_S``.
        """

        def steer_oracle(self) -> None:
            pass  # its oracle is a client of the chief's, which has the scheduler

        def pre_create_trial(self):
            if getattr(self, "_asked", False):  # no trial began since the last ask: it was IDLE
                time.sleep(IDLE_WAIT_S)
            self._asked = True

        def on_trial_begin(self, trial):
            self._asked = False
            super().on_trial_begin(trial)

        def on_trial_end(self, trial):
            try:
                keras_tuner.Tuner.on_trial_end(self, trial)  # the chief's oracle ends it
            finally:
                self.engine.trial_done(trial.trial_id)

    return WorkerTuner


def _speaks_tls(host: str, port: int) -> bool:
    """Whether a TLS handshake succeeds at ``host:port`` (a chief with ``listen=``); a plain
    chief, or none yet, answers no."""
    try:
        tls.fetch_certificate(host, port, timeout=3.0)
    except (OSError, ValueError):
        return False
    return True


def _chief_certificate(chief: str, host: str, port: int, fingerprint: str) -> bytes:
    """The certificate the chief presents, if its fingerprint is ``fingerprint``."""
    try:
        certificate = tls.fetch_certificate(host, port)
    except (OSError, ValueError) as exc:
        raise WorkerError(
            f"could not reach the chief at {chief} over TLS ({exc}); is the search running with "
            "listen=, and is --chief its address?"
        ) from None
    presented = tls.fingerprint(certificate)
    if not tls.same_fingerprint(presented, fingerprint):
        raise WorkerError(
            f"refused the chief at {chief}: its certificate's fingerprint {presented} is not the "
            f"--fingerprint given ({fingerprint}); nothing was sent to it (copy the join command "
            "from search.workers.join_command())"
        )
    return certificate


def run_worker(
    chief: str,
    token: str,
    *,
    worker_id: str | None = None,
    threads: int | None = None,
    parent_pid: int | None = None,
    fingerprint: str | None = None,
) -> int:
    """The body of ``python -m automl_nb worker``: join the chief, run trials until told to stop.

    With ``fingerprint`` (a chief that listens beyond loopback speaks TLS) it first checks the
    certificate the chief presents against it and sends nothing to a chief whose certificate
    differs. It ends the process when the search is over (without TensorFlow's slow teardown).
    """
    import grpc

    threads = threads or cpu_count()
    os.environ.update(thread_env(threads))  # before TensorFlow is imported
    quiet_tensorflow_startup()
    _die_with_parent(parent_pid)
    host, port = parse_address(chief)
    if fingerprint:
        certificate = _chief_certificate(chief, host, port, fingerprint)
    else:
        certificate = None
        if _speaks_tls(host, port):
            raise WorkerError(
                f"the chief at {chief} speaks TLS (its search listens beyond loopback): add the "
                "--fingerprint of its search.workers.join_command()"
            )
    link = _Link(join_address(host, port), token, worker_id=worker_id, parent_pid=parent_pid,
                 certificate=certificate)
    try:
        hello = link.hello()
    except grpc.RpcError as exc:
        if exc.code() == grpc.StatusCode.UNAUTHENTICATED:
            raise WorkerError(f"the chief at {chief} refused this worker: its --token is not the search's") from None
        raise WorkerError(
            f"could not reach the chief at {chief} ({exc.details() or exc.code().name}); is the search "
            "running, and listening beyond this machine's loopback (listen='0.0.0.0')?"
        ) from None
    link.start_polling()
    # KerasTuner's distributed mode, in this process only
    os.environ["KERASTUNER_ORACLE_IP"] = host
    os.environ["KERASTUNER_ORACLE_PORT"] = str(port)
    os.environ["KERASTUNER_TUNER_ID"] = link.worker_id
    print(f"automl-nb worker {link.worker_id}: pid {os.getpid()}, {threads} threads, chief {chief}",
          file=sys.stderr, flush=True)
    _train(link, hello, threads)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _train(link: _Link, hello: dict, threads: int) -> None:
    import_tensorflow()
    _limit_tensorflow(threads)
    from ... import oracles, spaces
    from ...data.layers import fit_data

    space = import_space(hello["space"]) if hello.get("space") else None
    store = Store(hello["directory"])
    settings = store.read_settings()
    try:
        dataset = store.read_data(settings)
    except ValueError as exc:  # the files are gone or changed: one sentence
        raise WorkerError(str(exc)) from None
    if dataset is None:
        raise WorkerError(f"the search's data cannot be read from {hello['directory']}")
    hypermodel = spaces.get_space(space, dataset)
    stand_in = oracles.get_oracle(  # required by KerasTuner; every call goes to the chief's oracle
        "random", objective=settings.objective, direction=settings.direction, max_trials=None,
        epochs=settings.budget.epochs, seed=settings.seed,
    )
    tuner = _worker_tuner_class()(
        oracle=stand_in, hypermodel=hypermodel, engine=link, directory=str(store.directory),
        seed=settings.seed, preprocessing=dataset.preprocessing,
    )
    tuner.oracle.stub = link.oracle_stub()  # KerasTuner's OracleClient: its calls carry the token
    print(f"automl-nb worker {link.worker_id}: ready after {time.monotonic() - _T0:.1f}s",
          file=sys.stderr, flush=True)
    deterministic = (
        deterministic_ops(settings.seed or 0) if settings.deterministic
        else contextlib.nullcontext()
    )
    args, kwargs = fit_data(dataset, settings.batch_size, settings.seed)
    with deterministic:
        tuner.search(*args, verbose=0, **kwargs)

