"""The records livecode keeps: a code session (what a user edits, one text or several files),
an execution (one run of a snapshot of it, so autosaves while it waits never change what runs),
a worker's heartbeat."""

import uuid
from dataclasses import dataclass, field, fields, replace

from .execution_states import Status
from .limits import Limits
from .timestamps import age_seconds, utcnow


def new_id() -> str:
    return str(uuid.uuid4())


def record_dict(record) -> dict:
    """What ``dataclasses.asdict`` gives for these records (fresh copies of their lists and
    dicts, a nested record as its own dict) in a sixth of its time (14 µs against 86 µs for an
    execution): ``asdict`` deep-copies every value through generic code, and an execution
    becomes a dict for every answer, event and store write of a run."""
    return {name: _plain(getattr(record, name)) for name in _field_names(type(record))}


_SCALARS = frozenset((str, int, float, bool, type(None)))


def _plain(value):
    if type(value) in _SCALARS:  # most fields: no copy, and no isinstance chain to get there
        return value
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(item) for item in value)
    if hasattr(value, "__dataclass_fields__"):
        return record_dict(value)
    return value


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _field_names(cls) -> tuple[str, ...]:
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in fields(cls))
    return names


@dataclass(frozen=True)
class CodeSession:
    session_id: str
    language: str
    source_code: str
    created_at: str
    updated_at: str
    revision: int = 1  # bumped by every autosave; a client may send it back to detect lost updates
    status: str = "ACTIVE"
    owner: str = ""  # the id of the API key that made it ("" when made without keys)
    # A program of several files: all of them ([{name, content}]) and the one that runs, whose
    # text is also source_code. Empty for a one-text program (source_code is the main file).
    files: list = field(default_factory=list)
    entry: str = ""

    @classmethod
    def new(cls, language: str, source_code: str, owner: str = "", files: list = (),
            entry: str = "") -> "CodeSession":
        now = utcnow()
        return cls(new_id(), language, source_code, now, now, owner=owner, files=list(files),
                   entry=entry)

    def to_dict(self) -> dict:
        return record_dict(self)


# What a listing leaves out unless asked for: the texts a run holds, of any size.
TEXT_FIELDS = ("source_code", "stdin", "stdout", "stderr", "files")


def unread(name: str):
    """What a text not read from storage is: an empty list of files, else an empty string."""
    return [] if name == "files" else ""


@dataclass(frozen=True)
class Execution:
    execution_id: str
    session_id: str
    language: str
    source_code: str
    stdin: str
    limits: Limits
    status: Status
    created_at: str
    session_revision: int = 0
    started_at: str | None = None
    finished_at: str | None = None
    stdout: str = ""
    stderr: str = ""
    exit_code: int | None = None
    execution_time_ms: float | None = None
    cpu_time_ms: float | None = None
    max_rss_kb: int | None = None
    truncated: bool = False
    reason: str | None = None  # why it ended the way it did: wall_time_limit, output_limit, ...
    compile_output: str | None = None  # the compiler's messages; None for a language without one
    tests: dict | None = None  # {"comparison", "cases": [{stdin, expected_output}]}: see test_cases
    test_results: list = field(default_factory=list)  # one per case, in order
    sandbox: str | None = None
    worker_id: str | None = None
    attempts: int = 0
    extra: dict = field(default_factory=dict)
    owner: str = ""  # the session's owner
    # Sizes in bytes, stored beside the texts so that listings need not read them.
    source_bytes: int = 0
    stdin_bytes: int = 0
    stdout_bytes: int = 0
    stderr_bytes: int = 0
    # A failed run's group on GET /failures: the last line of stderr, else the reason.
    signature: str | None = None
    files: list = field(default_factory=list)  # the session's files when it had several
    entry: str = ""
    args: list = field(default_factory=list)  # the program's command-line arguments
    compiler_options: list = field(default_factory=list)  # given to a compiled language's compiler
    redirect_stderr_to_stdout: bool = False

    @classmethod
    def snapshot(cls, session: CodeSession, stdin: str, limits: Limits) -> "Execution":
        return cls(
            execution_id=new_id(),
            session_id=session.session_id,
            language=session.language,
            source_code=session.source_code,
            stdin=stdin,
            limits=limits,
            status=Status.QUEUED,
            created_at=utcnow(),
            session_revision=session.revision,
            owner=session.owner,
            files=session.files,
            entry=session.entry,
            source_bytes=program_bytes(session),
            stdin_bytes=text_bytes(stdin),
        )

    def evolve(self, **changes) -> "Execution":
        return replace(self, **changes)

    # The one codec: an execution as a dict of plain JSON types (status a string, limits and
    # extra dicts), which the API sends as is and each store adapts only to its storage types.

    def to_dict(self) -> dict:
        data = record_dict(self)
        data["status"] = str(self.status)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "Execution":
        """Keys that are not fields (a store's own) are ignored; missing texts are empty."""
        values = {**{name: unread(name) for name in TEXT_FIELDS},  # a summary has no texts
                  **{name: data[name] for name in _field_names(cls) if name in data}}
        values["status"] = Status(values["status"])
        values["limits"] = Limits.from_dict(values.get("limits") or {})
        return cls(**values)


def text_bytes(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def program_bytes(program) -> int:
    """The size of a session's or execution's code: every file's, or its one text's."""
    if program.files:
        return sum(text_bytes(f["content"]) for f in program.files)
    return text_bytes(program.source_code)


def with_derived(changes: dict, status) -> dict:
    """``changes`` plus what follows: output sizes and a failed run's signature."""
    changes = dict(changes)
    for name in ("stdout", "stderr"):
        if name in changes:
            changes[f"{name}_bytes"] = text_bytes(changes[name])
    if str(status) in ("FAILED", "TIMEOUT"):
        lines = changes.get("stderr", "").strip().splitlines()
        changes["signature"] = (lines[-1] if lines else changes.get("reason") or "")[:200]
    return changes


@dataclass(frozen=True)
class WorkerInfo:
    """What a worker says about itself in each heartbeat; ``GET /workers`` lists these."""

    worker_id: str
    host: str
    pid: int
    queue: str
    concurrency: int
    sandboxes: list
    started_at: str
    last_heartbeat: str
    state: str = "idle"  # idle, busy, draining, stopped
    current: list = field(default_factory=list)  # execution ids it is running
    completed: int = 0
    failed: int = 0
    timed_out: int = 0

    def to_dict(self) -> dict:
        return record_dict(self)

    def is_live(self, lost_after: float) -> bool:
        return self.state != "stopped" and not self.is_lost(lost_after)

    def is_lost(self, lost_after: float) -> bool:
        return worker_is_lost(self.state, age_seconds(self.last_heartbeat), lost_after)


def worker_is_lost(state: str, silent_for: float, lost_after: float) -> bool:
    """The one rule: silent for over ``lost_after`` seconds without having said it stopped."""
    return state != "stopped" and silent_for > lost_after
