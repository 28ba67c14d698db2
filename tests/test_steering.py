"""Each steering verb and the races between them, on the scripted trainer (no TensorFlow)."""

from __future__ import annotations

import sys
import threading

import pytest

from automl_nb import SearchState
from automl_nb._entry import open_search
from automl_nb.control import Control
from automl_nb.errors import SearchError
from automl_nb.events import BudgetChanged, CommandIssued, StateChanged
from automl_nb.settings import Budget
from automl_nb.testing import ScriptedTrainer

from .conftest import held_by_pause, wait_for


def slow(**kw):
    kw.setdefault("batch_seconds", 0.004)
    kw.setdefault("batches_per_epoch", 10)
    return ScriptedTrainer(**kw)


def running_trial(s):
    with s.lock:
        t = s.record.running
        return t.trial_id if t else None


@pytest.fixture
def batch_ends(monkeypatch) -> list[SearchState]:
    """The search's state as each batch of a search reached its end, in order."""
    states: list[SearchState] = []
    original = Control.at_batch_end

    def noted(self, trial_id):
        states.append(self.state)
        return original(self, trial_id)

    monkeypatch.setattr(Control, "at_batch_end", noted)
    return states


def condition_waited_on(thread: threading.Thread):
    """The ``threading.Condition`` that ``thread`` waits on without a timeout, or None."""
    frame = sys._current_frames().get(thread.ident)
    while frame is not None:
        code, local = frame.f_code, frame.f_locals
        if (code.co_name == "wait" and code.co_filename == threading.__file__
                and isinstance(local.get("self"), threading.Condition)):
            return local["self"] if local.get("timeout", 0) is None else None
        frame = frame.f_back
    return None


def test_a_search_runs_to_done_and_reports_every_trial(scripted):
    s = scripted(trials=4, epochs=3)
    assert s.wait(20) is SearchState.DONE
    r = s.results
    assert list(r.columns[:6]) == ["trial_id", "status", "score", "epochs", "duration_s", "parent_id"]
    assert list(r.trial_id) == ["0000", "0001", "0002", "0003"]
    assert set(r.status) == {"completed"}
    assert (r.epochs == 3).all()
    assert {"units", "dropout", "learning_rate", "optimizer"} <= set(r.columns)
    kinds = [e.kind for e in s.events()]
    assert kinds[0] == "search_started" and kinds[-1] == "search_ended"


def test_pause_holds_at_the_next_batch_and_resume_continues_the_same_trial(scripted, batch_ends):
    trainer = slow()
    s = scripted(trainer, trials=2, epochs=50)
    wait_for(lambda: trainer.batches_run >= 3, what="training to start")
    tid = running_trial(s)
    at_command = trainer.batches_run
    assert s.pause()
    assert s.state is SearchState.PAUSED
    # held in an untimed wait (read from its stack): it cannot move until a notify
    wait_for(lambda: held_by_pause(s), what="the search thread to hold")
    held = trainer.batches_run
    assert held - at_command <= 1  # the batch in flight, no other
    assert s.pause().message == "the search is already paused"  # idempotent
    assert held_by_pause(s) and trainer.batches_run == held, "a batch ran while paused"
    assert s.resume()
    wait_for(lambda: trainer.batches_run > held + 2, what="training to go on")
    assert running_trial(s) == tid  # the same trial, continued
    assert s.record.trials[tid].status == "running"
    # over the whole pause, however long: no batch but the one in flight ended while paused
    assert batch_ends.count(SearchState.PAUSED) <= 1, batch_ends
    assert len(batch_ends) >= held + 2


def test_pause_blocks_without_spinning(scripted):
    trainer = slow()
    s = scripted(trainer, trials=1, epochs=100)
    wait_for(lambda: trainer.batches_run >= 2)
    s.pause()
    # held: blocked in an untimed Condition.wait, so it wakes only when notified (a thread that
    # spun would be in a timed wait, a sleep or running; held_by_pause reads its stack)...
    wait_for(lambda: held_by_pause(s), what="the search thread to hold")
    # ...on the Control's condition, the one a resume notifies
    assert condition_waited_on(s._thread) is s._control._cond
    held = trainer.batches_run
    assert s.resume()
    wait_for(lambda: trainer.batches_run > held, what="the notified thread to train on")


def test_stop_ends_the_running_trial_as_stopped(scripted):
    trainer = slow()
    s = scripted(trainer, trials=5, epochs=100)
    wait_for(lambda: trainer.batches_run >= 3)
    tid = running_trial(s)
    assert s.stop()
    assert s.wait(10) is SearchState.DONE
    r = s.results.set_index("trial_id")
    assert r.loc[tid, "status"] == "stopped"
    assert r.loc[tid, "score"] is not None
    assert len(r) == 1  # no new trial started


