"""A cgroup per run: the limits that hold for a whole run, not for each of its processes.

rlimits bind one process each: eight processes may each use the memory limit, four children may
each spin for the CPU limit. A cgroup holds every process of a run (the jail's child joins it
before it drops root, and an unprivileged process cannot leave it), so the kernel bounds their
memory together, tmpfs pages included (they are charged to the writer's cgroup), and their number
(``pids.max``), and counts their CPU time together so the worker can end the run at its total.
Killing the cgroup kills every process of the run, wherever it went.

Both cgroup versions are supported, with the same operations (:class:`Cgroup`):

========================  =====================================  ================================
                          v1 (one hierarchy per controller)      v2 (one hierarchy)
========================  =====================================  ================================
memory limit              memory.limit_in_bytes, memsw same      memory.max, swap.max 0, oom.group
process limit             pids.max                               pids.max
total CPU                 cpuacct.usage (ns)                     cpu.stat usage_usec (core file)
peak memory               memory.max_usage_in_bytes              memory.peak
OOM kills                 memory.oom_control oom_kill            memory.events oom_kill
kill everything           freeze, SIGKILL each pid, thaw         cgroup.kill (else as v1)
========================  =====================================  ================================

Run cgroups live under ``<mount>/<parent>/<name>`` (``parent`` is ``livecode`` by default, on v1
in each controller's hierarchy); each uid slot has one, made afresh for every run so its counters
start at zero, and removed when the run ends. On v2 the parent holds no process, so it may enable
``memory`` and ``pids`` for its children (the "no internal processes" rule); the mount's root must
offer them, which a v2 host's real root cgroup does but a hybrid host's (whose controllers are
bound to v1) or a container's own cgroup namespace may not: then v1 is tried, then nothing.
"""

import os
import signal
import subprocess
import time
from contextlib import suppress

MOUNTINFO = "/proc/self/mountinfo"
V1_CONTROLLERS = ("memory", "pids", "cpuacct", "freezer")  # every one is needed on v1
V2_CONTROLLERS = ("memory", "pids")  # CPU time is counted in every v2 cgroup without "cpu"
EMPTY_DEADLINE = 5.0  # seconds a cgroup gets to empty once killed
STEP = 0.002
FIRST_STEP = 0.0001  # a killed run's last processes are gone in about 0.3 ms


def steps():
    """Sleeps between looks at a cgroup that is emptying: short at first, as it usually empties
    within a millisecond of the kill (on the run's path), then STEP."""
    step = FIRST_STEP
    while True:
        yield step
        step = min(step * 2, STEP)


class CgroupError(Exception):
    pass


