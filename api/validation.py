"""Reading request bodies and query strings into checked Python values.

Each endpoint declares its fields; anything else in the body, a wrong type or a malformed
document is refused before the service is called, so a rejected request changes nothing.
"""

from datetime import timezone

import falcon

from livecode.core.errors import InvalidInput, PayloadTooLarge
from livecode.core.execution_filter import ExecutionFilter, Term
from livecode.core.models import TEXT_FIELDS
from livecode.core.timestamps import iso, parse_time

from .errors import APIError

# Bigger than any valid body (source and stdin caps plus JSON escaping), smaller than a DoS.
BODY_SLACK = 4
DRAIN_LIMIT = 16 * 1024 * 1024  # bytes of a refused body read before answering


def read_body(req: falcon.Request, fields: dict[str, type], max_bytes: int,
              aliases: dict[str, str] | None = None) -> dict:
    """The JSON object in the body, with only ``fields`` (by type) and ``aliases`` (another name
    accepted for a field, e.g. ``sourceCode``, which early clients send). An empty body is
    ``{}``."""
    length = req.content_length
    if length is None and req.get_header("Transfer-Encoding"):
        # A chunked body has no size to check before it is read: ask for one.
        req.context.close_connection = True
        raise APIError(falcon.HTTP_411, "length_required",
                       "send the body with a Content-Length header, not chunked")
    if length is not None and length > max_bytes * BODY_SLACK:
        drain(req, length)
        raise PayloadTooLarge(f"request body is {length} bytes; the limit is {max_bytes * BODY_SLACK}")
    try:
        body = req.get_media(default_when_empty={})
    except falcon.MediaMalformedError as exc:
        raise APIError(falcon.HTTP_400, "malformed_json",
                       f"the request body is not valid JSON: {exc.description}") from None
    except falcon.HTTPUnsupportedMediaType:
        raise APIError(falcon.HTTP_415, "unsupported_media_type",
                       f"the body must be JSON sent with Content-Type: application/json, "
                       f"not {req.content_type}") from None
    if not isinstance(body, dict):
        raise InvalidInput(f"the request body must be a JSON object, not {type(body).__name__}")
    return check_fields(body, fields, aliases)


def check_fields(body: dict, fields: dict[str, type], aliases: dict[str, str] | None = None,
                 where: str = "") -> dict:
    """``body`` with only ``fields`` (by type) and ``aliases``; ``where`` names the object in
    errors when it is not the whole body (``submissions[3].``)."""
    aliases = aliases or {}
    for alias, target in aliases.items():
        if alias in body and target in body:
            raise InvalidInput(f"send {target} or {alias}, not both: they are two spellings of "
                               f"one field", field=target)
    unknown = sorted(set(body) - set(fields) - set(aliases))
    if unknown:
        raise InvalidInput(f"unknown field(s) {where}{', '.join(unknown)}; accepted: "
                           f"{', '.join(sorted([*fields, *aliases]))}", fields=unknown)
    values = {}
    for name, value in body.items():
        target = aliases.get(name, name)
        expected = fields[target]
        if value is None:
            continue
        if not isinstance(value, expected) or (isinstance(value, bool) and expected is not bool):
            raise InvalidInput(f"{where}{name} must be {_type_name(expected)}, not "
                               f"{_json_type(value)}", field=name)
        values[target] = value
    return values


def drain(req: falcon.Request, length: int) -> None:
    """Read and discard a refused body, up to ``DRAIN_LIMIT``, so that a client that sends all
    of it before reading (most do) gets the answer; past the bound the connection is closed."""
    left = min(length, DRAIN_LIMIT)
    while left > 0:
        chunk = req.bounded_stream.read(min(left, 64 * 1024))
        if not chunk:
            break
        left -= len(chunk)
    if length > DRAIN_LIMIT:
        req.context.close_connection = True


# Falcon's typed getters raise HTTPInvalidParam for a bad value: a 422 naming it (errors.py).

def query_int(req: falcon.Request, name: str, default: int, low: int, high: int) -> int:
    return req.get_param_as_int(name, default=default, min_value=low, max_value=high)


def query_float(req: falcon.Request, name: str, default: float, low: float,
                high: float) -> float:
    return req.get_param_as_float(name, default=default, min_value=low, max_value=high)


def query_time(req: falcon.Request, name: str) -> str | None:
    """A moment in the query string (ISO 8601, e.g. 2026-03-02T12:00:00Z; without an offset it
    is UTC), as the store keeps times; anything else is a 422 naming the parameter."""
    raw = req.get_param(name)
    if raw is None:
        return None
    try:
        moment = parse_time(raw)
    except ValueError:
        raise InvalidInput(f"{name} must be an ISO 8601 time such as 2026-03-02T12:00:00Z, "
                           f"not {raw!r}", field=name) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return iso(moment)


def query_texts(req: falcon.Request) -> tuple[str, ...]:
    """``fields=stdout,stderr`` (or repeated): which texts a listing includes (none by default)."""
    wanted = tuple(name for value in req.get_param_as_list("fields") or ()
                   for name in value.split(",") if name)
    unknown = sorted(set(wanted) - set(TEXT_FIELDS))
    if unknown:
        raise InvalidInput(f"query parameter fields: unknown {', '.join(unknown)}; "
                           f"one or more of {', '.join(TEXT_FIELDS)}", field="fields")
    return wanted


FILTER_PARAMS = {"status": "status", "language": "language", "reason": "reason", "worker": "worker",
                 "q": "text"}


def execution_filter(req: falcon.Request) -> ExecutionFilter:
    """``?status=FAILED&status=TIMEOUT&language=!python&q=MemoryError&since=…&until=…``: each
    filter parameter may repeat (alternatives) and start with ``!`` (excluded)."""
    terms = []
    for param, field in FILTER_PARAMS.items():
        for raw in req.get_param_as_list(param) or []:
            negate = raw.startswith("!")
            value = raw[1:] if negate else raw
            if value:
                try:
                    terms.append(Term(field, value, negate))
                except InvalidInput as exc:
                    raise InvalidInput(f"query parameter {param}: {exc.message}",
                                       field=param) from None
    return ExecutionFilter(tuple(terms), query_time(req, "since"), query_time(req, "until"))


def _type_name(kind) -> str:
    if isinstance(kind, tuple):
        return "a number"
    return {str: "a string", int: "an integer", bool: "true or false",
            list: "an array"}.get(kind, kind.__name__)


def _json_type(value) -> str:
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string",
            list: "an array", dict: "an object"}.get(type(value), type(value).__name__)
