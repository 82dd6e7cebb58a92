"""A started jail as the worker sees it, however it was started: spawned as a fresh interpreter
(:class:`SpawnedJail`) or forked by the fork-server (:class:`.fork_server.ForkedJail`).

Either way the worker holds the same five pipes (the run's stdin, stdout and stderr, the spec it
sends, the status the jail reports) and a pidfd of the jail, and ends and reaps it the same way;
only who the jail's parent is differs, hence who reaps it and reports its exit status.
"""

import os
import signal
import subprocess
import time
from contextlib import ExitStack, suppress

REAP_LATER_GRACE = 5.0  # seconds a jail left to the aftercare has to exit before it is killed


class JailPipes:
    """The run's five pipes: the child's ends go to the jail, the worker keeps the others."""

    def __init__(self):
        stdin_r, stdin_w = os.pipe()
        stdout_r, stdout_w = os.pipe()
        stderr_r, stderr_w = os.pipe()
        spec_r, spec_w = os.pipe()
        status_r, status_w = os.pipe()
        self.child_ends = [stdin_r, stdout_w, stderr_w, spec_r, status_w]
        self.stdin = open(stdin_w, "wb", buffering=0)
        self.stdout = open(stdout_r, "rb", buffering=0)
        self.stderr = open(stderr_r, "rb", buffering=0)
        self.spec = open(spec_w, "wb")
        self.status = open(status_r, "rb")

    def close_child_ends(self) -> None:
        for fd in self.child_ends:
            os.close(fd)
        self.child_ends = []

    def close(self) -> None:
        self.close_child_ends()
        for file in (self.stdin, self.stdout, self.stderr, self.spec, self.status):
            file.close()


class Jail:
    """A live jail: ``pid``, a ``pidfd`` of it, and its pipes (``stdin``, ``stdout``, ``stderr``
    as :func:`.process_io.pump` wants them); ``outputs_fd``, the number the jail has a compile
    step's outputs file at (-1: none)."""

    def __init__(self, pid: int, pidfd: int, pipes: JailPipes, outputs_fd: int = -1):
        self.pid, self.pidfd, self.pipes, self.outputs_fd = pid, pidfd, pipes, outputs_fd
        self.stdin, self.stdout, self.stderr = pipes.stdin, pipes.stdout, pipes.stderr
        self._reaper = None

    def send_spec(self, data: bytes, last: bool = True) -> None:
        """Send (a part of) the spec; the ``last`` closes the pipe, which holds nothing more."""
        try:
            self.pipes.spec.write(data)
            self.pipes.spec.flush()
            if last:
                self.pipes.spec.close()
        except BrokenPipeError:  # the jail died first; its status says why
            with suppress(BrokenPipeError):  # what was not sent is dropped, the pipe closed
                self.pipes.spec.close()

    def stop(self, own_pid_namespace: bool) -> None:
        """With a PID namespace, the jail has its init end the run and exits once the namespace
        is empty; without one, the process group is all there is to kill."""
        if own_pid_namespace:
            try:
                signal.pidfd_send_signal(self.pidfd, signal.SIGTERM)
            except ProcessLookupError:
                pass
        else:
            self.kill_group()

    def kill_group(self) -> None:
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def reap(self, grace: float) -> tuple[int, float]:
        """Wait for the jail; if it does not end within ``grace`` seconds, kill its group. Its
        wait status and CPU seconds (its own and its reaped descendants')."""
        raise NotImplementedError

    def report(self) -> bytes:
        """What the jail wrote on its status pipe and was not read yet (all its writers are gone
        once it is reaped)."""
        return self.pipes.status.read()

    def reap_later(self, aftercare) -> None:
        """Leave this jail to ``aftercare`` (a :class:`.aftercare.Aftercare`) to reap and close,
        once the run's result is out: its run has ended, but the jail is still exiting."""
        self._reaper = aftercare

    def close(self) -> None:
        os.close(self.pidfd)
        self.pipes.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self._reaper is None:
            self.close()
        else:
            later = ExitStack()  # its callbacks run last first: the reap, then the close
            later.callback(self.close)
            later.callback(self.reap, REAP_LATER_GRACE)
            self._reaper.later(later)


class SpawnedJail(Jail):
    """A jail started as a fresh ``python -I -S jail.py``: the worker thread is its parent."""

    def __init__(self, python: str, jail_path: str, outputs_fd: int = -1):
        """``outputs_fd``: a descriptor the jail gets at the same number (-1: none)."""
        pipes = JailPipes()
        stdin, stdout, stderr, spec, status = pipes.child_ends
        try:
            self.proc = subprocess.Popen(
                [python, "-I", "-S", jail_path, str(spec), str(status)],
                stdin=stdin, stdout=stdout, stderr=stderr,
                pass_fds=(spec, status, *([outputs_fd] if outputs_fd >= 0 else [])),
                start_new_session=True, cwd="/", env={},
            )
        except BaseException:
            pipes.close()
            raise
        pipes.close_child_ends()
        super().__init__(self.proc.pid, os.pidfd_open(self.proc.pid), pipes, outputs_fd)

    def reap(self, grace: float) -> tuple[int, float]:
        deadline = time.monotonic() + grace
        while True:
            pid, status, usage = os.wait4(self.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                self.kill_group()
                _, status, usage = os.wait4(self.pid, 0)
                break
            time.sleep(0.001)
        self.proc.returncode = os.waitstatus_to_exitcode(status)
        return status, usage.ru_utime + usage.ru_stime
