"""A run's callback, kept in the run's own record (``execution.extra["callback"]``) so that it
lives exactly as long as the run, needs no table of its own in any store, and is changed with
the store's compare-and-set ``transition`` (same status, same attempts: only the callback part
changes), as every store already does it.

States: ``pending`` (not delivered yet: ``next_at`` is when the next attempt is due,
``lease_until`` until when a process that took the attempt may still be making it),
``delivered``, ``failed`` (every attempt spent) and ``refused`` (the URL resolved to an address
that may not be called at delivery time; not retried).
"""

import time

from livecode.core.execution_states import TERMINAL

FORMATS = {}  # name -> (HTTP method, render(execution, livecode) -> dict)


def register_format(name: str, method: str, render) -> None:
    """Another API's callback shape (Judge0 PUTs its submission JSON)."""
    FORMATS[name] = (method, render)


def new(url: str, signer: str, format: str = "livecode") -> dict:
    return {"url": url, "format": format, "signer": signer, "state": "pending", "attempts": 0,
            "next_at": 0.0, "lease_until": 0.0, "last_status": None, "last_error": None,
            "delivered_at": None}


def of(execution) -> dict | None:
    return (execution.extra or {}).get("callback")


def due(execution, now: float | None = None) -> bool:
    """Whether an attempt should be made now: the run has ended, its callback is pending, due,
    and no one holds a live lease on it."""
    callback = of(execution)
    now = time.time() if now is None else now
    return (callback is not None and execution.status in TERMINAL
            and callback["state"] == "pending" and callback["next_at"] <= now
            and callback["lease_until"] <= now)


def store(livecode, execution, callback: dict):
    """Write ``callback`` into the run's record if the run is as it was read; the stored run,
    or ``None`` when it changed (or is gone) meanwhile."""
    return livecode.store.transition(
        execution.execution_id, frozenset({execution.status}), execution.attempts,
        {"status": execution.status, "extra": {**execution.extra, "callback": callback}})
