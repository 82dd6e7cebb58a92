"""The worker loop: take an execution id from the queue, claim the run, execute it in the sandbox,
store the result, and only then let the queue acknowledge the message.

User code runs on a pool thread, never on the thread that talks to the broker, so heartbeats keep
flowing during long runs. The claim is a compare-and-set in the store: a message delivered twice
runs code once.
"""

import logging
import os
import socket
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from .contracts import Sandbox, SandboxError, SandboxResult
from .execution_states import Status
from .models import Execution, utcnow
from .service import Livecode

log = logging.getLogger(__name__)

TIMEOUT_LIMITS = frozenset({"wall_time_limit", "cpu_time_limit"})
INFRASTRUCTURE_RETRY_DELAY = 1.0  # seconds before a message whose run hit a store error goes back


def outcome(result: SandboxResult, runner=None) -> tuple[Status, str | None]:
    """The status and reason a sandbox result maps to: the one place that decides it."""
    if result.limit_hit in TIMEOUT_LIMITS:
        return Status.TIMEOUT, result.limit_hit
    if result.limit_hit:
        return Status.FAILED, result.limit_hit
    if result.exit_code == 0:
        return Status.COMPLETED, None
    language_reason = runner.failure_reason(result) if runner is not None else None
    if language_reason:
        return Status.FAILED, language_reason
    if result.signal is not None:
        return Status.FAILED, f"signal_{result.signal}"
    return Status.FAILED, "nonzero_exit"


def new_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Worker:
    """Runs executions. ``sandboxes`` maps sandbox names to instances; by default one of each
    sandbox the deployment routes a language to, created (and so checked) now."""

    def __init__(self, livecode: Livecode, concurrency: int,
                 sandboxes: dict[str, Sandbox] | None = None, worker_id=None):
        self.livecode = livecode
        self.sandboxes = sandboxes if sandboxes is not None else {
            name: livecode.plugins.create_sandbox(name) for name in livecode.sandbox_names()}
        self.concurrency = concurrency
        self.worker_id = worker_id or new_worker_id()
        self._pool = ThreadPoolExecutor(concurrency, thread_name_prefix="livecode-run")

    def serve(self, stop: threading.Event) -> None:
        """Consume until ``stop`` is set, then let the runs in flight finish."""
        log.info("worker %s: %d concurrent runs, sandboxes %s, queue %s", self.worker_id,
                 self.concurrency, ", ".join(sorted(self.sandboxes)), self.livecode.settings.queue)
        try:
            self.livecode.queue.consume(self.handle, self.concurrency, stop)
        finally:
            self._pool.shutdown(wait=True)
            for sandbox in self.sandboxes.values():
                sandbox.close()

    def handle(self, execution_id: str, done) -> None:
        self._pool.submit(self._handle, execution_id, done)

    def _handle(self, execution_id: str, done) -> None:
        try:
            self.execute(execution_id)
        except Exception:
            log.exception("worker %s: could not process execution %s; giving it back",
                          self.worker_id, execution_id)
            time.sleep(INFRASTRUCTURE_RETRY_DELAY)
            done(requeue=True)
        else:
            done()

    def execute(self, execution_id: str) -> Execution | None:
        """Run one execution to its end. Returns ``None`` when it was not ours to run (claimed by
        another worker, cancelled, or unknown)."""
        execution = self.livecode.store.get_execution(execution_id)
        if execution is None or execution.status is not Status.QUEUED:
            return None
        sandbox_name = self.livecode.sandbox_name(execution.language)
        running = self.livecode.transition(
            execution, Status.RUNNING, started_at=utcnow(), worker_id=self.worker_id,
            sandbox=sandbox_name, attempts=execution.attempts + 1,
        )
        if running is None:
            return None
        runner = self.livecode.plugins.languages.get(running.language)
        try:
            if runner is None:
                raise SandboxError(f"this worker has no runner for {running.language!r}")
            program = runner.build(running.source_code)
            sandbox = self.sandboxes[sandbox_name]
            result = sandbox.run(program, running.stdin.encode("utf-8"), running.limits)
        except Exception as exc:
            log.exception("sandbox %s failed on execution %s", sandbox_name, execution_id)
            return self.livecode.transition(
                running, Status.FAILED, finished_at=utcnow(), reason="sandbox_error",
                stderr=f"livecode: the sandbox could not run this program: {exc}\n",
            )
        status, reason = outcome(result, runner)
        return self.livecode.transition(
            running,
            status,
            finished_at=utcnow(),
            reason=reason,
            exit_code=result.exit_code,
            stdout=result.stdout.decode("utf-8", "replace"),
            stderr=result.stderr.decode("utf-8", "replace"),
            truncated=result.truncated,
            execution_time_ms=round(result.wall_time_ms, 3),
            cpu_time_ms=result.cpu_time_ms,
            max_rss_kb=result.max_rss_kb,
        )
