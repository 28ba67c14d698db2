"""Parallel trials: ``search(..., workers=N)`` runs N trials at once in N worker processes.

The kernel is KerasTuner's chief and each worker is a KerasTuner worker (its distributed mode:
``KERASTUNER_TUNER_ID``, ``KERASTUNER_ORACLE_IP``, ``KERASTUNER_ORACLE_PORT``), so the oracle,
its trial store and the checkpoints are KerasTuner's own, exactly as in one process.

The chief (the search thread of the kernel, :class:`WorkerPool`)
  builds the same tuner the one-process path builds (``Search._build_tuner``: the same oracle,
  the same hypermodel, the same ``populate_space`` wrapper that puts promote/enqueue first and
  enforces the budgets) but never calls its ``search()``. Instead it serves that tuner's oracle
  with KerasTuner's own ``OracleServicer`` on a gRPC server of its own, on background threads,
  bound to 127.0.0.1 on a free port (or to ``listen=``). KerasTuner's environment variables are
  never set in the kernel: only in the workers' environment.

Each worker (``python -m automl_nb worker --chief HOST:PORT --token T``)
  limits TensorFlow's thread pools (``OMP_NUM_THREADS``, ``TF_NUM_INTRAOP_THREADS``... set
  before TensorFlow is imported, then ``tf.config.threading``) to its share of the cores,
  rebuilds the hypermodel and the data from the search's directory (``search.json`` and
  ``data.npz``, read with :func:`automl_nb.open`; a custom space crosses as a
  ``"module:function"`` name), and runs KerasTuner's own worker loop with the same tuner class
  as one process (``AutoMLTuner``: the same callback, NaN check, checkpoint restore with the
  optimizer state). Only its link to the engine differs (:class:`_Link`).

How events and commands cross processes. Beside KerasTuner's ``Oracle`` service the chief
serves a small JSON service, ``automl_nb.Chief``, on the same port:

- ``Hello``: a worker joins; the chief answers its worker id, the directory and the space.
- ``Plan``: the plan of a trial (epochs, initial epoch, checkpoint to start from), as
  ``Engine.plan_request``/``plan_for`` made it on the chief.
- ``Epoch``: after every epoch the worker sends the epoch's metrics; the chief calls
  ``Engine.epoch_end`` and the ``EpochEnded`` event is published (and journaled) in the kernel.
  (Not ``Oracle.update_trial`` per epoch: KerasTuner would then treat the trial as one that
  reports its own results, warn, and skip its final report, so the oracle would learn
  something different from what it learns in one process.)
- ``Fail``: the reason a trial failed (NaN loss, an exception in build or fit).
- ``Poll``: a poller thread in each worker keeps one long poll open. The chief answers at once
  when something changed (it listens to the search's own events: a state change such as pause,
  resume or stop, a command such as prune, a trial that started or ended), when the time budget
  runs out, or after a second, with the control state: paused or not, and an action (prune,
  stop, time) for the trial that worker runs. When there is an action the chief records it with
  ``Engine.batch_end``, exactly as one process does at a batch end. The worker's batch callback
  makes no call: it reads these flags, holds while paused and stops training on an action, so a
  command takes hold a few milliseconds (one round trip) plus the batch in flight after it is
  given. A poll also tells the chief that the worker is alive, and a worker that cannot reach
  its chief for ORPHAN_S (or whose parent kernel is gone) exits.

Trial boundaries go through KerasTuner's calls: ``CreateTrial`` runs the oracle's wrapped
``populate_space`` (so a promotion or an enqueued trial goes to the next free worker, and while
paused the answer is KerasTuner's "IDLE", so no trial starts), and the chief publishes
``TrialStarted`` with ``info["worker"]``; ``EndTrial`` lets the oracle score the trial and the
chief publishes ``TrialEnded``. When the trial budget is spent a worker that asks for a trial
waits ("IDLE") while other trials run, so a promotion made meanwhile still finds a worker.

Supervision: the chief starts its local workers in their own session, with their output in
``<directory>/workers/<id>.log``. A worker that dies is reported: the trial it ran is ended in
the oracle and marked failed with the reason, and a new worker takes its place (a search whose
workers keep dying fails). When the search ends every worker is asked to exit, then
terminated, then killed; a worker also dies with the kernel (``PR_SET_PDEATHSIG``, and its
poller watches its parent).

KerasTuner traps met here: its distributed mode takes the role from process-wide environment
variables (set only in workers, never in the kernel); its chief serves one call at a time
(``max_workers=1``) and never returns (``oracle_chief.start_server``), so we run our own server;
and its "too many failed trials in a row" error is raised inside the oracle's lock, which its
``@synchronized`` then never releases: the chief counts failures in a row itself instead.

Reopening: ``automl_nb.open(directory)`` of a search that had workers makes a new pool of as
many (``workers=`` overrides it). The chief's tuner reloads KerasTuner's project, whose reload
puts the trials that were running when the kernel died back in the oracle's retry queue, so
the first workers to ask run them again, under the same trial ids.

Limits: ``Control.prune_target`` is one slot, so two prunes given within the same few
milliseconds keep only the second; each worker imports TensorFlow when it starts (about
2.5 s on a 2-core CPU, see :func:`_import_tensorflow`);
the oracle's proposals depend on which results it has when a worker
asks, so a seeded Bayesian or Hyperband search is not trial-for-trial the same as in one process
(a seeded random search is).

Remote workers: ``search(..., workers=N, listen="0.0.0.0")`` makes the chief listen beyond
loopback; ``search.workers.join_command()`` gives the command to run elsewhere. Every call
must carry the search's token (gRPC metadata checked by a server interceptor; KerasTuner's
gRPC has no authentication of its own). There is no TLS: listen only on a network you trust.
Workers must share the chief's filesystem (KerasTuner's checkpoints and trial files are read
and written in the search's directory by every process): mount it at the same path.
"""

