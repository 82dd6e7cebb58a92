"""The worker's side of the fork-server (:mod:`.zygote`): one warm zygote per worker process and
interpreter, shared by every subprocess sandbox of the process: the jail's (from an empty
environment), and, for Python programs that can run in a warm interpreter
(:func:`python_program`, :mod:`.warm_python`), the runner's interpreter with the runner's flags,
from the programs' own environment.

A thread of its own starts the zygote and waits for it for as long as the worker lives: the
zygote's ``PR_SET_PDEATHSIG`` is tied to the thread that started it, so it must not be a run's
thread, which may end long before the worker. A run asks the zygote for a jail
(:meth:`ForkServer.start_jail`); when there is no zygote (not yet: the first run starts it, so a
process that runs nothing, like an API or a server's master, has none; or it could not start, or
it died) the answer is ``None`` and the run spawns its jail as before, while the zygote is started
in the background, a little later after each failure.

The zygote is the jail's parent, so it reaps it and reports the exit status and CPU time on the
run's reply socket; the worker still watches the jail (a pidfd), signals it and kills its process
group. A zygote that dies mid-run takes the run's jail with it (``PR_SET_PDEATHSIG``), and the run
ends with a :class:`SandboxError`.
"""

import logging
import os
import re
import socket
import subprocess
import threading
import time
from pathlib import Path

from livecode.core.contracts import SandboxError

from .jail_process import Jail, JailPipes

log = logging.getLogger(__name__)

ZYGOTE = str(Path(__file__).with_name("zygote.py"))
READY_TIMEOUT = 10.0  # seconds the zygote has to say it is ready, or to answer a run
RESTART_AFTER, RESTART_AFTER_MAX = 1.0, 60.0  # seconds before a new try, doubling on failures
AFTER_KILL = 10.0  # seconds to wait for the zygote's report once the jail's group is killed


OUTPUTS_FD = 5  # where a forked jail has a compile step's outputs file (zygote.OUTPUTS_FD)


class ForkedJail(Jail):
    """A jail the zygote forked: the zygote reaps it and reports on ``reply``."""

    def __init__(self, pid: int, pidfd: int, pipes: JailPipes, reply: socket.socket,
                 outputs_fd: int):
        super().__init__(pid, pidfd, pipes, outputs_fd)
        self.reply = reply

    def reap(self, grace: float) -> tuple[int, float]:
        message = self._answer(grace)
        if message is None:
            self.kill_group()
            message = self._answer(AFTER_KILL)
        if not message:
            raise SandboxError("the fork-server died during the run")
        _, status, utime, stime = message.split()
        return int(status), float(utime) + float(stime)

    def _answer(self, timeout: float) -> bytes | None:
        """The zygote's report, ``b""`` if it is gone, ``None`` if it did not come in time."""
        self.reply.settimeout(timeout)
        try:
            return self.reply.recv(64)
        except TimeoutError:
            return None
        except OSError:
            return b""

    def close(self) -> None:
        self.reply.close()
        super().close()


