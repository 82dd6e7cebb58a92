"""The Falcon application.

``create_app(livecode)`` takes its collaborators, so tests hand it a service built on a temporary
store; ``get_app()`` builds one from the environment, which is what gunicorn imports.
"""

import falcon

from livecode.core.config import Settings
from livecode.core.service import Livecode

from . import errors
from .auth import TokenAuth
from .introspection import Introspection
from .reporting import Reporting
from .resources import (CodeSessions, Executions, Health, Languages, LimitsResource, Queues,
                        Root, Stats, SubmitCode, Workers)


def create_app(livecode: Livecode) -> falcon.App:
    origins = [o.strip() for o in livecode.settings.cors_origins.split(",") if o.strip()]
    cors = falcon.CORSMiddleware(allow_origins="*" if origins in ([], ["*"]) else origins,
                                 expose_headers=["Location"])
    app = falcon.App(middleware=[cors, TokenAuth(livecode.settings.api_token)])
    # JSON only: a form-encoded body (curl -d without a Content-Type) gets a clear 415.
    json_only = falcon.media.Handlers({falcon.MEDIA_JSON: falcon.media.JSONHandler()})
    app.req_options.media_handlers = json_only
    errors.register(app)

    root = Root()
    app.add_route("/", root)

    sessions = CodeSessions(livecode)
    app.add_route("/code-sessions", sessions)
    app.add_route("/code-sessions/{session_id}", sessions, suffix="item")
    app.add_route("/code-sessions/{session_id}/run", sessions, suffix="run")
    app.add_route("/sessions/{session_id}/run", sessions, suffix="run")  # the first clients' path
    app.add_route("/code-sessions/{session_id}/executions", sessions, suffix="executions")

    executions = Executions(livecode)
    app.add_route("/executions", executions)
    app.add_route("/executions/{execution_id}", executions, suffix="item")
    app.add_route("/executions/{execution_id}/cancel", executions, suffix="cancel")
    app.add_route("/executions/{execution_id}/rerun", executions, suffix="rerun")

    submit = SubmitCode(livecode)
    app.add_route("/submit-code", submit)
    app.add_route("/exec-result", submit, suffix="result")

    introspection = Introspection(livecode)
    app.add_route("/languages", Languages(introspection))
    app.add_route("/limits", LimitsResource(introspection))
    reporting = Reporting(livecode)
    app.add_route("/workers", Workers(reporting))
    app.add_route("/queues", Queues(reporting))
    stats = Stats(reporting)
    app.add_route("/stats", stats)
    app.add_route("/failures", stats, suffix="failures")
    app.add_route("/health", Health(introspection))
    root.list_routes(app)
    return app


def get_app() -> falcon.App:
    return create_app(Livecode.open(Settings.from_env()))
