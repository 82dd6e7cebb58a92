"""``GET /executions/{id}?wait=N``: the parameter, declared once for the documented operation
(the WSGI app's) and the responder that answers it (the ASGI app's, :mod:`.live`)."""

from livecode.core.errors import InvalidInput

from .validation import Param

MAX_WAIT = 30.0
WAIT = Param("wait", "number", "answer as soon as the run has ended, or after this many "
                               "seconds (above 0, at most 30) with its state then",
             high=MAX_WAIT)


def wait_seconds(query: dict) -> float | None:
    wait = query.get("wait")
    if wait is not None and not 0 < wait <= MAX_WAIT:
        raise InvalidInput(f"wait must be above 0 and at most {MAX_WAIT:g} seconds",
                           field="wait", cap=MAX_WAIT)
    return wait


def check_wait(query: dict) -> None:
    """For the WSGI responder, which never sees a ``wait`` (the dispatcher sends those to the
    ASGI app) unless the WSGI app is served alone: then it refuses rather than blocks."""
    if wait_seconds(query) is not None:
        raise InvalidInput("wait needs livecode's own server (livecode serve / api): the WSGI "
                           "app alone does not hold requests open", field="wait")
