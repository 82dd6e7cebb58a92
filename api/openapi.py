"""The OpenAPI 3.1 document, built from the route table and the operations its responders
declare (:mod:`.operations`): the declarations that check requests are the ones described here.
A responder without a declaration stops the app from being made, so no route goes undocumented.
Swagger UI at ``/api-docs`` reads it, served from the ``swagger-ui-py`` package's files.
"""

import re
from pathlib import Path

import falcon
import swagger_ui

from .keys import QUOTAS

from .auth import OPEN_PATHS
from .operations import Answer, operation
from .quotas import WRITE_METHODS
from .schemas import SCHEMAS

SWAGGER_UI_FILES = Path(swagger_ui.__file__).parent / "static"
TAGS = {"client": "public", "operator": "operators", "admin": "keys"}
TAG_DESCRIPTIONS = {
    "public": "What frontends use: sessions, runs, the one-shot API, languages, limits, health.",
    "operators": "Operator scope: workers, queues, statistics, failures.",
    "keys": "Admin scope: API keys.",
}
ERRORS = {
    400: "malformed JSON, or a required query parameter missing",
    401: "no API key, or one that is malformed, unknown or revoked",
    403: "the key's scope is too low for this",
    404: "no such id (or it belongs to another key)",
    411: "a chunked body: send it with a Content-Length",
    413: "the body is over the cap",
    415: "the body is not JSON",
    422: "an unknown or mistyped field, a bad value or query parameter (the error names it)",
    429: "a quota is reached; retry after Retry-After seconds",
}
ERROR_EXAMPLES = {
    401: ("unauthorized", "send an API key as Authorization: Bearer <key>"),
    404: ("not_found", "no execution 'x'"),
    422: ("invalid_input", "unknown field(s) colour; accepted: language, source_code"),
    429: ("quota_exceeded", "quota runs_per_minute (60) reached; retry in 12 s"),
}
METHODS = ("GET", "POST", "PATCH", "PUT", "DELETE")


def responders(routes):
    """``(path, method, resource, responder)`` of every route, as Falcon finds them."""
    for path, resource, suffix in routes:
        for method in METHODS:
            name = f"on_{method.lower()}" + (f"_{suffix}" if suffix else "")
            responder = getattr(resource, name, None)
            if responder is not None:
                yield path, method, resource, responder


def document(routes, livecode) -> dict:
    paths: dict = {}
    tags = [{"name": tag, "description": text} for tag, text in TAG_DESCRIPTIONS.items()]
    for path, method, resource, responder in responders(routes):
        op = getattr(responder, "operation", None)
        if op is None:
            raise TypeError(f"{method} {path} ({type(resource).__name__}.{responder.__name__}) "
                            "declares no operation: decorate it with @operation")
        paths.setdefault(path, {})[method.lower()] = describe(path, method, resource, op,
                                                              livecode)
        tag = getattr(resource, "tag", None)
        if tag and all(t["name"] != tag.name for t in tags):
            tags.append({"name": tag.name, "description": tag.description})
    return {
        "openapi": "3.1.0",
        "info": {"title": "livecode", "version": livecode_version(),
                 "description": "Runs untrusted code for other programs: code sessions, "
                                "autosave, runs and their results. Every error has the shape "
                                "of the Error schema."},
        "tags": tags,
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"bearer": {
                "type": "http", "scheme": "bearer", "bearerFormat": "lck_<key id>_<secret>",
                "description": "An API key (livecode keys create). Scopes are ordered: client, "
                               "operator, admin. On loopback with no key stored, no key is "
                               "needed."}},
        },
    }


