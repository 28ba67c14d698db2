"""How fast pause and prune take hold in a running automl-nb search.

A seeded random search over the built-in CNN space on digits (``automl_nb.search("digits",
oracle="random", epochs=200, seed=0)``: trials never end on their own while we measure) is
steered from this thread while it trains on its own.

Nothing in the library is changed; two wrappers, in this process only, watch it:

- batches: the trial's Keras callback (``automl_nb.backends.tuner._StreamCallback``) has its
  ``on_train_batch_end`` wrapped to log each batch Keras has trained, for which trial, when,
  before the callback looks at the controls. One entry is one batch.
- engine calls: ``automl_nb.backends.engine.Engine.batch_end`` is wrapped to log when each call
  enters and returns and the action it returned (for the latencies). The callback consults
  the engine at each batch's end and at each epoch's start (so a pause that came during
  validation holds before the next epoch's first batch), so these calls are NOT batches; the
  script prints how many calls a batch made, to show the two units apart.

- pause (PAUSES times, resumed in between): the time from calling ``pause()`` until the
  training thread is blocked, i.e. it has entered the ``batch_end`` call that does not return
  until ``resume()`` (and, checked independently, its stack shows it waiting in
  ``Control.at_batch_end``); the batches trained after the command (the batch in flight
  counts as 1); and the batches trained during a HOLD_S hold (must be 0).
- prune (PRUNES times, one trial each): the time from calling ``prune(id)`` to the engine call
  that stops training (it returns the prune action), to the partial epoch's ``EpochEnded``
  (Keras still validates the partial epoch), and to the ``TrialEnded`` event with status
  ``pruned``; and the batches of that trial trained after the command.

Commands are sent after a seeded random delay, so they land at different points of an epoch.
A command that lands in an epoch's end (validation, checkpoint save: no batch hook runs there)
takes hold after that work and one more batch; such rows are marked. Nothing is asserted;
the target is at most one batch after a command.

    .venv/bin/python bench/steering.py [--pauses 5] [--prunes 4]
"""

from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import automl_nb
from automl_nb.backends import engine as _engine
from automl_nb.backends import tuner as _tuner

SEED = 0
EPOCHS = 200  # trials outlast the measurements; the search is stopped at the end
HOLD_S = 0.3
TIMEOUT_S = 60.0
LANDED = " [landed in an epoch's end: validation/checkpoint, then 1 batch]"


# --------------------------------------------------------------------------------------
# batch meter: a wrapper around Engine.batch_end, in this process only
# --------------------------------------------------------------------------------------
@dataclass
class Call:
    trial_id: str
    enter: float
    exit: float | None = None
    action: str | None = None


@dataclass
class Meter:
    lock: threading.Lock = field(default_factory=threading.Lock)
    calls: list[Call] = field(default_factory=list)
    batches: list[tuple[str, float]] = field(default_factory=list)  # (trial id, time trained)

    def install(self) -> None:
        meter = self
        on_batch_end = _tuner._StreamCallback.on_train_batch_end

        def counted(callback, batch, logs=None):
            with meter.lock:
                meter.batches.append((callback.trial_id, time.monotonic()))
            return on_batch_end(callback, batch, logs)

        _tuner._StreamCallback.on_train_batch_end = counted
        original = _engine.Engine.batch_end

        def batch_end(engine, trial_id, *args, **kwargs):
            call = Call(trial_id, time.monotonic())
            with meter.lock:
                meter.calls.append(call)
            try:
                action = original(engine, trial_id, *args, **kwargs)
                call.action = None if action is None else str(getattr(action, "value", action))
                return action
            finally:
                call.exit = time.monotonic()

        batch_end.__wrapped__ = original
        _engine.Engine.batch_end = batch_end

    def snapshot(self) -> list[Call]:
        with self.lock:
            return list(self.calls)

    def trained(self, trial_id: str | None = None, since: float = -1.0, until: float = math.inf) -> int:
        """Batches trained (by ``trial_id``) between ``since`` and ``until``."""
        with self.lock:
            return sum(
                1
                for tid, t in self.batches
                if (trial_id is None or tid == trial_id) and since <= t <= until
            )