def test_prune_stops_the_running_trial_at_its_next_batch(scripted):
    trainer = slow()
    s = scripted(trainer, trials=2, epochs=100)
    wait_for(lambda: trainer.batches_run >= 3)
    tid = running_trial(s)
    before = trainer.batches_by_trial[tid]
    assert s.prune(tid)
    wait_for(lambda: s.record.trials[tid].status == "pruned", what="the prune")
    assert trainer.batches_by_trial[tid] - before <= 1
    wait_for(lambda: len(s.record.trials) == 2, what="the next trial")
    assert s.record.trials[tid].score is not None


def test_prune_of_a_finished_or_unknown_trial_answers_with_a_sentence(scripted):
    s = scripted(trials=1, epochs=1)
    s.wait(10)
    answer = s.prune("0000")
    assert not answer
    assert str(answer) == "trial 0000 is completed; only a running trial can be pruned"
    assert "there is no trial 0042" in str(s.prune(42))
    cmds = [e for e in s.events() if isinstance(e, CommandIssued)]
    assert [c.command for c in cmds] == ["prune", "prune"] and not any(c.accepted for c in cmds)


def test_prune_while_paused_ends_the_trial_and_stays_paused(scripted):
    trainer = slow()
    s = scripted(trainer, trials=3, epochs=100)
    wait_for(lambda: trainer.batches_run >= 2)
    tid = running_trial(s)
    s.pause()
    assert s.prune(tid)
    wait_for(lambda: s.record.trials[tid].status == "pruned")
    wait_for(lambda: held_by_pause(s), what="the search to hold before the next trial")
    assert s.state is SearchState.PAUSED
    assert len(s.record.trials) == 1  # no trial starts while paused
    s.resume()
    wait_for(lambda: len(s.record.trials) == 2)


def test_stop_while_paused(scripted):
    trainer = slow()
    s = scripted(trainer, trials=3, epochs=100)
    wait_for(lambda: trainer.batches_run >= 2)
    s.pause()
    assert s.stop()
    assert s.wait(10) is SearchState.DONE
    assert s.results.status.tolist() == ["stopped"]


def test_pause_while_a_trial_ends_holds_before_the_next(scripted):
    trainer = ScriptedTrainer(batches_per_epoch=1)
    s = scripted(trainer, trials=200, epochs=1)
    wait_for(lambda: len(s.record.trials) >= 3)
    s.pause()
    wait_for(lambda: held_by_pause(s), what="the search thread to hold")
    n, batches = len(s.record.trials), trainer.batches_run
    assert s.record.running is None or s.record.running.trial_id == f"{n - 1:04d}"
    # stopped while held: the search ends without a batch, so once it is done, whatever ran or
    # started while it was paused would show in the counts
    assert s.stop()
    assert s.wait(10) is SearchState.DONE
    assert (len(s.record.trials), trainer.batches_run) == (n, batches), "it moved while paused"


def test_promote_trains_on_as_a_linked_trial_numbered_on(scripted):
    s = scripted(trials=2, epochs=3)
    s.wait(10)
    answer = s.promote("0000", epochs=2)
    assert answer and "continues" in str(answer)
    s.wait(10)
    r = s.results.set_index("trial_id")
    assert r.loc["0002", "parent_id"] == "0000"
    assert r.loc["0002", "epochs"] == 5
    child = s.record.trials["0002"]
    assert child.source == "promoted" and child.initial_epoch == 3
    assert [e for e, _ in child.curve] == [4, 5]
    # the promoted trial keeps the parent's hyperparameters
    assert child.hyperparameters == s.record.trials["0000"].hyperparameters


def test_promote_twice_queues_once_and_promote_runs_before_the_oracle(scripted):
    trainer = slow(batches_per_epoch=3)
    s = scripted(trainer, trials=4, epochs=2)
    wait_for(lambda: s.record.trials.get("0000") and s.record.trials["0000"].finished)
    s.pause()
    first = s.promote("0000", epochs=1)
    second = s.promote("0000", epochs=1)
    assert first and second
    assert str(second) == "trial 0000 is already queued for promotion"
    s.resume()
    s.wait(20)
    promoted = [t for t in s.record.trials.values() if t.source == "promoted"]
    assert len(promoted) == 1
    ids = list(s.record.trials)
    # it ran right after the trial that was running when it was asked for
    assert ids.index(promoted[0].trial_id) <= 2