from __future__ import annotations

import atexit
import hmac
import importlib
import json
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
from typing import TYPE_CHECKING, Any

from ._engine import Engine, TrialPlan
from .control import Action, SearchState

if TYPE_CHECKING:
    from .search import Search

log = logging.getLogger("automl_nb")

_T0 = time.monotonic()
SERVICE = "automl_nb.Chief"
KT_SERVICE = "keras_tuner.Oracle"
KT_METHODS = ("GetSpace", "UpdateSpace", "CreateTrial", "UpdateTrial", "EndTrial", "GetTrial", "GetBestTrials")
TOKEN_KEY = "automl-nb-token"
TOKEN_ENV = "AUTOML_NB_TOKEN"
KT_ENV = ("KERASTUNER_TUNER_ID", "KERASTUNER_ORACLE_IP", "KERASTUNER_ORACLE_PORT")
LONG_POLL_S = 1.0  # a worker's poll returns at the latest after this (at once on a change)
IDLE_WAIT_S = 0.2  # a worker told "IDLE" asks again after this
REMOTE_SILENT_S = 60.0  # a remote worker not heard from for this long is gone
ORPHAN_S = 30.0  # a worker that cannot reach its chief for this long exits
MAX_CRASHES = 3  # workers dying in a row (no trial ending in between) fail the search


class WorkerError(RuntimeError):
    """The worker processes cannot run the search (they keep dying, or cannot start)."""


# --------------------------------------------------------------------------------------
# settings shared by both sides
# --------------------------------------------------------------------------------------
def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def thread_env(threads: int) -> dict[str, str]:
    """Environment variables that cap the thread pools of TensorFlow and the BLAS/OpenMP below it.

    They must be set before TensorFlow is imported; :func:`_limit_tensorflow` sets the
    ``tf.config.threading`` values as well.
    """
    n = str(max(1, int(threads)))
    return {
        "OMP_NUM_THREADS": n,
        "MKL_NUM_THREADS": n,
        "OPENBLAS_NUM_THREADS": n,
        "TF_NUM_INTRAOP_THREADS": n,
        "TF_NUM_INTEROP_THREADS": n,
    }


