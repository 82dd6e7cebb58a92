"""The ``subprocess`` sandbox: each run is a child process in its own namespaces and minimal root,
under its own uid, in its own cgroup, a seccomp filter and setrlimit limits, with nothing of it
left when it ends.

The worker starts :mod:`.jail` for every run (see its docstring for the steps). It runs in one of
three modes, the best this host allows, found at start-up by trying each on ``/bin/true``:

- ``root``: livecode is root; each run gets a uid of its own from a range (``uid_slots``) and,
  where the host has a usable cgroup, a cgroup of its own;
- ``user_namespace``: livecode is an ordinary user and the host allows unprivileged user
  namespaces (as bubblewrap needs); the same namespaces and minimal root, inside a user namespace
  that maps one id, so runs share livecode's uid outside it (no uid slots, no run cgroups);
- ``none``: no isolation at all, only rlimits and a clean environment. The sandbox refuses to
  start in this mode unless the operator says so in words: ``LIVECODE_SANDBOX_STRICT=0``.

``LIVECODE_SANDBOX_STRICT=1`` refuses to start without every protection of the ``root`` mode;
unset, a missing protection other than isolation itself (seccomp without libseccomp, uid slots or
cgroups without root) is logged and reported ``false`` in ``protections()``.

Where a cgroup is usable (:mod:`.cgroups`), the run's limits hold for the whole run: its memory
(tmpfs included) and its number of processes are bounded by the kernel, and the worker watches
the run's total CPU time while it lives and ends it at ``cpu_time_limit``. ``cpu_time_ms`` and
``max_rss_kb`` (the run's peak memory charge) come from the cgroup; the run ends by killing it.
rlimits stay as a per-process backstop, except ``RLIMIT_AS``, which the cgroup's memory limit
replaces: runtimes that reserve much more address space than they use (the JVM, Go, V8) fail
under it, and a program OOM-killed by its cgroup is reported as ``memory_limit`` just as a
Python ``MemoryError`` is.

Jails start from a warm fork-server (:mod:`.fork_server`, :mod:`.zygote`, started by the first
run) rather than a fresh interpreter each: the same jail, minus the interpreter's start-up.
A Python program that cannot tell the difference (:mod:`.warm_python`, checked by the
conformance corpus) runs in the warm interpreter of a fork-server of its own instead of an
exec'd one, behind the same jail; ``LIVECODE_SANDBOX_IN_PROCESS=0`` execs every program.
Without a fork-server (``LIVECODE_SANDBOX_FORK_SERVER=0``, or while it is down),
each jail is spawned; ``start_path()`` (in ``/health``) says which. With one, each kind of run
seen lately has a few jails forked ahead of demand (:mod:`.prefork`, as many as the worker runs
at once), which have done all a jail does before it knows its run; ``LIVECODE_SANDBOX_PREFORK=0``
starts every jail for its run.

Options (environment): ``LIVECODE_SANDBOX_UID_BASE`` and ``LIVECODE_SANDBOX_UID_COUNT``, the range
of uids runs take one each of (default 2000000000 and 1024); ``LIVECODE_JAIL_PYTHON``, the
interpreter that runs the jail (default: the one livecode runs on); ``LIVECODE_CGROUP_PARENT``,
the cgroup (relative to each cgroup mount) that holds the runs' cgroups (default ``livecode``).
"""

import logging
import marshal
import os
import resource
import signal
import tempfile
import time
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path

from livecode.plugins.sandboxing.interpreter import base_interpreter
from livecode.core.contracts import Program, Sandbox, SandboxError, SandboxResult
from livecode.core.hookspecs import hookimpl
from livecode.core.limits import Limits
from livecode.plugins.sandboxing.cpu import whole_cpu_seconds

from . import fork_server, prefork, toolchain
from .aftercare import Aftercare
from .cgroups import CgroupError, find_tree
from .jail import BOX, frame
from .jail_process import SpawnedJail
from .process_io import EXIT_LINE, pump
from .seccomp_filter import compile_filter
from .uid_slots import UidSlots
from .workdir import private_workdir

log = logging.getLogger(__name__)

JAIL = str(Path(__file__).with_name("jail.py"))
SAFE_PATH = "/usr/local/bin:/usr/bin:/bin"
ENVIRONMENT = {"PATH": SAFE_PATH, "LANG": "C.UTF-8"}  # a program's, with its HOME
CLONE_NEWUSER = 0x10000000
ISOLATION = 0x00020000 | 0x20000000 | 0x40000000 | 0x08000000 | 0x04000000  # mnt pid net ipc uts
RUN_ID_IN_USER_NAMESPACE = 1000  # the run's uid and gid inside its user namespace
STOP_GRACE = 2.0  # seconds the jail gets to take its namespace down before it is killed
AFTERCARE_GRACE = 10.0  # seconds close() waits for ended runs' cgroups to be removed
# Seconds between two looks at a run's total CPU time: the less CPU is left, the sooner.
WATCH_MIN, WATCH_MAX = 0.005, 0.025
MODES = ("root", "user_namespace", "none")


