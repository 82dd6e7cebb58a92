"""The worker's side of the fork-server (:mod:`.zygote`): one warm zygote per worker process and
jail interpreter, shared by every subprocess sandbox of the process.

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


class ForkedJail(Jail):
    """A jail the zygote forked: the zygote reaps it and reports on ``reply``."""

    def __init__(self, pid: int, pidfd: int, pipes: JailPipes, reply: socket.socket):
        super().__init__(pid, pidfd, pipes)
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

    def __exit__(self, *exc):
        self.reply.close()
        super().__exit__(*exc)


class ForkServer:
    def __init__(self, python: str):
        self.python = python
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
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            proc = subprocess.Popen(
                [self.python, "-I", "-S", ZYGOTE, str(theirs.fileno()), str(os.getpid())],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                pass_fds=(theirs.fileno(),), cwd="/", env={},
            )
        finally:
            theirs.close()
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

    def start_jail(self) -> ForkedJail | None:
        """A jail forked by the zygote, its spec not sent yet; ``None`` if there is no zygote."""
        pipes = JailPipes()
        reply, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            with self._lock:
                if self._control is None:
                    if time.monotonic() >= self._retry_at:
                        self._wanted.set()
                    raise ConnectionError("no fork-server")
                socket.send_fds(self._control, [b"run"], [*pipes.child_ends, theirs.fileno()])
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
        return ForkedJail(int(message.split()[1]), fds[0], pipes, reply)


_servers: dict[tuple[int, str], ForkServer] = {}
_servers_lock = threading.Lock()


def shared(python: str) -> ForkServer:
    """This process's fork-server for ``python`` (a process forked from a worker gets its own)."""
    key = (os.getpid(), python)
    with _servers_lock:
        if key not in _servers:
            _servers[key] = ForkServer(python)
        return _servers[key]