def test_promote_refuses_a_running_trial_and_bad_epochs(scripted):
    trainer = slow()
    s = scripted(trainer, trials=1, epochs=100)
    wait_for(lambda: running_trial(s))
    tid = running_trial(s)
    assert "only a completed, pruned or stopped trial can be promoted" in str(s.promote(tid))
    with pytest.raises(SearchError, match="epochs must be at least 1"):
        s.promote(tid, epochs=0)


def test_enqueue_runs_next_with_defaults_filled(scripted):
    trainer = slow(batches_per_epoch=2)
    s = scripted(trainer, trials=3, epochs=1)
    wait_for(lambda: running_trial(s))
    assert s.enqueue({"units": 48})
    s.wait(20)
    queued = [t for t in s.record.trials.values() if t.source == "enqueued"]
    assert len(queued) == 1
    assert queued[0].hyperparameters == {"units": 48, "dropout": 0.1, "learning_rate": 1e-3, "optimizer": "adam"}


def test_enqueue_checks_values_against_the_space(scripted):
    s = scripted(trials=1, epochs=1)
    s.wait(10)
    with pytest.raises(SearchError, match="unknown hyperparameter 'lr'"):
        s.enqueue({"lr": 0.1})
    with pytest.raises(SearchError, match="must be a dict"):
        s.enqueue([1, 2])


def test_time_budget_stops_the_running_trial_and_starts_no_other(scripted, clock):
    trainer = slow()
    s = scripted(trainer, trials=100, epochs=1000, time=10, plan=False)  # no trial cut to fit
    wait_for(lambda: trainer.batches_run >= 3, what="training to start")
    clock.advance(9.9)
    at = trainer.batches_run
    wait_for(lambda: trainer.batches_run >= at + 3, what="training to go on within the budget")
    assert s.state is SearchState.RUNNING
    clock.advance(0.2)  # the budget runs out while the first trial trains
    assert s.wait(10) is SearchState.DONE
    assert s.results.status.tolist() == ["stopped"]  # no trial started after it
    assert s.record.trials["0000"].reason == "the time budget ran out during this trial"
    assert s.record.end_reason == "the time budget is spent"
    assert s.record.trials["0000"].score is not None


def test_paused_time_does_not_count_against_the_budget(scripted, clock):
    trainer = slow()
    s = scripted(trainer, trials=100, epochs=1000, time=10)
    wait_for(lambda: trainer.batches_run >= 2, what="training to start")
    clock.advance(4)  # 4 of the 10 seconds spent running
    assert s.pause()
    wait_for(lambda: held_by_pause(s), what="the search thread to hold")
    clock.advance(100)  # a long pause: none of it counts
    assert s.resume()
    at = trainer.batches_run
    wait_for(lambda: trainer.batches_run >= at + 5, what="training to go on after the pause")
    assert s.state is SearchState.RUNNING and s.record.trials["0000"].status == "running"
    clock.advance(5)  # 9 of 10 seconds: still within it
    at = trainer.batches_run
    wait_for(lambda: trainer.batches_run >= at + 5, what="training to go on")
    assert s.state is SearchState.RUNNING
    clock.advance(1.5)  # now past it
    assert s.wait(10) is SearchState.DONE
    assert s.record.end_reason == "the time budget is spent"
    assert s.results.status.tolist() == ["stopped"]


def test_extend_raises_the_budget_while_running_and_after_the_end(scripted):
    s = scripted(trials=2, epochs=1)
    s.wait(10)
    assert len(s.results) == 2
    answer = s.extend(trials=3)
    assert answer and "continues" in str(answer)
    s.wait(10)
    assert len(s.results) == 5
    with pytest.raises(SearchError, match="extend\\(\\) needs"):
        s.extend()
    with pytest.raises(SearchError, match="trials must be at least 1"):
        s.extend(trials=-1)


def test_extend_raises_the_trials_of_a_running_search_in_one_journaled_change(scripted):
    trainer = slow()
    s = scripted(trainer, trials=2, epochs=20)
    wait_for(lambda: trainer.batches_run >= 3, what="training to start")
    assert s.extend(trials=1)
    assert s.budget == Budget(trials=3, time_budget_s=None, epochs=20)
    assert s.wait(30) is SearchState.DONE
    assert len(s.results) == 3  # the engine read the raised budget
    changes = [e for e in s.events() if isinstance(e, BudgetChanged)]
    assert [(e.trials, e.time_budget_s, e.epochs) for e in changes] == [(3, None, 20)]


