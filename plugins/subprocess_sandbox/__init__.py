"""The ``subprocess`` sandbox: each run is a child process under setrlimit limits.

Limits are applied by ``prlimit`` (util-linux) exec'ing into the program, so nothing Python runs
between fork and exec (``preexec_fn`` is unsafe in a threaded worker) and no limit can be missed
by a process the program starts first. The run has a fresh private working directory, a cleared
environment and its own process group, which is killed as a whole when the run ends.

What it does not do yet (see the sandbox issue): network, PID and mount namespaces, dropping to an
unprivileged uid. ``protections()`` says so, and ``RLIMIT_NPROC`` does not bind a root worker.
"""

import math
import os
import shutil
import signal
import subprocess
import time

from livecode.core.contracts import Program, Sandbox, SandboxResult
from livecode.core.hookspecs import hookimpl
from livecode.core.limits import Limits

from .process_io import pump
from .workdir import private_workdir

SAFE_PATH = "/usr/local/bin:/usr/bin:/bin"


def prlimit_argv(limits: Limits) -> list[str]:
    cpu = max(1, math.ceil(limits.cpu_time_limit))
    memory = limits.memory_limit * 1024
    return [
        shutil.which("prlimit") or "/usr/bin/prlimit",
        f"--cpu={cpu}:{cpu + 1}",  # SIGXCPU at the soft limit, SIGKILL a second later
        f"--as={memory}:{memory}",
        f"--nproc={limits.max_processes}:{limits.max_processes}",
        f"--fsize={limits.max_file_size}:{limits.max_file_size}",
        f"--nofile={limits.max_open_files}:{limits.max_open_files}",
        "--core=0:0",
        "--",
    ]


class SubprocessSandbox(Sandbox):
    name = "subprocess"

    def __init__(self, settings):
        super().__init__(settings)
        self.work_root = settings.option("WORK_ROOT")
        if shutil.which("prlimit") is None:
            raise RuntimeError("the subprocess sandbox needs prlimit (Debian package util-linux)")

    def protections(self) -> dict[str, bool]:
        root = os.geteuid() == 0
        return {
            "rlimits": True,
            "process_limit": not root,  # RLIMIT_NPROC does not bind root
            "process_group_kill": True,
            "private_workdir": True,
            "clean_environment": True,
            "network_isolation": False,
            "pid_namespace": False,
            "unprivileged_user": not root,
        }

    def run(self, program: Program, stdin: bytes, limits: Limits) -> SandboxResult:
        with private_workdir(self.work_root, dict(program.files)) as workdir:
            env = {"PATH": SAFE_PATH, "LANG": "C.UTF-8", "HOME": workdir}
            command = list(program.argv)
            command[0] = shutil.which(command[0], path=SAFE_PATH) or command[0]
            started = time.monotonic()
            proc = subprocess.Popen(
                prlimit_argv(limits) + command,
                cwd=workdir, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, start_new_session=True, close_fds=True,
            )

            def kill_group():
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass

            try:
                captured = pump(proc, stdin, limits.output_limit,
                                started + limits.wall_time_limit, kill_group)
            finally:
                kill_group()
                _, status, usage = os.wait4(proc.pid, 0)
                proc.returncode = os.waitstatus_to_exitcode(status)
                proc.stdout.close()
                proc.stderr.close()
        ended = captured.exited_at or time.monotonic()
        cpu_ms = (usage.ru_utime + usage.ru_stime) * 1000
        sig = -proc.returncode if proc.returncode < 0 else None
        limit_hit = None
        if captured.timed_out:
            limit_hit = "wall_time_limit"
        elif captured.truncated:
            limit_hit = "output_limit"
        elif sig in (signal.SIGXCPU, signal.SIGKILL) and cpu_ms >= limits.cpu_time_limit * 1000:
            limit_hit = "cpu_time_limit"
        return SandboxResult(
            exit_code=None if sig else proc.returncode,
            stdout=bytes(captured.stdout),
            stderr=bytes(captured.stderr),
            wall_time_ms=(ended - started) * 1000,
            cpu_time_ms=round(cpu_ms, 3),
            max_rss_kb=usage.ru_maxrss,
            signal=sig,
            truncated=captured.truncated,
            limit_hit=limit_hit,
        )


@hookimpl
def livecode_register_sandboxes(register):
    register(SubprocessSandbox)
