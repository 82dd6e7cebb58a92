"""The ``sqlite://`` store: the default, one file on one host.

``sqlite:///relative/path.db`` or ``sqlite:////absolute/path.db``. WAL mode lets the API read while
workers write; each thread has its own connection; writers wait up to ``busy_timeout`` for the lock
instead of failing. The claim is a single ``UPDATE … WHERE status IN (…) RETURNING``, so of several
processes racing for one execution exactly one gets a row back.
"""

import json
import os
import sqlite3
import threading
import time
from urllib.parse import urlsplit

from livecode.core.contracts import Store, Timing
from livecode.core.execution_filter import ExecutionFilter
from livecode.core.execution_states import TERMINAL
from livecode.core.hookspecs import hookimpl
from livecode.core.keys import ApiKey
from livecode.core.models import TEXT_FIELDS, CodeSession, Execution, WorkerInfo

from .schema import MIGRATIONS, SCHEMA_VERSION

BUSY_TIMEOUT_MS = 10_000
SESSION_COLUMNS = ("session_id", "language", "source_code", "status", "revision", "created_at",
                   "updated_at", "owner", "files", "entry")
EXECUTION_COLUMNS = ("execution_id", "session_id", "language", "status", "source_code", "stdin",
                     "limits", "session_revision", "created_at", "started_at", "finished_at",
                     "stdout", "stderr", "exit_code", "execution_time_ms", "cpu_time_ms",
                     "max_rss_kb", "truncated", "reason", "sandbox", "worker_id", "attempts",
                     "extra", "owner", "source_bytes", "stdin_bytes", "stdout_bytes",
                     "stderr_bytes", "signature", "compile_output", "tests",
                     "test_results", "files", "entry", "args", "compiler_options",
                     "redirect_stderr_to_stdout")
KEY_COLUMNS = ("key_id", "name", "scope", "key_hash", "created_at", "revoked_at", "quotas")


def _columns(texts) -> str:
    """The columns a listing reads: all but the texts it was not asked for."""
    if texts is None:
        return "*"
    return ", ".join(c if c not in TEXT_FIELDS or c in texts else
                     "'[]' AS files" if c == "files" else f"'' AS {c}" for c in EXECUTION_COLUMNS)


def path_from_url(url: str) -> str:
    # As in SQLAlchemy: sqlite:///relative.db and sqlite:////absolute.db.
    parts = urlsplit(url)
    path = (parts.netloc + parts.path).removeprefix("/")
    if not path:
        raise ValueError(f"{url!r} names no file; use sqlite:///relative.db or sqlite:////abs.db")
    return path


# The model's codec gives plain types; SQLite adds only its own: JSON text for the dicts, an
# integer for the flag.

def _to_row(execution: Execution) -> dict:
    row = execution.to_dict()
    row["limits"] = json.dumps(row["limits"])
    for name in JSON_COLUMNS:
        row[name] = json.dumps(row[name])
    for name in FLAGS:
        row[name] = int(row[name])
    return row


def _from_row(row: sqlite3.Row) -> Execution:
    data = dict(row)
    data["limits"] = json.loads(data["limits"])
    for name in JSON_COLUMNS:
        data[name] = json.loads(data[name])
    for name in FLAGS:
        data[name] = bool(data[name])
    return Execution.from_dict(data)


def _session(row: sqlite3.Row) -> CodeSession:
    return CodeSession(**{k: json.loads(row[k]) if k == "files" else row[k]
                          for k in SESSION_COLUMNS})


JSON_COLUMNS = ("extra", "tests", "test_results", "files", "args", "compiler_options")
FLAGS = ("truncated", "redirect_stderr_to_stdout")
# coalesce: a run without a reason must count as "not this reason" when a reason is excluded.
COLUMN_OF = {"status": "status", "language": "language", "reason": "coalesce(reason, '')",
             "worker": "worker_id"}


def _filter_sql(match: ExecutionFilter, clauses: list, params: list) -> None:
    if match.owner is not None:
        clauses.append("owner = ?")
        params.append(match.owner)
    if match.created_after:
        clauses.append("created_at >= ?")
        params.append(match.created_after)
    if match.created_before:
        clauses.append("created_at < ?")
        params.append(match.created_before)
    for field, negate, values in match.groups():
        tests = []
        for value in values:
            if field == "text":
                tests.append("(instr(stdout, ?) > 0 OR instr(stderr, ?) > 0)")
                params.extend([value, value])
            elif field == "worker":
                tests.append("instr(coalesce(worker_id, ''), ?) > 0")
                params.append(value)
            else:
                tests.append(f"{COLUMN_OF[field]} = ?")
                params.append(value)
        clauses.append(("NOT (" if negate else "(") + " OR ".join(tests) + ")")


