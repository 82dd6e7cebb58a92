"""HTTP resources, one per noun; each translates between JSON and the service, nothing more.

Every resource acts for ``req.context.caller`` (see :mod:`.auth`): a client key reads and changes
only what it owns (anything else is 404), operators and admins everyone's. ``scope`` is the
least a route needs.
"""

import json
from dataclasses import dataclass

import falcon

from livecode import __version__
from livecode.core.errors import InvalidInput, NotFound
from livecode.core.execution_states import Status
from livecode.core.limits import Limits
from livecode.core.models import TEXT_FIELDS
from livecode.core.service import MAX_PAGE, Livecode
from livecode.core.test_cases import COMPARISONS

from . import batch, keys
from .callback_field import CALLBACK_URL
from .callback_field import extra as callback_extra
from .introspection import Introspection
from .operations import Answer, operation
from .quotas import Quotas
from .reporting import Reporting
from .validation import (FILTER_PARAMS, Body, Field, Param, check_fields, execution_filter,
                         texts_of)
from .waiting import WAIT, check_wait


def _within_cap(name):
    return lambda livecode: {"exclusiveMinimum": 0,
                             "maximum": getattr(livecode.settings.limit_caps, name)}


# Per-run limits a request may set (Judge0's names), each a number within the server's caps.
LIMIT_FIELDS = {name: Field((int, float) if kind is float else int,
                            f"this run's {name}, above 0 and at most the server's cap "
                            "(GET /limits)", _within_cap(name))
                for name, kind in Limits.names().items()}
LANGUAGE = Field(str, "a language of GET /languages",
                 lambda livecode: {"enum": sorted(livecode.plugins.languages)})
SOURCE = Field(str, "the program's source code: one file, the language's main file")
STDIN = Field(str, "what the program reads on its standard input")
PROGRAM_FIELDS = {
    "files": Field(list, "a program of several files, instead of source_code: [{name, content}]; "
                         "a name is a relative path inside the box (no leading /, no . or .. "
                         "parts), at most LIVECODE_MAX_FILES files of LIVECODE_MAX_FILES_BYTES "
                         "in all",
                   lambda livecode: {"minItems": 1, "maxItems": livecode.settings.max_files,
                                     "items": {"type": "object", "properties": {
                                         "name": {"type": "string", "minLength": 1},
                                         "content": {"type": "string"}},
                                         "required": ["name", "content"],
                                         "additionalProperties": False}}),
    "entry": Field(str, "which of files runs (or is compiled first); the first by default"),
}
# How one run is run, beside its limits.
OPTION_FIELDS = {
    "args": Field(list, "command-line arguments for the program, at most LIVECODE_MAX_ARGS, "
                        "each without NUL or newline",
                  lambda livecode: {"maxItems": livecode.settings.max_args,
                                    "items": {"type": "string"}}),
    "compiler_options": Field(list, "options for a compiled language's compiler (C, C++), "
                                    "one flag each, after livecode's own",
                              lambda _: {"items": {"type": "string"}}),
    "redirect_stderr_to_stdout": Field(bool, "the program's stderr goes to its stdout, "
                                             "in the order written"),
}
INTERACTIVE = Field(bool, "keep the program's stdin open for what a client sends on the "
                          "WebSocket /executions/{id}/io while it runs (after stdin)")

# Test cases (core.test_cases checks each one's size and their number).
TEST_FIELDS = {
    "tests": Field(list, "run the program once per case, each in a fresh sandbox: "
                         "[{stdin, expected_output?}], at most LIVECODE_MAX_TESTS",
                   lambda livecode: {"minItems": 1, "maxItems": livecode.settings.max_tests, "items": {
                       "type": "object", "properties": {
                           "stdin": {"type": "string"},
                           "expected_output": {"type": ["string", "null"]}},
                       "additionalProperties": False}}),
    "comparison": Field(str, "how a case's output is compared with its expected_output",
                        lambda _: {"enum": list(COMPARISONS)}),
}


