"""Reading request bodies and query strings into checked Python values, from declarations that
also describe them in the OpenAPI document (:mod:`.openapi`): one source for both.

Each endpoint declares its body (:class:`Body`) and query parameters (:class:`Param`) on its
responder with :func:`.operations.operation`; anything else in the body, a wrong type or a
malformed document is refused before the service is called, so a rejected request changes
nothing.
"""

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timezone
from typing import Any

import falcon

from livecode.core.errors import InvalidInput, PayloadTooLarge
from livecode.core.execution_filter import ExecutionFilter, Term
from livecode.core.models import TEXT_FIELDS
from livecode.core.timestamps import iso, parse_time

from .errors import APIError

# Bigger than any valid body (source and stdin caps plus JSON escaping), smaller than a DoS.
BODY_SLACK = 4
DRAIN_LIMIT = 16 * 1024 * 1024  # bytes of a refused body read before answering

JSON_TYPES = {str: "string", int: "integer", bool: "boolean", dict: "object", list: "array"}


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
    refuse_lone_surrogates(body)
    return check_fields(body, fields, aliases)


def refuse_lone_surrogates(body: dict) -> None:
    """JSON's ``\\ud800`` escapes decode to half a UTF-16 pair, which no store can encode: refuse
    them here, where nothing has been made yet, naming the field that holds one."""
    if _encodes(body):
        return
    name = next(key for key, value in body.items() if not (_encodes(key) and _encodes(value)))
    name = name if _encodes(name) else ascii(name)
    raise InvalidInput(f"{name} holds a lone UTF-16 surrogate (such as \\ud800), which is not "
                       "Unicode text", field=name)


def _encodes(value) -> bool:
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


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



def type_schema(kind) -> dict:
    """The JSON Schema of a Python type the validation checks against."""
    if isinstance(kind, tuple):  # (int, float): any number
        return {"type": "number"}
    return {"type": JSON_TYPES[kind]}


@dataclass(frozen=True)
class Field:
    """One body field: its type, what it means, and (for the document) the constraints the
    service checks on it, computed from the running service (language names, the caps)."""

    kind: Any
    description: str
    constraints: Callable[[Any], dict] | None = None

    def schema(self, livecode) -> dict:
        extra = self.constraints(livecode) if self.constraints else {}
        return {**type_schema(self.kind), **extra, "description": self.description}


@dataclass(frozen=True)
class Body:
    """A JSON object body: its fields, other names accepted for some (``sourceCode``, which early
    clients send), which are required, and the setting that caps its size."""

    fields: dict[str, Field]
    max_bytes: str | int | Callable  # a Settings attribute, bytes, or a function of the settings
    aliases: dict[str, str] = field(default_factory=dict)
    required: tuple[str, ...] = ()
    example: dict | None = None

    def limit(self, settings) -> int:
        if isinstance(self.max_bytes, str):
            return getattr(settings, self.max_bytes)
        return self.max_bytes(settings) if callable(self.max_bytes) else self.max_bytes

    def read(self, req: falcon.Request, settings) -> dict:
        """The body's values by field name; null is the same as leaving a field out. An empty
        body is ``{}``."""
        values = read_body(req, {name: f.kind for name, f in self.fields.items()},
                           self.limit(settings), self.aliases)
        for name in self.required:
            if name not in values:
                raise InvalidInput(f"{name} is required", field=name)
        return values

    def schema(self, livecode) -> dict:
        properties = {}
        for name, spec in self.fields.items():
            schema = spec.schema(livecode)
            if name not in self.required:
                schema["type"] = [schema["type"], "null"]
            properties[name] = schema
        for alias, target in self.aliases.items():
            properties[alias] = {**properties[target],
                                 "description": f"the same as {target} (send one of them)"}
        schema = {"type": "object", "properties": properties, "additionalProperties": False}
        if self.required:
            schema["required"] = list(self.required)
        if self.example is not None:
            schema["examples"] = [self.example]
        return schema


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