def test_extend_time_limits_a_running_search_and_a_reopened_one_keeps_it(scripted, clock):
    trainer = slow()
    s = scripted(trainer, trials=100, epochs=1000, plan=False)  # no time budget
    wait_for(lambda: trainer.batches_run >= 3, what="training to start")
    clock.advance(5)
    assert s.extend(time=10)  # 5 s spent: it may run until 15 s
    assert s.budget.time_budget_s == 15
    clock.advance(9)
    at = trainer.batches_run
    wait_for(lambda: trainer.batches_run >= at + 3, what="training to go on within the budget")
    clock.advance(1.5)  # the new limit is checked at the running trial's batch ends
    assert s.wait(10) is SearchState.DONE
    assert s.record.end_reason == "the time budget is spent"
    again = open_search(s.directory)
    assert again.budget == Budget(trials=100, time_budget_s=15, epochs=1000)
    assert again.settings.budget == Budget(trials=100, time_budget_s=None, epochs=1000)  # as asked


def test_commands_on_a_finished_search_say_so(scripted):
    s = scripted(trials=1, epochs=1)
    s.wait(10)
    assert str(s.pause()) == "the search is done; there is nothing to pause"
    assert str(s.stop()) == "the search is done; there is nothing to stop"
    assert "call start() to continue it" in str(s.resume())


def test_commands_from_many_threads_do_not_corrupt_the_search(scripted):
    trainer = slow(batches_per_epoch=4)
    s = scripted(trainer, trials=6, epochs=2)
    errors = []

    def hammer():
        try:
            for _ in range(30):
                s.pause()
                s.resume()
        except Exception as exc:  # noqa: BLE001 - the test reports any error
            errors.append(exc)

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    s.resume()
    assert s.wait(30) is SearchState.DONE
    assert not errors
    assert len(s.results) == 6
    states = [e.state for e in s.events() if isinstance(e, StateChanged)]
    assert states[-1] == "done"


def test_step_mode_pauses_after_each_trial(scripted):
    s = scripted(trials=3, epochs=1, step=True)
    wait_for(lambda: s.state is SearchState.PAUSED, what="the first step")
    assert len(s.record.finished_trials()) == 1
    assert s.step()
    wait_for(lambda: s.state is SearchState.PAUSED and len(s.record.finished_trials()) == 2)
    s.stop()


def test_a_failing_trial_fails_alone(scripted):
    trainer = ScriptedTrainer(fail=lambda values, epoch: "boom" if values["units"] > 200 else None, seed=3)
    s = scripted(trainer, trials=8, epochs=2)
    s.wait(20)
    r = s.results
    assert len(r) == 8
    failed = r[r.status == "failed"]
    assert (failed.score.isna()).all()
    assert all(s.record.trials[t].reason == "boom" for t in failed.trial_id)


def test_a_seeded_scripted_search_is_reproducible(scripted):
    a = scripted(ScriptedTrainer(seed=5), trials=4, epochs=2)
    b = scripted(ScriptedTrainer(seed=5), trials=4, epochs=2)
    a.wait(10)
    b.wait(10)
    cols = ["trial_id", "score", "units", "dropout", "learning_rate", "optimizer"]
    assert a.results[cols].equals(b.results[cols])


def test_reopen_shows_every_finished_trial(scripted, tmp_path):
    s = scripted(trials=3, epochs=2, directory=tmp_path / "done")
    s.wait(10)
    again = open_search(tmp_path / "done")
    assert again.state is SearchState.DONE
    assert again.results.equals(s.results)
    assert again.best_hyperparameters() == s.best_hyperparameters()


def test_wait_with_a_timeout_returns_the_current_state(scripted):
    trainer = slow()
    s = scripted(trainer, trials=1, epochs=1000)  # 40 s of batches: it cannot end by itself here
    wait_for(lambda: trainer.batches_run >= 1, what="training to start")
    assert s.wait(0.05) is SearchState.RUNNING
    assert s.pause()
    assert s.wait(0.05) is SearchState.PAUSED
    assert s.stop()
    assert s.wait(10) is SearchState.DONE


def test_a_prune_that_comes_after_the_last_batch_is_cleared_and_explained(scripted, monkeypatch):
    from automl_nb.backends.engine import Engine

    trainer = ScriptedTrainer(batches_per_epoch=2)
    original = Engine.epoch_end
    seen = []

    def epoch_end_then_prune(self, trial_id, epoch_index, metrics, **kwargs):
        verdict = original(self, trial_id, epoch_index, metrics, **kwargs)
        if trial_id == "0000" and not seen:  # during the final validation: no batch is left
            seen.append(search.prune("0000"))
        return verdict

    monkeypatch.setattr(Engine, "epoch_end", epoch_end_then_prune)
    search = scripted(trainer, trials=2, epochs=1, start=False)  # bound before its thread runs
    search.start()
    search.wait(10)
    assert seen and seen[0]
    first = search.record.trials["0000"]
    assert first.status == "completed"
    assert first.reason == "finished its last epoch before the prune could take effect"
    assert search._control.prune_target is None and not search._control._attention