def program_bytes(settings) -> int:
    """The most a program takes: one text, or several files (and their names)."""
    return max(settings.max_source_bytes, settings.max_files_bytes + 512 * settings.max_files)


def run_body_bytes(settings) -> int:
    """The most a valid run request holds: the program, stdin, each test's stdin and output,
    and the arguments."""
    return (program_bytes(settings) + settings.max_stdin_bytes * (1 + 2 * settings.max_tests)
            + 4096 * settings.max_args)


SESSION_BODY = Body({"language": LANGUAGE, "source_code": SOURCE, **PROGRAM_FIELDS},
                    program_bytes, aliases={"sourceCode": "source_code"},
                    example={"language": "python", "source_code": "print('hello')"})
AUTOSAVE_BODY = Body({"language": LANGUAGE, "source_code": SOURCE, **PROGRAM_FIELDS,
                      "revision": Field(int, "the revision this save follows; a stale one is "
                                             "refused with 409")},
                     program_bytes, aliases={"sourceCode": "source_code"},
                     example={"sourceCode": "print('Hello World')", "revision": 1})
def batch_body_bytes(settings) -> int:
    """A batch's cap: every item's source and stdin (test cases count against it too, so large
    test suites go in several batches)."""
    per_item = settings.max_source_bytes + 2 * settings.max_stdin_bytes
    return max(run_body_bytes(settings), per_item * settings.max_batch)


RUN_BODY = Body({"stdin": STDIN, "interactive": INTERACTIVE, **TEST_FIELDS, **OPTION_FIELDS,
                 **LIMIT_FIELDS, "callback_url": CALLBACK_URL}, run_body_bytes,
                example={"stdin": "42\n", "wall_time_limit": 2})
SUBMIT_FIELDS = {"code": SOURCE, **PROGRAM_FIELDS, "language": LANGUAGE, "stdin": STDIN,
                 **TEST_FIELDS, **OPTION_FIELDS, **LIMIT_FIELDS, "callback_url": CALLBACK_URL}
# A batch's items are these fields too; an interactive run is one a client follows alone.
SUBMIT_BODY = Body({**SUBMIT_FIELDS, "interactive": INTERACTIVE}, run_body_bytes,
                   example={"code": "print(6*7)", "language": "python"})
BATCH_ITEM = {**SUBMIT_FIELDS, "session_id": Field(str, "run this saved session as it is now "
                                                        "(instead of code and language)")}
BATCH_TYPES = {name: f.kind for name, f in BATCH_ITEM.items()}
BATCH_BODY = Body({"runs": Field(list, "the runs, each /submit-code's body or a session_id "
                                       "with stdin, tests, limits and callback_url",
                                 lambda livecode: {"minItems": 1,
                                                   "maxItems": livecode.settings.max_batch,
                                                   "items": {"type": "object", "properties": {
                                                       name: f.schema(livecode)
                                                       for name, f in BATCH_ITEM.items()},
                                                       "additionalProperties": False}})},
                  batch_body_bytes, required=("runs",),
                  example={"runs": [{"code": "print(1)", "language": "python"},
                                    {"code": "console.log(2)", "language": "javascript",
                                     "callback_url": "https://example.com/hook"}]})
KEY_BODY = Body({
    "name": Field(str, "what the key is for", lambda _: {"minLength": 1, "maxLength": 200}),
    "scope": Field(str, "client (its own sessions and runs), operator (everyone's, and the "
                        "operators' reports) or admin (also keys); client by default",
                   lambda _: {"enum": list(keys.SCOPES)}),
    "quotas": Field(dict, "this key's own quotas (0: unlimited); the deployment's otherwise",
                    lambda _: {"properties": {q: {"type": "integer", "minimum": 0}
                                              for q in keys.QUOTAS},
                               "additionalProperties": False}),
}, 4096, required=("name",), example={"name": "frontend", "scope": "client",
                                      "quotas": {"runs_per_minute": 30}})

