"""What a plugin must provide: the four kinds of part livecode is assembled from (runners,
sandboxes, stores, queues). docs/plugins.md ("The contracts") is the reference for each."""

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from threading import Event

from .execution_filter import ExecutionFilter
from .execution_states import Status
from .limits import Limits
from .keys import ApiKey
from .models import CodeSession, Execution, WorkerInfo


@dataclass(frozen=True)
class Program:
    """Files for a fresh working directory and the command that runs them there: all a sandbox
    needs to know of a language."""

    files: Mapping[str, bytes]
    argv: Sequence[str]
    language: str = ""
    toolchain_paths: Sequence[str] = ()  # host paths the command needs besides /usr, /lib*, /bin
    executable: frozenset[str] = frozenset()  # files written with the execute bit
    outputs: Sequence[str] = ()  # files handed back in SandboxResult.files (an artefact)
    reserved_address_space_kb: int = 0  # mapped by the toolchain without being used (V8)
    image: str = ""  # the container image holding the toolchain, for sandboxes that use one
    stderr_to_stdout: bool = False  # the program's stderr is its stdout (one stream, in order)


@dataclass(frozen=True)
class Source:
    """A program as a runner receives it: every file, by a name already checked to stay in the
    box, and the entry, which the language runs or compiles first."""

    files: Mapping[str, bytes]
    entry: str
    compiler_options: tuple[str, ...] = ()

    def named(self, *extensions: str) -> list[str]:
        """The files whose names end in one of ``extensions``, the entry first."""
        return sorted((n for n in self.files if n.endswith(extensions)),
                      key=lambda n: (n != self.entry, n))


class LanguageRunner(ABC):
    """Knows how to run one language, so that adding one touches nothing else."""

    name: str  # what clients send as ``language``
    display_name: str = ""
    file_extension: str = ""
    main_file: str = ""  # the entry's name for a one-text program; "main" + extension if unset

    def source_of(self, source: "Source | str") -> Source:
        """A plain text is the one-file shorthand: the language's ``main_file``."""
        if isinstance(source, Source):
            return source
        name = self.main_file or "main" + self.file_extension
        return Source({name: source.encode("utf-8", "surrogatepass")}, name)

    def compile(self, source: "Source | str") -> Program | None:
        """The compile step, or ``None`` for a language that runs its source as it is."""
        return None

    def check_compiler_options(self, options: Sequence[str]) -> str | None:
        """Why a run's ``options`` cannot reach the compiler (``None``: they can)."""
        return f"{self.name} has no compiler to take compiler_options" if options else None

    @abstractmethod
    def build(self, source: "Source | str", artefact: Mapping[str, bytes] | None = None,
              limits: Limits | None = None) -> Program: ...

    def version(self) -> str | None:
        return None

    def failure_reason(self, result: "SandboxResult") -> str | None:
        """The language's own reading of a failed run (Python's ``MemoryError``), or ``None``."""
        return None


@dataclass(frozen=True)
class SandboxResult:
    exit_code: int | None  # None when the program was killed by a signal
    stdout: bytes
    stderr: bytes
    wall_time_ms: float
    cpu_time_ms: float | None = None
    max_rss_kb: int | None = None
    signal: int | None = None
    truncated: bool = False
    # Set when the sandbox ended the run: wall_time_limit, cpu_time_limit, output_limit, memory_limit.
    limit_hit: str | None = None
    # The program's ``outputs`` that it left as regular files within the size limit.
    files: Mapping[str, bytes] = field(default_factory=dict)


@dataclass(frozen=True)
class LiveIO:
    """A run followed as it runs: output as written, stdin from a pipe if interactive."""

    output: Callable[[str, bytes], None]
    stdin_fd: int | None = None


class SandboxError(Exception):
    """The sandbox could not run the program at all (not: the program failed)."""


class Sandbox(ABC):
    """Runs programs in isolation; one instance lives as long as its worker, so it may keep warm
    resources between runs. ``run`` is called from several threads at once."""

    name: str
    live_io = False  # True: ``run`` also takes ``live``, a LiveIO

    def __init__(self, settings):
        self.settings = settings

    @abstractmethod
    def run(self, program: Program, stdin: bytes, limits: Limits) -> SandboxResult: ...

    def protections(self) -> dict[str, bool]:
        """Only what is checked to hold on this host: ``/health`` must never say more."""
        return {}

    def start_path(self) -> str | None:
        return None

    def close(self) -> None:
        pass


@dataclass(frozen=True)
class Timing:
    """The times of one run, all a statistics window needs of it."""

    created_at: str
    started_at: str | None
    finished_at: str | None
    execution_time_ms: float | None