def parse_address(text: str, *, name: str = "--chief", default_port: int | None = None) -> tuple[str, int]:
    """``"HOST:PORT"`` (or ``"[::1]:PORT"``) -> (host, port)."""
    from .search import SearchError

    value = str(text).strip()
    host, sep, port = value.rpartition(":")
    if not sep or "]" in port:
        host, port = value, ""
    host = host.strip("[]")
    if not port:
        if default_port is None:
            raise SearchError(f"{name} must be HOST:PORT such as 127.0.0.1:50051; got {text!r}")
        return host, default_port
    if not port.isdigit() or not 0 <= int(port) <= 65535:
        raise SearchError(f"{name} {text!r} has no valid port; write HOST:PORT such as 0.0.0.0:50051")
    if not host:
        raise SearchError(f"{name} {text!r} has no host; write HOST:PORT such as 0.0.0.0:50051")
    return host, int(port)


def _join(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def resolve_space(space: Any, *, across_processes: bool) -> tuple[str | None, Any]:
    """The space as (a ``"module:function"`` reference or None, the object).

    A string names a build(hp) function to import. With ``across_processes`` (workers), a
    function must be importable by that name in another process: defined at the top level of
    a module other than ``__main__`` (a notebook's functions are not).
    """
    from .search import SearchError

    if space is None:
        return None, None
    if isinstance(space, str):
        return space, _import_space(space)
    if not across_processes:
        return None, space
    module = getattr(space, "__module__", None)
    qualname = getattr(space, "__qualname__", "")
    if callable(space) and module and module != "__main__" and "<" not in qualname:
        try:
            found = _import_space(f"{module}:{qualname}")
        except SearchError:
            found = None
        if found is space:
            return f"{module}:{qualname}", space
    raise SearchError(
        "workers=N needs the built-in space or a space importable as module:function "
        "(space='mymodule:build', with build(hp) defined at the top level of mymodule.py): "
        f"{_shown(space)} cannot be rebuilt in a worker process"
    )


def _shown(space: Any) -> str:
    name = getattr(space, "__qualname__", None) or type(space).__name__
    module = getattr(space, "__module__", None)
    return f"{module}.{name}" if module and module != "builtins" else name


def _import_space(ref: str) -> Any:
    from .search import SearchError

    module_name, sep, attr = ref.partition(":")
    if not sep or not module_name or not attr:
        raise SearchError(f"space {ref!r} must name a function as module:function, such as 'mymodule:build'")
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise SearchError(f"space {ref!r}: module {module_name!r} cannot be imported ({exc})") from None
    try:
        for part in attr.split("."):
            obj = getattr(obj, part)
    except AttributeError:
        raise SearchError(f"space {ref!r}: module {module_name!r} has no {attr!r}") from None
    if not callable(obj):
        raise SearchError(f"space {ref!r} is not a function taking hp; got {type(obj).__name__}")
    return obj


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, default=_plain).encode()


def _loads(data: bytes) -> Any:
    return json.loads(data) if data else {}


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    return str(value)


# --------------------------------------------------------------------------------------
# the chief: a trainer for Search(trainer=...)
# --------------------------------------------------------------------------------------
@dataclass
class _Worker:
    id: str
    proc: subprocess.Popen | None = None  # None: a remote worker
    log_path: Path | None = None
    joined: bool = False
    seen: float = field(default_factory=time.monotonic)
    told_stop: bool = False  # KerasTuner told it the search is over (or we stopped it)
    gone: bool = False  # exited, died or went silent; its trial has been dealt with

    @property
    def remote(self) -> bool:
        return self.proc is None