STATUS_CHOICES = tuple(f"{neg}{s.value}" for neg in ("", "!") for s in Status)
LIST_QUERY = (
    Param("limit", "integer", "runs on a page at most", 50, 1, MAX_PAGE),
    Param("before", "string", "the next_before of the previous page"),
    Param("fields", "list", "texts to include: source_code, stdin, stdout, stderr, files "
                            "(comma-separated or repeated); none by default, but their sizes",
          example=["stdout,stderr"]),
    Param("status", "list", "only runs in these states; !STATE excludes", choices=STATUS_CHOICES,
          example=["FAILED", "TIMEOUT"]),
    Param("language", "list", "only runs of these languages; !name excludes"),
    Param("reason", "list", "only runs that ended for these reasons (output_limit, …); "
                            "!… excludes"),
    Param("worker", "list", "only runs of workers whose id contains this; !… excludes"),
    Param("q", "list", "only runs whose stdout or stderr contains this; !… excludes"),
    Param("since", "time", "only runs created at or after this time"),
    Param("until", "time", "only runs created before this time"),
)
FILTER_QUERY = (*FILTER_PARAMS, "since", "until")
MONTH = 31 * 24 * 3600
UNTIL = Param("until", "time", "the window's end (default now)")


# An action that takes no body: anything sent is refused, not ignored (64 bytes: room for {}).
NO_BODY = Body({}, 64)


def split_limits(body: dict) -> dict:
    return {name: body.pop(name) for name in list(body) if name in LIMIT_FIELDS}


def split_options(body: dict) -> dict:
    return {name: body.pop(name) for name in list(body) if name in OPTION_FIELDS}


def interactive_extra(body: dict) -> dict:
    """What an interactive run keeps for the worker: its stdin stays open to a client's socket."""
    return {"interactive": True} if body.get("interactive") else {}


def batch_request(item) -> dict:
    """A batch item as arguments of :func:`.batch.prepare`: its limits and options gathered."""
    item = dict(item)
    limits, options = split_limits(item), split_options(item)
    return {**item, "limits": limits, "options": options}


def execution_json(execution, texts=TEXT_FIELDS) -> dict:
    """An execution; a listing's summaries leave out the texts not in ``texts`` (their sizes,
    ``*_bytes``, are always there)."""
    data = execution.to_dict()
    extra = data.pop("extra")
    data["rerun_of"] = extra.get("rerun_of")
    callback = extra.get("callback")
    data["callback"] = None if callback is None else {
        name: callback[name] for name in ("url", "state", "attempts", "last_status",
                                          "last_error", "delivered_at")}
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
    query = req.context.query
    limit = query["limit"]
    texts = texts_of(query["fields"])
    match = execution_filter(query)
    budget = livecode.settings.max_page_bytes
    step = 1 if {"stdout", "stderr"} & set(texts) else limit
    found, used, before = [], 0, query["before"]
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


SESSION = Answer("Session", "the session")
EXECUTION = Answer("Execution", "the execution")
QUEUED = Answer("Queued", "queued; poll the Location", location=True)
PAGE = Answer("ExecutionPage", "a page of summaries, newest first")


