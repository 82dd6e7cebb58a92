"""The worker loop: claim a queued run (a compare-and-set, so a message delivered twice runs code
once), execute it on a pool thread (never the broker's, so heartbeats flow during long runs),
store the result, and only then acknowledge the message. Store failures are retried with
backoff; user-code failures never are.
"""

import logging
import os
import random
import socket
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from .compile_and_run import program_source, run_program
from livecode.core.contracts import Sandbox, SandboxError
from livecode.core.execution_states import Status
from .housekeeping import Housekeeping
from livecode.core.models import Execution, WorkerInfo
from livecode.core.service import Livecode
from livecode.core.timestamps import utcnow

log = logging.getLogger(__name__)

REQUEUE_DELAY = 1.0  # seconds before a message that could not be claimed goes back
BACKOFF_FIRST, BACKOFF_MAX = 0.1, 5.0


def new_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def with_backoff(action, what: str, give_up_after: float):
    """``action()``, retried with exponential backoff and full jitter for ``give_up_after``."""
    deadline = time.monotonic() + give_up_after
    delay = BACKOFF_FIRST
    while True:
        try:
            return action()
        except Exception as exc:
            if time.monotonic() + delay > deadline:
                raise
            log.warning("%s failed (%s); retrying in up to %.1fs", what, exc, delay)
            time.sleep(random.uniform(delay / 2, delay))
            delay = min(delay * 2, BACKOFF_MAX)


class Worker:
    """Runs executions; by default with one of each sandbox the deployment routes a language
    to, created (and so checked) now."""

    def __init__(self, livecode: Livecode, concurrency: int,
                 sandboxes: dict[str, Sandbox] | None = None, worker_id=None):
        self.livecode = livecode
        self.settings = livecode.settings
        self.housekeeping = Housekeeping(livecode)
        self.sandboxes = sandboxes if sandboxes is not None else {
            name: livecode.plugins.create_sandbox(name) for name in livecode.sandbox_names()}
        self.concurrency = concurrency
        self.worker_id = worker_id or new_worker_id()
        self.started_at = utcnow()
        self.state = "idle"
        self.current: set[str] = set()
        self.counts = {"completed": 0, "failed": 0, "timed_out": 0}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(concurrency, thread_name_prefix="livecode-run")

    def info(self) -> WorkerInfo:
        with self._lock:
            current = sorted(self.current)
            counts = dict(self.counts)
            state = self.state
            if state == "idle" and current:
                state = "busy"
        return WorkerInfo(
            worker_id=self.worker_id, host=socket.gethostname(), pid=os.getpid(),
            queue=self.settings.queue_name, concurrency=self.concurrency,
            sandboxes=sorted(self.sandboxes), started_at=self.started_at,
            last_heartbeat=utcnow(), state=state, current=current, **counts)

    def beat(self) -> bool:
        try:
            self.livecode.store.save_worker(self.info())
            return True
        except Exception as exc:
            log.warning("worker %s: heartbeat not stored: %s", self.worker_id, exc)
            return False

    def serve(self, stop: threading.Event) -> None:
        """Consume until ``stop`` is set, then let the runs in flight finish (drain)."""
        log.info("worker %s: %d concurrent runs, sandboxes %s, queue %s", self.worker_id,
                 self.concurrency, ", ".join(sorted(self.sandboxes)), self.settings.queue)
        done = threading.Event()
        beating = threading.Thread(target=self._beat_and_sweep, args=(done,),
                                   name="livecode-heartbeat", daemon=True)
        self.beat()
        self.housekeeping.run()  # runs that a worker before this one left behind
        beating.start()
        self.livecode.plugins.pm.hook.livecode_worker_serving(livecode=self.livecode,
                                                              stopped=done)
        try:
            self.livecode.queue.consume(self.handle, self.concurrency, stop)
        finally:
            with self._lock:
                self.state = "draining"
            self.beat()
            self._pool.shutdown(wait=True)
            with self._lock:
                self.state = "stopped"
            done.set()
            beating.join(timeout=10)
            self.beat()
            for sandbox in self.sandboxes.values():
                sandbox.close()

    def _beat_and_sweep(self, done: threading.Event) -> None:
        # Judge other workers lost only after this one has reached the store for a whole
        # worker_lost_after window: after a store outage every heartbeat is old, and the others
        # deserve the time to beat again before their runs are taken from them. A store that
        # blocks through its outage (a pool waiting for a connection) fails no beat, so a beat
        # that ends longer than worker_lost_after after the last one also counts as an outage.
        last_maintenance = healthy_since = last_beat = time.monotonic()
        while not done.wait(self.settings.heartbeat_interval):
            if not self.beat():
                healthy_since = None
                continue
            now = time.monotonic()
            if now - last_beat > self.settings.worker_lost_after:
                healthy_since = None
            last_beat = now
            healthy_since = healthy_since or now
            if (now - healthy_since >= self.settings.worker_lost_after
                    and now - last_maintenance >= self.settings.maintenance_interval):
                self.housekeeping.run()
                last_maintenance = now

    def handle(self, execution_id: str, done) -> None:
        self._pool.submit(self._handle, execution_id, done)

    def _handle(self, execution_id: str, done) -> None:
        try:
            self.execute(execution_id)
        except Exception:
            log.exception("worker %s: could not process execution %s; giving it back",
                          self.worker_id, execution_id)
            time.sleep(REQUEUE_DELAY)
            done(requeue=True)
        else:
            done()

    def execute(self, execution_id: str) -> Execution | None:
        """``None`` when it was not ours to run (claimed elsewhere, cancelled, unknown)."""
        retry = self.settings.store_retry_seconds
        running = with_backoff(lambda: self._claim(execution_id), f"claiming {execution_id}",
                               retry)
        if running is None:
            return None
        try:
            status, changes = self._run(running)
            finished = with_backoff(
                lambda: self.livecode.transition(running, status, finished_at=utcnow(),
                                                 **changes),
                f"storing the result of {execution_id}", retry)
        finally:
            with self._lock:
                self.current.discard(execution_id)
        if finished is not None:
            key = {Status.COMPLETED: "completed", Status.TIMEOUT: "timed_out"}.get(
                finished.status, "failed")
            with self._lock:
                self.counts[key] += 1
        return finished

    def _claim(self, execution_id: str) -> Execution | None:
        execution = self.livecode.store.get_execution(execution_id)
        if execution is None or execution.status is not Status.QUEUED:
            return None
        with self._lock:
            self.current.add(execution_id)  # before the claim, so no heartbeat misses it
        running = self.livecode.transition(
            execution, Status.RUNNING, started_at=utcnow(), worker_id=self.worker_id,
            sandbox=self.livecode.sandbox_name(execution.language),
            attempts=execution.attempts + 1,
        )
        if running is None:
            with self._lock:
                self.current.discard(execution_id)
        return running

    def _run(self, running: Execution) -> tuple[Status, dict]:
        sandbox_name = running.sandbox
        runner = self.livecode.plugins.languages.get(running.language)
        try:
            if runner is None:
                raise SandboxError(f"this worker has no runner for {running.language!r}")
            with self.livecode.events.live(running) as live:
                return run_program(runner, self.sandboxes[sandbox_name],
                                   program_source(runner, running), running.stdin,
                                   running.limits, self.settings.compile_limits, running.tests,
                                   live, running.args, running.redirect_stderr_to_stdout)
        except Exception as exc:
            log.exception("sandbox %s failed on execution %s", sandbox_name,
                          running.execution_id)
            return Status.FAILED, {
                "reason": "sandbox_error",
                "stderr": f"livecode: the sandbox could not run this program: {exc}\n"}