class WorkerPool:
    """Runs a search's trials in worker processes; pass it as ``Search(trainer=...)``.

    ``automl_nb.search(..., workers=N)`` makes one. After the search starts, ``address``,
    ``token`` and :meth:`join_command` say how another machine joins it.
    """

    keras_models = True  # its trials are real Keras models (best_model(), export(), promote)

    def __init__(
        self,
        workers: int = 2,
        *,
        listen: str | None = None,
        threads: int | None = None,
        token: str | None = None,
    ):
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            from .search import SearchError

            raise SearchError(f"workers must be a whole number of at least 1; got {workers!r}")
        if listen is not None and (not isinstance(listen, str) or not listen.strip()):
            from .search import SearchError

            raise SearchError(f"listen must be a host such as '0.0.0.0' or 'HOST:PORT'; got {listen!r}")
        self.n = workers
        self.host, self.port = (
            ("127.0.0.1", 0) if listen is None else parse_address(listen, name="listen", default_port=0)
        )
        self.threads = threads or max(1, cpu_count() // workers)
        self.token = token or secrets.token_urlsafe(24)
        self._changed = threading.Condition()  # long polls wait on it
        self._version = 0
        self.pids: list[int] = []  # every worker process this pool started
        self.workers: dict[str, _Worker] = {}
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
        self._search: Search | None = None
        self._engine: Engine | None = None
        self._tuner: Any = None

    # -- what a user sees --------------------------------------------------------
    @property
    def address(self) -> str | None:
        """``HOST:PORT`` a worker connects to, once the search runs."""
        if not self.port:
            return None
        host = self.host
        if host in ("0.0.0.0", "::", ""):
            host = socket.gethostname()
        return _join(host, self.port)

    def join_command(self) -> str:
        """The shell command that joins this search from another machine (same filesystem)."""
        if self.address is None:
            raise RuntimeError("the search has not started its chief yet; start() it first")
        return f"python -m automl_nb worker --chief {self.address} --token {self.token}"

    def __repr__(self) -> str:
        alive = sum(1 for w in self.workers.values() if not w.gone)
        return f"<WorkerPool {self.n} local workers, {alive} alive, chief {self.address or '-'}>"

    # -- the search thread ----------------------------------------------------------
    def run(self, search: Search, engine: Engine) -> str | None:
        self._search, self._engine = search, engine
        self._closing, self._fatal, self._crashes = False, None, 0
        self._oracle_stopped = False
        self._ready.clear()
        self._running.clear()
        self.workers = {}
        atexit.register(self._kill_all)
        unsubscribe = search.subscribe(self._on_event)
        try:
            self._serve()
            for _ in range(self.n):
                self._spawn()
            self._tuner = self._chief_tuner(search, engine)
            self._ready.set()
            self._supervise()
            if self._fatal is not None:
                raise self._fatal
            return self._tuner.stop_reason
        finally:
            unsubscribe()
            self._shutdown()
            atexit.unregister(self._kill_all)

    def _chief_tuner(self, search: Search, engine: Engine):
        """The tuner of the one-process path, with its oracle served instead of searched."""
        from .search import SearchError, _SpaceFailure
        from .spaces import hp_spec

        tuner = search._tuner
        if tuner is None:
            try:
                tuner = search._build_tuner(engine)
            except SearchError:
                raise
            except Exception as exc:
                if type(exc).__name__ in ("SpaceError", "OracleError"):
                    raise _SpaceFailure(f"{exc}; fix it and start the search again") from exc
                raise _SpaceFailure(
                    f"build(hp) raised {type(exc).__name__}: {exc}; fix it and start the search again"
                ) from exc
            search._tuner = tuner
        else:
            tuner.engine = engine
            tuner._wrap_oracle()
        tuner.stop_reason = None
        tuner.oracle.verbose = 0  # KerasTuner's Display would clear the notebook's output
        # KerasTuner raises "too many failures in a row" inside the oracle's lock and never
        # releases it (its @synchronized has no finally): with other workers still calling, the
        # chief would hang. We count failures in a row ourselves, after end_trial returns.
        if tuner.oracle.max_consecutive_failed_trials is not None:
            self._failure_limit = tuner.oracle.max_consecutive_failed_trials
        tuner.oracle.max_consecutive_failed_trials = None
        self._wrap_populate(tuner)
        space = [hp_spec(hp) for hp in tuner.oracle.hyperparameters.space]
        space = [s for s in space if not s["name"].startswith("tuner/")]
        if space != search.record.space:
            from .events import SpaceDefined

            engine.bus.publish(SpaceDefined(space=space))
        tuner.save()  # tuner0.json: automl_nb.open() reloads the oracle from it
        return tuner

    def _wrap_populate(self, tuner) -> None:
        """Paused: no trial starts. Budget spent while others run: wait, for a late promotion."""
        oracle = tuner.oracle
        inner = oracle.populate_space  # AutoMLTuner's: requests first, budgets
        control = self._engine.control

        def populate_space(trial_id: str) -> dict[str, Any]:
            if control.state is SearchState.PAUSED and not control.stop_requested:
                return {"status": "IDLE", "values": None}
            response = inner(trial_id)
            if (
                response.get("status") == "STOPPED"
                and oracle.ongoing_trials
                and self._engine.stop_reason() is None
            ):
                return {"status": "IDLE", "values": None}
            return response

        oracle.populate_space = populate_space

    # -- the server -------------------------------------------------------------------
    def _serve(self) -> None:
        """Listen at once (gRPC only), so workers start while the kernel imports TensorFlow."""
        import concurrent.futures

        import grpc

        server = grpc.server(
            concurrent.futures.ThreadPoolExecutor(max_workers=32 + 2 * self.n, thread_name_prefix="automl_nb-chief"),
            interceptors=[_gate(self.token, self._ready)],
        )
        server.add_generic_rpc_handlers((_oracle_handlers(self),))
        handlers = {
            name: grpc.unary_unary_rpc_method_handler(
                self._guarded(getattr(self, f"_rpc_{name.lower()}")),
                request_deserializer=_loads,
                response_serializer=_dumps,
            )
            for name in ("Hello", "Plan", "Epoch", "Fail", "Poll")
        }
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))
        try:
            port = server.add_insecure_port(_join(self.host, self.port))
        except RuntimeError:
            port = 0
        if not port:
            from .search import SearchError

            raise SearchError(
                f"listen: the chief cannot listen on {_join(self.host, self.port)} (in use, or not an "
                "address of this machine); choose another port or host"
            )
        server.start()
        self._server, self.port = server, port

    def _guarded(self, fn):
        """A journal that cannot be written ends the search, as it does in one process."""
        from .events import JournalError

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
        search = self._search
        wid = self._new_id("w")
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        log_dir = search.directory / "workers"
        log_dir.mkdir(parents=True, exist_ok=True)
        log_path = log_dir / f"{wid}.log"
        env = {k: v for k, v in os.environ.items() if k not in KT_ENV}
        env.update(thread_env(self.threads))
        env[TOKEN_ENV] = self.token
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        env["PYTHONPATH"] = os.pathsep.join(_import_path())
        cmd = [
            sys.executable, "-m", "automl_nb", "worker",
            "--chief", _join(host, self.port),
            "--worker-id", wid,
            "--threads", str(self.threads),
            "--parent-pid", str(os.getpid()),
        ]
        with open(log_path, "ab") as out:
            proc = subprocess.Popen(
                cmd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,  # a Ctrl-C in the terminal is the chief's to handle
            )
        worker = _Worker(id=wid, proc=proc, log_path=log_path)
        with self._lock:
            self.workers[wid] = worker
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
                for worker in list(self.workers.values()):
                    if over and not worker.gone and not worker.told_stop and worker.id not in self._running:
                        worker.told_stop = True  # do not wait for its start-up or its next ask
                        if worker.proc is not None:
                            worker.proc.terminate()
            for worker in list(self.workers.values()):
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
            if all(w.gone for w in self.workers.values()):
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
                stored.status = "FAILED"
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
            in_a_row = in_a_row + 1 if trial.status == "FAILED" else 0
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
        local = [w for w in self.workers.values() if w.proc is not None]
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
        for worker in list(self.workers.values()):
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
        for worker in list(self.workers.values()):
            if worker.proc is not None and worker.proc.poll() is None:
                worker.proc.kill()

    # -- KerasTuner's Oracle service, on the chief ------------------------------------------
    def _create_trial(self, tuner_id: str):
        from keras_tuner.src.engine import hyperparameters as hp_module
        from keras_tuner.src.engine import trial as trial_module

        with self._lock:
            worker = self.workers.get(tuner_id)
            if worker is None or worker.gone or worker.told_stop or self._closing or self._tuner is None:
                return trial_module.Trial(hp_module.HyperParameters(), status="STOPPED")
            oracle = self._tuner.oracle
            worker.seen = time.monotonic()
            trial = oracle.create_trial(tuner_id)
            if trial.status == "RUNNING":
                values = dict(trial.hyperparameters.values)
                plan = self._engine.plan_for(trial.trial_id, values)
                self._running[tuner_id] = trial.trial_id
                self._engine.begin_trial(plan, values, info={"worker": tuner_id})
            elif trial.status == "STOPPED":
                worker.told_stop = True
                self._oracle_stopped = True
            return trial

    def _end_trial(self, trial) -> None:
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
            if stored.status == "FAILED" and engine.outcome(trial.trial_id) is None:
                engine.fail(trial.trial_id, (stored.message or "failed").strip().splitlines()[-1])
            score = stored.score if stored.status == "COMPLETED" else None
            status = engine.end_trial(trial.trial_id, score)
            self._running.pop(worker_id, None)
            if status != "failed":
                self._crashes = 0

    # -- our own service ---------------------------------------------------------------------
    def _rpc_hello(self, request: dict, context) -> dict:
        search = self._search
        wid = request.get("worker")
        with self._lock:
            if self._closing:
                return {"shutdown": True}
            if wid:
                worker = self.workers.get(wid)
                if worker is None or worker.gone:
                    return {"shutdown": True}
            else:
                worker = _Worker(id=self._new_id("r"))
                self.workers[worker.id] = worker
                log.info("a remote worker joined from %s as %s", context.peer(), worker.id)
            worker.joined = True
            worker.seen = time.monotonic()
        return {
            "worker": worker.id,
            "directory": str(Path(search.directory).resolve()),
            "space": search.settings.get("space_ref"),
        }

    def _rpc_plan(self, request: dict, context) -> dict:
        plan = self._engine.plans.get(request["trial"])
        return asdict(plan) if plan is not None else {}

    def _rpc_epoch(self, request: dict, context) -> dict:
        with self._lock:
            if self._running.get(request["worker"]) == request["trial"]:
                self._engine.epoch_end(request["trial"], int(request["epoch"]), request["metrics"])
        return {}

    def _rpc_fail(self, request: dict, context) -> dict:
        with self._lock:
            if self._running.get(request["worker"]) == request["trial"]:
                self._engine.fail(request["trial"], str(request["reason"]))
        return {}

    def _rpc_poll(self, request: dict, context) -> dict:
        """A long poll: answers when a command or a trial start/end changed something, when the
        time budget runs out, or after LONG_POLL_S."""
        worker = self.workers.get(request.get("worker", ""))
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


