"""What a plugin must provide: the four kinds of part livecode is assembled from.

Language runners turn source code into a :class:`Program`; sandboxes run a program under
:class:`~livecode.core.limits.Limits`; stores keep sessions and executions; queues carry execution
ids from the API to the workers. Hooks in :mod:`livecode.core.hookspecs` register them.
"""

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from threading import Event

from .execution_filter import ExecutionFilter
from .execution_states import Status
from .limits import Limits
from .keys import ApiKey
from .models import CodeSession, Execution, WorkerInfo


@dataclass(frozen=True)
class Program:
    """Files to place in a fresh working directory, and the command that runs them there.

    A sandbox that runs programs on the host resolves ``argv[0]`` there; one that runs them in
    another filesystem (a container image) runs ``argv[0]``'s base name from that filesystem's
    PATH, so each may have its own interpreter at its own path.

    ``toolchain_paths`` are the host paths the command needs besides the system's own program and
    library directories (``/usr``, ``/lib*``, ``/bin``): an interpreter installed elsewhere (a
    pyenv or venv Python under /root or /opt) and what it loads. A sandbox that builds each run's
    root from an allow-list shows the run these, read-only, and nothing else of the host.

    ``executable`` names the files written with the execute bit (a compiled binary).
    ``outputs`` names the files the sandbox hands back in :attr:`SandboxResult.files` once the
    program has ended: how a compile step's artefact leaves its box. Each is returned only if it
    is a regular file no bigger than the run's ``max_file_size``; the host only ever carries the
    bytes into the next sandbox, it never opens them otherwise, let alone runs them.
    ``reserved_address_space_kb`` is address space the toolchain reserves without using it
    (V8 maps about 1 GiB at start): a sandbox that bounds address space adds it to the memory
    limit, one that bounds real memory (a cgroup) ignores it.
    """

    files: Mapping[str, bytes]
    argv: Sequence[str]
    language: str = ""
    toolchain_paths: Sequence[str] = ()
    executable: frozenset[str] = frozenset()
    outputs: Sequence[str] = ()
    reserved_address_space_kb: int = 0
    image: str = ""  # the container image holding the toolchain, for sandboxes that use one
    stderr_to_stdout: bool = False  # the program's stderr is its stdout (one stream, in order)


@dataclass(frozen=True)
class Source:
    """A program as a runner receives it: every file (its name, a path inside the box, checked
    by :mod:`livecode.core.sources`) and the entry file among them, which the language runs or
    compiles first; ``compiler_options`` are the run's own, already checked by the runner's
    :meth:`LanguageRunner.check_compiler_options`."""

    files: Mapping[str, bytes]
    entry: str
    compiler_options: tuple[str, ...] = ()

    def named(self, *extensions: str) -> list[str]:
        """The files whose names end in one of ``extensions``, the entry first."""
        return sorted((n for n in self.files if n.endswith(extensions)),
                      key=lambda n: (n != self.entry, n))


