"""Serving the API with gunicorn, optionally with something embedded in the same process.

``livecode api`` runs several gunicorn processes, each an event loop that parses requests and a
pool of threads for the app (see :mod:`.serving`), with the long-lived routes served as
coroutines in that loop (see :mod:`.asgi`); the API keeps no state of its own, so
any number of them may sit behind a load balancer. ``livecode serve`` runs one gunicorn process
and has the CLI embed a worker in it (the API knows nothing of workers), which is what lets the
in-process ``memory://`` queue connect the two: the one-command, nothing-to-install mode.
"""

import errno
import os
import signal
import socket
import sys
from collections.abc import Callable

from gunicorn.app.base import BaseApplication

from livecode.core.config import Settings
from livecode.core.errors import LivecodeError
from livecode.core.service import Livecode

from . import metrics
from .app import create_apps
from .asgi import Dispatcher, live_routes_of
from .serving import TimedHttpToolsProtocol, WholeRequests
from .validation import BODY_SLACK


def check_port(host: str, port: int) -> None:
    """Refuse in one clear line what gunicorn would answer with tracebacks and retries: a port
    that is taken or not ours to use. The CLI asks before anything else starts."""
    if not port:
        return  # any free port
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn does
            probe.bind((host, port))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise LivecodeError(f"port {port} on {host} is already in use; choose another "
                                f"with --port or LIVECODE_PORT (or stop what listens there)"
                                ) from None
        raise LivecodeError(f"cannot listen on {host}:{port}: {exc.strerror or exc}; choose "
                            f"another address with --host/--port or LIVECODE_HOST/"
                            f"LIVECODE_PORT") from None


class LivecodeServer(BaseApplication):
    """``embed``, when given, is called in each gunicorn process with its service before the app
    is built, to start what hosts runs beside the API (``livecode serve``'s worker, which the CLI
    assembles): its ``label`` names it in the start-up line, and the ``stop(timeout)`` of what it
    returns drains it when the process exits. Such a process dies with the arbiter."""

    def __init__(self, settings: Settings, processes: int, threads: int,
                 embed: Callable[[Livecode], object] | None = None):
        self.settings = settings
        self.embed = embed
        self.options = {
            "bind": f"{settings.host}:{settings.port}",
            "workers": processes,
            "worker_class": "livecode.api.serving.LivecodeWorker",
            # Long enough for the runs in flight to finish when stopping.
            "graceful_timeout": int(settings.limits.wall_time_limit) + 10,
            "timeout": 30,
            "keepalive": 5,  # seconds an idle connection stays open between requests
            "when_ready": self._when_ready,
            "post_fork": self._post_fork,
            "worker_exit": self._worker_exit,
            "child_exit": lambda server, worker: metrics.process_died(worker.pid),
            "on_exit": lambda server: metrics.remove_dir(self.metrics_dir),
        }
        self.threads = threads
        self.metrics_dir = metrics.private_dir()  # before any process imports prometheus-client
        TimedHttpToolsProtocol.request_timeout = settings.request_timeout
        self._embedded = None
        self._livecode = None
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)
        if "control_socket_disable" in self.cfg.settings:
            # gunicorn >= 25 opens a control socket at one fixed path per user by default; several
            # livecode servers on one host would fight over it, and we do not use it.
            self.cfg.set("control_socket_disable", True)

    def load(self):
        # Runs in each gunicorn process after the fork: connections are never shared across it.
        self._livecode = Livecode.open(self.settings)
        if self.embed is not None:
            self._embedded = self.embed(self._livecode)
        largest_body = max(self.settings.max_source_bytes, self.settings.max_files_bytes,
                           self.settings.max_stdin_bytes)
        rest, live = create_apps(self._livecode)
        return Dispatcher(live, WholeRequests(rest, largest_body * BODY_SLACK, self.threads),
                          [path for path, _, _ in live_routes_of(live)])

    def _when_ready(self, server):
        host, port = server.LISTENERS[0].sock.getsockname()[:2]
        mode = f"API and {self.embed.label}" if self.embed is not None else "API"
        print(f"livecode {mode} listening on http://{host}:{port}", file=sys.stdout, flush=True)

    def _post_fork(self, server, worker):
        """A gunicorn process that hosts runs dies with the arbiter (``livecode serve`` itself),
        even by SIGKILL; its runs die with it (each with the thread that started it)."""
        if self.embed is not None and sys.platform == "linux":
            import ctypes

            ctypes.CDLL(None).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
            if os.getppid() != server.pid:
                os._exit(1)  # the arbiter died before that took hold

    def _worker_exit(self, server, worker):
        if self._embedded is not None:
            self._embedded.stop(timeout=self.options["graceful_timeout"])
        if self._livecode is not None:
            self._livecode.close()