class CodeSessions(Resource):
    @operation("Create a code session", {201: Answer("Session", "the new session", location=True)},
               body=SESSION_BODY)
    def on_post(self, req, resp):
        body = req.context.body
        session = self.livecode.create_session(body.get("language"), body.get("source_code", ""),
                                               owner=req.context.caller.key_id,
                                               files=body.get("files"), entry=body.get("entry"))
        resp.status = falcon.HTTP_201
        resp.location = f"/code-sessions/{session.session_id}"
        resp.media = session.to_dict()

    @operation("Read a code session", {200: SESSION})
    def on_get_item(self, req, resp, session_id):
        resp.media = self.livecode.get_session(session_id, req.context.caller.owner).to_dict()

    @operation("Autosave a code session (never starts a run)", {200: SESSION},
               body=AUTOSAVE_BODY, errors={409: "revision is not the session's current one "
                                                "(another tab saved first)"})
    def on_patch_item(self, req, resp, session_id):
        body = req.context.body
        if not 0 < body.get("revision", 1) < 2 ** 63:  # what every store's integers hold
            raise InvalidInput(f"revision must be from 1 to 2**63 - 1, not {body['revision']}",
                               field="revision")
        session = self.livecode.autosave(session_id, body.get("source_code"),
                                         body.get("language"), body.get("revision"),
                                         owner=req.context.caller.owner,
                                         files=body.get("files"), entry=body.get("entry"))
        resp.media = session.to_dict()

    @operation("Run what the session holds now", {202: QUEUED}, body=RUN_BODY)
    def on_post_run(self, req, resp, session_id):
        body = dict(req.context.body)
        limits, options = split_limits(body), split_options(body)
        caller = req.context.caller
        self.livecode.get_session(session_id, caller.owner)  # 404 before any quota is spent
        extra = {**callback_extra(self.livecode, caller, body.get("callback_url")),
                 **interactive_extra(body)}
        with self.quotas.reserve_runs(caller):
            execution = self.livecode.run(session_id, body.get("stdin", ""), limits,
                                          body.get("tests"), body.get("comparison"), caller.owner,
                                          extra, options)
        resp.status = falcon.HTTP_202
        resp.location = f"/executions/{execution.execution_id}"
        resp.media = queued_json(execution)

    @operation("List a session's runs", {200: PAGE}, query=LIST_QUERY)
    def on_get_executions(self, req, resp, session_id):
        self.livecode.get_session(session_id, req.context.caller.owner)
        resp.media = list_page(self.livecode, req, session_id)


class Executions(Resource):
    @operation("List runs, or read several by id", {200: PAGE},
               query=(Param("ids", "list", "read these runs (comma-separated or repeated, at "
                                           "most LIVECODE_MAX_BATCH), in this order; another "
                                           "key's or unknown ids are left out. Only fields "
                                           "goes with it", example=["id1,id2"]),
                      Param("session_id", "string", "only this session's runs"), *LIST_QUERY),
               errors={404: "before names no run (or another key's)"})
    def on_get(self, req, resp):
        query = req.context.query
        if query["ids"]:
            resp.media = self.by_ids(req)
        else:
            resp.media = list_page(self.livecode, req, query["session_id"])

    def by_ids(self, req) -> dict:
        query = req.context.query
        others = sorted(name for name in ("session_id", "before", *FILTER_QUERY)
                        if query[name] not in (None, []))
        if others or "limit" in req.params:
            raise InvalidInput(f"ids reads runs by id and goes with fields alone, not with "
                               f"{', '.join(others or ['limit'])}", field="ids")
        ids = list(dict.fromkeys(i for value in query["ids"] for i in value.split(",") if i))
        cap = self.settings.max_batch
        if not 1 <= len(ids) <= cap:
            raise InvalidInput(f"ids must name 1 to {cap} runs (LIVECODE_MAX_BATCH)", field="ids")
        texts = texts_of(query["fields"])
        found = []
        for execution_id in ids:
            try:
                execution = self.livecode.get_execution(execution_id, req.context.caller.owner)
            except NotFound:
                continue
            found.append(execution_json(execution, texts))
        return {"executions": found, "next_before": None}

    @operation("Queue several runs at once, all or nothing",
               {202: Answer("BatchQueued", "every run queued, in the order sent")},
               body=BATCH_BODY,
               errors={404: "an item's session_id names no session (or another key's)",
                       422: "an item is invalid (error.index names it): nothing was queued"})
    def on_post_batch(self, req, resp):
        requests = []
        for index, item in enumerate(req.context.body["runs"]):
            if not isinstance(item, dict):
                raise InvalidInput(f"runs[{index}] must be an object", field="runs", index=index)
            try:
                requests.append(batch_request(check_fields(item, BATCH_TYPES,
                                                           where=f"runs[{index}].")))
            except InvalidInput as exc:
                raise InvalidInput(exc.message, **{**exc.details, "index": index}) from None
        queued = batch.queue_batch(self.livecode, self.quotas, req.context.caller, requests)
        resp.status = falcon.HTTP_202
        resp.media = {"executions": [queued_json(e) for e in queued]}

    @operation("Read a run", {200: EXECUTION}, query=(WAIT,),
               description="With wait=N, the answer comes as soon as the run has ended, or "
                           "after N seconds with its state then.")
    def on_get_item(self, req, resp, execution_id):
        check_wait(req.context.query)
        resp.media = execution_json(
            self.livecode.get_execution(execution_id, req.context.caller.owner))

    @operation("Cancel a queued run", {200: Answer("Execution", "the cancelled run")},
               body=NO_BODY, errors={409: "the run has started or ended"})
    def on_post_cancel(self, req, resp, execution_id):
        resp.media = execution_json(self.livecode.cancel(execution_id, req.context.caller.owner))

    @operation("Run the same code, stdin and limits again", {202: QUEUED},
               body=NO_BODY, errors={422: "a limit of the run is above today's cap"})
    def on_post_rerun(self, req, resp, execution_id):
        caller = req.context.caller
        self.livecode.get_execution(execution_id, caller.owner)
        with self.quotas.reserve_runs(caller):
            execution = self.livecode.rerun(execution_id, caller.owner)
        resp.status = falcon.HTTP_202
        resp.location = f"/executions/{execution.execution_id}"
        resp.media = {**queued_json(execution), "rerun_of": execution_id}


