"""The Falcon application: every route and middleware on one screen.

``create_app(livecode)`` takes its collaborators, so tests hand it a service built on a temporary
store; ``get_app()`` builds one from the environment, which is what a server imports.
"""

import falcon

from livecode.core.config import Settings
from livecode.core.errors import PluginError
from livecode.core.service import Livecode

from . import errors, openapi, playground
from .asgi import create_live_app
from .auth import Authentication, is_loopback
from .introspection import Introspection
from .live import WaitingExecution, live_routes
from .metrics import Metrics, MetricsResource
from .nul_bytes import RefuseNul
from .quotas import Quotas
from .reporting import Reporting
from .resources import (CodeSessions, Executions, Health, Keys, Languages, LimitsResource, Parts,
                        Queues, Root, Stats, SubmitCode, Workers)


def create_app(livecode: Livecode) -> falcon.App:
    return create_apps(livecode)[0]


def create_apps(livecode: Livecode):
    """The WSGI app and the ASGI app of the long-lived routes (see :mod:`.asgi`), with the same
    middleware, and one route table and OpenAPI document for both."""
    settings = livecode.settings
    origins = [o.strip() for o in settings.cors_origins.split(",") if o.strip()]
    cors = falcon.CORSMiddleware(allow_origins="*" if origins in ([], ["*"]) else origins,
                                 expose_headers=["Location", "Retry-After"])
    auth = Authentication(livecode.store,
                          open_without_keys=is_loopback(settings.host) or settings.insecure_no_auth)
    quotas = Quotas(settings, livecode.store)
    reporting = Reporting(livecode)
    metrics = Metrics(livecode, reporting)
    router = falcon.routing.CompiledRouter()
    app = falcon.App(middleware=[metrics, cors, auth, RefuseNul(), quotas], router=router)
    # JSON only: a form-encoded body (curl -d without a Content-Type) gets a clear 415.
    json_only = falcon.media.Handlers({falcon.MEDIA_JSON: falcon.media.JSONHandler()})
    app.req_options.media_handlers = json_only
    errors.register(app)

    parts = Parts(livecode, quotas, Introspection(livecode), reporting)

    routes = []  # (path, resource, suffix): what the OpenAPI document describes

    def route(path, resource, suffix=None):
        routes.append((path, resource, suffix))
        app.add_route(path, resource, suffix=suffix)

    root = Root(playground.register(app, settings))
    route("/", root)

    sessions = CodeSessions(parts)
    route("/code-sessions", sessions)
    route("/code-sessions/{session_id}", sessions, "item")
    route("/code-sessions/{session_id}/run", sessions, "run")
    route("/sessions/{session_id}/run", sessions, "run")  # the first clients' path
    route("/code-sessions/{session_id}/executions", sessions, "executions")

    executions = Executions(parts)
    route("/executions", executions)
    route("/executions/{execution_id}", executions, "item")
    route("/executions/{execution_id}/cancel", executions, "cancel")
    route("/executions/{execution_id}/rerun", executions, "rerun")

    submit = SubmitCode(parts)
    route("/submit-code", submit)
    route("/exec-result", submit, "result")

    route("/languages", Languages(parts))
    route("/limits", LimitsResource(parts))
    route("/workers", Workers(parts))
    route("/queues", Queues(parts))
    stats = Stats(parts)
    route("/stats", stats)
    route("/failures", stats, "failures")
    keys = Keys(parts)
    route("/keys", keys)
    route("/keys/{key_id}", keys, "item")
    route("/health", Health(parts))
    route("/metrics", MetricsResource(metrics))
    add_plugin_routes(route, router, parts)
    streams = live_routes(parts)  # served by the ASGI app, described with the rest
    routes.extend(streams)
    openapi.register(app, routes, livecode)
    live_app = create_live_app(streams, WaitingExecution(parts, Executions.on_get_item.operation),
                               [(metrics, False), (cors, False), (auth, True), (quotas, True)])
    root.list_routes(app, live_app)
    return app, live_app


def add_plugin_routes(route, router, parts: Parts) -> None:
    """Mount what ``livecode_register_routes`` plugins add (declared and documented like
    livecode's own), after checking that none takes a path livecode's own routes answer."""
    routes = parts.livecode.plugins.routes(parts)
    for path in routes:
        if router.find(path) is not None:
            raise PluginError(f"a plugin registers {path}, which livecode's own API answers")
    for path, (resource, suffix) in routes.items():
        route(path, resource, suffix)


def get_app() -> falcon.App:
    return create_app(Livecode.open(Settings.from_env()))
