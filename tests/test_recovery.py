"""Recovery and housekeeping against a real store and queue: runs of lost workers, lost messages,
retention, and what operators see of workers and queues."""

import threading
import time
from dataclasses import replace

import falcon.testing
import pytest

from conftest import make_settings

from livecode.api.app import create_app
from livecode.api.reporting import Reporting, redact
from livecode.core.execution_states import Status
from livecode.worker.housekeeping import Housekeeping
from livecode.core.models import WorkerInfo
from livecode.core.service import Livecode
from livecode.core.timestamps import utcnow
from livecode.worker.worker import Worker

LONG_AGO = "2020-01-01T00:00:00.000Z"


# Every test here runs once per store.
@pytest.fixture
def settings_with(tmp_path, store_env):
    return lambda **env: make_settings(tmp_path, **{**store_env, **env})


@pytest.fixture
def settings(settings_with):
    return settings_with()


@pytest.fixture
def fast(settings_with):
    livecode = Livecode.open(settings_with(
        LIVECODE_WORKER_LOST_AFTER="1", LIVECODE_REQUEUE_AFTER="0.01", LIVECODE_MAX_ATTEMPTS="2"))
    yield livecode
    livecode.close()


def worker_record(worker_id, heartbeat=None, current=(), state="busy") -> WorkerInfo:
    return WorkerInfo(worker_id=worker_id, host="h", pid=1, queue="q", concurrency=2,
                      sandboxes=["subprocess"], started_at=LONG_AGO,
                      last_heartbeat=heartbeat or utcnow(), state=state, current=list(current))


def running_on(livecode, worker_id, started_at=None):
    queued = livecode.submit_code("print('recovered')")
    livecode.queue.depth()  # the message is there
    return livecode.transition(queued, Status.RUNNING, worker_id=worker_id,
                               started_at=started_at or utcnow(), attempts=1)


def drain_queue(livecode):
    """Take every message off the queue, as a broker restart without persistence would."""
    from kombu import Connection

    with Connection(transport=livecode.queue.connect().transport_cls) as conn:
        livecode.queue.spec(conn.channel()).purge()


def test_a_run_of_a_silent_worker_is_queued_again_and_then_runs(fast):
    fast.store.save_worker(worker_record("gone", heartbeat=LONG_AGO))
    execution = running_on(fast, "gone")
    drain_queue(fast)
    recovered = Housekeeping(fast).recover_lost_runs()
    assert [e.execution_id for e in recovered] == [execution.execution_id]
    again = fast.get_execution(execution.execution_id)
    assert again.status is Status.QUEUED and again.attempts == 1 and again.started_at is None
    assert fast.queue.depth() == 1
    done = Worker(fast, 1).execute(execution.execution_id)
    assert done.status is Status.COMPLETED and done.attempts == 2


def test_after_max_attempts_a_lost_run_fails_as_worker_lost(fast):
    fast.store.save_worker(worker_record("gone", heartbeat=LONG_AGO))
    execution = running_on(fast, "gone")
    fast.store.transition(execution.execution_id, frozenset({Status.RUNNING}), 1,
                          {"status": Status.RUNNING, "attempts": 2})
    [ended] = Housekeeping(fast).recover_lost_runs()
    assert ended.status is Status.FAILED and ended.reason == "worker_lost"
    assert "lost 2 times" in ended.stderr and ended.finished_at


def test_runs_of_a_live_worker_are_left_alone(fast):
    execution = running_on(fast, "alive")
    fast.store.save_worker(worker_record("alive", current=[execution.execution_id]))
    assert Housekeeping(fast).recover_lost_runs() == []
    assert fast.get_execution(execution.execution_id).status is Status.RUNNING


def test_a_run_an_alive_worker_no_longer_holds_is_recovered(fast):
    execution = running_on(fast, "alive", started_at=LONG_AGO)
    fast.store.save_worker(worker_record("alive", current=[]))
    assert [(e.execution_id, e.status) for e in Housekeeping(fast).recover_lost_runs()] == [
        (execution.execution_id, Status.QUEUED)]


def test_a_worker_unknown_to_the_store_counts_as_lost(fast):
    execution = running_on(fast, "never-registered", started_at=LONG_AGO)
    Housekeeping(fast).recover_lost_runs()
    assert fast.get_execution(execution.execution_id).status is Status.QUEUED


