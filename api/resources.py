"""HTTP resources, one per noun; each translates between JSON and the service, nothing more."""

import falcon

from livecode import __version__
from livecode.core.errors import InvalidInput
from livecode.core.execution_filter import ExecutionFilter, Term
from livecode.core.limits import Limits
from livecode.core.service import Livecode

from .introspection import Introspection
from .reporting import Reporting
from .validation import query_int, query_time, read_body


# Per-run limits a request may set (Judge0's names), each a number within the server's caps.
LIMIT_FIELDS = {name: (int, float) if kind is float else int
                for name, kind in Limits.names().items()}


NO_BODY = 64  # bytes: room for an empty JSON object, the body of an action that takes none


def split_limits(body: dict) -> dict:
    return {name: body.pop(name) for name in list(body) if name in LIMIT_FIELDS}


def execution_json(execution) -> dict:
    data = execution.to_dict()
    data["rerun_of"] = data.pop("extra").get("rerun_of")
    return data


def session_json(session) -> dict:
    return session.to_dict()


class CodeSessions:
    def __init__(self, livecode: Livecode):
        self.livecode = livecode
        self.max_body = livecode.settings.max_source_bytes

    def on_post(self, req, resp):
        body = read_body(req, {"language": str, "source_code": str}, self.max_body,
                         aliases={"sourceCode": "source_code"})
        session = self.livecode.create_session(body.get("language"), body.get("source_code", ""))
        resp.status = falcon.HTTP_201
        resp.location = f"/code-sessions/{session.session_id}"
        resp.media = session_json(session)

    def on_get_item(self, req, resp, session_id):
        resp.media = session_json(self.livecode.get_session(session_id))

    def on_patch_item(self, req, resp, session_id):
        body = read_body(req, {"language": str, "source_code": str, "revision": int},
                         self.max_body, aliases={"sourceCode": "source_code"})
        session = self.livecode.autosave(session_id, body.get("source_code"),
                                         body.get("language"), body.get("revision"))
        resp.media = session_json(session)

    def on_post_run(self, req, resp, session_id):
        body = read_body(req, {"stdin": str, **LIMIT_FIELDS},
                         self.livecode.settings.max_stdin_bytes)
        limits = split_limits(body)
        execution = self.livecode.run(session_id, body.get("stdin", ""), limits)
        resp.status = falcon.HTTP_202
        resp.location = f"/executions/{execution.execution_id}"
        resp.media = {"execution_id": execution.execution_id, "status": str(execution.status)}

    def on_get_executions(self, req, resp, session_id):
        self.livecode.get_session(session_id)
        resp.media = list_page(self.livecode, req, session_id)


FILTER_PARAMS = {"status": "status", "language": "language", "reason": "reason", "worker": "worker",
                 "q": "text"}


def execution_filter(req) -> ExecutionFilter:
    """``?status=FAILED&status=TIMEOUT&language=!python&q=MemoryError&since=…&until=…``: each
    filter parameter may repeat (alternatives) and start with ``!`` (excluded)."""
    terms = []
    for param, field in FILTER_PARAMS.items():
        for raw in req.get_param_as_list(param) or []:
            negate = raw.startswith("!")
            value = raw[1:] if negate else raw
            if value:
                terms.append(Term(field, value, negate))
    return ExecutionFilter(tuple(terms), query_time(req, "since"), query_time(req, "until"))


def list_page(livecode: Livecode, req, session_id=None) -> dict:
    limit = query_int(req, "limit", 50)
    executions = livecode.list_executions(session_id=session_id, limit=limit,
                                          before=req.get_param("before"),
                                          match=execution_filter(req))
    return {
        "executions": [execution_json(e) for e in executions],
        "next_before": executions[-1].execution_id if len(executions) == limit else None,
    }


class Executions:
    def __init__(self, livecode: Livecode):
        self.livecode = livecode

    def on_get(self, req, resp):
        resp.media = list_page(self.livecode, req, req.get_param("session_id"))

    def on_get_item(self, req, resp, execution_id):
        resp.media = execution_json(self.livecode.get_execution(execution_id))

    def on_post_cancel(self, req, resp, execution_id):
        read_body(req, {}, NO_BODY)  # takes none: anything sent is refused, not ignored
        resp.media = execution_json(self.livecode.cancel(execution_id))

    def on_post_rerun(self, req, resp, execution_id):
        read_body(req, {}, NO_BODY)
        execution = self.livecode.rerun(execution_id)
        resp.status = falcon.HTTP_202
        resp.location = f"/executions/{execution.execution_id}"
        resp.media = {"execution_id": execution.execution_id, "status": str(execution.status),
                      "rerun_of": execution_id}


class SubmitCode:
    """The one-shot API: ``POST /submit-code`` then poll ``GET /exec-result?jobId=``."""

    def __init__(self, livecode: Livecode):
        self.livecode = livecode

    def on_post(self, req, resp):
        body = read_body(req, {"code": str, "language": str, "stdin": str, **LIMIT_FIELDS},
                         self.livecode.settings.max_source_bytes)
        if "code" not in body:
            raise InvalidInput("code is required", field="code")
        limits = split_limits(body)
        execution = self.livecode.submit_code(body["code"], body.get("language"),
                                              body.get("stdin", ""), limits)
        resp.status = falcon.HTTP_202
        resp.location = f"/exec-result?jobId={execution.execution_id}"
        resp.media = {"jobId": execution.execution_id, "status": str(execution.status)}

    def on_get_result(self, req, resp):
        job_id = req.get_param("jobId", required=True)
        data = execution_json(self.livecode.get_execution(job_id))
        resp.media = {"jobId": job_id, **data}


class Languages:
    def __init__(self, introspection: Introspection):
        self.introspection = introspection

    def on_get(self, req, resp):
        resp.media = {"languages": self.introspection.languages()}


class LimitsResource:
    def __init__(self, introspection: Introspection):
        self.introspection = introspection

    def on_get(self, req, resp):
        resp.media = self.introspection.limits()


class Workers:
    def __init__(self, reporting: Reporting):
        self.reporting = reporting

    def on_get(self, req, resp):
        resp.media = {"workers": self.reporting.workers(),
                      "lost_after_seconds": self.reporting.settings.worker_lost_after}


def window(req, default: float) -> float:
    value = req.get_param_as_float("window", default=default)
    if not 1 <= value <= 31 * 24 * 3600:
        raise InvalidInput("window must be between 1 second and 31 days", field="window")
    return value


class Stats:
    def __init__(self, reporting: Reporting):
        self.reporting = reporting

    def on_get(self, req, resp):
        resp.media = self.reporting.stats(window(req, 300), query_time(req, "until"))

    def on_get_failures(self, req, resp):
        resp.media = {"failures": self.reporting.failures(window(req, 3600),
                                                          query_time(req, "until"))}


class Queues:
    def __init__(self, reporting: Reporting):
        self.reporting = reporting

    def on_get(self, req, resp):
        resp.media = {"queues": self.reporting.queue_stats()}


class Health:
    def __init__(self, introspection: Introspection):
        self.introspection = introspection

    def on_get(self, req, resp):
        report = self.introspection.health()
        resp.status = falcon.HTTP_200 if report["ok"] else falcon.HTTP_503
        resp.media = report


class Root:
    """``GET /``: where a newcomer lands: what this is, where the docs are, the health check
    and every route with its methods (read from the app, so never out of date)."""

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
