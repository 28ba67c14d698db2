"""How much a live panel costs the kernel, however fast the search's events come.

Feeds a scripted search (``--trials`` x ``--epochs``: a TrialStarted, one EpochEnded an
epoch and a TrialEnded a trial) into a panel on a recording comm (each message JSON-encoded
as a kernel would), from a background thread, while the panel's flusher runs. Prints:

- kernel CPU time per event (``time.process_time``: the publishing thread, the flusher
  and its comm messages), and the panel's share of it (the same feed with no panel);
- comm messages and update rounds per second of search (wall time from the first event
  until the panel shows the last), and the most messages in any one-second window;
- memory: what the search's own event history and fold hold, and what the panel adds.

Two feeds: at full speed, and paced at ``--rate`` events a second. No real search emits
events that fast (a flood measures the cost of one event, not what a user feels), so a third
feed plays the events of a real search at the pace it emitted them: the shipped recording
``digits-hyperband`` (126 events in 108 s of a digits search on the 2-core machine),
published one by one at their recorded times for ``--real-seconds`` (and again at each of
``--real-speeds``, e.g. 10 for a machine ten times faster or a tiny data set), with the
panel's flusher running at its own cadence. It prints the kernel CPU time per second of
search with the panel, without it, and the panel's share: the figure a user feels, beside
the flood's CPU per event.

    python bench/panel_events.py [--trials 1000] [--epochs 50] [--rate 10000]
                                 [--real-seconds 20] [--real-speeds 1,10]
"""

from __future__ import annotations

import argparse
import gc
import threading
import time
import tracemalloc
from typing import Any

from automl_nb.events import Event, read_journal
from automl_nb.panel import Panel
from automl_nb.replays import find_recording
from automl_nb.testing.panel import FakeSearch, recording_comms, scripted_events

TARGET_CPU_MS = 0.2
TARGET_ROUNDS = 4.0
TARGET_MESSAGES = 25.0


def feed(search: FakeSearch, events: list[Event], rate: float | None) -> None:
    """Publish ``events`` as fast as possible, or at ``rate`` events a second."""
    start = time.perf_counter()
    for i, event in enumerate(events):
        search.publish(event)
        if rate and i % 200 == 199:
            ahead = (i + 1) / rate - (time.perf_counter() - start)
            if ahead > 0:
                time.sleep(ahead)


def max_in_window(times: list[float], window: float = 1.0) -> int:
    """The most timestamps in any ``window``-second span."""
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while t - times[lo] > window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def run(events: list[Event], rate: float | None, with_panel: bool, **panel_kw: Any) -> dict:
    """One feed; returns CPU, wall, messages, rounds."""
    search = FakeSearch()
    search.publish(events[0])  # the search has started when the panel is made
    gc.collect()
    with recording_comms(serialize=True, timed=True, keep=False) as log:
        panel = Panel(search, **panel_kw) if with_panel else None
        round_times: list[float] = []
        if panel is not None:  # note when each round that sent something ended
            flush = panel.flush

            def timed_flush(force: bool = True) -> bool:
                sent = flush(force)
                if sent:
                    round_times.append(time.monotonic())
                return sent

            panel.flush = timed_flush  # type: ignore[method-assign]
        sent_before = log.total()
        bytes_before = log.bytes()
        rounds_before = panel.rounds if panel else 0
        assert log.sent_times is not None
        times_from = len(log.sent_times)
        cpu0, wall0 = time.process_time(), time.perf_counter()
        worker = threading.Thread(target=feed, args=(search, events[1:], rate))
        worker.start()
        worker.join()
        fed = time.perf_counter() - wall0
        if panel is not None and panel._thread is not None:
            panel._thread.join(60)  # the flusher stops once everything is shown
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        out = {
            "events": len(events) - 1,
            "cpu_s": cpu,
            "wall_s": wall,
            "fed_s": fed,
            "messages": log.total() - sent_before,
            "bytes": log.bytes() - bytes_before,
            "rounds": (panel.rounds - rounds_before) if panel else 0,
            "max_messages_1s": max_in_window(log.sent_times[times_from:]),
            "max_rounds_1s": max_in_window(round_times),
        }
        if panel is not None:
            assert panel.settled, "the panel did not catch up with the search"
            assert panel.record.last_seq == len(events) - 1
            out["shown_trials"] = len(panel.table.rows)
            panel.close()
    return out


def real_pace(events: list[Event], speed: float, seconds: float, with_panel: bool) -> dict:
    """Publish a recorded search's events at their recorded times (``speed`` times faster)
    for ``seconds``; returns the kernel CPU time and what the panel sent meanwhile."""
    search = FakeSearch()
    search.publish(events[0])
    gc.collect()
    with recording_comms(serialize=True, timed=True, keep=False) as log:
        panel = Panel(search) if with_panel else None  # with its flusher, as in a notebook
        sent_before = log.total()
        first = events[1].time
        cpu0, wall0 = time.process_time(), time.perf_counter()
        published = 0
        for event in events[1:]:
            due = (event.time - first) / speed
            if due > seconds:
                break
            ahead = wall0 + due - time.perf_counter()
            if ahead > 0:
                time.sleep(ahead)
            search.publish(event)
            published += 1
        left = wall0 + seconds - time.perf_counter()
        if left > 0:
            time.sleep(left)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        messages = log.total() - sent_before
        if panel is not None:
            panel.close()
    return {"events": published, "cpu_s": cpu, "wall_s": wall, "messages": messages}