class SQLiteStore(Store):
    def __init__(self, path: str):
        self.path = path
        directory = os.path.dirname(os.path.abspath(path))
        os.makedirs(directory, mode=0o700, exist_ok=True)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        # Only livecode's own user may read the store; sandboxed programs run as other users.
        # SQLite gives the -wal and -shm files the mode of the database file, so set it first.
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.chmod(path + suffix, 0o600)
        self._migrate()

    def _connect(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            # Autocommit mode: every statement is its own transaction unless we BEGIN one.
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000,
                                   isolation_level=None, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    def _migrate(self) -> None:
        conn = self._connect()
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise RuntimeError(f"{self.path} has schema version {version}; this livecode "
                                   f"knows up to {SCHEMA_VERSION}. Upgrade livecode.")
            for number in range(version, SCHEMA_VERSION):
                for statement in MIGRATIONS[number].split(";"):
                    if statement.strip():
                        conn.execute(statement)
            conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    # --- sessions ---

    def create_session(self, session: CodeSession) -> None:
        row = {**session.to_dict(), "files": json.dumps(session.files)}
        self._connect().execute(
            f"INSERT INTO code_sessions ({', '.join(SESSION_COLUMNS)}) "
            f"VALUES ({', '.join(':' + c for c in SESSION_COLUMNS)})", row)

    def get_session(self, session_id: str) -> CodeSession | None:
        row = self._connect().execute(
            "SELECT * FROM code_sessions WHERE session_id = ?", (session_id,)).fetchone()
        return _session(row) if row else None

    def update_session(self, session_id, changes, expected_revision=None):
        if "files" in changes:
            changes = {**changes, "files": json.dumps(changes["files"])}
        assignments = ", ".join(f"{k} = :{k}" for k in changes)
        where = "session_id = :_id" + (" AND revision = :_rev" if expected_revision is not None else "")
        row = self._connect().execute(
            f"UPDATE code_sessions SET {assignments}, revision = revision + 1 WHERE {where} "
            "RETURNING *",
            {**changes, "_id": session_id, "_rev": expected_revision}).fetchone()
        return _session(row) if row else None

    def delete_session(self, session_id: str) -> None:
        self._connect().execute("DELETE FROM code_sessions WHERE session_id = ?", (session_id,))

    # --- executions ---

    def create_execution(self, execution: Execution) -> None:
        self._connect().execute(
            f"INSERT INTO executions ({', '.join(EXECUTION_COLUMNS)}) "
            f"VALUES ({', '.join(':' + c for c in EXECUTION_COLUMNS)})", _to_row(execution))

    def get_execution(self, execution_id: str) -> Execution | None:
        row = self._connect().execute(
            "SELECT * FROM executions WHERE execution_id = ?", (execution_id,)).fetchone()
        return _from_row(row) if row else None

    def delete_execution(self, execution_id: str) -> None:
        self._connect().execute("DELETE FROM executions WHERE execution_id = ?", (execution_id,))

    def list_executions(self, session_id=None, status=None, limit=50, before=None,
                        oldest_first=False, match=None, texts=None):
        clauses, params = [], []
        if session_id is not None:
            clauses.append("session_id = ?")
            params.append(session_id)
        if status is not None:
            clauses.append("status = ?")
            params.append(str(status))
        if before is not None:
            clauses.append("seq < (SELECT seq FROM executions WHERE execution_id = ?)")
            params.append(before)
        if match is not None:
            _filter_sql(match, clauses, params)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self._connect().execute(
            f"SELECT {_columns(texts)} FROM executions {where} ORDER BY seq {'ASC' if oldest_first else 'DESC'} "
            "LIMIT ?", (*params, limit))
        return [_from_row(r) for r in rows]

    def transition(self, execution_id, expected, expected_attempts, changes):
        changes = dict(changes)
        changes["status"] = str(changes["status"])
        for name in FLAGS:
            if name in changes:
                changes[name] = int(changes[name])
        for name in JSON_COLUMNS:
            if name in changes:
                changes[name] = json.dumps(changes[name])
        assignments = ", ".join(f"{k} = :{k}" for k in changes)
        expected_names = {f"_s{i}": str(s) for i, s in enumerate(sorted(expected))}
        row = self._connect().execute(
            f"UPDATE executions SET {assignments} WHERE execution_id = :_id "
            f"AND status IN ({', '.join(':' + n for n in expected_names)}) "
            "AND attempts = :_attempts RETURNING *",
            {**changes, **expected_names, "_id": execution_id,
             "_attempts": expected_attempts}).fetchone()
        return _from_row(row) if row else None

    def count_executions(self, created_after=None, created_before=None,
                         owner=None) -> dict[str, int]:
        clauses, params = [], []
        _filter_sql(ExecutionFilter(created_after=created_after, created_before=created_before,
                                    owner=owner), clauses, params)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self._connect().execute(
            f"SELECT status, count(*) FROM executions {where} GROUP BY status", params)
        return {status: count for status, count in rows}

    def execution_timings(self, created_after, created_before, limit):
        rows = self._connect().execute(
            "SELECT created_at, started_at, finished_at, execution_time_ms FROM executions "
            "WHERE created_at >= ? AND created_at < ? ORDER BY seq DESC LIMIT ?",
            (created_after, created_before, limit))
        return [Timing(*row) for row in rows]

    def failure_groups(self, created_after, created_before):
        # The newest run of a group (largest seq): the largest "seq execution_id" string.
        rows = self._connect().execute(
            "SELECT status, reason, coalesce(signature, reason, '') AS sig, count(*), "
            "min(created_at), max(created_at), max(printf('%015d', seq) || ' ' || execution_id) "
            "FROM executions WHERE status IN ('FAILED', 'TIMEOUT') "
            "AND created_at >= ? AND created_at < ? GROUP BY status, reason, sig",
            (created_after, created_before))
        return [{"status": status, "reason": reason, "signature": signature, "count": count,
                 "first_seen": first_seen, "last_seen": last_seen,
                 "example": newest.split(" ", 1)[1]}
                for status, reason, signature, count, first_seen, last_seen, newest in rows]

    def oldest_queued_at(self) -> str | None:
        row = self._connect().execute(
            "SELECT created_at FROM executions WHERE status = 'QUEUED' ORDER BY seq LIMIT 1"
        ).fetchone()
        return row[0] if row else None

    def delete_finished_before(self, timestamp: str) -> int:
        terminal = ", ".join(f"'{s}'" for s in sorted(TERMINAL))
        return self._connect().execute(
            f"DELETE FROM executions WHERE finished_at < ? AND status IN ({terminal})",
            (timestamp,)).rowcount

    # --- workers ---

    def save_worker(self, worker: WorkerInfo) -> None:
        self._connect().execute(
            "INSERT OR REPLACE INTO workers (worker_id, info, last_heartbeat) VALUES (?, ?, ?)",
            (worker.worker_id, json.dumps(worker.to_dict()), worker.last_heartbeat))

    def list_workers(self) -> list[WorkerInfo]:
        rows = self._connect().execute("SELECT info FROM workers ORDER BY worker_id")
        return [WorkerInfo(**json.loads(info)) for (info,) in rows]

    def delete_worker(self, worker_id: str) -> None:
        self._connect().execute("DELETE FROM workers WHERE worker_id = ?", (worker_id,))

    # --- API keys ---

    def create_key(self, key: ApiKey) -> None:
        row = {**key.to_dict(), "quotas": json.dumps(key.quotas)}
        self._connect().execute(
            f"INSERT INTO api_keys ({', '.join(KEY_COLUMNS)}) "
            f"VALUES ({', '.join(':' + c for c in KEY_COLUMNS)})", row)

    def get_key(self, key_id: str) -> ApiKey | None:
        row = self._connect().execute("SELECT * FROM api_keys WHERE key_id = ?",
                                      (key_id,)).fetchone()
        return _key(row) if row else None

    def list_keys(self) -> list[ApiKey]:
        rows = self._connect().execute("SELECT * FROM api_keys ORDER BY created_at, key_id")
        return [_key(row) for row in rows]

    def revoke_key(self, key_id: str, revoked_at: str) -> ApiKey | None:
        row = self._connect().execute(
            "UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?) WHERE key_id = ? "
            "RETURNING *", (revoked_at, key_id)).fetchone()
        return _key(row) if row else None

    def has_keys(self) -> bool:
        return self._connect().execute(
            "SELECT 1 FROM api_keys WHERE revoked_at IS NULL LIMIT 1").fetchone() is not None

    # --- quota counters ---

    def hit_counter(self, key: str, expiry: float, amount: int = 1) -> int:
        now = time.time()
        return self._connect().execute(
            "INSERT INTO quota_counters (key, value, expires_at) VALUES (:key, :amount, :until) "
            "ON CONFLICT (key) DO UPDATE SET "
            "value = CASE WHEN expires_at <= :now THEN :amount ELSE value + :amount END, "
            "expires_at = CASE WHEN expires_at <= :now THEN :until ELSE expires_at END "
            "RETURNING value",
            {"key": key, "amount": amount, "now": now, "until": now + expiry}).fetchone()[0]

    def get_counter(self, key: str) -> tuple[int, float]:
        now = time.time()
        row = self._connect().execute(
            "SELECT value, expires_at FROM quota_counters WHERE key = ? AND expires_at > ?",
            (key, now)).fetchone()
        return (row[0], row[1]) if row else (0, now)

    def ping(self) -> None:
        self._connect().execute("SELECT 1").fetchone()

    def close(self) -> None:
        """Close every thread's connection; a thread that uses the store again reconnects."""
        with self._lock:
            connections, self._all = self._all, []
        for conn in connections:
            conn.close()
        self._local = threading.local()


def _key(row: sqlite3.Row) -> ApiKey:
    return ApiKey(**{**{k: row[k] for k in KEY_COLUMNS}, "quotas": json.loads(row["quotas"])})


@hookimpl
def livecode_register_stores(register):
    register("sqlite", lambda url, settings: SQLiteStore(path_from_url(url)))