def _write(path: str, value: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
    try:
        os.write(fd, value.encode())
    finally:
        os.close(fd)


def _read(path: str) -> str:
    with open(path) as file:
        return file.read()


def _field(text: str, key: str) -> int:
    """The value of ``key`` in a cgroup file of ``key value`` lines (0 when it is not there)."""
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name == key:
            return int(value)
    return 0


class Cgroup:
    """One run's cgroup: its directory in each hierarchy that holds one of its controllers."""

    FREEZE: tuple[str, str, str, str]  # controller, file, frozen value, thawed value

    def __init__(self, dirs: dict[str, str]):
        self.dirs = dirs  # controller -> directory ("" for v2's single directory)
        self.paths = sorted(set(dirs.values()))
        self._open: dict[str, int] = {}  # counters polled during the run, kept open

    @property
    def procs_files(self) -> list[str]:
        """Where a process writes "0" to join the cgroup (the jail's ``cgroup_procs``)."""
        return [os.path.join(path, "cgroup.procs") for path in self.paths]

    def file(self, controller: str, name: str) -> str:
        return os.path.join(self.dirs[controller], name)

    def exists(self) -> bool:
        return any(os.path.isdir(path) for path in self.paths)

    def create(self, memory_bytes: int, max_processes: int) -> None:
        for path in self.paths:
            os.mkdir(path, 0o755)
        self.limit(memory_bytes, max_processes)

    def pids(self) -> set[int]:
        found = set()
        for path in self.procs_files:
            with suppress(FileNotFoundError):
                found.update(int(pid) for pid in _read(path).split())
        return found

    def _poll(self, path: str) -> str:
        """A cgroup file's current text: one pread on a descriptor kept open (a few µs), cheap
        enough to read every few milliseconds while a run lives."""
        if path not in self._open:
            self._open[path] = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        return os.pread(self._open[path], 4096, 0).decode()

    def cpu_ns(self) -> int:
        """Total CPU time of every process the run has had, those gone included."""
        return self._parse_cpu(self._poll(self._cpu_file()))

    def kill(self) -> None:
        """SIGKILL every process in the cgroup and wait until it is empty. The list is read while
        the cgroup is frozen, so no process forks between the read and the kills; a process still
        freezing might, hence the loop."""
        controller, name, frozen, thawed = self.FREEZE
        state = self.file(controller, name)
        deadline = time.monotonic() + EMPTY_DEADLINE
        pause = steps()
        while self.pids():
            _write(state, frozen)
            for pid in self.pids():
                with suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            _write(state, thawed)  # killed processes die only once thawed
            if time.monotonic() > deadline:
                raise CgroupError(f"{self.paths[0]} still holds {sorted(self.pids())} after "
                                  "SIGKILL")
            time.sleep(next(pause))

    def remove(self) -> None:
        """Kill what is left, then remove the cgroup from every hierarchy."""
        while self._open:
            os.close(self._open.popitem()[1])
        if not self.exists():
            return
        self.kill()
        deadline = time.monotonic() + EMPTY_DEADLINE
        for path in self.paths:
            while True:
                try:
                    os.rmdir(path)
                    break
                except FileNotFoundError:
                    break
                except OSError:  # EBUSY: a killed process is not fully gone yet
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(STEP)

    # --- what differs between the versions ---

    def limit(self, memory_bytes: int, max_processes: int) -> None:
        """Set the run's memory (bytes) and process limits, on a new cgroup or on one made ahead
        of its run with other limits (a pooled jail's, :mod:`.prefork`)."""
        raise NotImplementedError

    def _cpu_file(self) -> str:
        raise NotImplementedError

    @staticmethod
    def _parse_cpu(text: str) -> int:
        raise NotImplementedError

    def peak_bytes(self) -> int | None:
        raise NotImplementedError

    def oom_kills(self) -> int:
        raise NotImplementedError


class CgroupV1(Cgroup):
    FREEZE = ("freezer", "freezer.state", "FROZEN", "THAWED")

    def limit(self, memory_bytes, max_processes):
        memory = self.file("memory", "memory.limit_in_bytes")
        memsw = self.file("memory", "memory.memsw.limit_in_bytes")
        if os.path.exists(memsw):  # memory+swap: the same bound, so swap is no way out
            # The kernel keeps memory <= memory+swap at every write: a raise starts with memsw.
            order = [memory, memsw]
            if memory_bytes > int(_read(memory)):
                order.reverse()
            for path in order:
                _write(path, str(memory_bytes))
        else:  # no swap accounting: a cgroup with swappiness 0 does not swap
            _write(memory, str(memory_bytes))
            _write(self.file("memory", "memory.swappiness"), "0")
        _write(self.file("pids", "pids.max"), str(max_processes))

    def _cpu_file(self):
        return self.file("cpuacct", "cpuacct.usage")

    @staticmethod
    def _parse_cpu(text):
        return int(text)

    def peak_bytes(self):
        return int(_read(self.file("memory", "memory.max_usage_in_bytes")))

    def oom_kills(self):
        return _field(self._poll(self.file("memory", "memory.oom_control")), "oom_kill")


class CgroupV2(Cgroup):
    FREEZE = ("", "cgroup.freeze", "1", "0")

    def __init__(self, dirs, controllers: frozenset[str]):
        super().__init__(dirs)
        self.controllers = controllers

    def limit(self, memory_bytes, max_processes):
        if "memory" in self.controllers:
            _write(self.file("", "memory.max"), str(memory_bytes))
            if os.path.exists(self.file("", "memory.swap.max")):
                _write(self.file("", "memory.swap.max"), "0")
            _write(self.file("", "memory.oom.group"), "1")  # an OOM kill ends the whole run
        if "pids" in self.controllers:
            _write(self.file("", "pids.max"), str(max_processes))

    def _cpu_file(self):
        return self.file("", "cpu.stat")

    @staticmethod
    def _parse_cpu(text):
        return _field(text, "usage_usec") * 1000

    def peak_bytes(self):
        if "memory" not in self.controllers:
            return None
        try:
            return int(_read(self.file("", "memory.peak")))
        except FileNotFoundError:  # Linux < 5.19
            return None

    def oom_kills(self):
        if "memory" not in self.controllers:
            return 0
        return _field(self._poll(self.file("", "memory.events")), "oom_kill")

    def kill(self):
        if os.path.exists(self.file("", "cgroup.kill")):  # Linux 5.14+
            _write(self.file("", "cgroup.kill"), "1")
            deadline = time.monotonic() + EMPTY_DEADLINE
            pause = steps()
            while pids := self.pids():
                if time.monotonic() > deadline:
                    raise CgroupError(f"{self.paths[0]} still holds {sorted(pids)} after kill")
                time.sleep(next(pause))
        else:
            super().kill()


class CgroupTree:
    """livecode's parent cgroup on this host: where run cgroups are made, and what they hold."""

    version: int
    controllers: frozenset[str]

    def protections(self) -> dict[str, bool]:
        return {"cgroup_memory": "memory" in self.controllers,
                "cgroup_pids": "pids" in self.controllers,
                "cgroup_cpu": True}  # both versions count a run's CPU time

    def cgroup(self, name: str) -> Cgroup:
        raise NotImplementedError

    def children(self) -> set[str]:
        """Names of the run cgroups that exist now."""
        found = set()
        for parent in self.parents:
            with suppress(FileNotFoundError):
                found.update(entry.name for entry in os.scandir(parent) if entry.is_dir())
        return found

    def check(self) -> None:
        """Prove on this host that a run cgroup can be made with its limits, joined by a process
        (as the jail's child joins it), counted and removed."""
        probe = self.cgroup(f"probe-{os.getpid()}")
        probe.remove()
        try:
            probe.create(64 << 20, 8)
            joined = subprocess.run(
                ["/bin/sh", "-c", 'for p; do echo 0 > "$p" || exit 1; done; i=0; '
                 'while [ $i -lt 1000 ]; do i=$((i+1)); done', "sh", *probe.procs_files],
                stdin=subprocess.DEVNULL, capture_output=True, timeout=10)
            if joined.returncode:
                raise CgroupError(f"cannot join a run cgroup: {joined.stderr.decode()[-200:]}")
            if not probe.cpu_ns():
                raise CgroupError("a process that joined a run cgroup was not counted")
        finally:
            with suppress(OSError, CgroupError):
                probe.remove()

    @property
    def parents(self) -> list[str]:
        raise NotImplementedError


class CgroupV1Tree(CgroupTree):
    version = 1
    controllers = frozenset(V1_CONTROLLERS)

    def __init__(self, mounts: dict[str, str], parent: str):
        self.dirs = {c: os.path.join(mounts[c], parent) for c in V1_CONTROLLERS}
        for path in self.parents:
            os.makedirs(path, 0o755, exist_ok=True)

    @property
    def parents(self):
        return sorted(set(self.dirs.values()))

    def cgroup(self, name):
        return CgroupV1({c: os.path.join(path, name) for c, path in self.dirs.items()})


class CgroupV2Tree(CgroupTree):
    version = 2

    def __init__(self, mount: str, parent: str, wanted=V2_CONTROLLERS):
        self.path = os.path.join(mount, parent)
        offered = set(_read(os.path.join(mount, "cgroup.controllers")).split())
        self.controllers = frozenset(c for c in wanted if c in offered)
        os.makedirs(self.path, 0o755, exist_ok=True)
        # Each level from the mount down hands the controllers to the next. A level that holds
        # processes cannot (the "no internal processes" rule), unless it is the host's root.
        parts = parent.strip("/").split("/")
        for depth in range(len(parts) + 1):  # the mount, ..., the parent itself
            level = os.path.join(mount, *parts[:depth])
            control = os.path.join(level, "cgroup.subtree_control")
            missing = self.controllers - set(_read(control).split())
            if missing:
                _write(control, " ".join(f"+{c}" for c in sorted(missing)))

    @property
    def parents(self):
        return [self.path]

    def cgroup(self, name):
        return CgroupV2({"": os.path.join(self.path, name)}, self.controllers)


def cgroup_mounts(mountinfo: str = MOUNTINFO) -> tuple[str | None, dict[str, str]]:
    """The cgroup2 mount point, and the mount point of each v1 controller, as this process sees
    them."""
    v2, v1 = None, {}
    for line in _read(mountinfo).splitlines():
        fields, _, tail = line.partition(" - ")
        fstype, _source, options = tail.split(" ")[:3]
        point = fields.split(" ")[4].encode().decode("unicode_escape")  # \040 for a space
        if fstype == "cgroup2" and v2 is None:
            v2 = point
        elif fstype == "cgroup":
            for option in options.split(","):
                if option in V1_CONTROLLERS:
                    v1.setdefault(option, point)
    return v2, v1


def find_tree(parent: str = "livecode") -> tuple[CgroupTree | None, str | None]:
    """The cgroup tree runs can use on this host (v2 first, then v1), or ``None`` and why not."""
    v2, v1 = cgroup_mounts()
    problems = []
    if v2:
        offered = set(_read(os.path.join(v2, "cgroup.controllers")).split())
        if set(V2_CONTROLLERS) <= offered:
            try:
                tree = CgroupV2Tree(v2, parent)
                tree.check()
                return tree, None
            except (OSError, CgroupError) as exc:
                problems.append(f"cgroup v2 at {v2}: {exc}")
        else:
            problems.append(f"cgroup v2 at {v2} does not offer {', '.join(V2_CONTROLLERS)}")
    missing = [c for c in V1_CONTROLLERS if c not in v1]
    if missing:
        problems.append(f"no cgroup v1 hierarchy for {', '.join(missing)}")
    else:
        try:
            tree = CgroupV1Tree(v1, parent)
            tree.check()
            return tree, None
        except (OSError, CgroupError) as exc:
            problems.append(f"cgroup v1: {exc}")
    return None, "; ".join(problems)