class LanguageRunner(ABC):
    """Knows how to run one language. ``name`` is what clients send as ``language``.

    A language with a compile step returns that step from :meth:`compile`; the worker runs it in
    the sandbox under the compile limits, and if it succeeds, passes the files it named in
    ``outputs`` (the artefact) to :meth:`build`, whose program runs them under the run's limits.
    A failed compile ends the execution FAILED with reason ``compilation_error`` and the
    compiler's messages in ``compile_output``, as Judge0 reports it.
    """

    name: str
    display_name: str = ""
    file_extension: str = ""
    main_file: str = ""  # the entry's name for a one-text program; "main" + extension if unset

    def source_of(self, source: "Source | str") -> Source:
        """``source`` as a :class:`Source`: a plain text is the one-file shorthand, the language's
        ``main_file``."""
        if isinstance(source, Source):
            return source
        name = self.main_file or "main" + self.file_extension
        return Source({name: source.encode("utf-8", "surrogatepass")}, name)

    def compile(self, source: "Source | str") -> Program | None:
        """The program that compiles ``source``, or ``None`` for a language that runs its
        source as it is."""
        return None

    def check_compiler_options(self, options: Sequence[str]) -> str | None:
        """Why ``options`` cannot be given to this language's compiler (``None``: they can).
        A language without options to take refuses any."""
        return f"{self.name} has no compiler to take compiler_options" if options else None

    @abstractmethod
    def build(self, source: "Source | str", artefact: Mapping[str, bytes] | None = None,
              limits: Limits | None = None) -> Program:
        """The program that runs ``source`` (every file of it is in the box, with ``argv`` running
        its entry); for a compiled language, ``artefact`` holds the files its compile step
        produced. ``limits`` are the run's, for a toolchain that must be told them (a heap
        size); the sandbox enforces them whatever the program says."""

    def version(self) -> str | None:
        """The toolchain's version, for ``GET /languages``; ``None`` when it cannot be told."""
        return None

    def failure_reason(self, result: "SandboxResult") -> str | None:
        """The language's own reading of a failed run (Python's ``MemoryError`` is
        ``memory_limit``), or ``None``."""
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


class SandboxError(Exception):
    """The sandbox could not run the program at all (not: the program failed)."""


class Sandbox(ABC):
    """Runs programs in isolation. One instance lives as long as its worker, so it may keep warm
    resources (pre-forked interpreters, started containers) between runs; ``close`` releases them.

    ``run`` may be called from several threads at once (one per concurrent run).
    """

    name: str

    def __init__(self, settings):
        self.settings = settings

    @abstractmethod
    def run(self, program: Program, stdin: bytes, limits: Limits) -> SandboxResult: ...

    def protections(self) -> dict[str, bool]:
        """Which protections are active on this host, by name, for ``/health`` and ``/languages``."""
        return {}

    def start_path(self) -> str | None:
        """Which way this sandbox starts programs here, for ``/health``, when it has a fast path
        and a fallback (a warm pool, or containers made per run); ``None`` when it has one."""
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
    """Keeps sessions, executions, workers' heartbeats, API keys and quota counters. Every method must be safe to call from several threads and,
    for stores shared by several processes, from several processes at once."""

    @abstractmethod
    def create_session(self, session: CodeSession) -> None: ...

    @abstractmethod
    def get_session(self, session_id: str) -> CodeSession | None: ...

    @abstractmethod
    def update_session(
        self, session_id: str, changes: dict, expected_revision: int | None = None
    ) -> CodeSession | None:
        """Apply ``changes`` and bump the revision. Returns the new session, or ``None`` when it
        does not exist or its revision is not ``expected_revision`` (the caller tells which)."""

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
                        texts: tuple[str, ...] | None = None) -> list[Execution]:
        """Newest first (or oldest first). ``before`` is an execution id: only executions
        created before it. ``match`` narrows further (see ``execution_filter``). ``texts`` names
        which of ``models.TEXT_FIELDS`` to read (``None``: all); the others come back empty and
        are never read from storage, so a listing costs what its summaries weigh."""

    @abstractmethod
    def transition(
        self, execution_id: str, expected: frozenset[Status], expected_attempts: int,
        changes: dict,
    ) -> Execution | None:
        """Atomically apply ``changes`` (which include the new ``status``) if the execution's
        status is in ``expected`` and its ``attempts`` is ``expected_attempts``; return the
        updated execution, or ``None`` if it was not.

        This compare-and-set is what stops a redelivered message from running code twice (of any
        number of concurrent claims exactly one wins) and a worker thought lost from storing over
        a later attempt (its attempt number no longer matches).
        """

    @abstractmethod
    def count_executions(self, created_after: str | None = None,
                         created_before: str | None = None,
                         owner: str | None = None) -> dict[str, int]:
        """How many executions there are in each status (created in that window, and belonging
        to ``owner``, if given)."""

    @abstractmethod
    def execution_timings(self, created_after: str, created_before: str,
                          limit: int) -> list[Timing]:
        """The newest ``limit`` runs created in the window, as their times only."""

    @abstractmethod
    def failure_groups(self, created_after: str, created_before: str) -> list[dict]:
        """FAILED and TIMEOUT runs created in the window, grouped by status, ``reason`` and
        ``signature`` (the reason for runs stored without one), aggregated by the store: dicts of
        ``status``, ``reason``, ``signature``, ``count``, ``first_seen``, ``last_seen`` (creation
        times) and ``example`` (the newest one's id)."""

    @abstractmethod
    def oldest_queued_at(self) -> str | None:
        """``created_at`` of the oldest QUEUED execution."""

    @abstractmethod
    def delete_finished_before(self, timestamp: str) -> int:
        """Delete executions in a terminal status finished before ``timestamp``; how many."""

    # --- workers ---

    @abstractmethod
    def save_worker(self, worker: WorkerInfo) -> None:
        """Insert or replace a worker's record (its heartbeat)."""

    @abstractmethod
    def list_workers(self) -> list[WorkerInfo]: ...

    @abstractmethod
    def delete_worker(self, worker_id: str) -> None: ...

    # --- API keys ---

    @abstractmethod
    def create_key(self, key: ApiKey) -> None: ...

    @abstractmethod
    def get_key(self, key_id: str) -> ApiKey | None: ...

    @abstractmethod
    def list_keys(self) -> list[ApiKey]:
        """Every key, revoked ones too, oldest first."""

    @abstractmethod
    def revoke_key(self, key_id: str, revoked_at: str) -> ApiKey | None:
        """Mark a key revoked (once; a second revoke keeps the first time); ``None`` if unknown."""

    @abstractmethod
    def has_keys(self) -> bool:
        """Whether any key is not revoked: then every request must bring one."""

    # --- quota counters (when the deployment has no Redis) ---

    @abstractmethod
    def hit_counter(self, key: str, expiry: float, amount: int = 1) -> int:
        """Add ``amount`` to a counter and return its value. A counter that does not exist or has
        expired starts again at ``amount`` and expires ``expiry`` seconds from now. Atomic."""

    @abstractmethod
    def get_counter(self, key: str) -> tuple[int, float]:
        """A counter's value and when it expires (Unix time); ``(0, now)`` when it has expired."""

    @abstractmethod
    def ping(self) -> None:
        """Raise if the store cannot be reached."""

    def close(self) -> None:
        pass