class Store(ABC):
    """Keeps sessions, executions, workers, API keys and quota counters; safe from several
    threads and, when shared, from several processes at once."""

    @abstractmethod
    def create_session(self, session: CodeSession) -> None: ...

    @abstractmethod
    def get_session(self, session_id: str) -> CodeSession | None: ...

    @abstractmethod
    def update_session(self, session_id: str, changes: dict,
                       expected_revision: int | None = None) -> CodeSession | None: ...

    @abstractmethod
    def delete_session(self, session_id: str) -> None: ...

    @abstractmethod
    def create_execution(self, execution: Execution) -> None: ...

    @abstractmethod
    def get_execution(self, execution_id: str) -> Execution | None: ...

    @abstractmethod
    def delete_execution(self, execution_id: str) -> None: ...

    @abstractmethod
    def list_executions(self, session_id: str | None = None, status: Status | None = None,
                        limit: int = 50, before: str | None = None, oldest_first: bool = False,
                        match: ExecutionFilter | None = None,
                        texts: tuple[str, ...] | None = None) -> list[Execution]: ...

    @abstractmethod
    def transition(self, execution_id: str, expected: frozenset[Status], expected_attempts: int,
                   changes: dict) -> Execution | None:
        """Atomic compare-and-set on status and attempt: what stops a redelivered message from
        running code twice and a worker thought lost from storing over a later attempt."""

    @abstractmethod
    def count_executions(self, created_after: str | None = None,
                         created_before: str | None = None,
                         owner: str | None = None) -> dict[str, int]: ...

    @abstractmethod
    def execution_timings(self, created_after: str, created_before: str,
                          limit: int) -> list[Timing]: ...

    @abstractmethod
    def failure_groups(self, created_after: str, created_before: str) -> list[dict]: ...

    @abstractmethod
    def oldest_queued_at(self) -> str | None: ...

    @abstractmethod
    def delete_finished_before(self, timestamp: str) -> int: ...

    @abstractmethod
    def save_worker(self, worker: WorkerInfo) -> None: ...

    @abstractmethod
    def list_workers(self) -> list[WorkerInfo]: ...

    @abstractmethod
    def delete_worker(self, worker_id: str) -> None: ...

    @abstractmethod
    def create_key(self, key: ApiKey) -> None: ...

    @abstractmethod
    def get_key(self, key_id: str) -> ApiKey | None: ...

    @abstractmethod
    def list_keys(self) -> list[ApiKey]: ...

    @abstractmethod
    def revoke_key(self, key_id: str, revoked_at: str) -> ApiKey | None: ...

    @abstractmethod
    def has_keys(self) -> bool: ...

    @abstractmethod
    def hit_counter(self, key: str, expiry: float, amount: int = 1) -> int:
        """Atomic, for quotas when the deployment has no Redis."""

    @abstractmethod
    def get_counter(self, key: str) -> tuple[int, float]: ...

    @abstractmethod
    def ping(self) -> None: ...

    def close(self) -> None:
        pass


class ResultStore(ABC):
    """Holds run results apart from their metadata (the ``split:`` store), keyed by execution
    and attempt so that a stale attempt's write never shows up as the current one's."""

    @abstractmethod
    def put_results(self, execution_id: str, attempt: int, results: dict) -> None: ...

    @abstractmethod
    def get_results(self, keys: list[tuple[str, int]]) -> dict[tuple[str, int], dict]: ...

    @abstractmethod
    def delete_results(self, execution_id: str) -> None: ...

    @abstractmethod
    def matching_results(self, keys: list[tuple[str, int]],
                         match: ExecutionFilter) -> set[tuple[str, int]]:
        """Decided where the results are: a text search reads back keys, never outputs."""


# Called by a queue for each message; returns at once, and calls ``done`` (from any thread,
# ``requeue=True`` to give the message back) once the result is stored.
MessageHandler = Callable[[str, Callable[..., None]], None]


class Queue(ABC):
    """Carries execution ids, nothing else: the worker loads everything from the store."""

    in_process = False  # messages never leave the publishing process (memory://)

    @abstractmethod
    def publish(self, execution_id: str) -> None: ...

    @abstractmethod
    def consume(self, handler: MessageHandler, capacity: int, stop: Event) -> None:
        """Acknowledge a message only when its ``done`` is called: a run is never lost."""

    @abstractmethod
    def ping(self) -> None: ...

    def depth(self) -> int | None:
        return None

    def close(self) -> None:
        pass


class EventChannel(ABC):
    """Runs' live states, output and stdin between processes (best effort: the store is the
    record)."""

    @abstractmethod
    def publish(self, topic: str, event: dict) -> None: ...

    @abstractmethod
    def subscribe(self, topic: str, deliver: Callable[[dict], None]) -> Callable[[], None]: ...

    def live(self, execution: Execution) -> AbstractContextManager[LiveIO | None]:
        return nullcontext()  # this channel carries states only

    def close(self) -> None:
        pass
