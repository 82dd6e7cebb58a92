"""The ``subprocess`` sandbox: each run is a child process in its own namespaces, under its own
uid, in its own cgroup, under setrlimit limits, with nothing of it left when it ends.

The worker starts :mod:`.jail` for every run (see its docstring for what it sets up). At start-up
the sandbox tries the full jail once; where the host refuses a protection (no root, namespaces
disabled, no usable cgroup) it says which at start-up and in ``protections()`` and runs without
it, or, with ``LIVECODE_SANDBOX_STRICT=1``, refuses to start.

Where a cgroup is usable (:mod:`.cgroups`), the run's limits hold for the whole run: its memory
(tmpfs included) and its number of processes are bounded by the kernel, and the worker watches
the run's total CPU time while it lives and ends it at ``cpu_time_limit``. ``cpu_time_ms`` and
``max_rss_kb`` (the run's peak memory charge) come from the cgroup; the run ends by killing it.
rlimits stay as a per-process backstop, except ``RLIMIT_AS``, which the cgroup's memory limit
replaces: runtimes that reserve much more address space than they use (the JVM, Go, V8) fail
under it, and a program OOM-killed by its cgroup is reported as ``memory_limit`` just as a
Python ``MemoryError`` is.

Options (environment): ``LIVECODE_SANDBOX_UID_BASE`` and ``LIVECODE_SANDBOX_UID_COUNT``, the range
of uids runs take one each of (default 2000000000 and 1024); ``LIVECODE_SANDBOX_HIDE``,
colon-separated paths that runs must not see besides livecode's own data directory;
``LIVECODE_JAIL_PYTHON``, the interpreter that runs the jail (default: the one livecode runs on);
``LIVECODE_CGROUP_PARENT``, the cgroup (relative to each cgroup mount) that holds the runs' cgroups
(default ``livecode``).
"""

import logging
import marshal
import os
import resource
import signal
import subprocess
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from livecode.core.config import base_interpreter
from livecode.core.contracts import Program, Sandbox, SandboxError, SandboxResult
from livecode.core.hookspecs import hookimpl
from livecode.core.limits import Limits, whole_cpu_seconds

from .cgroups import CgroupError, find_tree
from .process_io import pump
from .uid_slots import UidSlots, kill_processes_of
from .workdir import private_workdir

log = logging.getLogger(__name__)

JAIL = str(Path(__file__).with_name("jail.py"))
SAFE_PATH = "/usr/local/bin:/usr/bin:/bin"
NAMESPACES = {  # clone flag of each namespace the jail asks for, by protection name
    "mount_namespace": 0x00020000,
    "pid_namespace": 0x20000000,
    "network_isolation": 0x40000000,
    "ipc_namespace": 0x08000000,
    "uts_namespace": 0x04000000,
}
ALL_NAMESPACES = sum(NAMESPACES.values())
STOP_GRACE = 2.0  # seconds the jail gets to take its namespace down before it is killed
# Seconds between two looks at a run's total CPU time: the less CPU is left, the sooner.
WATCH_MIN, WATCH_MAX = 0.005, 0.025


def hidden_paths(paths: list[str]) -> list[str]:
    """The mounts that hide ``paths`` from runs. Whatever lies under /tmp needs none (runs get a
    fresh /tmp), and / or /tmp itself cannot be hidden from a program that must run."""
    found = set()
    for path in map(os.path.realpath, paths):
        if path in ("/", "/tmp") or path.startswith("/tmp/") or "/tmp".startswith(path + "/"):
            continue
        found.add(path)
    return sorted(found)


def rlimits(limits: Limits, address_space: bool) -> list[tuple[int, int, int]]:
    """Per-process limits; ``address_space`` only where no cgroup bounds the run's memory."""
    cpu = whole_cpu_seconds(limits)
    memory = limits.memory_limit * 1024
    return [
        (resource.RLIMIT_CPU, cpu, cpu + 1),  # SIGXCPU at the soft limit, SIGKILL a second later
        *([(resource.RLIMIT_AS, memory, memory)] if address_space else []),
        (resource.RLIMIT_NPROC, limits.max_processes, limits.max_processes),
        (resource.RLIMIT_FSIZE, limits.max_file_size, limits.max_file_size),
        (resource.RLIMIT_NOFILE, limits.max_open_files, limits.max_open_files),
        (resource.RLIMIT_CORE, 0, 0),
    ]


