"""The worker against a real store, real queues and the real sandbox: claim once, run, store,
acknowledge."""

import threading
import time

import pytest

from conftest import IN_CI, make_settings


# Every test here runs once per store.
@pytest.fixture
def settings_with(tmp_path, store_env):
    return lambda **env: make_settings(tmp_path, **{**store_env, **env})


@pytest.fixture
def settings(settings_with):
    return settings_with()

from livecode.api.introspection import Introspection
from livecode.core.contracts import Sandbox
from livecode.core.execution_states import TERMINAL, Status
from livecode.core.hookspecs import hookimpl
from livecode.core.plugins import Plugins
from livecode.core.service import Livecode
from livecode.core.worker import Worker
from livecode.plugins.subprocess_sandbox import SubprocessSandbox


class StateRecorder:
    def __init__(self):
        self.seen = []

    @hookimpl
    def livecode_execution_state_changed(self, execution, previous):
        self.seen.append((execution.execution_id, previous, execution.status))


def open_livecode(settings, *plugins) -> Livecode:
    return Livecode.open(settings, Plugins(settings, extra_plugins=plugins))


def wait_terminal(livecode, execution_id, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        execution = livecode.get_execution(execution_id)
        if execution.status in TERMINAL:
            return execution
        time.sleep(0.01)
    raise AssertionError(f"{execution_id} still {execution.status}")


@pytest.fixture
def worker(livecode):
    return Worker(livecode, concurrency=2)


def test_execute_runs_a_queued_execution_and_observers_see_each_state(settings):
    recorder = StateRecorder()
    livecode = open_livecode(settings, recorder)
    session = livecode.create_session("python", 'print("Hello World")')
    queued = livecode.run(session.session_id)
    worker = Worker(livecode, 1, worker_id="w-1")
    done = worker.execute(queued.execution_id)
    assert done.status is Status.COMPLETED and done.stdout == "Hello World\n"
    assert done.worker_id == "w-1" and done.attempts == 1 and done.sandbox == "subprocess"
    assert done.started_at >= done.created_at and done.finished_at >= done.started_at
    assert recorder.seen == [
        (queued.execution_id, None, Status.QUEUED),
        (queued.execution_id, Status.QUEUED, Status.RUNNING),
        (queued.execution_id, Status.RUNNING, Status.COMPLETED),
    ]
    livecode.close()


class CountingSandbox(SubprocessSandbox):
    """The real subprocess sandbox, counting the programs it starts."""

    name = "counting"

    def __init__(self, settings):
        super().__init__(settings)
        self.started = 0

    def run(self, program, stdin, limits, live=None):
        self.started += 1
        return super().run(program, stdin, limits, live)


class CountingSandboxPlugin:
    @hookimpl
    def livecode_register_sandboxes(self, register):
        register(CountingSandbox)


def test_a_duplicate_delivery_never_runs_code_twice(settings_with):
    recorder = StateRecorder()
    livecode = open_livecode(settings_with(LIVECODE_SANDBOX="counting"), recorder,
                             CountingSandboxPlugin())
    worker = Worker(livecode, concurrency=4)
    sandbox = worker.sandboxes["counting"]
    queued = livecode.submit_code("import time; time.sleep(0.3); print('once')")
    results = []
    threads = [threading.Thread(target=lambda: results.append(worker.execute(queued.execution_id)))
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.stdout for r in results if r is not None] == ["once\n"]
    assert sandbox.started == 1
    assert [s for _, _, s in recorder.seen].count(Status.RUNNING) == 1
    livecode.close()


def test_a_cancelled_execution_is_not_run(livecode, worker):
    session = livecode.create_session("python", "print('never')")
    queued = livecode.run(session.session_id)
    livecode.cancel(queued.execution_id)
    assert worker.execute(queued.execution_id) is None
    assert livecode.get_execution(queued.execution_id).status is Status.CANCELLED


def test_autosave_after_queueing_does_not_change_the_run(livecode, worker):
    session = livecode.create_session("python", "print('v1')")
    queued = livecode.run(session.session_id, stdin="")
    livecode.autosave(session.session_id, source_code="print('v2')")
    done = worker.execute(queued.execution_id)
    assert done.stdout == "v1\n" and done.session_revision == 1


class ExplodingSandbox(Sandbox):
    """A deliberately broken third-party sandbox plugin: the worker must survive it."""

    name = "exploding"

    def run(self, program, stdin, limits):
        raise OSError("no such runtime")


class ExplodingSandboxPlugin:
    @hookimpl
    def livecode_register_sandboxes(self, register):
        register(ExplodingSandbox)


def test_a_sandbox_that_fails_marks_the_run_failed_not_the_worker_dead(settings_with):
    livecode = open_livecode(settings_with(LIVECODE_SANDBOX_PYTHON="exploding"),
                             ExplodingSandboxPlugin())
    worker = Worker(livecode, 1)
    assert set(worker.sandboxes) == {"exploding", "subprocess"}  # python's own, the default
    queued = livecode.submit_code("print(1)")
    done = worker.execute(queued.execution_id)
    assert done.status is Status.FAILED and done.reason == "sandbox_error"
    assert "no such runtime" in done.stderr
    livecode.close()


def _serve_and_run(livecode, programs):
    stop = threading.Event()
    worker = Worker(livecode, concurrency=2)
    thread = threading.Thread(target=worker.serve, args=(stop,))
    thread.start()
    try:
        ids = [livecode.submit_code(p).execution_id for p in programs]
        return [wait_terminal(livecode, i) for i in ids]
    finally:
        stop.set()
        thread.join(timeout=30)
        assert not thread.is_alive()


def test_worker_consumes_the_in_process_queue(livecode):
    results = _serve_and_run(livecode, [f"print({i})" for i in range(6)])
    assert [r.stdout for r in results] == [f"{i}\n" for i in range(6)]
    assert livecode.queue.depth() == 0


AMQP_URL = "amqp://guest:guest@127.0.0.1:5672//"


@pytest.fixture(params=["redis", "amqp"])
def broker_url(request):
    if request.param == "redis":
        return request.getfixturevalue("redis_url")
    import socket

    try:
        socket.create_connection(("127.0.0.1", 5672), timeout=2).close()
    except OSError as exc:
        if IN_CI:
            pytest.fail(f"RabbitMQ is not reachable at 127.0.0.1:5672: {exc}")
        pytest.skip(f"RabbitMQ is not reachable at 127.0.0.1:5672: {exc}")
    return AMQP_URL


def test_worker_consumes_a_real_broker_queue(settings_with, broker_url):
    livecode = Livecode.open(settings_with(LIVECODE_QUEUE=broker_url))
    try:
        results = _serve_and_run(livecode, ["print('a')", "raise SystemExit(2)", "print('c')"])
        assert [r.status for r in results] == [Status.COMPLETED, Status.FAILED, Status.COMPLETED]
        assert livecode.queue.depth() == 0
        assert Introspection(livecode).health()["ok"]
    finally:
        livecode.queue.purge_and_delete()
        livecode.close()


def test_a_bug_in_a_message_handler_is_not_taken_for_a_lost_connection(livecode):
    """Only the broker's connection and channel errors make the consumer reconnect (as Kombu's
    ConsumerMixin); a bug surfaces instead of looping for ever."""
    livecode.queue.publish("an-execution")

    def broken(execution_id, done):
        raise RuntimeError("a bug, not a broker")

    outcome = {}

    def consume():
        try:
            livecode.queue.consume(broken, 1, threading.Event())
        except RuntimeError as exc:
            outcome["raised"] = exc

    thread = threading.Thread(target=consume, daemon=True)
    thread.start()
    thread.join(timeout=10)
    assert not thread.is_alive() and "a bug" in str(outcome["raised"])