def report_real(name: str, speed: float, bare: dict, full: dict) -> None:
    per_s = full["cpu_s"] / full["wall_s"] * 1e3
    bare_s = bare["cpu_s"] / bare["wall_s"] * 1e3
    print(
        f"\na real search's pace ({name} at {speed:g}x its recorded pace: {full['events']} events in "
        f"{full['wall_s']:.1f} s, {full['events'] / full['wall_s']:.2f} events/s)"
    )
    print(
        f"  kernel CPU per second of search  {per_s:.2f} ms/s with the panel "
        f"({per_s / 10:.2f}% of one core), {bare_s:.2f} ms/s without; the panel's share "
        f"{per_s - bare_s:.2f} ms/s; {full['messages'] / full['wall_s']:.2f} comm messages/s"
    )


def memory(events: list[Event], with_panel: bool) -> float:
    """MiB still allocated after the feed (tracemalloc), search and panel alive."""
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    with recording_comms(keep=False):
        search = FakeSearch()
        search.publish(events[0])
        panel = Panel(search) if with_panel else None
        worker = threading.Thread(target=feed, args=(search, events[1:], None))
        worker.start()
        worker.join()
        if panel is not None and panel._thread is not None:
            panel._thread.join(120)
        gc.collect()
        used = tracemalloc.get_traced_memory()[0] - base
        if panel is not None:
            panel.close()
    tracemalloc.stop()
    return used / 2**20


def report(name: str, bare: dict, full: dict) -> None:
    n = full["events"]
    per_event = full["cpu_s"] / n * 1e3
    panel_share = (full["cpu_s"] - bare["cpu_s"]) / n * 1e3
    msgs = full["messages"] / full["wall_s"]
    rounds = full["rounds"] / full["wall_s"]
    print(
        f"\n{name}: {n:,} events fed in {full['fed_s']:.2f} s; the panel showed the last "
        f"{full['wall_s']:.2f} s after the first"
    )
    print(
        f"  CPU per event         {per_event:.4f} ms  (target <= {TARGET_CPU_MS} ms: "
        f"{per_event / TARGET_CPU_MS:.2f} of it); the panel's share {panel_share:.4f} ms, "
        f"no panel {bare['cpu_s'] / n * 1e3:.4f} ms"
    )
    print(
        f"  update rounds         {rounds:.2f} /s  (target <= {TARGET_ROUNDS:g}: "
        f"{rounds / TARGET_ROUNDS:.2f} of it); most in any 1 s: {full['max_rounds_1s']}; "
        f"{full['rounds']} in all"
    )
    print(
        f"  comm messages         {msgs:.2f} /s  (target <= {TARGET_MESSAGES:g}: "
        f"{msgs / TARGET_MESSAGES:.2f} of it); most in any 1 s: {full['max_messages_1s']}; "
        f"{full['messages']} in all, {full['bytes'] / 2**20:.2f} MiB of JSON"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument(
        "--rate",
        type=float,
        default=10_000.0,
        help="events a second for the paced feed (default 10000)",
    )
    parser.add_argument(
        "--prune-every",
        type=int,
        default=0,
        help="prune every n-th trial half-way (default 0: none)",
    )
    parser.add_argument("--no-memory", action="store_true", help="skip the tracemalloc runs")
    parser.add_argument("--real-seconds", type=float, default=20.0,
                        help="seconds of a recorded search played at its pace (default 20)")
    parser.add_argument("--real-speeds", default="1,10",
                        help="how many times the recorded pace, comma-separated (default 1,10)")
    args = parser.parse_args()

    events = list(
        scripted_events(trials=args.trials, epochs=args.epochs, prune_every=args.prune_every)
    )
    print(
        f"automl-nb panel benchmark: {args.trials} trials x {args.epochs} epochs = "
        f"{len(events):,} events"
    )
    with recording_comms():  # plotly's one-off import and set-up, outside the timings
        Panel(FakeSearch()).close()

    bare = run(events, None, with_panel=False)
    full = run(events, None, with_panel=True)
    report("full speed", bare, full)
    bare = run(events, args.rate, with_panel=False)
    paced = run(events, args.rate, with_panel=True)
    report(f"paced at {args.rate:,.0f} events/s", bare, paced)

    if not args.no_memory:
        search_mib = memory(events, with_panel=False)
        panel_mib = memory(events, with_panel=True)
        print(
            f"\nmemory (tracemalloc, after the feed): the search's history and fold "
            f"{search_mib:.1f} MiB; with a panel {panel_mib:.1f} MiB, so the panel adds "
            f"{panel_mib - search_mib:.1f} MiB ({(panel_mib - search_mib) * 2**20 / len(events):.0f}"
            f" bytes an event)"
        )

    recorded = read_journal(find_recording("digits-hyperband"))
    for speed in (float(x) for x in args.real_speeds.split(",") if x.strip()):
        bare = real_pace(recorded, speed, args.real_seconds, with_panel=False)
        full = real_pace(recorded, speed, args.real_seconds, with_panel=True)
        report_real("digits-hyperband", speed, bare, full)


if __name__ == "__main__":
    main()