class SubprocessSandbox(Sandbox):
    name = "subprocess"

    def __init__(self, settings):
        super().__init__(settings)
        self.jail_python = settings.option("JAIL_PYTHON") or base_interpreter()
        self.work_root = settings.option("WORK_ROOT") or tempfile.gettempdir()
        self.root = os.geteuid() == 0
        lock_dir = ("/run/livecode-sandbox" if self.root
                    else os.path.join(settings.data_dir, "sandbox-locks"))
        self.uids = UidSlots(lock_dir, int(settings.option("SANDBOX_UID_BASE", 2_000_000_000)),
                             int(settings.option("SANDBOX_UID_COUNT", 1024)))
        extra = [p for p in settings.option("SANDBOX_HIDE", "").split(":") if p]
        self.hide = hidden_paths([settings.data_dir, lock_dir, self.work_root, *extra])
        if self.root:
            self.cgroups, cgroup_problem = find_tree(settings.option("CGROUP_PARENT", "livecode"))
        else:
            self.cgroups, cgroup_problem = None, ("run cgroups are made by root (a cgroup "
                                                  "delegated to an ordinary user is not used)")
        if self.cgroups:
            log.info("subprocess sandbox: a cgroup v%d per run, under %s", self.cgroups.version,
                     ", ".join(self.cgroups.parents))
            self._sweep_cgroups()
        self.namespaces, self.drop_uid, problem = self._probe()
        missing = [name for name, on in self.protections().items() if not on]
        if missing:
            problems = "; ".join(p for p in (problem, cgroup_problem) if p)
            message = (f"subprocess sandbox: running WITHOUT {', '.join(missing)}"
                       + (f" ({problems})" if problems else ""))
            if settings.option("SANDBOX_STRICT", "0") not in ("0", "", "false"):
                raise SandboxError(message + "; LIVECODE_SANDBOX_STRICT=1 forbids that")
            log.warning(message)

    def _probe(self) -> tuple[int, bool, str | None]:
        """Try the full jail once on ``/bin/true``; step down only as far as the host requires."""
        problem = None
        attempts = [(ALL_NAMESPACES, self.root), (ALL_NAMESPACES, False), (0, self.root), (0, False)]
        for namespaces, drop_uid in attempts:
            try:
                result = self._run(Program({}, ["/bin/true"]), b"", Limits(), namespaces, drop_uid)
                if result.exit_code == 0:
                    return namespaces, drop_uid, problem
                problem = f"probe exited {result.exit_code}: {result.stderr[-200:]!r}"
            except SandboxError as exc:
                problem = str(exc)
        raise SandboxError(f"the subprocess sandbox cannot run anything here: {problem}")

    def _sweep_cgroups(self) -> None:
        """Kill and remove the run cgroups that workers now gone left behind: those of slots no
        one holds, and probes of dead processes."""
        for name in self.cgroups.children():
            if name.isdigit():
                with self.uids.hold_if_free(int(name)) as free:
                    if free:
                        self._clear_cgroup(self.cgroups.cgroup(name))
            elif name.startswith("probe-") and not _alive(int(name.removeprefix("probe-"))):
                self._clear_cgroup(self.cgroups.cgroup(name))

    @staticmethod
    def _clear_cgroup(cgroup) -> bool:
        """Kill and remove ``cgroup``; False (and an error in the log) if it cannot be emptied."""
        try:
            cgroup.remove()
            return True
        except (OSError, CgroupError) as exc:
            log.error("subprocess sandbox: cannot clear cgroup %s: %s", cgroup.paths[0], exc)
            return False

    def _clear_slot(self, uid: int, namespaces: int) -> bool:
        """Called on claiming a uid slot: whatever an earlier run of it left is killed first."""
        if self.cgroups:
            return self._clear_cgroup(self.cgroups.cgroup(str(uid)))
        if namespaces & NAMESPACES["pid_namespace"]:
            return True  # the kernel killed the earlier run's namespace before its init was gone
        return kill_processes_of(uid)

    def _use_cgroups(self, drop_uid: bool) -> bool:
        return self.cgroups is not None and drop_uid  # one cgroup per uid slot

    def protections(self) -> dict[str, bool]:
        found = {name: bool(self.namespaces & flag) for name, flag in NAMESPACES.items()}
        cgroups = (self.cgroups.protections() if self._use_cgroups(self.drop_uid)
                   else dict.fromkeys(("cgroup_memory", "cgroup_pids", "cgroup_cpu"), False))
        return {
            "rlimits": True,
            "unprivileged_user": self.drop_uid,
            "no_new_privs": True,
            "process_limit": self.drop_uid,  # RLIMIT_NPROC binds no root process
            **found,
            "private_tmp": found["mount_namespace"],
            "kills_every_descendant": found["pid_namespace"],
            "clean_environment": True,
            **cgroups,
        }

    def run(self, program: Program, stdin: bytes, limits: Limits) -> SandboxResult:
        return self._run(program, stdin, limits, self.namespaces, self.drop_uid)

    def _run(self, program, stdin, limits, namespaces, drop_uid) -> SandboxResult:
        with ExitStack() as stack:
            uid = (stack.enter_context(self.uids.acquire(
                lambda slot: self._clear_slot(slot, namespaces))) if drop_uid else -1)
            cgroup = None
            if self._use_cgroups(drop_uid):
                cgroup = self.cgroups.cgroup(str(uid))
                stack.callback(self._clear_cgroup, cgroup)
                try:
                    # One more process than the program may have: the jail's, PID 1 of the run.
                    cgroup.create(limits.memory_limit * 1024, limits.max_processes + 1)
                except OSError as exc:
                    raise SandboxError(f"cannot make the run's cgroup: {exc}") from exc
            if namespaces & NAMESPACES["mount_namespace"]:
                workdir = None  # the jail makes a private tmpfs; the host never touches its files
            else:
                workdir = stack.enter_context(private_workdir(self.work_root))
            spec = {
                "worker_pid": os.getpid(),
                "argv": self._argv(program),
                "env": {"PATH": SAFE_PATH, "LANG": "C.UTF-8"},
                "files": dict(program.files),
                "workdir": workdir,
                "namespaces": namespaces,
                "loopback": bool(namespaces & NAMESPACES["network_isolation"]),
                "hide": self.hide,
                "disk_limit": limits.disk_limit,
                "uid": uid,
                "gid": uid,
                "rlimits": rlimits(limits, address_space=not (
                    cgroup and self.cgroups.protections()["cgroup_memory"])),
                "cgroup_procs": cgroup.procs_files if cgroup else [],
            }
            return self._spawn(spec, stdin, limits, cgroup, own_pid_namespace=bool(
                namespaces & NAMESPACES["pid_namespace"]))

    @staticmethod
    def _argv(program: Program) -> list[str]:
        argv = list(program.argv)
        if not os.path.isabs(argv[0]):
            for directory in SAFE_PATH.split(":"):
                candidate = os.path.join(directory, argv[0])
                if os.access(candidate, os.X_OK):
                    argv[0] = candidate
                    break
        return argv

    def _spawn(self, spec: dict, stdin: bytes, limits: Limits, cgroup, own_pid_namespace: bool):
        spec_r, spec_w = os.pipe()
        status_r, status_w = os.pipe()
        started = time.monotonic()
        try:
            proc = subprocess.Popen(
                [self.jail_python, "-I", "-S", JAIL, str(spec_r), str(status_w)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                pass_fds=(spec_r, status_w), start_new_session=True, cwd="/", env={},
            )
        finally:
            os.close(spec_r)
            os.close(status_w)
        try:
            with os.fdopen(spec_w, "wb") as spec_file:
                marshal.dump(spec, spec_file)
        except BrokenPipeError:
            pass  # the jail died first; its status says why

        def stop():
            # With a PID namespace, the jail kills the program and exits once the namespace is
            # empty; without one, the process group is all there is to kill.
            try:
                if own_pid_namespace:
                    os.kill(proc.pid, signal.SIGTERM)
                else:
                    os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

        watch = RunWatch(cgroup, limits) if cgroup else None
        try:
            captured = pump(proc, stdin, limits.output_limit,
                            started + limits.wall_time_limit, stop, watch)
        finally:
            stop()
            status, usage = _reap(proc, STOP_GRACE)
            if cgroup:
                try:
                    cgroup.kill()  # what outlived the jail, so the figures below are final
                except CgroupError as exc:
                    log.error("subprocess sandbox: %s", exc)
            proc.stdout.close()
            proc.stderr.close()
            with os.fdopen(status_r, "rb") as status_file:
                report = status_file.read().decode("utf-8", "replace")
        exec_line, _, failure = report.partition("\n")
        if not exec_line.startswith("exec "):
            raise SandboxError(f"the jail could not start the program: {report or 'no report'}")
        if failure:
            raise SandboxError(f"the jail could not start the program: {failure}")
        exec_at = int(exec_line.split()[1]) / 1e9
        ended = captured.exited_at or time.monotonic()
        if cgroup:
            cpu_ms, peak = cgroup.cpu_ns() / 1e6, cgroup.peak_bytes()
            max_rss_kb = None if peak is None else peak // 1024
            out_of_memory = cgroup.oom_kills() > 0
        else:  # the jail's rusage; its maxrss would be the worker's, from before the exec
            cpu_ms = (usage.ru_utime + usage.ru_stime) * 1000
            max_rss_kb, out_of_memory = None, False
        code = os.waitstatus_to_exitcode(status)
        sig = -code if code < 0 else None
        limit_hit = None
        if captured.timed_out:
            limit_hit = "wall_time_limit"
        elif captured.truncated:
            limit_hit = "output_limit"
        elif watch and watch.hit:
            limit_hit = watch.hit
        elif out_of_memory:
            limit_hit = "memory_limit"
        elif cpu_ms >= limits.cpu_time_limit * 1000 and (
                cgroup or sig in (signal.SIGXCPU, signal.SIGKILL)):
            # The run's total passed the limit between two looks (it counts even if the run then
            # ended by itself), or RLIMIT_CPU ended a process.
            limit_hit = "cpu_time_limit"
        return SandboxResult(
            exit_code=None if sig else code,
            stdout=bytes(captured.stdout),
            stderr=bytes(captured.stderr),
            wall_time_ms=max(0.0, (ended - exec_at) * 1000),
            cpu_time_ms=round(cpu_ms, 3),
            max_rss_kb=max_rss_kb,
            signal=sig,
            truncated=captured.truncated,
            limit_hit=limit_hit,
        )


class RunWatch:
    """Looks at a live run's cgroup every few milliseconds and says when the run must end: its
    processes together used ``cpu_time_limit`` of CPU, or the kernel OOM-killed one of them (on
    cgroup v1 the others would go on without it)."""

    def __init__(self, cgroup, limits: Limits):
        self.cgroup = cgroup
        self.limit_ns = limits.cpu_time_limit * 1e9
        self.cpus = len(os.sched_getaffinity(0))
        self.hit: str | None = None

    def __call__(self) -> float | None:
        """Seconds until the next look, or ``None``: end the run now (``hit`` says why)."""
        if self.cgroup.oom_kills():
            self.hit = "memory_limit"
            return None
        left = self.limit_ns - self.cgroup.cpu_ns()
        if left <= 0:
            self.hit = "cpu_time_limit"
            return None
        # All CPUs busy use ``left`` in left/cpus seconds: look again well before that.
        return min(WATCH_MAX, max(WATCH_MIN, left / 1e9 / self.cpus / 2))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def _reap(proc, grace: float):
    """Wait for the jail; if it does not end within ``grace`` seconds, kill it."""
    deadline = time.monotonic() + grace
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return status, usage
        if time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
            return status, usage
        time.sleep(0.001)


@hookimpl
def livecode_register_sandboxes(register):
    register(SubprocessSandbox)
