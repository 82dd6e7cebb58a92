"""One JSON error shape for every failure, ours, Falcon's or the HTTP server's::

    {"error": {"status": 404, "code": "not_found", "message": "no execution 'x'", ...details}}

One ``code`` per meaning, whoever noticed the problem: a missing route and a missing id are both
``not_found``. Details name what was wrong: ``field`` (a body field or query parameter),
``cap`` (the most a limit may be), ``revision`` (the session's current revision). A domain
error's status is found by its class's inheritance, so a subclass of a known error gets its
parent's status, never a 500.
"""

import json
import re

import falcon
import falcon.asgi

from livecode.core import errors

STATUS_BY_ERROR = {
    errors.NotFound: falcon.HTTP_404,
    errors.InvalidInput: falcon.HTTP_422,
    errors.PayloadTooLarge: falcon.HTTP_413,
    errors.Conflict: falcon.HTTP_409,
    errors.IllegalTransition: falcon.HTTP_409,
    errors.Unavailable: falcon.HTTP_503,
}

# The code of an error nobody gave one, by HTTP status.
CODE_BY_STATUS = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "payload_too_large", 414: "uri_too_long",
    415: "unsupported_media_type", 417: "expectation_failed", 422: "invalid_input",
    429: "too_many_requests", 431: "headers_too_large", 500: "internal_error",
    501: "not_implemented", 503: "unavailable",
}


def error_body(status: int, code: str | None, message: str, **details) -> dict:
    code = code or CODE_BY_STATUS.get(status, "error")
    return {"error": {**details, "status": status, "code": code, "message": message}}


class APIError(falcon.HTTPError):
    def __init__(self, status, code: str, message: str, details: dict | None = None,
                 headers: dict | None = None):
        super().__init__(status, title=code, description=message, headers=headers)
        self.code = code
        self.details = details or {}

    def to_dict(self, obj_type=dict):
        return obj_type(error_body(self.status_code, self.code, self.description,
                                   **self.details))


def status_of(error_type: type) -> str:
    for cls in error_type.__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return falcon.HTTP_500


def handle_domain_error(req, resp, exc: errors.LivecodeError, params):
    raise APIError(status_of(type(exc)), exc.code, exc.message, exc.details)


PARAM_NAME = re.compile(r'The "([^"]+)" parameter')


def handle_invalid_param(req, resp, exc: falcon.HTTPInvalidParam, params):
    """A query parameter of the wrong type is the same as a body field of the wrong type: 422
    ``invalid_input`` naming it (Falcon's own would be a 400)."""
    found = PARAM_NAME.search(exc.description or "")
    details = {"field": found.group(1)} if found else {}
    raise APIError(falcon.HTTP_422, "invalid_input", exc.description, details)


def serialize_error(req, resp, exc: falcon.HTTPError):
    """Falcon's own errors (malformed JSON, unknown route, wrong method) get our shape too."""
    if isinstance(exc, APIError):
        body = exc.to_dict()
    elif isinstance(exc, falcon.HTTPRouteNotFound):
        body = error_body(404, None, f"no route {req.method} {req.path}; GET / lists them")
    elif isinstance(exc, falcon.HTTPMethodNotAllowed):
        allowed = (exc.headers or {}).get("Allow", "")
        body = error_body(405, None, f"{req.path} does not take {req.method}; it takes "
                                     f"{allowed.replace(', OPTIONS', '') or 'nothing'}")
    elif isinstance(exc, falcon.HTTPMissingParam):
        found = PARAM_NAME.search(exc.description or "")
        body = error_body(400, "missing_parameter", exc.description,
                          **({"field": found.group(1)} if found else {}))
    else:
        body = error_body(exc.status_code, None, exc.description or exc.title)
    resp.media = body
    resp.content_type = falcon.MEDIA_JSON
    if req.context.get("close_connection"):  # part of a refused body is still unread
        resp.set_header("Connection", "close")


def http_error_response(status: int, reason: str, message: str) -> bytes:
    """A whole HTTP response in our shape, for errors the HTTP server answers before the
    application sees the request (a malformed request line, headers too large)."""
    body = json.dumps(error_body(status, None, message)).encode()
    head = (f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")
    return head.encode("latin-1") + body


def register(app: falcon.App) -> None:
    # Falcon picks the handler of the nearest registered base class: every LivecodeError.
    asgi = isinstance(app, falcon.asgi.App)
    if asgi:
        app.add_error_handler(falcon.HTTPError, handle_http_error_asgi)
    for error, handler in ((errors.LivecodeError, handle_domain_error),
                           (falcon.HTTPInvalidParam, handle_invalid_param)):
        app.add_error_handler(error, _awaitable(handler) if asgi else handler)
    app.set_error_serializer(serialize_error)


def _awaitable(handler):
    """The same handler for the ASGI app, answering with the error it raises."""
    async def handle(req, resp, exc, params, ws=None):
        try:
            handler(req, resp, exc, params)
        except falcon.HTTPError as error:
            await handle_http_error_asgi(req, resp, error, params, ws)
    return handle


async def handle_http_error_asgi(req, resp, exc: falcon.HTTPError, params, ws=None):
    """An error answers an HTTP request as in the WSGI app. A WebSocket is accepted and then
    closed with 3000 + the status and the message as its reason: a browser never sees the
    status of a refused handshake, but it does see a close code."""
    if ws is not None:
        if ws.unaccepted:
            await ws.accept()
        await ws.close(3000 + exc.status_code, (exc.description or exc.title or "")[:120])
        return
    resp.status = exc.status
    resp.set_headers(exc.headers or {})
    serialize_error(req, resp, exc)