# --------------------------------------------------------------------------------------
# events, with the monotonic time they arrived (the subscriber runs on the search thread)
# --------------------------------------------------------------------------------------
class Events:
    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.log: list[tuple[float, object]] = []

    def __call__(self, event) -> None:
        now = time.monotonic()
        with self.cond:
            self.log.append((now, event))
            self.cond.notify_all()

    def wait_for(self, predicate, timeout: float = TIMEOUT_S):
        """The first (time, event) logged that satisfies predicate, waiting for it."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for item in self.log:
                    if predicate(item[1]):
                        return item
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(left)


def running_trial(search) -> str | None:
    with search.lock:
        for trial in search.record.trials.values():
            if trial.status == "running":
                return trial.trial_id
    return None


def wait_batches(meter: Meter, search, n: int, since: float) -> str:
    """Wait until the running trial has run n batches since ``since``; returns its id."""
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        tid = running_trial(search)
        if tid is not None and meter.trained(tid, since) >= n:
            return tid
        time.sleep(0.005)
    raise RuntimeError(f"no trial ran {n} batches within {TIMEOUT_S}s (state {search.state})")


def waiting_in_at_batch_end(thread: threading.Thread) -> bool:
    """True when the thread's stack shows it inside Control.at_batch_end, in Condition.wait."""
    frame = sys._current_frames().get(thread.ident)
    if frame is None or frame.f_code.co_name != "wait":
        return False
    while frame is not None:
        if frame.f_code.co_name == "at_batch_end":
            return True
        frame = frame.f_back
    return False


def fmt(values: list[float], unit: str = "s", digits: int = 4) -> str:
    if not values:
        return "n/a"
    return (f"median {statistics.median(values):.{digits}f}{unit}, "
            f"max {max(values):.{digits}f}{unit}")


# --------------------------------------------------------------------------------------
# measurements
# --------------------------------------------------------------------------------------
def landed_in_epoch_end(events: Events, meter: Meter, call: Call, t_cmd: float) -> bool:
    """Whether the command came between two batches of the trial with an epoch's end between."""
    earlier = [c for c in meter.snapshot() if c.trial_id == call.trial_id and c.enter < call.enter]
    if not earlier or earlier[-1].exit is None or earlier[-1].exit > t_cmd:
        return False
    start, end, trial_id = earlier[-1].exit, call.enter, call.trial_id
    with events.cond:
        return any(
            start <= t <= end
            and getattr(e, "kind", "") == "epoch_ended"
            and e.trial_id == trial_id
            and not e.partial
            for t, e in events.log
        )


def measure_pause(
    search, meter: Meter, events: Events, thread: threading.Thread, rng: random.Random
) -> dict:
    since = time.monotonic()
    wait_batches(meter, search, 10, since)
    time.sleep(rng.uniform(0.0, 0.3))
    tid = running_trial(search)
    t_cmd = time.monotonic()
    answer = search.pause()
    t_answered = time.monotonic()
    if not answer:
        raise RuntimeError(f"pause() refused: {answer}")
    # blocked: a batch_end call that has entered and not returned, and the thread waits in it
    deadline = t_cmd + TIMEOUT_S
    blocked_call = None
    while time.monotonic() < deadline:
        calls = meter.snapshot()
        if calls and calls[-1].exit is None and waiting_in_at_batch_end(thread):
            blocked_call = calls[-1]
            break
        time.sleep(0.0005)
    t_seen = time.monotonic()
    if blocked_call is None:
        raise RuntimeError("the training thread did not block within the timeout")
    time.sleep(HOLD_S)
    t_resume = time.monotonic()
    during_hold = meter.trained(since=t_seen, until=t_resume)
    search.resume()
    return {
        "trial": tid,
        "latency": max(0.0, blocked_call.enter - t_cmd),
        "observed": t_seen - t_cmd,
        "call": t_answered - t_cmd,
        "batches": meter.trained(since=t_cmd, until=t_seen),
        "hold": during_hold,
        "held_for": t_resume - blocked_call.enter,
        "in_epoch_end": landed_in_epoch_end(events, meter, blocked_call, t_cmd),
    }


