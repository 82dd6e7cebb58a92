"""HTTP resources, one per noun; each translates between JSON and the service, nothing more.

Every resource acts for ``req.context.caller`` (see :mod:`.auth`): a client key reads and changes
only what it owns (anything else is 404), operators and admins everyone's. ``scope`` is the
least a route needs.
"""

import json
from dataclasses import dataclass

import falcon

from livecode import __version__
from livecode.core import keys
from livecode.core.errors import InvalidInput
from livecode.core.limits import Limits
from livecode.core.models import TEXT_FIELDS
from livecode.core.service import MAX_PAGE, Livecode

from .introspection import Introspection
from .quotas import Quotas
from .reporting import Reporting
from .validation import (execution_filter, query_float, query_int, query_texts, query_time,
                         read_body)

# Per-run limits a request may set (Judge0's names), each a number within the server's caps.
LIMIT_FIELDS = {name: (int, float) if kind is float else int
                for name, kind in Limits.names().items()}


NO_BODY = 64  # bytes: room for an empty JSON object, the body of an action that takes none

# Test cases (see core.test_cases, which checks each one's size and their number).
TEST_FIELDS = {"tests": list, "comparison": str}


def run_body_bytes(settings) -> int:
    """The most a valid run request holds: source, stdin, and each test's stdin and output."""
    return settings.max_source_bytes + settings.max_stdin_bytes * (1 + 2 * settings.max_tests)


def split_limits(body: dict) -> dict:
    return {name: body.pop(name) for name in list(body) if name in LIMIT_FIELDS}


def execution_json(execution, texts=TEXT_FIELDS) -> dict:
    """An execution; a listing's summaries leave out the texts not in ``texts`` (their sizes,
    ``*_bytes``, are always there)."""
    data = execution.to_dict()
    data["rerun_of"] = data.pop("extra").get("rerun_of")
    for name in TEXT_FIELDS:
        if name not in texts:
            del data[name]
    return data


def queued_json(execution) -> dict:
    return {"execution_id": execution.execution_id, "status": str(execution.status)}


@dataclass(frozen=True)
class Parts:
    """What the resources work with, made once by the app factory."""

    livecode: Livecode
    quotas: Quotas
    introspection: Introspection
    reporting: Reporting


class Resource:
    scope = "client"

    def __init__(self, parts: Parts):
        self.livecode, self.quotas = parts.livecode, parts.quotas
        self.introspection, self.reporting = parts.introspection, parts.reporting
        self.settings = parts.livecode.settings


def list_page(livecode: Livecode, req, session_id=None) -> dict:
    """A page of summaries: at most ``limit`` of them and, beyond the first, at most
    ``max_page_bytes`` of JSON. Runs asked for with their outputs are read one at a time, so
    the page's budget also bounds what the API holds."""
    limit = query_int(req, "limit", 50, 1, MAX_PAGE)
    texts = query_texts(req)
    match = execution_filter(req)
    budget = livecode.settings.max_page_bytes
    step = 1 if {"stdout", "stderr"} & set(texts) else limit
    found, used, before = [], 0, req.get_param("before")
    while len(found) < limit:
        want = min(step, limit - len(found))
        page = livecode.list_executions(session_id=session_id, limit=want, before=before,
                                        match=match, owner=req.context.caller.owner,
                                        texts=texts)
        for execution in page:
            item = execution_json(execution, texts)
            size = len(json.dumps(item))
            if found and used + size > budget:
                return {"executions": found, "next_before": found[-1]["execution_id"]}
            found.append(item)
            used += size
        if len(page) < want:
            return {"executions": found, "next_before": None}
        before = page[-1].execution_id
    return {"executions": found, "next_before": found[-1]["execution_id"]}


class CodeSessions(Resource):
    def on_post(self, req, resp):
        body = read_body(req, {"language": str, "source_code": str}, self.settings.max_source_bytes,
                         aliases={"sourceCode": "source_code"})
        session = self.livecode.create_session(body.get("language"), body.get("source_code", ""),
                                               owner=req.context.caller.key_id)
        resp.status = falcon.HTTP_201
        resp.location = f"/code-sessions/{session.session_id}"
        resp.media = session.to_dict()

    def on_get_item(self, req, resp, session_id):
        resp.media = self.livecode.get_session(session_id, req.context.caller.owner).to_dict()

    def on_patch_item(self, req, resp, session_id):
        body = read_body(req, {"language": str, "source_code": str, "revision": int},
                         self.settings.max_source_bytes, aliases={"sourceCode": "source_code"})
        session = self.livecode.autosave(session_id, body.get("source_code"),
                                         body.get("language"), body.get("revision"),
                                         owner=req.context.caller.owner)
        resp.media = session.to_dict()

    def on_post_run(self, req, resp, session_id):
        body = read_body(req, {"stdin": str, **TEST_FIELDS, **LIMIT_FIELDS},
                         run_body_bytes(self.settings))
        limits = split_limits(body)
        caller = req.context.caller
        self.livecode.get_session(session_id, caller.owner)  # 404 before any quota is spent
        self.quotas.check_run(caller)
        execution = self.livecode.run(session_id, body.get("stdin", ""), limits,
                                      body.get("tests"), body.get("comparison"), caller.owner)
        resp.status = falcon.HTTP_202
        resp.location = f"/executions/{execution.execution_id}"
        resp.media = queued_json(execution)

    def on_get_executions(self, req, resp, session_id):
        self.livecode.get_session(session_id, req.context.caller.owner)
        resp.media = list_page(self.livecode, req, session_id)


