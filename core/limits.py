"""Resource limits for one run.

An execution snapshots its limits when it is created, so a server restart with new defaults
never changes what a queued run was promised. Every sandbox receives the same object and
enforces what it can; what it cannot enforce it must report (see ``Sandbox.protections``).
"""

from dataclasses import asdict, dataclass, fields


@dataclass(frozen=True)
class Limits:
    wall_time_limit: float = 5.0  # seconds of real time, then the run is killed: TIMEOUT
    cpu_time_limit: float = 5.0  # seconds of CPU time: TIMEOUT
    memory_limit: int = 256 * 1024  # KiB of address space
    max_processes: int = 64
    output_limit: int = 1024 * 1024  # bytes each of stdout and stderr; more is cut and the run ends
    max_file_size: int = 16 * 1024 * 1024  # bytes any one file may grow to
    max_open_files: int = 64

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Limits":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})