def _oracle_handlers(pool: WorkerPool):
    """KerasTuner's Oracle service, its handlers made on the first call (importing KerasTuner
    imports TensorFlow, which the search thread is doing meanwhile)."""
    import grpc

    class Handlers(grpc.GenericRpcHandler):
        def __init__(self):
            self._handlers: dict[str, Any] | None = None
            self._lock = threading.Lock()

        def service(self, handler_call_details):
            method = handler_call_details.method
            if not method.startswith(f"/{KT_SERVICE}/"):
                return None
            with self._lock:
                if self._handlers is None:
                    self._handlers = _capture_handlers(_oracle_servicer(pool))
            return self._handlers.get(method)

    return Handlers()


def _capture_handlers(servicer) -> dict[str, Any]:
    """Full method name -> handler, as KerasTuner's generated code registers its servicer."""
    from keras_tuner.src import protos

    captured: dict[str, Any] = {}

    class Capture:
        def add_generic_rpc_handlers(self, handlers):
            for handler in handlers:
                for name in KT_METHODS:
                    found = handler.service(_Call(f"/{KT_SERVICE}/{name}"))
                    if found is not None:
                        captured[f"/{KT_SERVICE}/{name}"] = found

        def add_registered_method_handlers(self, service, handlers):
            captured.update({f"/{service}/{name}": h for name, h in handlers.items()})

    protos.get_service_grpc().add_OracleServicer_to_server(servicer, Capture())
    return captured


