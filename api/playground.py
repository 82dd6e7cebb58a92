"""The playground page: a browser's ``GET /`` answers an editor that autosaves, runs and streams
the output of one code session, through the same public API (and the same keys) as any frontend.

JSON clients (curl, the tests, ``livecode.client``) still get the JSON pointer at ``/``: the page
is chosen only when the request's ``Accept`` prefers ``text/html`` to JSON, as a browser's does.
Its files are package data (``playground_static/``, the editor bundle built from ``frontend/`` by
``scripts/build-playground``), so nothing is fetched from elsewhere. ``LIVECODE_PLAYGROUND=0``
turns it off.
"""

from pathlib import Path

import falcon

from livecode.core.errors import InvalidInput

FILES = Path(__file__).parent / "playground_static"
STATIC_PREFIX = "/playground/static"
# The page runs only its own scripts and talks only to this origin (its API, the WebSocket).
# style-src allows inline styles: CodeMirror sets them on the elements it draws.
POLICY = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
          "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'")


class Playground:
    def __init__(self):
        self.page = (FILES / "index.html").read_bytes()

    @staticmethod
    def wanted_by(req) -> bool:
        """A browser's request: ``text/html`` preferred to JSON (``*/*`` alone, curl's, is not)."""
        return req.client_prefers((falcon.MEDIA_JSON, falcon.MEDIA_HTML)) == falcon.MEDIA_HTML

    def serve(self, resp) -> None:
        resp.content_type = falcon.MEDIA_HTML
        resp.data = self.page
        resp.set_header("Content-Security-Policy", POLICY)
        resp.set_header("X-Content-Type-Options", "nosniff")
        resp.cache_control = ["no-cache"]


def enabled(settings) -> bool:
    raw = settings.option("playground", "1").strip().lower()
    if raw not in ("1", "true", "yes", "0", "false", "no"):
        raise InvalidInput(f"LIVECODE_PLAYGROUND={raw!r} must be 1 or 0")
    return raw in ("1", "true", "yes")


def register(app: falcon.App, settings) -> Playground | None:
    """Serve the page's files (open to all: they are the package's, and the page must load
    before a key is pasted into it); the page itself is answered by ``GET /``."""
    if not enabled(settings):
        return None
    app.add_static_route(STATIC_PREFIX, str(FILES))
    return Playground()
