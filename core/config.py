"""Settings from ``LIVECODE_*`` environment variables, named like the CLI flags that win over
them; with nothing set every default works on one machine."""

import os
from dataclasses import dataclass, field, fields, replace

from .errors import InvalidInput
from .limits import DEFAULT_CAPS, DEFAULT_COMPILE_LIMITS, Limits

ENV_PREFIX = "LIVECODE_"


def default_data_dir(environ) -> str:
    home = environ.get("HOME") or os.path.expanduser("~")
    base = environ.get("XDG_DATA_HOME") or os.path.join(home, ".local", "share")
    return os.path.join(base, "livecode")


@dataclass(frozen=True)
class Settings:
    data_dir: str = ""
    store: str = ""  # default: sqlite:///<data_dir>/livecode.db
    result_store: str = ""  # where run results go apart from the rest (mongodb://…): split mode
    queue: str = "memory://"
    queue_name: str = "livecode.executions"
    events: str = ""  # the event channel's URL; default: the queue's
    sandbox: str = "subprocess"
    host: str = "127.0.0.1"
    port: int = 8000
    api_processes: int = 2
    api_threads: int = 8
    concurrency: int = 0  # concurrent runs per worker process; 0 means one per CPU
    max_source_bytes: int = 64 * 1024
    max_stdin_bytes: int = 64 * 1024
    max_tests: int = 32  # test cases one run may carry
    max_batch: int = 20  # runs one POST /executions/batch queues; ids one GET /executions reads
    max_files: int = 32  # files one program may have
    max_files_bytes: int = 512 * 1024  # their texts in all
    max_args: int = 64  # command-line arguments one run may give its program
    cors_origins: str = "*"  # comma-separated, or *
    insecure_no_auth: bool = False  # serve without keys on a non-loopback address
    # Per-key quotas (0: unlimited); a key may carry its own (livecode keys create --quota).
    quota_writes_per_second: int = 20
    quota_runs_per_minute: int = 60
    quota_active_runs: int = 10
    max_page_bytes: int = 1024 * 1024  # a listing page stops before it would pass this
    request_timeout: float = 10.0  # seconds a client has to send a whole request
    heartbeat_interval: float = 2.0  # seconds between a worker's heartbeats
    worker_lost_after: float = 10.0  # seconds without a heartbeat before a worker counts as lost
    max_attempts: int = 3  # runs of one execution before a lost worker makes it FAILED
    requeue_after: float = 30.0  # seconds a QUEUED execution waits before its message is re-sent
    retention_seconds: float = 0.0  # finished executions older than this are deleted; 0: never
    maintenance_interval: float = 5.0  # seconds between a worker's recovery sweeps
    store_retry_seconds: float = 120.0  # how long a worker retries a store that does not answer
    limits: Limits = field(default_factory=Limits)
    limit_caps: Limits = DEFAULT_CAPS
    compile_limits: Limits = DEFAULT_COMPILE_LIMITS  # for a language's compile step
    environ: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_env(cls, environ=None, **overrides) -> "Settings":
        """``LIVECODE_<FIELD>``, ``LIVECODE_[CAP_|COMPILE_]<LIMIT>``, then the ``overrides``
        that are not None (the CLI flags given)."""
        environ = dict(os.environ if environ is None else environ)
        values = {}
        for f in fields(cls):
            if f.name in STRUCTURED:
                continue
            raw = environ.get(ENV_PREFIX + f.name.upper())
            if raw is not None:
                values[f.name] = _coerce(f.name.upper(), raw, type(getattr(cls, f.name, "")))
        limit_values, cap_values, compile_values = {}, {}, {}
        for name, kind in Limits.names().items():
            for prefix, found in (("", limit_values), ("CAP_", cap_values),
                                  ("COMPILE_", compile_values)):
                raw = environ.get(ENV_PREFIX + prefix + name.upper())
                if raw is not None:
                    found[name] = _coerce(prefix + name.upper(), raw, kind)
                    if found[name] <= 0:
                        raise InvalidInput(f"{ENV_PREFIX}{prefix}{name.upper()}={raw!r} must be "
                                           "greater than 0")
        for name, value in overrides.items():
            if value is None:
                continue
            (limit_values if name in Limits.names() else values)[name] = value
        caps = replace(DEFAULT_CAPS, **cap_values)
        limits = replace(Limits(), **limit_values)
        for name, value in limits.to_dict().items():
            if value > getattr(caps, name):  # raise a cap that a default exceeds
                caps = replace(caps, **{name: value})
        settings = cls(limits=limits, limit_caps=caps,
                       compile_limits=replace(DEFAULT_COMPILE_LIMITS, **compile_values),
                       environ=environ, **values)
        data_dir = settings.data_dir or default_data_dir(environ)
        store = settings.store or "sqlite:///" + os.path.join(data_dir, "livecode.db")
        if settings.result_store:  # the same as the split store's own URL
            store = f"split:{store};{settings.result_store}"
        concurrency = settings.concurrency or os.cpu_count() or 1
        return replace(settings, data_dir=data_dir, store=store, concurrency=concurrency)

    def option(self, name: str, default=None):
        """A plugin's own option, from ``LIVECODE_<NAME>``."""
        return self.environ.get(ENV_PREFIX + name.upper(), default)


STRUCTURED = ("limits", "limit_caps", "compile_limits", "environ")


def _coerce(name: str, raw: str, kind: type):
    if kind is str:
        return raw
    if kind is bool:
        if raw.lower() in ("1", "true", "yes", "0", "false", "no", ""):
            return raw.lower() in ("1", "true", "yes")
        raise InvalidInput(f"{ENV_PREFIX}{name}={raw!r} must be 1 or 0")
    try:
        return kind(raw)
    except ValueError:
        raise InvalidInput(f"{ENV_PREFIX}{name}={raw!r} is not a valid {kind.__name__}") from None
