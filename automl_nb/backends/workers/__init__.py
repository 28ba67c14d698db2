"""Parallel trials: ``search(..., workers=N)`` runs N trials at once in N worker processes.

The kernel is KerasTuner's chief and each worker is a KerasTuner worker (its distributed mode:
``KERASTUNER_TUNER_ID``, ``KERASTUNER_ORACLE_IP``, ``KERASTUNER_ORACLE_PORT``), so the oracle,
its trial store and the checkpoints are KerasTuner's own, exactly as in one process.

The chief (the search thread of the kernel, :class:`WorkerPool`)
  builds the same tuner the one-process path builds (it is a :class:`~automl_nb.backends.local.
  LocalTrainer`: the same oracle, the same hypermodel, the same scheduler that puts
  promote/enqueue first and enforces the budgets) but never calls its ``search()``. Instead it serves that tuner's oracle
  with KerasTuner's own ``OracleServicer`` on a gRPC server of its own, on background threads,
  bound to 127.0.0.1 on a free port (or to ``listen=``). KerasTuner's environment variables are
  never set in the kernel: only in the workers' environment.

Each worker (``python -m automl_nb worker --chief HOST:PORT --token T``)
  limits TensorFlow's thread pools (``OMP_NUM_THREADS``, ``TF_NUM_INTRAOP_THREADS``... set
  before TensorFlow is imported, then ``tf.config.threading``) to its share of the cores,
  rebuilds the hypermodel and the data from the search's directory (``search.json`` and
  ``data.npz``, read with :class:`~automl_nb.store.Store`; a custom space crosses as a
  ``"module:function"`` name), and runs KerasTuner's own worker loop with the same tuner class
  as one process (``AutoMLTuner``: the same callback, NaN check, checkpoint restore with the
  optimizer state). Only its link to the engine differs (:class:`_Link`).

How events and commands cross processes. Beside KerasTuner's ``Oracle`` service the chief
serves a small JSON service, ``automl_nb.Chief``, on the same port:

- ``Hello``: a worker joins; the chief answers its worker id, the directory and the space.
- ``Plan``: the plan of a trial (epochs, initial epoch, checkpoint to start from), as
  ``Engine.plan_request``/``plan_for`` made it on the chief.
- ``Epoch``: after every epoch the worker sends the epoch's metrics; the chief calls
  ``Engine.epoch_end`` and the ``EpochEnded`` event is published (and journaled) in the kernel;
  the answer is the planner's verdict (stop after this epoch, or a lower learning rate).
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
scheduler (so a promotion or an enqueued trial goes to the next free worker, and while
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
milliseconds keep only the second; each worker imports TensorFlow when it starts (seconds,
see :func:`.worker.import_tensorflow`);
the oracle's proposals depend on which results it has when a worker
asks, so a seeded Bayesian or Hyperband search is not trial-for-trial the same as in one process
(a seeded random search is).

Remote workers: ``search(..., workers=N, listen="0.0.0.0")`` makes the chief listen beyond
loopback; ``search.workers.join_command()`` gives the command to run elsewhere. Every call
must carry the search's token (gRPC metadata checked by a server interceptor; KerasTuner's
gRPC has no authentication of its own). A search with ``listen=`` serves gRPC over TLS with a
certificate of its own (:mod:`.tls`); the join command carries its fingerprint, which a worker
checks before it sends the token. A loopback-only search (no ``listen``) stays plain.
Workers must share the chief's filesystem (KerasTuner's checkpoints and trial files are read
and written in the search's directory by every process): mount it at the same path.

The parts: :mod:`.chief` (the pool, on the search thread), :mod:`.worker` (the worker
process), :mod:`.rpc` (the services, the token and the wire format), :mod:`.tls` (the
certificate and the fingerprint check).
"""

from __future__ import annotations

from ...errors import WorkerError
from .chief import WorkerPool
from .rpc import parse_address
from .shared import cpu_count, import_space, resolve_space, thread_env
from .worker import import_tensorflow, run_worker

__all__ = [
    "WorkerError",
    "WorkerPool",
    "cpu_count",
    "import_space",
    "import_tensorflow",
    "parse_address",
    "resolve_space",
    "run_worker",
    "thread_env",
]
