"""The execution state machine, the one place that decides which status may follow which.

    QUEUED ──► RUNNING ──► COMPLETED | FAILED | TIMEOUT
       ▲  └──► CANCELLED│
       └────────────────┘  (the worker running it was lost: queued again for another attempt)

Stores only compare-and-set; the service checks every write here, so no backend loosens the rules.
"""

from enum import Enum

from .errors import IllegalTransition


class Status(str, Enum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    TIMEOUT = "TIMEOUT"
    CANCELLED = "CANCELLED"

    def __str__(self) -> str:
        return self.value


TERMINAL = frozenset({Status.COMPLETED, Status.FAILED, Status.TIMEOUT, Status.CANCELLED})

TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.QUEUED: frozenset({Status.RUNNING, Status.CANCELLED}),
    Status.RUNNING: frozenset({Status.COMPLETED, Status.FAILED, Status.TIMEOUT, Status.QUEUED}),
    Status.COMPLETED: frozenset(),
    Status.FAILED: frozenset(),
    Status.TIMEOUT: frozenset(),
    Status.CANCELLED: frozenset(),
}


def check_transition(current: Status, new: Status) -> None:
    if new not in TRANSITIONS[current]:
        raise IllegalTransition(
            f"an execution cannot go from {current} to {new}", current=str(current), new=str(new)
        )

