"""Settings from environment variables, with the same names as CLI flags.

``LIVECODE_STORE`` and ``--store`` set the same thing; a flag wins over the environment, and with
nothing set every default works on one machine (SQLite file, in-process queue, rlimit sandbox).
"""

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from .errors import InvalidInput
from .limits import Limits

ENV_PREFIX = "LIVECODE_"


def default_data_dir(environ) -> str:
    home = environ.get("HOME") or os.path.expanduser("~")
    base = environ.get("XDG_DATA_HOME") or os.path.join(home, ".local", "share")
    return os.path.join(base, "livecode")


@dataclass(frozen=True)
class Settings:
    data_dir: str = ""
    store: str = ""  # default: sqlite:///<data_dir>/livecode.db
    queue: str = "memory://"
    queue_name: str = "livecode.executions"
    sandbox: str = "subprocess"
    host: str = "127.0.0.1"
    port: int = 8000
    api_processes: int = 2
    api_threads: int = 8
    concurrency: int = 0  # concurrent runs per worker process; 0 means one per CPU
    max_source_bytes: int = 64 * 1024
    max_stdin_bytes: int = 64 * 1024
    cors_origins: str = "*"  # comma-separated, or *
    limits: Limits = field(default_factory=Limits)
    environ: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_env(cls, environ=None, **overrides) -> "Settings":
        """Read ``LIVECODE_<FIELD>`` for every field (and every limit), then apply ``overrides``
        whose value is not None (CLI flags that were given)."""
        environ = dict(os.environ if environ is None else environ)
        values = {}
        for f in fields(cls):
            if f.name in ("limits", "environ"):
                continue
            raw = environ.get(ENV_PREFIX + f.name.upper())
            if raw is not None:
                values[f.name] = _coerce(f.name, raw, type(getattr(cls, f.name, "")))
        limit_values = {}
        for f in fields(Limits):
            raw = environ.get(ENV_PREFIX + f.name.upper())
            if raw is not None:
                limit_values[f.name] = _coerce(f.name, raw, type(getattr(Limits, f.name)))
        for name, value in overrides.items():
            if value is None:
                continue
            if name in {f.name for f in fields(Limits)}:
                limit_values[name] = value
            else:
                values[name] = value
        settings = cls(limits=Limits(**limit_values), environ=environ, **values)
        data_dir = settings.data_dir or default_data_dir(environ)
        store = settings.store or "sqlite:///" + os.path.join(data_dir, "livecode.db")
        concurrency = settings.concurrency or os.cpu_count() or 1
        return replace(settings, data_dir=data_dir, store=store, concurrency=concurrency)

    def option(self, name: str, default=None):
        """A plugin's own option, from ``LIVECODE_<NAME>``."""
        return self.environ.get(ENV_PREFIX + name.upper(), default)

    def ensure_data_dir(self) -> Path:
        path = Path(self.data_dir)
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        return path

    def to_env(self) -> dict:
        """The environment that reproduces these settings in a child process."""
        env = {ENV_PREFIX + f.name.upper(): str(getattr(self, f.name)) for f in fields(self)
               if f.name not in ("limits", "environ")}
        env.update({ENV_PREFIX + k.upper(): str(v) for k, v in self.limits.to_dict().items()})
        return env


def _coerce(name: str, raw: str, kind: type):
    if kind is str:
        return raw
    try:
        return kind(raw)
    except ValueError:
        raise InvalidInput(f"{ENV_PREFIX}{name.upper()}={raw!r} is not a valid {kind.__name__}")