@dataclass(frozen=True)
class _Call:
    method: str
    invocation_metadata: tuple = ()


def _oracle_servicer(pool: WorkerPool):
    """KerasTuner's OracleServicer, with trial starts and ends told to our engine."""
    from keras_tuner.src import protos
    from keras_tuner.src.distribute.oracle_chief import OracleServicer
    from keras_tuner.src.engine import trial as trial_module

    class Servicer(OracleServicer):
        def CreateTrial(self, request, context):
            trial = pool._guarded(lambda r, c: pool._create_trial(r.tuner_id))(request, context)
            return protos.get_service().CreateTrialResponse(trial=trial.to_proto())

        def EndTrial(self, request, context):
            trial = trial_module.Trial.from_proto(request.trial)
            pool._guarded(lambda r, c: pool._end_trial(trial))(request, context)
            return protos.get_service().EndTrialResponse()

    servicer = Servicer(None)
    servicer.oracle = _LazyOracle(pool)
    return servicer


class _LazyOracle:
    """The chief tuner's oracle, built after the server starts (calls wait for it: _Gate)."""

    def __init__(self, pool: WorkerPool):
        self._pool = pool

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pool._tuner.oracle, name)


def _gate_class():
    import grpc

    class Gate(grpc.ServerInterceptor):
        """Refuses calls without the search's token; holds KerasTuner's calls until the oracle exists."""

        def __init__(self, token: str, ready: threading.Event):
            self._token = token.encode()
            self._ready = ready

        def intercept_service(self, continuation, handler_call_details):
            given = dict(handler_call_details.invocation_metadata or ()).get(TOKEN_KEY, "")
            if not hmac.compare_digest(str(given).encode(), self._token):
                return grpc.unary_unary_rpc_method_handler(_refuse)
            handler = continuation(handler_call_details)
            if handler is None or handler.unary_unary is None:
                return handler
            if handler_call_details.method.startswith(f"/{SERVICE}/"):
                return handler
            inner, ready = handler.unary_unary, self._ready

            def wait_then(request, context):
                if not ready.wait(600):
                    context.abort(grpc.StatusCode.UNAVAILABLE, "the chief's oracle is not ready")
                return inner(request, context)

            return handler._replace(unary_unary=wait_then)

    return Gate


