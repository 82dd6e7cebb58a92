"""Delivering callbacks beside a worker: its own small thread pool, never the run slots.

A run that ends in this worker is tried at once (the state-change hook hands it over); a
failed attempt is tried again after ``backoff * 2**(n-1)`` seconds (capped at ``MAX_DELAY``),
up to ``max_attempts``, and then marked ``failed``. Each attempt first takes a lease in the
run's record (:mod:`.record`), then sends, then stores the outcome.

What survives: the callback's state is in the run's record, not in this process. If a worker
dies mid-retry (or a run ends elsewhere, e.g. cancelled through the API), any worker's sweep
finds the pending callback among the runs created within ``recovery`` seconds once its
``next_at`` and lease have passed, and goes on with the attempts already counted. Delivery is
at least once: a worker that dies after sending but before storing the outcome, or two sweeps
that take the same attempt at the same instant, may send twice — receivers deduplicate on
``Livecode-Delivery``.
"""

import heapq
import json
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

from livecode.api.keys import signing_secret
from livecode.core.errors import InvalidInput
from livecode.core.execution_filter import ExecutionFilter
from livecode.core.timestamps import age_seconds, iso, now, utcnow

from . import record, signing
from .delivery import send
from .targets import allowed_networks

log = logging.getLogger(__name__)

MAX_DELAY = 300.0
# A sweep leaves a run that ended this recently to the worker it ended in, which tries at once.
GRACE_SECONDS = 5.0
PAGE = 200


@dataclass(frozen=True)
class CallbackSettings:
    """``LIVECODE_CALLBACK_*``: timeout (seconds per attempt), max_attempts, backoff (seconds
    before the first retry), threads, sweep (seconds between sweeps) and recovery (how far
    back, in seconds of run creation, a sweep looks)."""

    timeout: float = 5.0
    max_attempts: int = 6
    backoff: float = 2.0
    threads: int = 4
    sweep: float = 10.0
    recovery: float = 3600.0

    @classmethod
    def of(cls, settings) -> "CallbackSettings":
        values = {}
        for name, default in cls.__dataclass_fields__.items():
            raw = settings.option(f"CALLBACK_{name.upper()}")
            if raw is None:
                continue
            kind = type(default.default)
            try:
                values[name] = kind(raw)
            except ValueError:
                raise InvalidInput(f"LIVECODE_CALLBACK_{name.upper()}={raw!r} must be "
                                   f"{'a whole number' if kind is int else 'a number'}") from None
            if values[name] <= 0:
                raise InvalidInput(f"LIVECODE_CALLBACK_{name.upper()} must be above 0")
        return cls(**values)

    def delay(self, attempts: int) -> float:
        return min(MAX_DELAY, self.backoff * 2 ** (attempts - 1))


class Agent:
    def __init__(self, livecode, stopped: threading.Event):
        self.livecode, self.stopped = livecode, stopped
        self.config = CallbackSettings.of(livecode.settings)
        self.allowed = allowed_networks(livecode.settings)
        self.pool = ThreadPoolExecutor(self.config.threads, thread_name_prefix="livecode-callback")
        self.timers: list[tuple[float, str]] = []  # (time.time() due, execution id)
        self.scheduled: set[str] = set()  # ids in timers or being tried: each once
        self.wake = threading.Condition()
        self.thread = threading.Thread(target=self._loop, name="livecode-callbacks", daemon=True)
        self.thread.start()

    def later(self, execution_id: str, at: float = 0.0) -> None:
        with self.wake:
            if execution_id not in self.scheduled:
                self.scheduled.add(execution_id)
                heapq.heappush(self.timers, (at, execution_id))
                self.wake.notify()

    def _loop(self) -> None:
        next_sweep = 0.0
        while not self.stopped.is_set():
            now = time.time()
            if now >= next_sweep:
                self._sweep_quietly()
                next_sweep = now + self.config.sweep
            with self.wake:
                while self.timers and self.timers[0][0] <= time.time():
                    self.pool.submit(self._attempt_quietly, heapq.heappop(self.timers)[1])
                wait = min([next_sweep] + [t for t, _ in self.timers[:1]]) - time.time()
                self.wake.wait(max(0.01, min(wait, 1.0)))
        self.pool.shutdown(wait=True)

    def sweep(self) -> int:
        """Schedule every due callback of the runs created within ``recovery`` seconds."""
        since = iso(now() - timedelta(seconds=self.config.recovery))
        match = ExecutionFilter(created_after=since)
        found, before = 0, None
        while True:
            page = self.livecode.store.list_executions(limit=PAGE, before=before, match=match,
                                                       texts=())
            for execution in page:
                if record.due(execution) and age_seconds(
                        execution.finished_at or execution.created_at) >= GRACE_SECONDS:
                    self.later(execution.execution_id)
                    found += 1
            if len(page) < PAGE:
                return found
            before = page[-1].execution_id

    def attempt(self, execution_id: str) -> dict | None:
        """One attempt, if it is due and this process wins the lease; the stored outcome."""
        store, config = self.livecode.store, self.config
        execution = store.get_execution(execution_id)
        if execution is None or not record.due(execution):
            return None
        callback = record.of(execution)
        attempt = callback["attempts"] + 1
        leased = record.store(self.livecode, execution, {
            **callback, "attempts": attempt, "lease_until": time.time() + 3 * config.timeout + 5})
        if leased is None:
            return None  # the run's record changed: whoever changed it goes on
        outcome = self._send(leased, record.of(leased), attempt)
        done = {**record.of(leased), "lease_until": 0.0, "last_status": outcome.status,
                "last_error": outcome.error}
        if outcome.ok:
            done.update(state="delivered", delivered_at=utcnow())
        elif outcome.refused:
            done.update(state="refused")
        elif attempt >= config.max_attempts:
            done.update(state="failed")
        else:
            done.update(next_at=time.time() + config.delay(attempt))
        record.store(self.livecode, leased, done)
        return done

    def _send(self, execution, callback: dict, attempt: int):
        method, render = record.FORMATS.get(callback["format"], record.FORMATS["livecode"])
        body = json.dumps(render(execution, self.livecode)).encode()
        key = self.livecode.store.get_key(callback["signer"])
        headers = {signing.DELIVERY_HEADER: execution.execution_id,
                   signing.ATTEMPT_HEADER: str(attempt)}
        if key is not None:
            headers[signing.SIGNATURE_HEADER] = signing.signature(signing_secret(key), body)
        return send(callback["url"], method, body, headers, self.allowed, self.config.timeout)

    def _attempt_quietly(self, execution_id: str) -> None:
        try:
            outcome = self.attempt(execution_id)
        except Exception:  # the record still says pending: a later sweep tries again
            outcome = None
            log.exception("callback of %s: attempt failed", execution_id)
        with self.wake:
            self.scheduled.discard(execution_id)
        if outcome is not None and outcome["state"] == "pending":
            self.later(execution_id, outcome["next_at"])

    def _sweep_quietly(self) -> None:
        try:
            self.sweep()
        except Exception:
            log.exception("callback sweep failed; will try again")
