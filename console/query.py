"""The filter language of the executions view, turned into the API's query parameters.

    state:FAILED language:python worker:w3 "MemoryError" !state:QUEUED

``key:value`` terms (``state`` or ``status``, ``language`` or ``lang``, ``reason``,
``worker``), quoted or bare words searched in the output, and ``!`` before any term to exclude
it. Terms on one key are alternatives; everything else must hold.
"""

import shlex

KEYS = {"state": "status", "status": "status", "language": "language", "lang": "language",
        "reason": "reason", "worker": "worker"}


class QueryError(ValueError):
    pass


def parse(text: str) -> list[tuple[str, str]]:
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise QueryError(f"cannot read the filter: {exc}") from None
    params = []
    for word in words:
        negate = word.startswith("!")
        body = word[1:] if negate else word
        key, sep, value = body.partition(":")
        if sep and key in KEYS:
            if not value:
                raise QueryError(f"{key}: needs a value")
            params.append((KEYS[key], ("!" if negate else "") + value))
        elif sep and key.isidentifier() and " " not in body:
            raise QueryError(f"unknown filter key {key!r}; use state, language, reason, "
                             "worker or quoted text")
        elif body:
            params.append(("q", ("!" if negate else "") + body))
    return params