def _refuse(request, context):
    import grpc

    context.abort(grpc.StatusCode.UNAUTHENTICATED, "this search's token is missing or wrong")


def _gate(token: str, ready: threading.Event):
    return _gate_class()(token, ready)


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


# --------------------------------------------------------------------------------------
# the worker process
# --------------------------------------------------------------------------------------
class _Link:
    """A worker's line to its chief, and the engine its tuner talks to.

    It offers the few Engine methods ``AutoMLTuner`` and its callback call (``plan_for``,
    ``begin_trial``, ``batch_end``, ``epoch_end``, ``fail``); the real Engine is the chief's.
    ``batch_end`` reads flags that the poller thread keeps fresh, so a batch makes no call.
    """

    def __init__(self, address: str, token: str, worker_id: str | None = None, parent_pid: int | None = None):
        import grpc

        self.address = address
        self.worker_id = worker_id
        self.parent_pid = parent_pid
        self.channel = grpc.intercept_channel(grpc.insecure_channel(address), _token_interceptor(token))
        self._stubs = {
            name: self.channel.unary_unary(
                f"/{SERVICE}/{name}", request_serializer=_dumps, response_deserializer=_loads
            )
            for name in ("Hello", "Plan", "Epoch", "Fail", "Poll")
        }
        self.current: str | None = None
        self.paused = False
        self.actions: dict[str, Action] = {}
        self._attention = False
        self._changed = threading.Condition()
        self._plans: dict[str, TrialPlan] = {}
        self.control = None  # AutoMLTuner.pre_create_trial's is the chief's (answers IDLE)

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
        from keras_tuner.src import protos

        return protos.get_service_grpc().OracleStub(self.channel)

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

    def begin_trial(self, plan: TrialPlan, values: dict[str, Any]) -> None:
        self.current = plan.trial_id  # the chief published TrialStarted when it handed it out

    def batch_end(self, trial_id: str, loss: float | None = None) -> Action | None:
        if not self._attention:
            return None
        with self._changed:
            while self.paused and trial_id not in self.actions:
                self._changed.wait(1.0)
            return self.actions.get(trial_id)

    def epoch_end(self, trial_id: str, epoch_index: int, metrics: dict[str, Any]) -> None:
        clean = {k: _number(v) for k, v in metrics.items()}
        self.call("Epoch", worker=self.worker_id, trial=trial_id, epoch=epoch_index, metrics=clean)

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


