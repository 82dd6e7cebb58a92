"""A container's cgroup as the worker's host sees it: the CPU time, memory peak and OOM kills of
everything in the container, read from the kernel's files.

The engine's statistics API would say the same, but it takes about a second a call (it waits
for two samples); these files take microseconds, so the sandbox can poll them while a run goes
and stop it the moment its processes, all together, have used their CPU time. Both cgroup v1
(hybrid hosts such as this project's: the ``cpuacct`` and ``memory`` hierarchies) and v2 are
read; the container's place in them comes from ``/proc/<pid>/cgroup`` of a process in it, so
the engine's cgroup driver (cgroupfs or systemd) and parent do not matter. Where the files
cannot be read (a remote engine, a worker in a container of its own) ``locate`` answers
``None`` and the sandbox says so in its protections.
"""

from dataclasses import dataclass
from pathlib import Path


def _mounts() -> tuple[dict[str, Path], Path | None]:
    """The mount point of each cgroup v1 controller, and of the v2 hierarchy."""
    v1, v2 = {}, None
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        left, _, right = line.partition(" - ")
        fields, fstype_and_rest = left.split(), right.split()
        if len(fields) < 5 or len(fstype_and_rest) < 3:
            continue
        point = Path(fields[4])
        if fstype_and_rest[0] == "cgroup2":
            v2 = point
        elif fstype_and_rest[0] == "cgroup":
            for option in fstype_and_rest[2].split(","):
                v1.setdefault(option, point)
    return v1, v2


def _field(path: Path, name: str) -> int | None:
    """The number after ``name`` in a flat-keyed cgroup file (``cpu.stat``, ``memory.events``)."""
    for line in path.read_text().splitlines():
        key, _, value = line.partition(" ")
        if key == name:
            return int(value)
    return None


@dataclass(frozen=True)
class ContainerCgroup:
    cpu_dir: Path
    memory_dir: Path
    v2: bool

    @classmethod
    def locate(cls, pid: int) -> "ContainerCgroup | None":
        """The cgroup of process ``pid`` (a process of the container), or ``None`` when its
        CPU usage cannot be read from here."""
        try:
            v1_mounts, v2_mount = _mounts()
            paths = {}
            for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
                _, controllers, path = line.split(":", 2)
                for controller in controllers.split(",") if controllers else [""]:
                    paths[controller] = path.lstrip("/")
        except (OSError, ValueError):
            return None
        if "cpuacct" in paths and "cpuacct" in v1_mounts and "memory" in v1_mounts:
            found = cls(v1_mounts["cpuacct"] / paths["cpuacct"],
                        v1_mounts["memory"] / paths.get("memory", paths["cpuacct"]), v2=False)
        elif "" in paths and v2_mount is not None:
            directory = v2_mount / paths[""]
            found = cls(directory, directory, v2=True)
        else:
            return None
        return found if found.cpu_ns() is not None else None

    def _read(self, read):
        try:
            return read()
        except (OSError, ValueError, TypeError):
            return None  # the container is gone, or this kernel lacks the file

    def cpu_ns(self) -> int | None:
        """CPU time used by every process the container ever had, in nanoseconds."""
        if self.v2:
            return self._read(lambda: _field(self.cpu_dir / "cpu.stat", "usage_usec") * 1000)
        return self._read(lambda: int((self.cpu_dir / "cpuacct.usage").read_text()))

    def memory_peak(self) -> int | None:
        """The most memory the container has held at once, in bytes (its tmpfs included):
        ``memory.peak`` on v2 (Linux 5.19 and later), ``memory.max_usage_in_bytes`` on v1."""
        name = "memory.peak" if self.v2 else "memory.max_usage_in_bytes"
        return self._read(lambda: int((self.memory_dir / name).read_text()))

    def oom_kills(self) -> int | None:
        """How many processes the kernel killed for the container's memory limit."""
        name = "memory.events" if self.v2 else "memory.oom_control"
        return self._read(lambda: _field(self.memory_dir / name, "oom_kill"))