def measure_prune(search, meter: Meter, events: Events, rng: random.Random) -> dict:
    since = time.monotonic()
    # a fresh trial past its first few batches, then a random point (often a later epoch)
    tid = wait_batches(meter, search, 5, since)
    time.sleep(rng.uniform(0.0, 1.5))
    tid = running_trial(search) or tid
    t_cmd = time.monotonic()
    answer = search.prune(tid)
    if not answer:
        raise RuntimeError(f"prune({tid}) refused: {answer}")
    ended = events.wait_for(
        lambda e: getattr(e, "kind", "") == "trial_ended" and e.trial_id == tid
    )
    if ended is None:
        raise RuntimeError(f"trial {tid} did not end within {TIMEOUT_S}s of prune()")
    t_ended, event = ended
    partial = events.wait_for(
        lambda e: getattr(e, "kind", "") == "epoch_ended" and e.trial_id == tid and e.partial,
        timeout=0,
    )
    calls = [c for c in meter.snapshot() if c.trial_id == tid]
    stop_call = next((c for c in calls if c.action == "prune"), None)
    t_stop = stop_call.exit if stop_call is not None else None
    return {
        "trial": tid,
        "status": event.status,
        "epochs": event.epochs,
        "batches": meter.trained(tid, since=t_cmd),
        "stop": None if t_stop is None else max(0.0, t_stop - t_cmd),
        "validated": None if partial is None else partial[0] - t_cmd,
        "ended": t_ended - t_cmd,
        "total_batches": meter.trained(tid),
        "engine_calls": len(calls),
        "in_epoch_end": stop_call is not None and landed_in_epoch_end(events, meter, stop_call, t_cmd),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pauses", type=int, default=5)
    parser.add_argument("--prunes", type=int, default=4)
    args = parser.parse_args()

    random.seed(SEED)
    np.random.seed(SEED)
    rng = random.Random(SEED)
    meter = Meter()
    meter.install()
    events = Events()

    with tempfile.TemporaryDirectory(prefix="automl_nb_steer_") as tmp:
        t_start = time.monotonic()
        search = automl_nb.search(
            "digits",
            oracle="random",
            trials=args.prunes + 2,
            epochs=EPOCHS,
            seed=SEED,
            directory=Path(tmp) / "steer",
            overwrite=True,
        )
        search.subscribe(events, replay=True)
        thread = search._thread  # the search thread, to look at its stack (read only)
        first = wait_batches(meter, search, 20, t_start)
        print(f"steering: digits, built-in CNN space, random oracle, seed {SEED}, {EPOCHS} epochs a "
              f"trial; first trial {first} training after {time.monotonic() - t_start:.1f}s "
              f"(TensorFlow import and first build included)")
        try:
            pauses = []
            for i in range(args.pauses):
                p = measure_pause(search, meter, events, thread, rng)
                pauses.append(p)
                print(f"pause {i + 1}: trial {p['trial']} blocked after {p['latency'] * 1000:7.2f} ms "
                      f"(seen by polling at {p['observed'] * 1000:7.2f} ms; pause() returned in "
                      f"{p['call'] * 1000:.2f} ms), {p['batches']} batch(es) after the command, "
                      f"{p['hold']} during the {HOLD_S:.1f}s hold{LANDED if p['in_epoch_end'] else ''}")
            prunes = []
            for i in range(args.prunes):
                p = measure_prune(search, meter, events, rng)
                prunes.append(p)
                stop = "n/a" if p["stop"] is None else f"{p['stop'] * 1000:7.2f} ms"
                val = "n/a" if p["validated"] is None else f"{p['validated'] * 1000:7.2f} ms"
                print(f"prune {i + 1}: trial {p['trial']} {p['status']} in epoch {p['epochs']} "
                      f"after {p['total_batches']} batches: training stopped {stop}, partial epoch "
                      f"validated {val}, TrialEnded {p['ended'] * 1000:7.2f} ms after prune(); "
                      f"{p['batches']} batch(es) after the command{LANDED if p['in_epoch_end'] else ''}")
        finally:
            search.stop()
            search.wait(TIMEOUT_S)
        print(f"search {search.state} after {time.monotonic() - t_start:.1f}s")

    print()
    print(f"pause latency (command -> training thread blocked): "
          f"{fmt([p['latency'] for p in pauses])}")
    print(f"batches after pause: max {max(p['batches'] for p in pauses)} "
          f"(per pause: {', '.join(str(p['batches']) for p in pauses)}); batches while held: "
          f"max {max(p['hold'] for p in pauses)}")
    stops = [p["stop"] for p in prunes if p["stop"] is not None]
    vals = [p["validated"] for p in prunes if p["validated"] is not None]
    print(f"prune latency (command -> TrialEnded pruned): {fmt([p['ended'] for p in prunes])}")
    print(f"  of which: command -> training stopped {fmt(stops)}; "
          f"command -> partial epoch validated {fmt(vals)}")
    print(f"batches after prune: max {max(p['batches'] for p in prunes)} "
          f"(per prune: {', '.join(str(p['batches']) for p in prunes)}); statuses: "
          f"{', '.join(p['status'] for p in prunes)}")
    calls = sum(p["engine_calls"] for p in prunes)
    trained = sum(p["total_batches"] for p in prunes)
    print(f"batches are counted as Keras trains them: the pruned trials trained {trained} batches "
          f"and consulted the engine {calls} times ({calls / max(trained, 1):.2f} calls a batch)")
    n_end = sum(p["in_epoch_end"] for p in pauses + prunes)
    print(f"commands that landed in an epoch's end (validation, checkpoint; no batch hook there): "
          f"{n_end} of {len(pauses) + len(prunes)}")
    print("target: at most one batch after a command")


if __name__ == "__main__":
    main()