@dataclass(frozen=True)
class Param:
    """One query parameter: ``integer`` and ``number`` (within ``low``..``high``), ``time`` (ISO
    8601, UTC unless it says otherwise), ``string``, ``boolean`` (true/false, 1/0…), or
    ``list`` (repeatable; ``choices`` are the values the service accepts). A bad value is a 422
    naming it; a missing required one a 400."""

    name: str
    kind: str
    description: str
    default: Any = None
    low: float | None = None
    high: float | None = None
    required: bool = False
    choices: tuple[str, ...] | None = None
    example: Any = None

    def read(self, req: falcon.Request):
        if self.kind in ("integer", "number"):
            # A bad value raises HTTPInvalidParam: a 422 naming it (errors.py).
            getter = req.get_param_as_int if self.kind == "integer" else req.get_param_as_float
            value = getter(self.name, default=self.default, min_value=self.low,
                           max_value=self.high)
            if value is not None and not math.isfinite(value):  # "nan" passes any bound
                raise InvalidInput(f"{self.name} must be a finite number, not {value}",
                                   field=self.name)
            return value
        if self.kind == "boolean":
            return req.get_param_as_bool(self.name, default=self.default)
        if self.kind == "time":
            return self._time(req.get_param(self.name))
        if self.kind == "list":
            return req.get_param_as_list(self.name) or []
        return req.get_param(self.name, required=self.required, default=self.default)

    def _time(self, raw: str | None) -> str | None:
        if raw is None:
            return None
        try:
            moment = parse_time(raw)
        except ValueError:
            raise InvalidInput(f"{self.name} must be an ISO 8601 time such as "
                               f"2026-03-02T12:00:00Z, not {raw!r}", field=self.name) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        return iso(moment)

    def schema(self) -> dict:
        if self.kind == "list":
            items = {"type": "string"}
            if self.choices:
                items["enum"] = list(self.choices)
            schema = {"type": "array", "items": items}
        elif self.kind == "time":
            schema = {"type": "string", "format": "date-time"}
        else:
            schema = {"type": self.kind}
            if self.low is not None:
                schema["minimum"] = self.low
            if self.high is not None:
                schema["maximum"] = self.high
        if self.default is not None:
            schema["default"] = self.default
        parameter = {"name": self.name, "in": "query", "required": self.required,
                     "description": self.description, "schema": schema}
        if self.kind == "list":
            parameter.update(style="form", explode=True)
        if self.example is not None:
            parameter["example"] = self.example
        return parameter


def texts_of(values: list[str]) -> tuple[str, ...]:
    """``fields=stdout,stderr`` (or repeated): which texts a listing includes (none by default)."""
    wanted = tuple(name for value in values for name in value.split(",") if name)
    unknown = sorted(set(wanted) - set(TEXT_FIELDS))
    if unknown:
        raise InvalidInput(f"query parameter fields: unknown {', '.join(unknown)}; "
                           f"one or more of {', '.join(TEXT_FIELDS)}", field="fields")
    return wanted


FILTER_PARAMS = {"status": "status", "language": "language", "reason": "reason", "worker": "worker",
                 "q": "text"}
# MongoDB searches with an escaped regular expression, and servers cap a pattern's length
# (SecantusDB at 1,000 characters, MongoDB at 32,764): escaping at most doubles 256 characters.
MAX_SEARCH_CHARS = 256


def execution_filter(query: dict) -> ExecutionFilter:
    """``?status=FAILED&status=TIMEOUT&language=!python&q=MemoryError&since=…&until=…``: each
    filter parameter may repeat (alternatives) and start with ``!`` (excluded)."""
    terms = []
    for param, name in FILTER_PARAMS.items():
        for raw in query[param]:
            negate = raw.startswith("!")
            value = raw[1:] if negate else raw
            if len(value) > MAX_SEARCH_CHARS:
                raise InvalidInput(f"query parameter {param} is {len(value)} characters; at "
                                   f"most {MAX_SEARCH_CHARS}", field=param)
            if value:
                try:
                    terms.append(Term(name, value, negate))
                except InvalidInput as exc:
                    raise InvalidInput(f"query parameter {param}: {exc.message}",
                                       field=param) from None
    return ExecutionFilter(tuple(terms), query["since"], query["until"])


def _type_name(kind) -> str:
    if isinstance(kind, tuple):
        return "a number"
    return {str: "a string", int: "an integer", bool: "true or false",
            list: "an array"}.get(kind, kind.__name__)


def _json_type(value) -> str:
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string",
            list: "an array", dict: "an object"}.get(type(value), type(value).__name__)
