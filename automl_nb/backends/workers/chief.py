"""The chief of a search with workers: the kernel's side of ``search(..., workers=N)``.

:class:`WorkerPool` is the one-process trainer (:class:`~automl_nb.backends.local.
LocalTrainer`: the same tuner, oracle, checkpoints and model operations) whose oracle is served
to worker processes over gRPC instead of searched here; it starts and supervises the local
workers, accepts remote ones, and turns what they report into the search's events. See
:mod:`automl_nb.backends.workers` for the whole design.
"""

from __future__ import annotations

import atexit
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..._kt_compat import DISTRIBUTED_ENV
from ...errors import JournalError, SearchError, WorkerError
from ...status import OracleStatus, SearchState, TrialStatus
from ..engine import Engine
from ..local import LocalTrainer
from . import tls
from .rpc import (
    LONG_POLL_S,
    SERVICE,
    SERVICE_METHODS,
    TOKEN_ENV,
    dumps,
    gate,
    join_address,
    loads,
    oracle_handlers,
    parse_address,
)
from .shared import cpu_count, thread_env

log = logging.getLogger("automl_nb")

REMOTE_SILENT_S = 60.0  # a remote worker not heard from for this long is gone
MAX_CRASHES = 3  # workers dying in a row (no trial ending in between) fail the search


@dataclass
class _Worker:
    id: str
    proc: subprocess.Popen | None = None  # None: a remote worker
    log_path: Path | None = None
    joined: bool = False
    seen: float = field(default_factory=time.monotonic)
    told_stop: bool = False  # KerasTuner told it the search is over (or we stopped it)
    gone: bool = False  # exited, died or went silent; its trial has been dealt with
    host: str | None = None  # the machine it runs on, as its Hello said

    @property
    def remote(self) -> bool:
        return self.proc is None


