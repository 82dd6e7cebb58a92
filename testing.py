"""Helpers for testing against real livecode processes, for livecode's own tests and benches
and for plugin authors: start ``livecode serve``, ``api`` or ``worker`` as a subprocess on the
settings given, learn where it listens, and stop it the way an operator would."""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path


class LivecodeProcess:
    """A ``livecode`` CLI subprocess (serve, api or worker) with its output kept for failures.

    With ``user``, it runs as that user (by ``setpriv``, on a clean environment) on ``python``, an
    interpreter with livecode installed that this user can reach; ``wrapper`` is a command line
    to start it through (``unshare …``)."""

    def __init__(self, args: list[str], env: dict, log_path: Path, user: str | None = None,
                 python: str = sys.executable, wrapper: tuple[str, ...] = ()):
        self.log_path = log_path
        self.log = open(log_path, "w+")
        command = [*wrapper, python, "-m", "livecode.cli", *args]
        environ = {**os.environ, **env}
        if user:
            import pwd

            entry = pwd.getpwnam(user)
            command = ["setpriv", f"--reuid={entry.pw_uid}", f"--regid={entry.pw_gid}",
                       "--clear-groups", "--", *command]
            environ = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", **env}
        self.proc = subprocess.Popen(
            command, env=environ, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_for(self, pattern: str, timeout: float = 30) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = re.search(pattern, self.log_path.read_text())
            if match:
                return match
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"no {pattern!r} from livecode; its output:\n"
                             f"{self.log_path.read_text()}")

    def url(self, timeout: float = 30) -> str:
        """The address ``serve`` or ``api`` listens on, once it does."""
        return self.wait_for(r"listening on (http://\S+)", timeout).group(1)

    def terminate(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)

    def stop(self, timeout: float = 30) -> int:
        self.terminate()
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.log.close()
        return self.proc.returncode


def stop_all(processes) -> None:
    """Signal every process first, then wait: they drain in parallel, not one after another."""
    for process in processes:
        process.terminate()
    for process in processes:
        process.stop()