def test_a_stale_attempt_cannot_store_over_the_next_one(fast):
    fast.store.save_worker(worker_record("slow", heartbeat=LONG_AGO))
    first = running_on(fast, "slow")
    Housekeeping(fast).recover_lost_runs()
    second = Worker(fast, 1, worker_id="next").execute(first.execution_id)
    assert second.attempts == 2
    assert fast.transition(first, Status.FAILED, reason="late") is None  # attempt 1 is over
    assert fast.get_execution(first.execution_id).status is Status.COMPLETED


def test_lost_messages_are_sent_again(fast):
    queued = fast.submit_code("print(1)")
    drain_queue(fast)
    assert fast.queue.depth() == 0
    time.sleep(0.05)  # older than requeue_after
    assert Housekeeping(fast).republish_lost_messages() == 1
    assert fast.queue.depth() == 1
    assert Housekeeping(fast).republish_lost_messages() == 0  # the broker has it now
    assert Worker(fast, 1).execute(queued.execution_id).status is Status.COMPLETED


def test_retention_deletes_old_finished_runs_only(settings_with):
    livecode = Livecode.open(settings_with(LIVECODE_RETENTION_SECONDS="60"))
    try:
        old = livecode.submit_code("print(1)")
        livecode.transition(livecode.transition(old, Status.RUNNING, attempts=1),
                            Status.COMPLETED, finished_at=LONG_AGO)
        recent = livecode.submit_code("print(2)")
        waiting = livecode.submit_code("print(3)")
        Worker(livecode, 1).execute(recent.execution_id)
        assert Housekeeping(livecode).apply_retention() == 1
        assert livecode.store.get_execution(old.execution_id) is None
        assert livecode.get_execution(recent.execution_id).status is Status.COMPLETED
        assert livecode.get_execution(waiting.execution_id).status is Status.QUEUED
        assert livecode.get_session(old.session_id)  # sessions are untouched
    finally:
        livecode.close()


def test_retention_is_off_by_default(livecode):
    assert livecode.settings.retention_seconds == 0 and Housekeeping(livecode).apply_retention() == 0


def test_workers_and_queues_endpoints(fast):
    client = falcon.testing.TestClient(create_app(fast))
    fast.store.save_worker(replace(worker_record("w-live"), queue=fast.settings.queue_name))
    fast.store.save_worker(replace(worker_record("w-gone", heartbeat=LONG_AGO),
                           queue=fast.settings.queue_name))
    fast.submit_code("print(1)")
    workers = {w["worker_id"]: w for w in client.simulate_get("/workers").json["workers"]}
    assert workers["w-live"]["lost"] is False and workers["w-gone"]["lost"] is True
    assert workers["w-gone"]["heartbeat_age_seconds"] > 1000
    [queue] = client.simulate_get("/queues").json["queues"]
    assert queue["name"] == fast.settings.queue_name
    assert (queue["depth"], queue["queued"], queue["consumers"], queue["capacity"]) == (1, 1, 1, 2)
    assert queue["oldest_waiting_seconds"] >= 0


def test_workers_silent_for_a_day_are_forgotten(fast):
    fast.store.save_worker(worker_record("ancient", heartbeat=LONG_AGO, state="stopped"))
    fast.store.save_worker(worker_record("recent"))
    assert Housekeeping(fast).forget_old_workers() == 1
    assert [w["worker_id"] for w in Reporting(fast).workers()] == ["recent"]


def test_queue_urls_shown_to_operators_hide_passwords():
    assert redact("amqp://guest:s3cret@mq:5672//") == "amqp://guest:***@mq:5672//"
    assert redact("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"


def test_a_worker_reports_itself_and_its_counts(livecode):
    worker = Worker(livecode, 2, worker_id="w-report")
    stop = threading.Event()
    thread = threading.Thread(target=worker.serve, args=(stop,))
    thread.start()
    try:
        for code in ("print(1)", "raise SystemExit(1)"):
            livecode.submit_code(code)
        deadline = time.monotonic() + 20
        while worker.counts["completed"] + worker.counts["failed"] < 2:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(30)
    [record] = [w for w in Reporting(livecode).workers() if w["worker_id"] == "w-report"]
    assert record["state"] == "stopped" and record["lost"] is False
    assert (record["completed"], record["failed"], record["timed_out"]) == (1, 1, 0)
