"""Load: a long scripted search with the panel attached, then 100 real tiny trials in one process.

(a) ``--trials`` (1,000) scripted trials (``automl_nb.testing.ScriptedTrainer``: the whole
    search loop, no TensorFlow; ``--epochs`` epochs a trial, so about trials x (epochs + 2)
    events) through the whole stack: engine, journal (trial ends fsynced), the search's
    record, and ``search.panel()`` live on a recording comm that JSON-encodes each message as
    a kernel would. The same search runs once without the panel, for the panel's share.
    Prints the process's RSS growth over the search and the cost per event (process CPU time,
    every thread, and wall time, divided by the events).
(b) ``--real`` (100) real trials in this one process, as in one kernel: iris, the built-in
    MLP space, the random oracle, ``--real-epochs`` (1) epoch each, with the panel attached.
    RSS is sampled at every trial's end; prints the growth after the first trial (target at
    most 150 MB) and the slope over the second half (a leak shows as a steady slope).

Nothing asserts: the figures are printed. The machine may be shared, so times are noisy;
memory figures are not.

    .venv/bin/python bench/load.py [--trials 1000] [--epochs 5] [--real 100] [--real-epochs 1]
                                   [--skip-scripted] [--skip-real]
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import tempfile
import threading
import time
from pathlib import Path

import psutil

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
logging.getLogger("tensorflow").setLevel(
    logging.ERROR
)  # retracing notes: each trial is a new model

TARGET_REAL_GROWTH_MB = 150.0
PROCESS = psutil.Process()


def rss_mb() -> float:
    return PROCESS.memory_info().rss / 2**20


def settle(panel, timeout: float = 300.0) -> None:
    """Wait until the panel shows everything (its flusher then stops)."""
    deadline = time.monotonic() + timeout
    while not panel.settled and time.monotonic() < deadline:
        time.sleep(0.05)
    if not panel.settled:
        raise RuntimeError("the panel did not catch up with the search")


def scripted_run(root: Path, trials: int, epochs: int, with_panel: bool, name: str) -> dict:
    from automl_nb.testing import ScriptedTrainer, scripted_search
    from automl_nb.testing.panel import recording_comms

    gc.collect()
    with recording_comms(serialize=True, keep=False) as log:
        search = scripted_search(
            ScriptedTrainer(batches_per_epoch=5),
            directory=root / name,
            trials=trials,
            epochs=epochs,
            start=False,
        )
        count = [0]
        search.subscribe(lambda _e: count.__setitem__(0, count[0] + 1))
        panel = search.panel() if with_panel else None
        gc.collect()
        rss0 = rss_mb()
        cpu0, wall0 = time.process_time(), time.perf_counter()
        search.start()
        search.wait()
        if panel is not None:
            settle(panel)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        gc.collect()
        rss1 = rss_mb()
        out = {
            "events": count[0],
            "trials": len(search.record.trials),
            "cpu_s": cpu,
            "wall_s": wall,
            "rss0": rss0,
            "rss1": rss1,
            "messages": log.total(),
            "journal_kb": (search.directory / "events.jsonl").stat().st_size / 1024,
        }
        if panel is not None:
            out["shown"] = len(panel.record.trials)
            panel.close()
    return out


def scripted(trials: int, epochs: int) -> None:
    from automl_nb.testing.panel import recording_comms

    print(f"(a) {trials:,} scripted trials x {epochs} epochs, whole stack, panel attached")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        with recording_comms(keep=False):  # one-off imports (plotly, widgets) outside the figures
            warm = scripted_run(root, 5, epochs, True, "warm")
        del warm
        bare = scripted_run(root, trials, epochs, False, "bare")
        full = scripted_run(root, trials, epochs, True, "panel")
    n = full["events"]
    print(
        f"  events: {n:,} ({n / full['trials']:.1f} a trial); journal {full['journal_kb']:,.0f} KiB; "
        f"the panel sent {full['messages']:,} comm messages and shows {full['shown']} trials"
    )
    print(
        f"  cost per event, with the panel: {full['cpu_s'] / n * 1e3:.3f} ms CPU, "
        f"{full['wall_s'] / n * 1e3:.3f} ms wall ({full['wall_s']:.1f} s in all); "
        f"without: {bare['cpu_s'] / bare['events'] * 1e3:.3f} ms CPU, "
        f"{bare['wall_s'] / bare['events'] * 1e3:.3f} ms wall; the panel's share "
        f"{(full['cpu_s'] - bare['cpu_s']) / n * 1e3:.3f} ms CPU"
    )
    growth = full["rss1"] - full["rss0"]
    print(
        f"  RSS growth over the search, with the panel: {growth:.1f} MB "
        f"({growth * 1024 / full['trials']:.1f} KiB a trial, {growth * 2**20 / n:.0f} bytes an event); "
        f"without: {bare['rss1'] - bare['rss0']:.1f} MB; RSS at the end {full['rss1']:.0f} MB"
    )


def real(trials: int, epochs: int) -> None:
    import automl_nb
    from automl_nb.events import TrialEnded
    from automl_nb.testing.panel import recording_comms

    print(
        f"\n(b) {trials} real trials (iris, built-in MLP, random oracle, {epochs} epoch each), "
        "one process, panel attached"
    )
    samples: list[tuple[str, str, float]] = []
    lock = threading.Lock()

    def sample(event) -> None:
        if isinstance(event, TrialEnded):
            with lock:
                samples.append((event.trial_id, event.status, rss_mb()))

    with tempfile.TemporaryDirectory() as tmp, recording_comms(serialize=True, keep=False):
        rss_start = rss_mb()
        search = automl_nb.search(
            "iris",
            oracle="random",
            trials=trials,
            epochs=epochs,
            seed=0,
            directory=Path(tmp) / "real",
            start=False,
        )
        search.subscribe(sample)
        panel = search.panel()
        wall0 = time.perf_counter()
        search.start()
        state = search.wait()
        wall = time.perf_counter() - wall0
        settle(panel)
        panel.close()
        statuses = search.results.status.value_counts().to_dict()
    if not samples:
        print(f"  no trial finished (state {state.value}: {search.error})")
        return
    first = samples[0][2]
    rss = [s[2] for s in samples]
    last = rss[-1]
    half = len(rss) // 2
    slope = (rss[-1] - rss[half]) / max(1, len(rss) - 1 - half)
    print(
        f"  state {state.value}; trials {statuses}; {wall:.0f} s ({wall / len(samples):.2f} s a trial)"
    )
    marks = [1, 10, 25, 50, 75, 100, len(rss)]
    shown = ", ".join(f"#{m} {rss[m - 1]:.0f}" for m in sorted(set(marks)) if m <= len(rss))
    print(f"  RSS (MB) before the search {rss_start:.0f}; at the end of trial {shown}")
    growth = last - first
    print(
        f"  growth after the first trial: {growth:.1f} MB over {len(rss) - 1} trials "
        f"(target <= {TARGET_REAL_GROWTH_MB:g} MB: {growth / TARGET_REAL_GROWTH_MB:.2f} of it); "
        f"peak {max(rss):.0f} MB; slope over the second half {slope * 1024:.0f} KiB a trial"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--real", type=int, default=100)
    parser.add_argument("--real-epochs", type=int, default=1)
    parser.add_argument("--skip-scripted", action="store_true")
    parser.add_argument("--skip-real", action="store_true")
    args = parser.parse_args()
    print(f"automl-nb load benchmark; {psutil.cpu_count()} CPUs; RSS at start {rss_mb():.0f} MB\n")
    if not args.skip_scripted:
        scripted(args.trials, args.epochs)
    if not args.skip_real:
        real(args.real, args.real_epochs)


if __name__ == "__main__":
    main()
