"""Waiting for a run to end inside a request, for the front doors whose clients expect the result
in the response (Judge0's ``wait=true``, Piston's ``execute``).

The run goes through the queue and a worker like any other; the request only polls the store,
with a deadline that the run's own limits bound (its compile step, each test case, and a margin
for the queue), so a client cannot hold a request open longer than its run may last.
"""

import time

from livecode.core.execution_states import TERMINAL

QUEUE_MARGIN = 30.0  # seconds a run may wait in the queue before the request gives up waiting


def wait_for_end(livecode, execution):
    """The execution once it has ended, or as it is when the deadline passed."""
    cases = len(execution.tests["cases"]) if execution.tests else 1
    budget = (livecode.settings.compile_limits.wall_time_limit
              + execution.limits.wall_time_limit * cases + QUEUE_MARGIN)
    deadline, delay = time.monotonic() + budget, 0.01
    while execution.status not in TERMINAL and time.monotonic() < deadline:
        time.sleep(delay)
        delay = min(delay * 1.5, 0.2)
        execution = livecode.get_execution(execution.execution_id)
    return execution
