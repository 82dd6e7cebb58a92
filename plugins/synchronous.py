"""Waiting for a run to end inside a request, for the front doors whose clients expect the result
in the response (Judge0's ``wait=true``, Piston's ``execute``).

The run goes through the queue and a worker like any other; the request waits for its states
on the event channel, with a deadline that the run's own limits bound (its compile step, each
test case, and a margin for the queue). A waiting request holds one of the API's threads, so at most half of a process's
threads (``LIVECODE_API_THREADS``) wait at once: a flood of synchronous requests is refused with
a 503 before it queues anything, and the other half keeps answering everyone else.
"""

import threading
import time
from contextlib import contextmanager

from livecode.core.errors import Unavailable
from livecode.core.execution_states import TERMINAL

QUEUE_MARGIN = 30.0  # seconds a run may wait in the queue before the request gives up waiting

_slots: threading.BoundedSemaphore | None = None
_slots_lock = threading.Lock()


@contextmanager
def waiting_slot(settings):
    """Hold one of this process's waiting slots, or refuse (503) when all are taken."""
    global _slots
    with _slots_lock:
        if _slots is None:
            _slots = threading.BoundedSemaphore(max(1, settings.api_threads // 2))
    if not _slots.acquire(blocking=False):
        raise Unavailable("too many requests are waiting for their runs here; retry, or "
                          "submit without waiting and poll")
    try:
        yield
    finally:
        _slots.release()


def wait_for_end(livecode, execution):
    """The execution once it has ended, or as it is when the deadline passed: woken by the
    run's states on the event channel, with the store read again at least every second in
    case an event went missing."""
    cases = len(execution.tests["cases"]) if execution.tests else 1
    budget = (livecode.settings.compile_limits.wall_time_limit
              + execution.limits.wall_time_limit * cases + QUEUE_MARGIN)
    deadline = time.monotonic() + budget
    changed = threading.Event()
    unsubscribe = livecode.events.subscribe(
        f"run:{execution.execution_id}",
        lambda event: event.get("type") == "state" and changed.set())
    try:
        execution = livecode.get_execution(execution.execution_id)
        while execution.status not in TERMINAL and time.monotonic() < deadline:
            changed.wait(min(1.0, max(0.0, deadline - time.monotonic())))
            changed.clear()
            execution = livecode.get_execution(execution.execution_id)
    finally:
        unsubscribe()
    return execution
