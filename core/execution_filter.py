"""Which executions a listing wants: the one filter every store understands.

Terms on the same field are alternatives (``state:FAILED state:TIMEOUT`` is either); negated
terms all apply (``!language:python !worker:w3`` excludes both); different fields all apply.
``status``, ``language`` and ``reason`` match exactly, ``worker`` and ``text`` as substrings (of
the worker id; of stdout or stderr).
"""

from dataclasses import dataclass

from .errors import InvalidInput
from .execution_states import Status

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