class Executions(Resource):
    def on_get(self, req, resp):
        resp.media = list_page(self.livecode, req, req.get_param("session_id"))

    def on_get_item(self, req, resp, execution_id):
        resp.media = execution_json(
            self.livecode.get_execution(execution_id, req.context.caller.owner))

    def on_post_cancel(self, req, resp, execution_id):
        read_body(req, {}, NO_BODY)  # takes none: anything sent is refused, not ignored
        resp.media = execution_json(self.livecode.cancel(execution_id, req.context.caller.owner))

    def on_post_rerun(self, req, resp, execution_id):
        read_body(req, {}, NO_BODY)
        caller = req.context.caller
        self.livecode.get_execution(execution_id, caller.owner)
        self.quotas.check_run(caller)
        execution = self.livecode.rerun(execution_id, caller.owner)
        resp.status = falcon.HTTP_202
        resp.location = f"/executions/{execution.execution_id}"
        resp.media = {**queued_json(execution), "rerun_of": execution_id}


class SubmitCode(Resource):
    """The one-shot API: ``POST /submit-code`` then poll ``GET /exec-result?jobId=``."""

    def on_post(self, req, resp):
        body = read_body(req, {"code": str, "language": str, "stdin": str, **TEST_FIELDS,
                               **LIMIT_FIELDS},
                         run_body_bytes(self.settings))
        if "code" not in body:
            raise InvalidInput("code is required", field="code")
        limits = split_limits(body)
        self.quotas.check_run(req.context.caller)
        execution = self.livecode.submit_code(body["code"], body.get("language"),
                                              body.get("stdin", ""), limits,
                                              body.get("tests"), body.get("comparison"),
                                              owner=req.context.caller.key_id)
        resp.status = falcon.HTTP_202
        resp.location = f"/exec-result?jobId={execution.execution_id}"
        resp.media = {"jobId": execution.execution_id, "status": str(execution.status)}

    def on_get_result(self, req, resp):
        job_id = req.get_param("jobId", required=True)
        data = execution_json(self.livecode.get_execution(job_id, req.context.caller.owner))
        resp.media = {"jobId": job_id, **data}


class Languages(Resource):
    def on_get(self, req, resp):
        resp.media = {"languages": self.introspection.languages()}


class LimitsResource(Resource):
    def on_get(self, req, resp):
        resp.media = self.introspection.limits()


class Workers(Resource):
    scope = "operator"

    def on_get(self, req, resp):
        resp.media = {"workers": self.reporting.workers(),
                      "lost_after_seconds": self.settings.worker_lost_after}


class Stats(Resource):
    scope = "operator"

    def on_get(self, req, resp):
        resp.media = self.reporting.stats(query_float(req, "window", 300, 1, 31 * 24 * 3600),
                                         query_time(req, "until"))

    def on_get_failures(self, req, resp):
        window = query_float(req, "window", 3600, 1, 31 * 24 * 3600)
        resp.media = {"failures": self.reporting.failures(window, query_time(req, "until"))}


class Queues(Resource):
    scope = "operator"

    def on_get(self, req, resp):
        resp.media = {"queues": self.reporting.queue_stats()}


class Keys(Resource):
    """API keys, for admins: the key itself is in the answer to its creation, and nowhere else."""

    scope = "admin"

    def on_get(self, req, resp):
        resp.media = {"keys": [k.public() for k in self.livecode.store.list_keys()]}

    def on_post(self, req, resp):
        body = read_body(req, {"name": str, "scope": str, "quotas": dict}, 4096)
        record, key = keys.issue(self.livecode.store, body.get("name", ""),
                                 body.get("scope", "client"), body.get("quotas"))
        resp.status = falcon.HTTP_201
        resp.location = f"/keys/{record.key_id}"
        resp.media = {**record.public(), "key": key}

    def on_delete_item(self, req, resp, key_id):
        resp.media = keys.revoke(self.livecode.store, key_id).public()


class Health(Resource):
    def on_get(self, req, resp):
        report = self.introspection.health()
        resp.status = falcon.HTTP_200 if report["ok"] else falcon.HTTP_503
        resp.media = report


class Root:
    """``GET /``: where a newcomer lands: what this is, where the docs are, the health check
    and every route with its methods (read from the app, so never out of date). Needs no key."""

    routes: dict[str, list[str]] = {}

    def list_routes(self, app) -> None:
        from falcon.inspect import inspect_routes

        self.routes = {route.path: sorted({m.method for m in route.methods
                                           if m.internal is False and m.method != "OPTIONS"})
                       for route in inspect_routes(app)}

    def on_get(self, req, resp):
        resp.media = {
            "name": "livecode", "version": __version__,
            "docs": "README.md of the livecode package, section API",
            "health": "/health",
            "routes": self.routes,
        }