def rlimits(limits: Limits, address_space: bool,
            reserved_address_space_kb: int = 0) -> list[tuple[int, int, int]]:
    """Per-process limits; ``address_space`` only where no cgroup bounds the run's memory (and
    then with the address space the toolchain reserves without using it added)."""
    cpu = whole_cpu_seconds(limits)
    memory = (limits.memory_limit + reserved_address_space_kb) * 1024
    return [
        (resource.RLIMIT_CPU, cpu, cpu + 1),  # SIGXCPU at the soft limit, SIGKILL a second later
        *([(resource.RLIMIT_AS, memory, memory)] if address_space else []),
        (resource.RLIMIT_NPROC, limits.max_processes, limits.max_processes),
        (resource.RLIMIT_FSIZE, limits.max_file_size, limits.max_file_size),
        (resource.RLIMIT_NOFILE, limits.max_open_files, limits.max_open_files),
        (resource.RLIMIT_CORE, 0, 0),
    ]


def cgroup_limits(limits: Limits) -> tuple[int, int]:
    """A run cgroup's memory (bytes) and process limits: one more process than the program may
    have, for its init, PID 1 of the run."""
    return limits.memory_limit * 1024, limits.max_processes + 1


class SlotsFull(Exception):
    """Every uid slot is taken: a jail started ahead of demand does not wait for one."""


def _slots_full():
    raise SlotsFull