class SubmitCode(Resource):
    """The one-shot API: ``POST /submit-code`` then poll ``GET /exec-result?jobId=``."""

    @operation("Run a program at once (a session made for it alone)",
               {202: Answer("Job", "queued; poll the Location", location=True)},
               body=SUBMIT_BODY)
    def on_post(self, req, resp):
        body = dict(req.context.body)
        limits, options = split_limits(body), split_options(body)
        if "code" not in body and "files" not in body:
            raise InvalidInput("code (or files) is required", field="code")
        caller = req.context.caller
        extra = {**callback_extra(self.livecode, caller, body.get("callback_url")),
                 **interactive_extra(body)}
        with self.quotas.reserve_runs(caller):
            execution = self.livecode.submit_code(body.get("code", ""), body.get("language"),
                                                  body.get("stdin", ""), limits,
                                                  body.get("tests"), body.get("comparison"),
                                                  owner=caller.key_id, extra=extra,
                                                  files=body.get("files"),
                                                  entry=body.get("entry"), options=options)
        resp.status = falcon.HTTP_202
        resp.location = f"/exec-result?jobId={execution.execution_id}"
        resp.media = {"jobId": execution.execution_id, "status": str(execution.status)}

    @operation("Read a one-shot run", {200: Answer("JobResult", "the run, with its jobId")},
               query=(Param("jobId", "string", "the jobId POST /submit-code answered",
                            required=True),),
               errors={404: "no such job (or another key's)"})
    def on_get_result(self, req, resp):
        job_id = req.context.query["jobId"]
        data = execution_json(self.livecode.get_execution(job_id, req.context.caller.owner))
        resp.media = {"jobId": job_id, **data}


class Languages(Resource):
    @operation("The languages, their versions and sandboxes",
               {200: Answer("Languages", "every language")})
    def on_get(self, req, resp):
        resp.media = {"languages": self.introspection.languages()}


class LimitsResource(Resource):
    @operation("Default limits and the caps a request may ask up to",
               {200: Answer("LimitsInfo", "defaults and caps")})
    def on_get(self, req, resp):
        resp.media = self.introspection.limits()


class Workers(Resource):
    scope = "operator"

    @operation("Every worker that reported", {200: Answer("Workers", "the workers")})
    def on_get(self, req, resp):
        resp.media = {"workers": self.reporting.workers(),
                      "lost_after_seconds": self.settings.worker_lost_after}


class Stats(Resource):
    scope = "operator"

    @operation("Run statistics of a window", {200: Answer("Stats", "the window's statistics")},
               query=(Param("window", "number", "seconds", 300, 1, MONTH), UNTIL))
    def on_get(self, req, resp):
        query = req.context.query
        resp.media = self.reporting.stats(query["window"], query["until"])

    @operation("Failed and timed-out runs grouped by signature",
               {200: Answer("Failures", "the groups, most frequent first")},
               query=(Param("window", "number", "seconds", 3600, 1, MONTH), UNTIL))
    def on_get_failures(self, req, resp):
        query = req.context.query
        resp.media = {"failures": self.reporting.failures(query["window"], query["until"])}


