"""Resource limits for one run (snapshotted with it, so new defaults never change what a queued
run was promised), and the caps on what a request may ask. Names follow Judge0's, so clients
moving over keep their requests."""

from dataclasses import asdict, dataclass, fields, replace

from .errors import InvalidInput


@dataclass(frozen=True)
class Limits:
    wall_time_limit: float = 5.0  # seconds of real time, then the run is killed: TIMEOUT
    cpu_time_limit: float = 5.0  # seconds of CPU time: TIMEOUT
    memory_limit: int = 256 * 1024  # KiB
    max_processes: int = 64  # processes and threads
    output_limit: int = 1024 * 1024  # bytes each of stdout and stderr; more is cut and the run ends
    max_file_size: int = 16 * 1024 * 1024  # bytes any one file may grow to
    disk_limit: int = 64 * 1024 * 1024  # bytes of everything the run writes
    max_open_files: int = 64

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Limits":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    @classmethod
    def names(cls) -> dict[str, type]:
        return {f.name: type(getattr(cls, f.name)) for f in fields(cls)}

    def within(self, caps: "Limits", requested: dict) -> "Limits":
        """With ``requested`` applied, each positive and within its cap (else an error)."""
        for name, value in requested.items():
            if not value > 0:
                raise InvalidInput(f"{name} must be greater than 0, not {value}", field=name)
            cap = getattr(caps, name)
            if value > cap:
                raise InvalidInput(f"{name} is {value}; this server allows at most {cap}",
                                   field=name, cap=cap)
        return replace(self, **requested)


# What a request may ask for at most, unless the operator sets LIVECODE_CAP_<FIELD>.
DEFAULT_CAPS = Limits(
    wall_time_limit=30.0,
    cpu_time_limit=20.0,
    memory_limit=1024 * 1024,
    max_processes=256,
    output_limit=16 * 1024 * 1024,
    max_file_size=256 * 1024 * 1024,
    disk_limit=512 * 1024 * 1024,
    max_open_files=1024,
)


# What a compile step may use: an operator's setting (LIVECODE_COMPILE_<FIELD>), never a request's.
# Compilers need more memory and time than most programs; ``max_file_size`` also caps the artefact.
DEFAULT_COMPILE_LIMITS = Limits(
    wall_time_limit=15.0,
    cpu_time_limit=10.0,
    memory_limit=1024 * 1024,
    max_processes=64,
    output_limit=1024 * 1024,
    max_file_size=64 * 1024 * 1024,
    disk_limit=256 * 1024 * 1024,
    max_open_files=256,
)