class SubprocessSandbox(Sandbox):
    name = "subprocess"
    live_io = True

    def __init__(self, settings):
        super().__init__(settings)
        self.jail_python = settings.option("JAIL_PYTHON") or base_interpreter()
        self.work_root = settings.option("WORK_ROOT") or tempfile.gettempdir()
        self.uids = None
        self.aftercare = Aftercare()
        if os.geteuid() == 0:
            try:
                self.uids = UidSlots("/run/livecode-sandbox",
                                     int(settings.option("SANDBOX_UID_BASE", 2_000_000_000)),
                                     int(settings.option("SANDBOX_UID_COUNT", 1024)))
            except OSError as exc:  # root of a user namespace, say, not of the host
                log.info("subprocess sandbox: no uid slots: %s", exc)
        if self.uids:
            self.cgroups, cgroup_problem = find_tree(settings.option("CGROUP_PARENT", "livecode"))
        else:
            self.cgroups, cgroup_problem = None, ("run cgroups are made by root (a cgroup "
                                                  "delegated to an ordinary user is not used)")
        if self.cgroups:
            log.info("subprocess sandbox: a cgroup v%d per run, under %s", self.cgroups.version,
                     ", ".join(self.cgroups.parents))
            self._sweep_cgroups()
        strict = settings.option("SANDBOX_STRICT", "")
        try:
            self.seccomp, seccomp_problem = compile_filter(), None
        except (ImportError, OSError, RuntimeError, ValueError) as exc:
            self.seccomp, seccomp_problem = b"", f"no seccomp filter: {exc}"
        # The probes below spawn their jails, and use no pool.
        self.fork_server, self.in_process, self.pool = None, False, None
        self.runs_in_process = 0  # Python programs run in a warm interpreter, in this process
        self.mode, problem = self._probe(allow_none=strict in ("0", "false"))
        # The probe's cgroup and slot are gone before the first run: a new sandbox leaves
        # the host as it found it, and its sweep's result is what the host shows.
        self.aftercare.wait(AFTERCARE_GRACE)
        self.fork_server = (fork_server.shared(self.jail_python)
                            if settings.option("SANDBOX_FORK_SERVER", "1") not in ("0", "false")
                            else None)
        self.in_process = bool(self.fork_server) and settings.option(
            "SANDBOX_IN_PROCESS", "1") not in ("0", "false")
        if self.fork_server and self.mode != "none" and settings.option(
                "SANDBOX_PREFORK", "1") not in ("0", "false"):
            self.pool = prefork.Pool(settings.concurrency, self._prepare)
        missing = [name for name, on in self.protections().items()
                   if not on and name != "user_namespace"]  # root mode has no need of one
        if missing:
            problems = "; ".join(p for p in (problem, seccomp_problem, cgroup_problem) if p)
            message = (f"subprocess sandbox ({self.mode} mode): running WITHOUT "
                       f"{', '.join(missing)}" + (f" ({problems})" if problems else ""))
            if strict in ("1", "true"):
                raise SandboxError(message + "; LIVECODE_SANDBOX_STRICT=1 forbids that")
            log.warning(message)

    def _probe(self, allow_none: bool) -> tuple[str, str | None]:
        """Try the jail on ``/bin/true`` in the best mode first; step down only as far as the host
        requires, and to no isolation at all only when the operator allowed it."""
        problem = None
        for mode in MODES[0 if self.uids else 1:]:
            if mode == "none" and not allow_none:
                raise SandboxError(
                    "the subprocess sandbox cannot isolate runs on this host (" + str(problem)
                    + "): refusing to run untrusted code. Run livecode as root, allow "
                    "unprivileged user namespaces (sysctl user.max_user_namespaces), or set "
                    "LIVECODE_SANDBOX_STRICT=0 to run programs with no isolation at all")
            try:
                result = self._run(Program({}, ["/bin/true"]), b"", Limits(), mode)
                if result.exit_code == 0:
                    return mode, problem
                problem = f"{mode} probe exited {result.exit_code}: {result.stderr[-200:]!r}"
            except (SandboxError, OSError) as exc:
                problem = f"{mode}: {exc}"
        raise SandboxError(f"the subprocess sandbox cannot run anything here: {problem}")

    def start_path(self) -> str:
        """How runs start now in this process: ``in-process`` (Python programs run in a warm
        interpreter, the other programs' jails are forked), ``fork-server`` (every jail is
        forked, its program exec'd), or ``spawn`` (the fork-server is off, not started yet, or
        down). Asked of a closed instance too (``/health``'s)."""
        if self.in_process and fork_server.warm_python_up():
            return "in-process"
        return "fork-server" if self.fork_server and self.fork_server.up else "spawn"

    def close(self) -> None:
        """Kill the jails started ahead of demand, and free their slots and cgroups and those
        of ended runs (:mod:`.aftercare`)."""
        if self.pool:
            self.pool.close()
        self.aftercare.wait(AFTERCARE_GRACE)

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

    def _clear_slot(self, uid: int) -> bool:
        """Called on claiming a uid slot: whatever an earlier run of it left is killed first.
        Without a cgroup there is nothing to do: a slot's runs always have a PID namespace, which
        the kernel empties before the run's init is gone and the slot's lock released."""
        if self.cgroups:
            return self._clear_cgroup(self.cgroups.cgroup(str(uid)))
        return True

    def protections(self) -> dict[str, bool]:
        isolated = self.mode != "none"
        cgroups = (self.cgroups.protections() if self.cgroups and self.mode == "root"
                   else dict.fromkeys(("cgroup_memory", "cgroup_pids", "cgroup_cpu"), False))
        return {
            "rlimits": True,
            "clean_environment": True,
            "no_new_privs": True,
            "unprivileged_user": isolated,
            "uid_per_run": self.mode == "root",
            # RLIMIT_NPROC counts per uid, and per user namespace since Linux 5.14: each run has
            # a uid, or a user namespace, of its own.
            "process_limit": isolated,
            "user_namespace": self.mode == "user_namespace",
            "mount_namespace": isolated,
            "pid_namespace": isolated,
            "network_isolation": isolated,
            "ipc_namespace": isolated,
            "uts_namespace": isolated,
            "minimal_root": isolated,
            "devpts": isolated,
            "private_tmp": isolated,
            "kills_every_descendant": isolated,
            "dies_with_worker": isolated,
            "seccomp": bool(self.seccomp),
            **cgroups,
        }

    def run(self, program: Program, stdin: bytes, limits: Limits, live=None) -> SandboxResult:
        return self._run(program, stdin, limits, self.mode, live)

    def _run(self, program, stdin, limits, mode, live=None) -> SandboxResult:
        argv = self._argv(program)
        layout = toolchain.recent_layout([argv[0], *program.toolchain_paths])
        with ExitStack() as stack:
            workdir = (stack.enter_context(private_workdir(self.work_root)) if mode == "none"
                       else None)
            outputs = None
            if program.outputs:
                # The jail's init writes the files the program left here once it has ended.
                outputs = stack.enter_context(os.fdopen(os.memfd_create("livecode-outputs"),
                                                        "w+b"))
            started = time.monotonic()
            jail, cgroup, in_process = self._jail_for(
                stack, program, argv, limits, mode, layout, workdir,
                outputs.fileno() if outputs else -1)
            run_part = {
                "argv": argv,
                "env": ENVIRONMENT,
                "files": dict(program.files),
                "disk_limit": limits.disk_limit,
                "rlimits": rlimits(limits, not (cgroup and self.cgroups.protections()[
                    "cgroup_memory"]), program.reserved_address_space_kb),
                "seccomp": self.seccomp,
                "executable": sorted(program.executable),
                "outputs": list(program.outputs),
                "output_cap": limits.max_file_size,
                "outputs_fd": jail.outputs_fd,  # the number the jail has it at
                "stderr_to_stdout": program.stderr_to_stdout,
                "in_process": in_process,  # the jail checks it may, else it execs as always
            }
            result = self._supervise(jail, run_part, stdin, limits, cgroup, mode != "none",
                                     started, live)
            if outputs is not None:
                result = replace(result, files=_read_outputs(outputs))
            return result

    def _jail_for(self, stack, program, argv, limits, mode, layout, workdir, outputs_fd):
        """A jail waiting for the run's part of the spec, the run's cgroup (``None`` without
        one) with the run's limits, and whether the program may run in the jail's fork-server's
        interpreter: a pooled jail if one fits (:mod:`.prefork`), else one started now, forked
        by the warm Python fork-server, the jail's, or spawned, the first that serves."""
        warm = outputs_fd < 0 and self._warm_python(program, argv)
        server = warm or self.fork_server
        pooled = self.pool and outputs_fd < 0 and self.pool.take((server, mode, layout))
        if pooled:
            stack.enter_context(pooled.resources)
            wanted = cgroup_limits(limits)
            if pooled.cgroup and pooled.cgroup_limits != wanted:  # most runs keep the defaults
                try:
                    pooled.cgroup.limit(*wanted)
                except OSError as exc:
                    raise SandboxError(f"cannot set the run's cgroup limits: {exc}") from exc
            return pooled.jail, pooled.cgroup, server is warm
        uid, cgroup = self._claim(stack, mode, limits,
                                  self.pool.give_back if self.pool else lambda: None)
        jail = warm and warm.start_jail()
        in_process = bool(jail)
        jail = jail or self.fork_server and self.fork_server.start_jail(outputs_fd)
        jail = stack.enter_context(jail or SpawnedJail(self.jail_python, JAIL, outputs_fd))
        jail.send_spec(frame(self._fixed_part(mode, layout, workdir, uid, cgroup)), last=False)
        return jail, cgroup, in_process

    def _prepare(self, key) -> "prefork.Pooled | None":
        """A jail for the pool: forked by ``key``'s fork-server, with the default limits until a
        run takes it. ``None`` if that fork-server is not up, or every uid slot is taken (a
        pooled jail never waits for one)."""
        server, mode, layout = key
        with ExitStack() as stack:
            try:
                uid, cgroup = self._claim(stack, mode, Limits(), _slots_full)
            except SlotsFull:
                return None
            except (OSError, SandboxError) as exc:
                log.warning("subprocess sandbox: cannot start a jail ahead of its run: %s", exc)
                return None
            jail = server.start_jail()
            if jail is None:
                return None
            stack.enter_context(jail)
            jail.send_spec(frame(self._fixed_part(mode, layout, None, uid, cgroup)), last=False)
            return prefork.Pooled(jail, cgroup, stack.pop_all(), cgroup_limits(Limits()))

    def _claim(self, stack, mode, limits, when_full) -> tuple[int, object]:
        """The run's uid (-1: none of its own) and, in root mode where the host has them, its
        cgroup, both unwound by ``stack``; ``when_full`` is called while every uid slot is
        taken."""
        if mode != "root":
            return (RUN_ID_IN_USER_NAMESPACE if mode == "user_namespace" else -1), None
        with ExitStack() as tail:  # released after the run's result, by the aftercare
            uid = tail.enter_context(self.uids.acquire(self._clear_slot, when_full))
            cgroup = None
            if self.cgroups:
                cgroup = self.cgroups.cgroup(str(uid))  # one cgroup per uid slot
                tail.callback(self._clear_cgroup, cgroup)
                try:
                    cgroup.create(*cgroup_limits(limits))
                except OSError as exc:
                    raise SandboxError(f"cannot make the run's cgroup: {exc}") from exc
            stack.callback(self.aftercare.later, tail.pop_all())
        return uid, cgroup

    @staticmethod
    def _fixed_part(mode, layout, workdir, uid, cgroup) -> dict:
        """The part of the spec that does not depend on the run itself: what a jail can do
        before its run is known."""
        namespaces = {"root": ISOLATION, "user_namespace": ISOLATION | CLONE_NEWUSER}.get(mode, 0)
        return {
            "worker_pid": os.getpid(),
            "workdir": workdir,
            "namespaces": namespaces,
            "minimal_root": bool(namespaces),
            "toolchain": list(layout),
            "loopback": bool(namespaces),
            "uid": uid,
            "gid": uid,
            "cgroup_procs": cgroup.procs_files if cgroup else [],
        }

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

    def _warm_python(self, program: Program, argv: list[str]):
        """The zygote that can run this program in its own interpreter (:mod:`.warm_python`):
        that interpreter with the program's flags and environment. ``None`` if it is not such a
        program, or one that could tell, or if running in-process is off."""
        found = self.in_process and fork_server.python_program(argv, program.files)
        if not found:
            return None
        return fork_server.shared(*found, env=dict(ENVIRONMENT, HOME=BOX))

    def _supervise(self, jail, run_part: dict, stdin: bytes, limits: Limits, cgroup,
                   own_pid_namespace: bool, started: float, live=None) -> SandboxResult:
        """Send the run's part of the spec, pump the run's streams until it ends or a limit
        ends it, reap the jail and read what it reports."""
        jail.send_spec(frame(run_part))
        watch = RunWatch(cgroup, limits) if cgroup else None
        captured = None
        try:
            # With a cgroup, the init's word that the program ended is the run's end: the
            # cgroup is emptied below all the same, and the jail reaped after the result. (The
            # jail's rusage, all a run without one has for its CPU time, needs the jail reaped.)
            captured = pump(jail, stdin, limits.output_limit,
                            started + limits.wall_time_limit,
                            lambda: jail.stop(own_pid_namespace), watch, live,
                            jail.pipes.status.fileno() if cgroup else None)
        finally:
            told = captured is not None and captured.exit_status is not None
            if told:
                jail.reap_later(self.aftercare)
            else:
                jail.stop(own_pid_namespace)
                status, jail_cpu_seconds = jail.reap(STOP_GRACE)
            if cgroup and (not told or _run_processes(cgroup.pids())):
                try:
                    cgroup.kill()  # what outlived the program, so the figures below are final
                except CgroupError as exc:
                    log.error("subprocess sandbox: %s", exc)
        if told:
            status, report = captured.exit_status, bytes(captured.report)
        else:
            report = bytes(captured.report) + jail.report()
        report = EXIT_LINE.sub(b"", report).decode("utf-8", "replace")
        exec_line, _, failure = report.partition("\n")
        if not exec_line.startswith("exec "):
            raise SandboxError(f"the jail could not start the program: {report or 'no report'}")
        if failure:
            raise SandboxError(f"the jail could not start the program: {failure}")
        _, exec_ns, *how = exec_line.split()
        exec_at = int(exec_ns) / 1e9
        if how == ["in-process"]:
            self.runs_in_process += 1
        ended = captured.exited_at or time.monotonic()
        if cgroup:
            cpu_ms, peak = cgroup.cpu_ns() / 1e6, cgroup.peak_bytes()
            max_rss_kb = None if peak is None else peak // 1024
            out_of_memory = cgroup.oom_kills() > 0
        else:  # the jail's rusage; its maxrss would be the worker's, from before the exec
            cpu_ms = jail_cpu_seconds * 1000
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
        elif sig == signal.SIGXCPU or cpu_ms >= limits.cpu_time_limit * 1000 and (
                cgroup or sig == signal.SIGKILL):
            # RLIMIT_CPU ended a process (SIGXCPU is the kernel's verdict; its CPU clock and
            # getrusage's differ slightly), or the run's total passed the limit between two
            # looks (it counts even if the run then ended by itself).
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


def _run_processes(pids) -> list[int]:
    """Those of ``pids`` (a run's cgroup) that are not its init, which alone is root there: the
    program's and what it started run under the slot's uid, which none of them can leave. Once
    the init has said the program ended, it is exiting by itself; the aftercare waits for it."""
    found = []
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status", "rb") as status:
                uids = next(line for line in status if line.startswith(b"Uid:"))
        except (OSError, StopIteration):
            continue  # gone
        if uids.split()[1] != b"0":
            found.append(pid)
    return found


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


def _read_outputs(outputs) -> dict[str, bytes]:
    """What the jail wrote to the outputs file: nothing if it was killed before it could."""
    outputs.seek(0)
    try:
        found = marshal.load(outputs)
    except (EOFError, ValueError, TypeError):
        return {}
    return found if isinstance(found, dict) else {}


@hookimpl
def livecode_register_sandboxes(register):
    register(SubprocessSandbox)