class ForkServer:
    """One zygote: ``python FLAGS zygote.py``, started from ``env`` (empty by default)."""

    def __init__(self, python: str, flags: tuple[str, ...] = ("-I", "-S"),
                 env: dict[str, str] | None = None):
        self.python, self.flags, self.env = python, flags, dict(env or {})
        self._lock = threading.Lock()
        self._control: socket.socket | None = None
        self._backoff = RESTART_AFTER
        self._retry_at = 0.0
        self._wanted = threading.Event()
        threading.Thread(target=self._own, name="livecode-fork-server", daemon=True).start()

    @property
    def up(self) -> bool:
        return self._control is not None

    def _own(self) -> None:
        """Start the zygote whenever asked, then wait for it to end (see the module docstring)."""
        while True:
            self._wanted.wait()
            self._wanted.clear()
            try:
                proc, control = self._start()
            except (OSError, subprocess.SubprocessError) as exc:
                self._down(f"the fork-server could not start: {exc}")
                continue
            with self._lock:
                self._control, self._backoff = control, RESTART_AFTER
                self._wanted.clear()  # runs that asked while it started
            log.info("subprocess sandbox: fork-server %d serves", proc.pid)
            proc.wait()
            with self._lock:
                self._control = None
                control.close()
            self._down(f"the fork-server exited ({proc.returncode})")

    def _down(self, why: str) -> None:
        with self._lock:
            self._retry_at = time.monotonic() + self._backoff
            self._wanted.clear()
            self._backoff = min(self._backoff * 2, RESTART_AFTER_MAX)
        log.warning("subprocess sandbox: %s; jails are spawned until it restarts", why)

    def _start(self) -> tuple[subprocess.Popen, socket.socket]:
        """The zygote's standard streams are pipes with no other end, as a run's are pipes: an
        interpreter sets its streams up by what they are when it starts (a /dev/null stdin
        would be seekable, a run's is not), and a Python program run in it must find them as
        it would in a fresh one."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        stdin_r, stdin_w = os.pipe()
        stdout_r, stdout_w = os.pipe()
        try:
            proc = subprocess.Popen(
                [self.python, *self.flags, ZYGOTE, str(theirs.fileno()), str(os.getpid())],
                stdin=stdin_r, stdout=stdout_w, stderr=stdout_w,
                pass_fds=(theirs.fileno(),), cwd="/", env=self.env,
            )
        finally:
            theirs.close()
            for fd in (stdin_r, stdin_w, stdout_r, stdout_w):
                os.close(fd)
        ours.settimeout(READY_TIMEOUT)
        try:
            ready = ours.recv(16)
        except OSError:
            ready = b""
        if ready != b"ready":
            proc.kill()
            proc.wait()
            ours.close()
            raise OSError(f"no ready signal (exit status {proc.returncode})")
        ours.settimeout(None)
        return proc, ours

    def start_jail(self, outputs_fd: int = -1) -> ForkedJail | None:
        """A jail forked by the zygote, its spec not sent yet; ``None`` if there is no zygote.
        ``outputs_fd``: a compile step's outputs file (-1: none), the jail's at OUTPUTS_FD."""
        extra = [outputs_fd] if outputs_fd >= 0 else []
        pipes = JailPipes()
        reply, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            with self._lock:
                if self._control is None:
                    if time.monotonic() >= self._retry_at:
                        self._wanted.set()
                    raise ConnectionError("no fork-server")
                socket.send_fds(self._control, [b"run"],
                                [*pipes.child_ends, theirs.fileno(), *extra])
            theirs.close()
            pipes.close_child_ends()
            reply.settimeout(READY_TIMEOUT)  # a zygote that hangs must not hang the run too
            message, fds, _, _ = socket.recv_fds(reply, 64, 1)
            if not message.startswith(b"pid ") or len(fds) != 1:
                for fd in fds:
                    os.close(fd)
                raise ConnectionError(message.decode(errors="replace") or "no answer")
        except OSError:
            theirs.close()
            reply.close()
            pipes.close()
            return None
        return ForkedJail(int(message.split()[1]), fds[0], pipes, reply,
                          OUTPUTS_FD if extra else -1)


_servers: dict[tuple, ForkServer] = {}
_servers_lock = threading.Lock()


def shared(python: str, flags: tuple[str, ...] = ("-I", "-S"),
           env: dict[str, str] | None = None) -> ForkServer:
    """This process's fork-server for ``python FLAGS`` started from ``env`` (a process forked
    from a worker gets its own). One started from a program's environment is a warm Python
    interpreter for such programs (see :func:`python_program`); the jail's starts from none."""
    key = (os.getpid(), python, flags, tuple(sorted((env or {}).items())))
    with _servers_lock:
        if key not in _servers:
            _servers[key] = ForkServer(python, flags, env)
        return _servers[key]


def warm_python_up() -> bool:
    """Whether a warm Python interpreter of this process serves (whichever sandbox started it:
    ``/health`` asks an instance of its own)."""
    with _servers_lock:
        return any(server.up and server.env for (pid, *_), server in _servers.items()
                   if pid == os.getpid())


# Interpreter options that take no argument and change nothing a zygote started with them would
# not have the same way.
PLAIN_FLAGS = frozenset(("-I", "-B", "-S", "-E", "-s", "-P", "-O", "-OO", "-b", "-bb", "-q"))


# Where a program could see the warm interpreter's past (frames below its own, the zygote's
# objects or memory; see :mod:`.warm_python`): such programs are exec'd.
TELLING = re.compile(rb"\b(gc|ctypes|inspect|traceback|tracemalloc|faulthandler|pdb|doctest)\b|"
                     rb"_getframe|_current_frames|stacklevel|f_back|tb_frame|settrace|setprofile|"
                     rb"getrefcount|getallocatedblocks|_debugmallocstats|_ncallbacks|addaudithook|"
                     rb"/proc/|\bps\b")


def python_program(argv, files) -> tuple[str, tuple[str, ...]] | None:
    """``(interpreter, flags)`` of a program that is a Python interpreter in isolated mode run on
    one of its own files with plain flags, no arguments, and whose source shows nothing that
    could tell it from a fresh interpreter: what a zygote of that interpreter started with those
    flags can run in itself (:mod:`.warm_python`). ``None`` for any other."""
    if len(argv) < 3 or not os.path.basename(argv[0]).startswith("python"):
        return None
    *flags, script = argv[1:]
    if (script not in files or not script.endswith(".py") or "/" in script
            or "-I" not in flags or not set(flags) <= PLAIN_FLAGS
            or TELLING.search(files[script])):
        return None
    return argv[0], tuple(flags)