def _token_interceptor(token: str):
    import collections

    import grpc

    class Details(
        collections.namedtuple(
            "Details", ("method", "timeout", "metadata", "credentials", "wait_for_ready", "compression")
        ),
        grpc.ClientCallDetails,
    ):
        pass

    class AddToken(grpc.UnaryUnaryClientInterceptor):
        def intercept_unary_unary(self, continuation, details, request):
            metadata = [*(details.metadata or ()), (TOKEN_KEY, token)]
            return continuation(
                Details(details.method, details.timeout, metadata, details.credentials,
                        details.wait_for_ready, details.compression),
                request,
            )

    return AddToken()


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
#: wrappers, slicing pandas DataFrames: a worker trains on NumPy arrays from data.npz).
_NOT_FOR_TRAINING = ("sklearn", "pandas")


def _import_tensorflow() -> None:
    """Import TensorFlow and Keras without scikit-learn and pandas: a worker starts sooner.

    Importing TensorFlow (which imports Keras) is most of a worker's start-up, and a fifth of
    it (0.5 s of 2.5 s on the 2-core CPU the benchmarks run on, ``python -X importtime``) is
    Keras importing scikit-learn for its scikit-learn wrappers and pandas to slice
    DataFrames, both inside ``try: import ... except ImportError``. They are hidden while
    TensorFlow imports and importable again right after, so a ``build(hp)`` module that
    imports them works as anywhere else.
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


def _worker_tuner_class():
    import keras_tuner

    from .tuner import AutoMLTuner

    class WorkerTuner(AutoMLTuner):
        """AutoMLTuner in a worker: the chief schedules, so no wrapper and no local pause."""

        def _wrap_oracle(self) -> None:
            pass

        def _populate_initial_space(self):
            pass  # the chief's oracle holds the space; this stand-in oracle is never asked

        def pre_create_trial(self):
            pass

        def on_trial_end(self, trial):
            try:
                keras_tuner.Tuner.on_trial_end(self, trial)  # the chief's oracle ends it
            finally:
                self.engine.trial_done(trial.trial_id)

    return WorkerTuner


def run_worker(
    chief: str,
    token: str,
    *,
    worker_id: str | None = None,
    threads: int | None = None,
    parent_pid: int | None = None,
) -> int:
    """The body of ``python -m automl_nb worker``: join the chief, run trials until told to stop.

    It ends the process when the search is over (without TensorFlow's slow teardown).
    """
    import grpc

    threads = threads or cpu_count()
    os.environ.update(thread_env(threads))  # before TensorFlow is imported
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    _die_with_parent(parent_pid)
    host, port = parse_address(chief)
    link = _Link(_join(host, port), token, worker_id=worker_id, parent_pid=parent_pid)
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
    _import_tensorflow()
    _limit_tensorflow(threads)
    from . import oracles, spaces
    from .search import open_search

    space = _import_space(hello["space"]) if hello.get("space") else None
    search = open_search(hello["directory"], space=space, workers=1)  # its data and settings
    settings = search.settings
    if search.dataset is None:
        raise WorkerError(f"the search's data cannot be read from {hello['directory']}")
    if settings.get("seed") is not None:
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
    hypermodel = spaces.get_space(space, search.dataset)
    stand_in = oracles.get_oracle(  # required by KerasTuner; every call goes to the chief's oracle
        "random", objective=settings["objective"], direction=settings["direction"], max_trials=None,
        epochs=settings["epochs"], seed=settings.get("seed"),
    )
    tuner = _worker_tuner_class()(
        oracle=stand_in, hypermodel=hypermodel, engine=link, directory=str(search.directory),
        seed=settings.get("seed"),
    )
    client = tuner.oracle  # KerasTuner's OracleClient; its calls now carry the token
    client.stub = link.oracle_stub()
    ask = client.create_trial

    def create_trial(tuner_id):
        trial = ask(tuner_id)
        if trial.status == "IDLE":
            time.sleep(IDLE_WAIT_S)
        return trial

    client.create_trial = create_trial
    data = search.dataset
    print(f"automl-nb worker {link.worker_id}: ready after {time.monotonic() - _T0:.1f}s",
          file=sys.stderr, flush=True)
    tuner.search(
        data.x_train, data.y_train, validation_data=(data.x_val, data.y_val),
        batch_size=settings["batch_size"], shuffle=True, verbose=0,
    )