class ResultStore(ABC):
    """Holds the results of runs apart from their metadata, for the ``split:`` store (metadata
    in SQLite, results in MongoDB). Results are keyed by execution and attempt, so
    a stale attempt's write can never show up as the current one's."""

    @abstractmethod
    def put_results(self, execution_id: str, attempt: int, results: dict) -> None: ...

    @abstractmethod
    def get_results(self, keys: list[tuple[str, int]]) -> dict[tuple[str, int], dict]: ...

    @abstractmethod
    def delete_results(self, execution_id: str) -> None: ...


# Called by a queue for each message. It must return quickly; ``done`` is called later, from any
# thread, once the execution's result is stored (``requeue=True`` gives the message back).
MessageHandler = Callable[[str, Callable[..., None]], None]


class Queue(ABC):
    """Carries execution ids, nothing else: the worker loads everything from the store."""

    # True when messages never leave the process that published them (``memory://``): an API
    # and a worker can share such a queue only inside one process (``livecode serve``).
    in_process = False

    @abstractmethod
    def publish(self, execution_id: str) -> None: ...

    @abstractmethod
    def consume(self, handler: MessageHandler, capacity: int, stop: Event) -> None:
        """Deliver messages to ``handler`` until ``stop`` is set, never more than ``capacity`` that
        are not yet ``done``. Acknowledge a message only when its ``done`` is called. Blocks."""

    @abstractmethod
    def ping(self) -> None:
        """Raise if the broker cannot be reached."""

    def depth(self) -> int | None:
        """Messages waiting, when the broker can tell."""
        return None

    def close(self) -> None:
        pass
