"""How fast a pause sent from another process holds a running search (issue 32's target).

The search runs in a process of its own (the owner); this process only writes to the
search's inbox (``automl_nb.doors.send``), as ``python -m automl_nb pause DIR``, another
kernel or the JupyterLab sidebar do. The target: the owner's running trial holds within one
batch plus 0.5 s of the send.

The owner is this script run with ``--owner DIR``. It logs every batch its trial trains, with
the time it ended, to ``DIR/batches.log`` (one line a batch, written before the batch's hook
looks at the controls), through a wrapper installed in the owner process only:

- scripted (the default; no TensorFlow): a ``ScriptedTrainer`` whose batches take
  ``--batch-seconds``; ``Engine.batch_end`` is wrapped (the scripted trainer calls it once a
  batch);
- ``--real``: a seeded random search over the built-in space on digits (``epochs=200``: trials
  never end while we measure); the trial callback's ``on_train_batch_end``
  (``automl_nb.backends.tuner._StreamCallback``) is wrapped, as ``bench/steering.py`` does.

For each of ``--pauses`` pauses (sent after a seeded random delay, so they land at different
points of a batch): the time from the send to the last batch that ended before the hold
(0 when none ran after the send), that time over the median batch time (the ratio; the
batch in flight makes it up to about 1), the batches that ended after the send, the time
until the owner's journaled answer came, and the batches trained during a ``--hold`` hold
(must be 0). Nothing is asserted.

    .venv/bin/python bench/doors.py [--pauses 5] [--batch-seconds 0.1] [--real]
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from automl_nb import doors

BATCHES = "batches.log"
SEED = 0


# -- the owner process ----------------------------------------------------------------------------


def _logger(directory: Path):
    fh = open(directory / BATCHES, "a", buffering=1)  # noqa: SIM115 - open while the owner runs

    def log_batch(trial_id: str) -> None:
        fh.write(f"{time.time():.6f} {trial_id}\n")

    return log_batch


def run_owner(directory: Path, real: bool, batch_seconds: float) -> int:
    if real:
        import automl_nb
        from automl_nb.backends import tuner as _tuner

        directory.mkdir(parents=True, exist_ok=True)
        log_batch = _logger(directory)
        original = _tuner._StreamCallback.on_train_batch_end

        def on_train_batch_end(self, batch, logs=None):
            log_batch(str(getattr(self, "trial_id", "?")))
            return original(self, batch, logs)

        _tuner._StreamCallback.on_train_batch_end = on_train_batch_end
        search = automl_nb.search("digits", oracle="random", epochs=200, trials=50, seed=SEED,
                                  directory=directory / "search", overwrite=True)
    else:
        from automl_nb.backends import engine as _engine
        from automl_nb.testing import ScriptedTrainer, scripted_search

        directory.mkdir(parents=True, exist_ok=True)
        log_batch = _logger(directory)
        original = _engine.Engine.batch_end

        def batch_end(self, trial_id, loss=None):
            log_batch(trial_id)
            return original(self, trial_id, loss)

        _engine.Engine.batch_end = batch_end
        trainer = ScriptedTrainer(batches_per_epoch=5, batch_seconds=batch_seconds)
        search = scripted_search(trainer, directory=directory / "search", trials=5,
                                 epochs=100_000)
    print("ready", flush=True)
    search.wait()
    return 0


# -- the bench --------------------------------------------------------------------------------------


def batch_times(directory: Path) -> list[float]:
    try:
        text = (directory / BATCHES).read_text()
    except OSError:
        return []
    return [float(line.split()[0]) for line in text.splitlines() if line.count(" ") == 1]


def wait_for(condition, timeout: float, every: float = 0.01) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return condition()


def wait_quiet(work: Path, settle: float, timeout: float) -> None:
    """Wait until no batch has ended for ``settle`` seconds (the owner holds)."""
    seen, since = len(batch_times(work)), time.monotonic()
    deadline = since + timeout
    while time.monotonic() < deadline and time.monotonic() - since < settle:
        time.sleep(0.01)
        count = len(batch_times(work))
        if count != seen:
            seen, since = count, time.monotonic()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pauses", type=int, default=5)
    parser.add_argument("--batch-seconds", type=float, default=0.1,
                        help="a scripted batch's time (ignored with --real)")
    parser.add_argument("--hold", type=float, default=1.0, help="seconds each pause holds")
    parser.add_argument("--real", action="store_true", help="a real TensorFlow search on digits")
    parser.add_argument("--owner", metavar="DIR", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.owner:
        return run_owner(Path(args.owner), args.real, args.batch_seconds)

    work = Path(tempfile.mkdtemp(prefix="automl-nb-doors-"))
    command = [sys.executable, __file__, "--owner", str(work),
               "--batch-seconds", str(args.batch_seconds)] + (["--real"] if args.real else [])
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    owner = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    search_dir = work / "search"
    try:
        if owner.stdout.readline().strip() != "ready":
            print("the owner did not start", file=sys.stderr)
            return 1
        if not wait_for(lambda: len(batch_times(work)) >= 20, timeout=600):
            print("the owner trained no batches", file=sys.stderr)
            return 1
        times = batch_times(work)[-20:]
        batch = statistics.median(b - a for a, b in itertools.pairwise(times))
        settle = max(4 * batch, 1.0)  # no batch for this long: the owner holds
        kind = "real (digits, built-in space)" if args.real else "scripted"
        print(f"owner: process {owner.pid}, {kind}; median batch {batch * 1000:.1f} ms")
        print(f"{'pause':>5} {'to last batch':>14} {'/ batch':>8} {'batches after':>14} "
              f"{'answer':>8} {'in hold':>8}")
        rng = random.Random(SEED)
        latencies, ratios, afters, answers, held = [], [], [], [], []
        for i in range(args.pauses):
            time.sleep(rng.uniform(0.3, 0.3 + batch))  # land at a random point of a batch
            since = doors.journal_size(search_dir)
            sent = time.time()
            command_id = doors.send(search_dir, "pause")
            answer = doors.wait_for_answer(search_dir, command_id, timeout=10, since=since)
            answered = time.time() - sent
            wait_quiet(work, settle, timeout=60)
            after = [t for t in batch_times(work) if t > sent]
            latency = (max(after) - sent) if after else 0.0
            hold_start = len(batch_times(work))
            time.sleep(args.hold)
            in_hold = len(batch_times(work)) - hold_start
            doors.send(search_dir, "resume")
            moved = len(batch_times(work))
            wait_for(lambda: len(batch_times(work)) > moved + 2, timeout=60)  # noqa: B023
            latencies.append(latency)
            ratios.append(latency / batch)
            afters.append(len(after))
            answers.append(answered)
            held.append(in_hold)
            ok = "" if answer is not None and answer.accepted else "  (no answer)"
            print(f"{i + 1:>5} {latency * 1000:>11.1f} ms {latency / batch:>8.2f} {len(after):>14} "
                  f"{answered * 1000:>5.0f} ms {in_hold:>8}{ok}")
        print()
        print(f"send -> last batch before the hold: median {statistics.median(latencies) * 1000:.1f} "
              f"ms, max {max(latencies) * 1000:.1f} ms (target: one batch + 500 ms = "
              f"{(batch + 0.5) * 1000:.0f} ms)")
        print(f"as batches: median {statistics.median(ratios):.2f}, max {max(ratios):.2f}; "
              f"batches after the send: max {max(afters)}; during holds: {sum(held)}")
        print(f"send -> the owner's journaled answer: median {statistics.median(answers) * 1000:.0f}"
              f" ms (the inbox is read every {doors.INBOX_POLL_S * 1000:.0f} ms)")
        doors.send(search_dir, "stop")
        owner.wait(120)
    finally:
        if owner.poll() is None:
            owner.kill()
            owner.wait(20)
    return 0


if __name__ == "__main__":
    sys.exit(main())