class Queues(Resource):
    scope = "operator"

    @operation("Queue depth, consumers and the oldest wait", {200: Answer("Queues", "per queue")})
    def on_get(self, req, resp):
        resp.media = {"queues": self.reporting.queue_stats()}


class Keys(Resource):
    """API keys, for admins: the key itself is in the answer to its creation, and nowhere else."""

    scope = "admin"

    @operation("List API keys (never their secret)", {200: Answer("Keys", "every key")})
    def on_get(self, req, resp):
        resp.media = {"keys": [k.public() for k in self.livecode.store.list_keys()]}

    @operation("Make an API key", {201: Answer("NewKey", "the key, shown this once",
                                               location=True)}, body=KEY_BODY)
    def on_post(self, req, resp):
        body = req.context.body
        record, key = keys.issue(self.livecode.store, body["name"],
                                 body.get("scope", "client"), body.get("quotas"))
        resp.status = falcon.HTTP_201
        resp.location = f"/keys/{record.key_id}"
        resp.media = {**record.public(), "key": key,
                      "signing_secret": keys.signing_secret(record)}

    @operation("Revoke an API key", {200: Answer("Key", "the revoked key")})
    def on_delete_item(self, req, resp, key_id):
        resp.media = keys.revoke(self.livecode.store, key_id).public()


class SigningSecret(Resource):
    """The caller's own callback signing secret (derived from its key: README, Callbacks)."""

    @operation("The signing secret of the key you call with (it signs your callbacks)",
               {200: Answer("SigningSecret", "the key's id and signing secret")},
               errors={404: "the request came without a key (the local admin has none)"})
    def on_get(self, req, resp):
        caller = req.context.caller
        record = self.livecode.store.get_key(caller.key_id) if caller.key_id else None
        if record is None:
            raise NotFound("this request came without an API key, so it has no signing secret")
        resp.media = {"key_id": record.key_id, "signing_secret": keys.signing_secret(record)}


class Health(Resource):
    @operation("Whether the store and queue answer (needs no key)",
               {200: Answer("Health", "all is well"),
                503: Answer("Health", "the store or the queue does not answer")})
    def on_get(self, req, resp):
        report = self.introspection.health()
        resp.status = falcon.HTTP_200 if report["ok"] else falcon.HTTP_503
        resp.media = report


class Root:
    """``GET /``: where a newcomer lands: what this is, where the docs are, the health check
    and every route with its methods (read from the app, so never out of date). Needs no key.
    A browser gets the playground page instead, unless it is turned off (:mod:`.playground`)."""

    routes: dict[str, list[str]] = {}
    settings = None  # what @operation reads a body's cap from: it reads no body

    def __init__(self, playground=None):
        self.playground = playground

    def list_routes(self, *apps) -> None:
        from falcon.inspect import inspect_routes

        self.routes = {}
        for app in apps:
            for route in inspect_routes(app):
                self.routes.setdefault(route.path, set()).update(
                    m.method for m in route.methods
                    if m.internal is False and m.method not in ("OPTIONS", "WEBSOCKET"))
        self.routes = {path: sorted(methods) for path, methods in self.routes.items()}

    @operation("What this is, where the docs are, and every route (needs no key)",
               {200: Answer("Root", "the service and its routes; a browser (Accept preferring "
                                    "text/html) gets the playground page",
                            also={"text/html": "Page"})})
    def on_get(self, req, resp):
        resp.vary = ["Accept"]
        if self.playground is not None and self.playground.wanted_by(req):
            self.playground.serve(resp)
            return
        resp.media = {
            "name": "livecode", "version": __version__,
            "docs": "/api-docs (Swagger UI over /openapi.json)",
            "health": "/health",
            "playground": ("GET / with Accept: text/html (a browser)"
                           if self.playground is not None else None),
            "routes": self.routes,
        }
