"""The JSON Schemas of what the API answers, for the OpenAPI document. Records the core defines
as dataclasses (sessions, executions, limits, workers, keys) are described from their fields,
so a field added there appears here; the reports' shapes are written out beside them."""

import types
import typing
from dataclasses import fields, is_dataclass
from enum import Enum

from livecode.core.keys import ApiKey
from livecode.core.limits import Limits
from livecode.core.models import TEXT_FIELDS, CodeSession, Execution, WorkerInfo

SCALARS = {str: "string", int: "integer", float: "number", bool: "boolean", dict: "object",
           list: "array"}


def of_type(kind) -> dict:
    if isinstance(kind, types.UnionType) or typing.get_origin(kind) is typing.Union:
        options = [of_type(k) for k in typing.get_args(kind)]
        if all(set(o) == {"type"} for o in options):
            return {"type": [o["type"] for o in options]}
        return {"anyOf": options}
    if kind is type(None):
        return {"type": "null"}
    if isinstance(kind, type) and issubclass(kind, Enum):
        return {"type": "string", "enum": [m.value for m in kind]}
    if is_dataclass(kind):
        return {"$ref": f"#/components/schemas/{kind.__name__}"}
    if kind is float:  # an integer is a number too: {"type": "number"} takes both
        return {"type": "number"}
    return {"type": SCALARS[typing.get_origin(kind) or kind]}


def of_dataclass(cls, drop=(), optional=(), add=None) -> dict:
    hints = typing.get_type_hints(cls)
    properties = {f.name: of_type(hints[f.name]) for f in fields(cls) if f.name not in drop}
    properties.update(add or {})
    return {"type": "object", "properties": properties,
            "required": [name for name in properties if name not in optional]}


def obj(required: dict, optional: dict | None = None) -> dict:
    schema = {"type": "object", "properties": {**required, **(optional or {})},
              "required": list(required)}
    return schema


STRING, INTEGER, NUMBER, BOOLEAN = ({"type": t} for t in ("string", "integer", "number",
                                                            "boolean"))
NULLABLE_STRING = {"type": ["string", "null"]}
NULLABLE_NUMBER = {"type": ["number", "null"]}


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def array(items: dict) -> dict:
    return {"type": "array", "items": items}


# An execution as the API sends it: ``extra`` becomes ``rerun_of``.
EXECUTION = of_dataclass(Execution, drop=("extra",), add={"rerun_of": NULLABLE_STRING})
HEALTH_CHECK = obj({"ok": BOOLEAN}, {"error": STRING, "depth": {"type": ["integer", "null"]}})
SANDBOX = obj({"ok": BOOLEAN}, {"protections": {"type": "object"}, "error": STRING})

SCHEMAS = {
    "Error": obj({"error": obj({"status": INTEGER, "code": STRING, "message": STRING})}),
    "Limits": of_dataclass(Limits),
    "Session": of_dataclass(CodeSession),
    "Execution": EXECUTION,
    "ExecutionSummary": {**EXECUTION, "required": [n for n in EXECUTION["required"]
                                                   if n not in TEXT_FIELDS]},
    "ExecutionPage": obj({"executions": array(ref("ExecutionSummary")),
                          "next_before": NULLABLE_STRING}),
    "Queued": obj({"execution_id": STRING, "status": STRING}, {"rerun_of": STRING}),
    "Job": obj({"jobId": STRING, "status": STRING}),
    "JobResult": {"allOf": [ref("Execution"), obj({"jobId": STRING})]},
    "Languages": obj({"languages": array(obj({
        "name": STRING, "display_name": STRING, "file_extension": NULLABLE_STRING,
        "version": NULLABLE_STRING, "sandbox": STRING,
        "protections": {"type": ["object", "null"]}}))}),
    "LimitsInfo": obj({"defaults": ref("Limits"), "caps": ref("Limits")}),
    "WorkerInfo": of_dataclass(WorkerInfo),
    "Workers": obj({"workers": array({"allOf": [ref("WorkerInfo"), obj(
                        {"heartbeat_age_seconds": NUMBER, "lost": BOOLEAN})]}),
                    "lost_after_seconds": NUMBER}),
    "Queues": obj({"queues": array(obj({
        "name": STRING, "url": STRING, "depth": {"type": ["integer", "null"]},
        "consumers": INTEGER, "capacity": INTEGER, "queued": INTEGER, "running": INTEGER,
        "oldest_waiting_seconds": NULLABLE_NUMBER, "oldest_waiting_since": NULLABLE_STRING}))}),
    "Stats": obj({
        "window_seconds": NUMBER, "until": STRING,
        "counts": {"type": "object", "additionalProperties": INTEGER},
        "runs_per_second": NUMBER,
        "wait_ms": obj({"p50": NULLABLE_NUMBER, "p95": NULLABLE_NUMBER}),
        "run_ms": obj({"p50": NULLABLE_NUMBER, "p95": NULLABLE_NUMBER}),
        "failed_rate": NUMBER, "timeout_rate": NUMBER, "sparkline": array(INTEGER),
        "sampled": INTEGER}),
    "Failures": obj({"failures": array(obj({
        "status": STRING, "signature": STRING, "count": INTEGER, "first_seen": STRING,
        "last_seen": STRING, "example": STRING, "reason": NULLABLE_STRING}))}),
    "Key": of_dataclass(ApiKey, drop=("key_hash",)),
    "Keys": obj({"keys": array(ref("Key"))}),
    "NewKey": {"allOf": [ref("Key"), obj({"key": STRING})]},
    "Health": obj({"ok": BOOLEAN, "checks": {"type": "object",
                                             "additionalProperties": HEALTH_CHECK},
                   "sandboxes": {"type": "object", "additionalProperties": SANDBOX}}),
    "OpenAPI": {"type": "object", "description": "this document"},
    "Root": obj({"name": STRING, "version": STRING, "docs": STRING, "health": STRING,
                 "playground": {"type": ["string", "null"],
                                "description": "how to reach the playground page; null: off"},
                 "routes": {"type": "object", "additionalProperties": array(STRING)}}),
    "Page": STRING,
    "EventStream": {"type": "string", "description": "text/event-stream: `id:`, `event:` "
                    "(state, stdout, stderr, result) and `data:` (JSON) lines per event"},
    "WebSocketFrames": {"type": "object", "description": "JSON text frames; see the "
                        "operation's description"},
    "Metrics": {"type": "string", "description": "Prometheus text exposition format"},
}
