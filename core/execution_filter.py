"""Which executions a listing wants: the one filter every store understands.

Terms on the same field are alternatives (``state:FAILED state:TIMEOUT`` is either); negated
terms all apply (``!language:python !worker:w3`` excludes both); different fields all apply.
``status``, ``language`` and ``reason`` match exactly, ``worker`` and ``text`` as substrings (of
the worker id; of stdout or stderr).
"""

from dataclasses import dataclass, replace

from .errors import InvalidInput
from .execution_states import Status
from .models import Execution

FIELDS = ("status", "language", "reason", "worker", "text")


@dataclass(frozen=True)
class Term:
    field: str
    value: str
    negate: bool = False

    def __post_init__(self):
        if self.field not in FIELDS:
            raise InvalidInput(f"cannot filter on {self.field!r}; one of {', '.join(FIELDS)}")
        if self.field == "status" and self.value.upper() not in Status.__members__:
            raise InvalidInput(f"unknown status {self.value!r}; one of "
                               f"{', '.join(s.value for s in Status)}")

    def matches(self, execution: Execution) -> bool:
        if self.field == "status":
            return str(execution.status) == self.value.upper()
        if self.field == "language":
            return execution.language == self.value
        if self.field == "reason":
            return execution.reason == self.value
        if self.field == "worker":
            return self.value in (execution.worker_id or "")
        return self.value in execution.stdout or self.value in execution.stderr


@dataclass(frozen=True)
class ExecutionFilter:
    terms: tuple[Term, ...] = ()
    created_after: str | None = None  # ISO timestamps, as stored
    created_before: str | None = None
    owner: str | None = None  # only this owner's executions (None: everyone's)

    def groups(self):
        """``(field, negate, values)`` for each field and sense that has terms: what a store
        turns into one clause (any of the values; or, negated, none of them)."""
        for field in FIELDS:
            for negate in (False, True):
                values = [t.value.upper() if field == "status" else t.value
                          for t in self.terms if t.field == field and t.negate == negate]
                if values:
                    yield field, negate, values

    def matches(self, execution: Execution) -> bool:
        if self.owner is not None and execution.owner != self.owner:
            return False
        if self.created_after and execution.created_at < self.created_after:
            return False
        if self.created_before and execution.created_at >= self.created_before:
            return False
        for field in FIELDS:
            wanted = [t for t in self.terms if t.field == field and not t.negate]
            if wanted and not any(t.matches(execution) for t in wanted):
                return False
        return not any(t.matches(execution) for t in self.terms if t.negate)

    def without_text(self) -> "ExecutionFilter":
        return replace(self, terms=tuple(t for t in self.terms if t.field != "text"))

    @property
    def has_text(self) -> bool:
        return any(t.field == "text" for t in self.terms)
