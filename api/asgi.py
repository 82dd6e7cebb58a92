"""One server for two kinds of request. Most of the API answers at once and is the WSGI Falcon
app, run in a thread pool through ``a2wsgi`` as before; the requests that stay open for
seconds or minutes (live events, WebSockets, ``?wait=``) go to a ``falcon.asgi.App`` whose
responders are coroutines, so a thousand of them cost a thousand coroutines, not a thousand
threads. :class:`Dispatcher` sends each request to one of the two by its path alone.

Both apps have the same middleware objects (keys and scopes, quotas, CORS, metrics) and the
same error shape; in the ASGI app the middleware's blocking store calls run in a thread
(:class:`InThreads`).
"""

import asyncio
import re
from urllib.parse import parse_qs

import falcon
import falcon.asgi

from . import errors
from .live import WaitingExecution


class InThreads:
    """A WSGI middleware for the ASGI app: each of its steps in a thread of the loop's pool
    when it may block (it reads the store), else inline. A WebSocket's key may also come as
    ``?access_token=`` (browsers cannot set a WebSocket's headers): it is read as the
    Authorization header it stands for."""

    def __init__(self, inner, blocking: bool = True):
        self.inner = inner
        self.call = asyncio.to_thread if blocking else _inline

    async def process_request(self, req, resp):
        if hasattr(self.inner, "process_request"):
            await self.call(self.inner.process_request, req, resp)

    async def process_resource(self, req, resp, resource, params):
        if hasattr(self.inner, "process_resource"):
            await self.call(self.inner.process_resource, req, resp, resource, params)

    async def process_response(self, req, resp, resource, req_succeeded):
        if hasattr(self.inner, "process_response"):
            await self.call(self.inner.process_response, req, resp, resource,
                                    req_succeeded)

    async def process_request_ws(self, req, ws):
        if hasattr(self.inner, "process_request"):
            token = req.get_param("access_token")
            if token and req.get_header("Authorization") is None:
                req._asgi_headers[b"authorization"] = b"Bearer " + token.encode("latin-1",
                                                                                "replace")
            await self.call(self.inner.process_request, req, None)

    async def process_resource_ws(self, req, ws, resource, params):
        if hasattr(self.inner, "process_resource"):
            await self.call(self.inner.process_resource, req, None, resource, params)


async def _inline(function, *args):
    return function(*args)


def create_live_app(routes, wait_resource: WaitingExecution, middleware) -> falcon.asgi.App:
    """``middleware``: ``(component, blocking)`` pairs, in the WSGI app's order."""
    app = falcon.asgi.App(middleware=[InThreads(m, blocking) for m, blocking in middleware])
    app.req_options.media_handlers = falcon.media.Handlers(
        {falcon.MEDIA_JSON: falcon.media.JSONHandler()})
    errors.register(app)
    for path, resource, suffix in routes:
        app.add_route(path, resource, suffix=suffix)
    app.add_route("/executions/{execution_id}", wait_resource)
    return app


def live_routes_of(app: falcon.asgi.App):
    """The ASGI app's route templates, the wait route aside (the dispatcher knows it)."""
    from falcon.inspect import inspect_routes
    return [(r.path, None, None) for r in inspect_routes(app)
            if r.path != "/executions/{execution_id}"]


def template_pattern(path: str) -> re.Pattern:
    return re.compile("^" + re.sub(r"\\{\w+\\}", "[^/]+", re.escape(path)) + "$")


WAITING = re.compile(r"^/executions/[^/]+$")


class Dispatcher:
    """ASGI: WebSockets and the long-lived routes to ``live``, every other request to ``rest``
    (the WSGI app, behind :class:`~.serving.WholeRequests`)."""

    def __init__(self, live, rest, live_paths):
        self.live, self.rest = live, rest
        self.patterns = [template_pattern(path) for path in live_paths]

    def is_live(self, scope) -> bool:
        if scope["type"] == "websocket":
            return True
        path = scope.get("path", "")
        if any(p.match(path) for p in self.patterns):
            return True
        return (scope.get("method") == "GET" and WAITING.match(path) is not None
                and "wait" in parse_qs(scope.get("query_string", b"").decode("latin-1")))

    async def __call__(self, scope, receive, send):
        if scope["type"] in ("http", "websocket") and self.is_live(scope):
            return await self.live(scope, receive, send)
        return await self.rest(scope, receive, send)