class WorkerPool(LocalTrainer):
    """Runs a search's trials in worker processes; pass it as ``Search(trainer=...)``.

    ``automl_nb.search(..., workers=N)`` makes one. After the search starts, ``address``,
    ``token`` and :meth:`join_command` say how another machine joins it. It is the
    one-process trainer (the same tuner, oracle and checkpoints, the same model operations)
    whose oracle is served to workers instead of searched here.
    """

    def __init__(
        self,
        workers: int = 2,
        *,
        listen: str | None = None,
        threads: int | None = None,
        token: str | None = None,
    ):
        super().__init__()
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise SearchError(f"must be a whole number of at least 1; got {workers!r}", argument="workers",
                              value=workers)
        if listen is not None and (not isinstance(listen, str) or not listen.strip()):
            raise SearchError(f"must be a host such as '0.0.0.0' or 'HOST:PORT'; got {listen!r}",
                              argument="listen", value=listen)
        self.n = workers
        self.host, self.port = (
            ("127.0.0.1", 0) if listen is None else parse_address(listen, name="listen", default_port=0)
        )
        self.threads = threads or max(1, cpu_count() // workers)
        self.token = token or secrets.token_urlsafe(24)
        # beyond loopback (an explicit listen=), gRPC over TLS with this search's own certificate
        self.tls = listen is not None
        self._certificate: tuple[bytes, bytes] | None = None
        self._changed = threading.Condition()  # long polls wait on it
        self._version = 0
        self.pids: list[int] = []  # every worker process this pool started
        self.members: dict[str, _Worker] = {}  # every worker of this run, by id
        self._lock = threading.RLock()  # engine calls and the chief's view of who runs what
        self._running: dict[str, str] = {}  # worker id -> trial id
        self._ready = threading.Event()
        self._closing = False
        self._oracle_stopped = False
        self._failure_limit = 3  # the oracle's max_consecutive_failed_trials
        self._fatal: BaseException | None = None
        self._crashes = 0
        self._next_id = 0
        self._server: Any = None
        self._engine: Engine | None = None

    @property
    def workers(self) -> WorkerPool:
        return self

    # -- what a user sees --------------------------------------------------------
    @property
    def address(self) -> str | None:
        """``HOST:PORT`` a worker connects to, once the search runs."""
        if not self.port:
            return None
        host = self.host
        if host in ("0.0.0.0", "::", ""):
            host = socket.gethostname()
        return join_address(host, self.port)

    @property
    def fingerprint(self) -> str | None:
        """The SHA-256 fingerprint of the chief's TLS certificate (``listen=`` searches), which
        a worker checks before it sends the token; None for a loopback-only search."""
        return tls.fingerprint(self._certificate[1]) if self._certificate else None

    def join_command(self) -> str:
        """The shell command that joins this search from another machine (same filesystem)."""
        if self.address is None:
            raise RuntimeError("the search has not started its chief yet; start() it first")
        command = f"python -m automl_nb worker --chief {self.address} --token {self.token}"
        return command + (f" --fingerprint {self.fingerprint}" if self.fingerprint else "")

    def __repr__(self) -> str:
        alive = sum(1 for w in self.members.values() if not w.gone)
        return f"<WorkerPool {self.n} local workers, {alive} alive, chief {self.address or '-'}>"

    # -- the search thread ----------------------------------------------------------
    def run(self, engine: Engine) -> str | None:
        self._engine = engine
        self._closing, self._fatal, self._crashes = False, None, 0
        self._oracle_stopped = False
        self._ready.clear()
        self._running.clear()
        self.members = {}
        atexit.register(self._kill_all)
        unsubscribe = self.job.bus.subscribe(self._on_event)
        try:
            self._serve()
            for _ in range(self.n):
                self._spawn()
            tuner = self._chief_tuner(engine)
            self._ready.set()
            self._supervise()
            if self._fatal is not None:
                raise self._fatal
            return tuner.stop_reason or engine.stop_reason()  # a budget spent before any ask
        finally:
            unsubscribe()
            self._shutdown()
            atexit.unregister(self._kill_all)

    def _chief_tuner(self, engine: Engine):
        """The tuner of the one-process path, with its oracle served instead of searched."""
        tuner = self.tuner(engine)
        tuner.oracle.verbose = 0  # KerasTuner's Display would clear the notebook's output
        # KerasTuner raises "too many failures in a row" inside the oracle's lock and never
        # releases it (its @synchronized has no finally): with other workers still calling, the
        # chief would hang. We count failures in a row ourselves, after end_trial returns.
        if tuner.oracle.max_consecutive_failed_trials is not None:
            self._failure_limit = tuner.oracle.max_consecutive_failed_trials
        tuner.oracle.max_consecutive_failed_trials = None
        # the one scheduler, with trials side by side: paused, no trial starts (a worker is
        # told IDLE); budget spent while others run, a worker waits (for a late promotion)
        tuner.steer_oracle(others_running=lambda: bool(tuner.oracle.ongoing_trials))
        self.publish_space(tuner)
        tuner.save()  # tuner0.json: automl_nb.open() reloads the oracle from it
        return tuner

    # -- the server -------------------------------------------------------------------
    def _serve(self) -> None:
        """Listen at once (gRPC only), so workers start while the kernel imports TensorFlow."""
        import concurrent.futures

        import grpc

        server = grpc.server(
            concurrent.futures.ThreadPoolExecutor(max_workers=32 + 2 * self.n, thread_name_prefix="automl_nb-chief"),
            interceptors=[gate(self.token, self._ready)],
        )
        server.add_generic_rpc_handlers((oracle_handlers(self, self._ready),))
        handlers = {
            name: grpc.unary_unary_rpc_method_handler(
                self.guarded(getattr(self, f"_rpc_{name.lower()}")),
                request_deserializer=loads,
                response_serializer=dumps,
            )
            for name in SERVICE_METHODS
        }
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))
        try:
            if self.tls:
                self._certificate = self._certificate or tls.make_certificate()
                port = server.add_secure_port(join_address(self.host, self.port),
                                              tls.server_credentials(*self._certificate))
            else:
                port = server.add_insecure_port(join_address(self.host, self.port))
        except RuntimeError:
            port = 0
        if not port:
            raise SearchError(
                f": the chief cannot listen on {join_address(self.host, self.port)} (in use, or not an "
                "address of this machine)", argument="listen", value=join_address(self.host, self.port),
                hint="choose another port or host",
            )
        server.start()
        self._server, self.port = server, port

    def guarded(self, fn):
        """A journal that cannot be written ends the search, as it does in one process."""

        def call(request, context):
            try:
                return fn(request, context)
            except JournalError as exc:
                self._fatal = self._fatal or exc
                raise

        return call

    # -- workers ----------------------------------------------------------------------
    def _new_id(self, prefix: str) -> str:
        with self._lock:
            wid = f"{prefix}{self._next_id}"
            self._next_id += 1
            return wid

    def _spawn(self) -> _Worker:
        wid = self._new_id("w")
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        log_path = self.job.store.worker_log(wid)
        log_path.parent.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if k not in DISTRIBUTED_ENV}
        env.update(thread_env(self.threads))
        env[TOKEN_ENV] = self.token
        env["PYTHONPATH"] = os.pathsep.join(_import_path())
        cmd = [
            sys.executable, "-m", "automl_nb", "worker",
            "--chief", join_address(host, self.port),
            "--worker-id", wid,
            "--threads", str(self.threads),
            "--parent-pid", str(os.getpid()),
        ]
        if self.fingerprint:
            cmd += ["--fingerprint", self.fingerprint]
        with open(log_path, "ab") as out:
            proc = subprocess.Popen(
                cmd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,  # a Ctrl-C in the terminal is the chief's to handle
            )
        worker = _Worker(id=wid, proc=proc, log_path=log_path)
        with self._lock:
            self.members[wid] = worker
            self.pids.append(proc.pid)
        log.debug("started worker %s (pid %s)", wid, proc.pid)
        return worker

    def _supervise(self) -> None:
        engine = self._engine
        while self._fatal is None:
            with self._lock:
                # No trial will start again: the oracle said so to a worker while none ran (as
                # one process would have ended here), or the user stopped, or time is up.
                over = (self._oracle_stopped and not self._running) or engine.stop_reason() is not None
                for worker in list(self.members.values()):
                    if over and not worker.gone and not worker.told_stop and worker.id not in self._running:
                        worker.told_stop = True  # do not wait for its start-up or its next ask
                        if worker.proc is not None:
                            worker.proc.terminate()
            for worker in list(self.members.values()):
                if worker.gone:
                    continue
                if worker.proc is not None:
                    code = worker.proc.poll()
                    if code is not None:
                        self._exited(worker, code)
                elif worker.told_stop or time.monotonic() - worker.seen > REMOTE_SILENT_S:
                    worker.gone = True
                    if not worker.told_stop:
                        self._reap(worker, f"worker {worker.id} stopped answering")
            if all(w.gone for w in self.members.values()):
                return
            time.sleep(0.1)

    def _exited(self, worker: _Worker, code: int) -> None:
        worker.gone = True
        if worker.told_stop and code in (0, -signal.SIGTERM):
            return
        reason = f"worker {worker.id} {_describe_exit(code)}"
        tail = _log_tail(worker.log_path)
        self._reap(worker, reason + (f": {tail}" if tail and code > 0 else ""))
        if self._closing or self._engine.stop_reason() is not None or worker.told_stop:
            return
        self._crashes += 1
        if self._crashes > MAX_CRASHES:
            more = f" (see {worker.log_path})" if worker.log_path else ""
            self._fatal = WorkerError(
                f"worker processes keep dying; the last one: {reason}{': ' + tail if tail else ''}{more}"
            )
            return
        log.warning("%s; starting another", reason)
        self._spawn()

    def _reap(self, worker: _Worker, reason: str) -> None:
        """End the trial a worker that is gone was running: failed, with the reason."""
        with self._lock:
            worker.gone = True
            trial_id = self._running.pop(worker.id, None)
            oracle = self._tuner.oracle if self._tuner is not None else None
            if oracle is not None:
                ongoing = oracle.ongoing_trials.get(worker.id)
                if trial_id is None and ongoing is not None:
                    trial_id = ongoing.trial_id
                oracle.tuner_ids.discard(worker.id)
            if trial_id is None:
                return
            if oracle is not None and trial_id in oracle.trials:
                stored = oracle.trials[trial_id]
                stored.status = OracleStatus.FAILED
                stored.message = reason
                oracle.end_trial(stored)
                if not self._closing:
                    self._check_failures(reason)
            self._engine.fail(trial_id, reason)
            self._engine.end_trial(trial_id)

    def _check_failures(self, reason: str | None) -> None:
        """KerasTuner's ``_check_consecutive_failures``, outside the oracle's lock."""
        oracle = self._tuner.oracle
        in_a_row = 0
        for trial_id in oracle.end_order:
            trial = oracle.trials[trial_id]
            in_a_row = in_a_row + 1 if trial.status == OracleStatus.FAILED else 0
            if in_a_row == self._failure_limit:
                self._fatal = self._fatal or RuntimeError(
                    f"Number of consecutive failures exceeded the limit of {self._failure_limit}.\n"
                    + (reason or trial.message or "")
                )
                return

    def _shutdown(self) -> None:
        self._closing = True  # polls now answer "shutdown"
        self._bump()
        self._ready.set()  # KerasTuner's calls held for the oracle now get "STOPPED"
        local = [w for w in self.members.values() if w.proc is not None]
        deadline = time.monotonic() + 3.0
        for worker in local:
            if worker.proc.poll() is None:
                try:
                    worker.proc.wait(max(0.0, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    worker.proc.terminate()
        for worker in local:
            try:
                worker.proc.wait(5)
            except subprocess.TimeoutExpired:
                worker.proc.kill()
                worker.proc.wait()
        for worker in list(self.members.values()):
            if worker.id in self._running:
                self._reap(worker, "the search ended while this trial ran")
            worker.gone = True
        if self._tuner is not None:
            self._tuner.oracle.max_consecutive_failed_trials = self._failure_limit
            try:
                self._tuner.save()
            except Exception:
                log.debug("could not save the chief tuner", exc_info=True)
        if self._server is not None:
            self._server.stop(grace=0.5).wait(5)
            self._server = None

    def _kill_all(self) -> None:
        """At interpreter exit: no worker outlives the kernel."""
        for worker in list(self.members.values()):
            if worker.proc is not None and worker.proc.poll() is None:
                worker.proc.kill()

    # -- KerasTuner's Oracle service, on the chief ------------------------------------------
    def create_trial(self, tuner_id: str):
        """KerasTuner's CreateTrial, on the chief: the oracle's trial, told to the engine."""
        import keras_tuner
        from keras_tuner.engine.trial import Trial

        with self._lock:
            worker = self.members.get(tuner_id)
            if worker is None or worker.gone or worker.told_stop or self._closing or self._tuner is None:
                return Trial(keras_tuner.HyperParameters(), status=OracleStatus.STOPPED)
            oracle = self._tuner.oracle
            worker.seen = time.monotonic()
            trial = oracle.create_trial(tuner_id)
            if trial.status == OracleStatus.RUNNING:
                values = dict(trial.hyperparameters.values)
                plan = self._engine.plan_for(trial.trial_id, values)
                self._running[tuner_id] = trial.trial_id
                # the machine, for a worker that joined from elsewhere (local ones run here)
                remote = worker.remote and worker.host
                where = {"worker": tuner_id, **({"host": worker.host} if remote else {})}
                self._engine.begin_trial(plan, values, info={**where, **self._tuner.epoch_info(values)})
            elif trial.status == OracleStatus.STOPPED:
                worker.told_stop = True
                self._oracle_stopped = True
            return trial

    def end_trial(self, trial) -> None:
        """KerasTuner's EndTrial, on the chief: the oracle scores it, the engine publishes it."""
        oracle = self._tuner.oracle
        with self._lock:
            worker_id = next((w for w, t in self._running.items() if t == trial.trial_id), None)
            if worker_id is None:
                return  # its worker was given up for dead and the trial already ended
            oracle.end_trial(trial)
            engine = self._engine
            outcome = engine.outcome(trial.trial_id)
            self._check_failures(outcome[1] if outcome else None)
            stored = oracle.get_trial(trial.trial_id)
            if stored.status == OracleStatus.FAILED and engine.outcome(trial.trial_id) is None:
                reason = stored.message or str(TrialStatus.FAILED)
                engine.fail(trial.trial_id, reason.strip().splitlines()[-1])
            score = stored.score if stored.status == OracleStatus.COMPLETED else None
            status = engine.end_trial(trial.trial_id, score)
            self._running.pop(worker_id, None)
            if status is not TrialStatus.FAILED:
                self._crashes = 0

    # -- our own service ---------------------------------------------------------------------
    def _rpc_hello(self, request: dict, context) -> dict:
        wid = request.get("worker")
        with self._lock:
            if self._closing:
                return {"shutdown": True}
            if wid:
                worker = self.members.get(wid)
                if worker is None or worker.gone:
                    return {"shutdown": True}
            else:
                worker = _Worker(id=self._new_id("r"))
                self.members[worker.id] = worker
                log.info("a remote worker joined from %s as %s", context.peer(), worker.id)
            worker.joined = True
            worker.seen = time.monotonic()
            host = request.get("host")
            worker.host = str(host) if host else None
        return {
            "worker": worker.id,
            "directory": str(self.job.store.directory.resolve()),
            "space": self.job.settings.space_ref,
        }

    def _rpc_plan(self, request: dict, context) -> dict:
        plan = self._engine.plans.get(request["trial"])
        return asdict(plan) if plan is not None else {}

    def _rpc_epoch(self, request: dict, context) -> dict:
        """An epoch ended in a worker; ``stop``: the planner stops the trial after it;
        ``rate_factor``: it trains on with its learning rate times that."""
        with self._lock:
            if self._running.get(request["worker"]) == request["trial"]:
                verdict = self._engine.epoch_end(request["trial"], int(request["epoch"]), request["metrics"],
                                                 can_slow=bool(request.get("can_slow")))
                return {"stop": verdict.stop, "rate_factor": verdict.rate_factor}
        return {}

    def _rpc_fail(self, request: dict, context) -> dict:
        with self._lock:
            if self._running.get(request["worker"]) == request["trial"]:
                self._engine.fail(request["trial"], str(request["reason"]))
        return {}

    def _rpc_poll(self, request: dict, context) -> dict:
        """A long poll: answers when a command or a trial start/end changed something, when the
        time budget runs out, or after LONG_POLL_S."""
        worker = self.members.get(request.get("worker", ""))
        control = self._engine.control
        known = request.get("version")
        deadline = time.monotonic() + LONG_POLL_S
        with self._changed:
            while self._version == known and not self._closing:
                wait = deadline - time.monotonic()
                left = None if control.state is SearchState.PAUSED else control.time_left()
                if left is not None:
                    wait = min(wait, left + 0.01)
                if wait <= 0:
                    break
                self._changed.wait(wait)
            version = self._version
        if worker is None or worker.gone or self._closing:
            return {"shutdown": True}
        worker.seen = time.monotonic()
        paused = control.state is SearchState.PAUSED
        trial_id = self._running.get(worker.id)
        action = None
        if trial_id is not None and (
            control.stop_requested
            or control.prune_target == trial_id
            or (not paused and control.time_budget_s is not None and control.out_of_time())
        ):
            with self._lock:
                if self._running.get(worker.id) == trial_id:
                    # does not block: a stop or a prune of this trial, or running out of time
                    found = self._engine.batch_end(trial_id)
                    action = found.value if found is not None else None
        return {"paused": paused, "trial": trial_id, "action": action, "version": version}

    def _on_event(self, event) -> None:
        """Wake the long polls: a command, a state change, or a trial that started or ended."""
        if event.kind in ("state_changed", "command", "budget_changed", "trial_started", "trial_ended"):
            self._bump()

    def _bump(self) -> None:
        with self._changed:
            self._version += 1
            self._changed.notify_all()


def _describe_exit(code: int) -> str:
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"was killed by {name}"
    return f"exited with status {code}"


def _log_tail(path: Path | None) -> str:
    if path is None or not path.exists():
        return ""
    try:
        with open(path, "rb") as fh:
            fh.seek(max(0, path.stat().st_size - 4000))
            lines = [ln.strip() for ln in fh.read().decode(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return ""
    return lines[-1][:300] if lines else ""


def _import_path() -> list[str]:
    """The kernel's import path, for a worker: what imports in the kernel imports there."""
    package_root = str(Path(__file__).resolve().parents[1])
    paths = [package_root]
    for entry in [*os.environ.get("PYTHONPATH", "").split(os.pathsep), *sys.path]:
        entry = entry or os.getcwd()
        if entry not in paths and os.path.isdir(entry):
            paths.append(entry)
    return paths