def describe(path, method, resource, op, livecode) -> dict:
    scope = getattr(resource, "scope", "client")
    is_open = path in OPEN_PATHS
    parameters = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                  for name in re.findall(r"{(\w+)}", path)]
    parameters += [param.schema() for param in op.query]
    responses = {str(status): answer_of(answer) for status, answer in op.answers.items()}
    statuses = dict(op.errors)
    if is_open:  # a key is not needed, but one that is sent is checked
        statuses.setdefault(401, "a key was sent and it is not valid (none is needed)")
    else:
        statuses.setdefault(401, ERRORS[401])
        if method in WRITE_METHODS:
            statuses.setdefault(429, ERRORS[429])
    if scope != "client":
        statuses.setdefault(403, ERRORS[403])
    if "{" in path:
        statuses.setdefault(404, ERRORS[404])
    if op.body is not None:
        for status in (400, 411, 413, 415, 422):
            statuses.setdefault(status, ERRORS[status])
    if any(p.kind != "string" for p in op.query):
        statuses.setdefault(422, ERRORS[422])
    if any(p.required for p in op.query):
        statuses.setdefault(400, ERRORS[400])
    for status, text in sorted(statuses.items()):
        responses[str(status)] = error_of(status, text)
    described = {
        "tags": [getattr(resource, "tag", None) and resource.tag.name or TAGS[scope]],
        "summary": op.summary,
        "operationId": f"{type(resource).__name__}.{method.lower()}{path_suffix(path)}",
        "responses": responses,
        "security": [] if is_open else [{"bearer": [scope]}],
    }
    if scope != "client":
        described["description"] = f"Needs a key of scope {scope} or above."
    if op.description:
        described["description"] = op.description
    if parameters:
        described["parameters"] = parameters
    if op.body is not None:
        described["requestBody"] = {"required": bool(op.body.required), "content": {
            "application/json": {"schema": op.body.schema(livecode)}},
            "description": f"at most {op.body.limit(livecode.settings)} bytes of text"}
    return described


def path_suffix(path: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", path).rstrip("_")


def answer_of(answer: Answer) -> dict:
    schema = answer.schema if isinstance(answer.schema, dict) else {
        "$ref": f"#/components/schemas/{answer.schema}"}
    content = {answer.media_type: {"schema": schema}}
    for media_type, name in answer.also.items():
        content[media_type] = {"schema": {"$ref": f"#/components/schemas/{name}"}}
    described = {"description": answer.description, "content": content}
    if answer.location:
        described["headers"] = {"Location": {"description": "where to read it",
                                             "schema": {"type": "string"}}}
    return described


def error_of(status: int, text: str) -> dict:
    code, message = ERROR_EXAMPLES.get(status, (None, None))
    content = {"schema": {"$ref": "#/components/schemas/Error"}}
    if code:
        content["example"] = {"error": {"status": status, "code": code, "message": message}}
    described = {"description": text, "content": {"application/json": content}}
    if status == 429:
        described["headers"] = {"Retry-After": {
            "description": f"seconds until the quota ({', '.join(QUOTAS)}) allows again",
            "required": True, "schema": {"type": "string", "pattern": "^[0-9]+$"}}}
    if status == 401:
        described["headers"] = {"WWW-Authenticate": {
            "description": "the Bearer challenge", "schema": {"type": "string"}}}
    return described


def livecode_version() -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("livecode")
    except PackageNotFoundError:
        return "0"


SWAGGER_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>livecode API</title>
<link rel="stylesheet" href="/api-docs/static/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/api-docs/static/swagger-ui-bundle.js"></script>
<script>window.ui = SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui"});</script>
</body></html>
"""


class OpenAPIDocument:
    scope = "client"
    settings = None  # what @operation reads a body's cap from: it reads no body

    def __init__(self):
        self.document = None  # set once every route is in the table

    @operation("This document (OpenAPI 3.1)", {200: Answer("OpenAPI", "the document")})
    def on_get(self, req, resp):
        resp.media = self.document


class SwaggerUI:
    scope = "client"
    settings = None

    @operation("Swagger UI over this document, served from the swagger-ui-py package",
               {200: Answer("Page", "the page", media_type="text/html")})
    def on_get(self, req, resp):
        resp.content_type = falcon.MEDIA_HTML
        resp.text = SWAGGER_PAGE


def register(app: falcon.App, routes: list, livecode) -> None:
    """Serve the document of ``routes`` (every route, these included) and Swagger UI. Called
    last: an undeclared responder fails here, when the app is made."""
    spec = OpenAPIDocument()
    for path, resource in (("/openapi.json", spec), ("/api-docs", SwaggerUI())):
        routes.append((path, resource, None))
        app.add_route(path, resource)
    app.add_static_route("/api-docs/static", str(SWAGGER_UI_FILES))
    spec.document = document(routes, livecode)
