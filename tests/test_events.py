from __future__ import annotations

import json
import logging
import math
import threading

import pytest

from automl_nb.events import (
    EpochEnded,
    EventBus,
    Journal,
    JournalError,
    TrialEnded,
    TrialStarted,
    event_from_dict,
    read_journal,
)


def test_journal_round_trip(tmp_path):
    bus = EventBus(Journal(tmp_path / "events.jsonl"))
    bus.publish(TrialStarted(trial_id="0000", hyperparameters={"units": 32}))
    bus.publish(EpochEnded(trial_id="0000", epoch=1, metrics={"val_accuracy": 0.5}, score=0.5))
    bus.publish(TrialEnded(trial_id="0000", status="completed", score=0.5, epochs=1))
    events = read_journal(tmp_path / "events.jsonl")
    assert [e.kind for e in events] == ["trial_started", "epoch_ended", "trial_ended"]
    assert [e.seq for e in events] == [0, 1, 2]
    assert events == bus.history
    # the journal is plain JSON, one object a line
    lines = (tmp_path / "events.jsonl").read_text().splitlines()
    assert json.loads(lines[1])["metrics"] == {"val_accuracy": 0.5}


def test_events_are_frozen():
    event = TrialStarted(trial_id="0001", hyperparameters={})
    with pytest.raises(AttributeError):
        event.trial_id = "0002"  # type: ignore[misc]


def test_nan_and_numpy_become_plain_json(tmp_path):
    np = pytest.importorskip("numpy")
    bus = EventBus(Journal(tmp_path / "j.jsonl"))
    bus.publish(EpochEnded(trial_id="0", epoch=1, metrics={"loss": math.nan, "acc": np.float32(0.25)}))
    (event,) = read_journal(tmp_path / "j.jsonl")
    assert event.metrics == {"loss": None, "acc": 0.25}


def test_journal_is_written_before_subscribers_hear(tmp_path):
    path = tmp_path / "events.jsonl"
    bus = EventBus(Journal(path))
    seen_on_disk = []
    bus.subscribe(lambda e: seen_on_disk.append(len(path.read_text().splitlines())))
    bus.publish(TrialStarted(trial_id="0000", hyperparameters={}))
    bus.publish(TrialEnded(trial_id="0000", status="completed"))
    assert seen_on_disk == [1, 2]


def test_a_raising_subscriber_does_not_stop_the_others(caplog):
    bus = EventBus()
    got = []

    def bad(event):
        raise RuntimeError("boom")

    bus.subscribe(bad)
    bus.subscribe(got.append)
    with caplog.at_level(logging.ERROR, logger="automl_nb"):
        bus.publish(TrialStarted(trial_id="0000", hyperparameters={}))
    assert len(got) == 1
    assert "subscriber" in caplog.text


def test_unsubscribe_and_replay():
    bus = EventBus()
    bus.publish(TrialStarted(trial_id="0000", hyperparameters={}))
    late = []
    unsubscribe = bus.subscribe(late.append, replay=True)
    bus.publish(TrialEnded(trial_id="0000", status="completed"))
    unsubscribe()
    bus.publish(TrialStarted(trial_id="0001", hyperparameters={}))
    assert [e.seq for e in late] == [0, 1]


def test_subscribe_needs_a_callable():
    with pytest.raises(TypeError, match="callable"):
        EventBus().subscribe(42)  # type: ignore[arg-type]


def test_a_truncated_last_line_is_skipped(tmp_path):
    path = tmp_path / "events.jsonl"
    bus = EventBus(Journal(path))
    bus.publish(TrialStarted(trial_id="0000", hyperparameters={}))
    with path.open("a") as fh:
        fh.write('{"kind": "trial_ended", "trial_id": "00')  # a crash mid-write
    assert len(read_journal(path)) == 1


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="unknown event kind"):
        event_from_dict({"kind": "nope"})


def test_publish_from_many_threads_keeps_one_order(tmp_path):
    bus = EventBus(Journal(tmp_path / "events.jsonl"))

    def work(n):
        for i in range(50):
            bus.publish(EpochEnded(trial_id=str(n), epoch=i + 1, metrics={}))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    events = read_journal(tmp_path / "events.jsonl")
    assert [e.seq for e in events] == list(range(200))


def test_unwritable_journal_raises_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    bus = EventBus(Journal(blocker / "events.jsonl"))  # parent is a file: cannot be created
    with pytest.raises(JournalError, match="could not write the journal"):
        bus.publish(TrialStarted(trial_id="0000", hyperparameters={}))


def test_the_record_folds_the_budget_from_old_and_new_journals():
    """The budget is the ``SearchStarted``'s, as changed by each ``BudgetChanged``; a
    journal written before the event carried ``epochs`` keeps the epochs it started with."""
    from automl_nb.record import SearchRecord
    from automl_nb.settings import Budget
    from automl_nb.testing.panel import started

    assert SearchRecord().budget is None  # nothing said yet
    lines = [
        {**started(trials=5, time_budget_s=None, epochs=3).to_dict(), "seq": 0, "time": 1.0},
        {"kind": "budget_changed", "trials": 8, "time_budget_s": 60.0, "seq": 1, "time": 2.0},
    ]
    record = SearchRecord([event_from_dict(line) for line in lines])
    assert record.budget == Budget(trials=8, time_budget_s=60.0, epochs=3)
    record.apply(event_from_dict({"kind": "budget_changed", "trials": 9, "time_budget_s": 60.0,
                                  "epochs": 4, "seq": 2, "time": 3.0}))
    assert record.budget == Budget(trials=9, time_budget_s=60.0, epochs=4)


def test_a_reopened_record_has_no_trial_or_search_left_running():
    from automl_nb.events import StateChanged
    from automl_nb.record import SearchRecord
    from automl_nb.testing.panel import started

    events = [started(), StateChanged(state="running", previous="idle"),
              TrialStarted(trial_id="0000", hyperparameters={})]
    events = [e.__class__(**{**e.__dict__, "seq": i}) for i, e in enumerate(events)]
    live = SearchRecord(events)
    assert (live.state, live.trials["0000"].status) == ("running", "running")
    reopened = SearchRecord.reopened(events)
    assert (reopened.state, reopened.trials["0000"].status) == ("idle", "failed")
    assert reopened.trials["0000"].reason.startswith("interrupted")
