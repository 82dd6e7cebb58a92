"""The ``postgresql://`` store, for teams whose production database is PostgreSQL.

``postgresql://user:password@host:5432/dbname`` (or ``postgres://``; any libpq URI, so
``?sslmode=require`` or ``?options=-csearch_path%3Dlivecode`` work as libpq documents them).
Several API and worker hosts share one database. Each process keeps a pool of connections
(psycopg's ``ConnectionPool``); a connection is checked before it is lent, so after PostgreSQL
restarts the pool reconnects by itself, and the operations that failed meanwhile are retried by
their callers (the worker's store retries with backoff, an API request answers 503).

The claim is a single ``UPDATE … WHERE status = ANY(…) AND attempts = … RETURNING``: under
PostgreSQL's row locking a second concurrent claim re-reads the row the first one wrote, finds
its status changed and updates nothing, so of any number of racing workers exactly one wins.
Executions carry an identity ``seq``, so listing and paging order is SQLite's.
"""

from livecode.core.contracts import Store, Timing
from livecode.core.errors import InvalidInput, Unavailable
from livecode.core.execution_filter import ExecutionFilter
from livecode.core.execution_states import TERMINAL
from livecode.core.hookspecs import hookimpl
from livecode.core.keys import ApiKey
from livecode.core.models import TEXT_FIELDS, CodeSession, Execution, WorkerInfo
from livecode.core.timestamps import iso, parse_time

from .schema import migrate

POOL_SIZE = 10  # connections per process at most; threads beyond wait for one
POOL_TIMEOUT = 5.0  # seconds to wait for a connection before the operation fails
CONNECT_TIMEOUT = 5  # seconds, for libpq
# How long the pool keeps retrying one lost connection in the background (with its backoff of
# 1, 2, 4… s) before it gives up and lets the next request try again at once. Short, so that
# every process is back within about a second of PostgreSQL, not after a backoff of many.
RECONNECT_SECONDS = 1.0
TERMINAL_NAMES = sorted(str(s) for s in TERMINAL)

SESSION_COLUMNS = ("session_id", "language", "source_code", "status", "revision", "created_at",
                   "updated_at", "owner", "files", "entry")
EXECUTION_COLUMNS = ("execution_id", "session_id", "language", "status", "source_code", "stdin",
                     "limits", "session_revision", "created_at", "started_at", "finished_at",
                     "stdout", "stderr", "exit_code", "execution_time_ms", "cpu_time_ms",
                     "max_rss_kb", "truncated", "reason", "sandbox", "worker_id", "attempts",
                     "extra", "owner", "source_bytes", "stdin_bytes", "stdout_bytes",
                     "stderr_bytes", "signature", "compile_output", "tests", "test_results",
                     "files", "entry", "args", "compiler_options", "redirect_stderr_to_stdout")
KEY_COLUMNS = ("key_id", "name", "scope", "key_hash", "created_at", "revoked_at", "quotas")
# bytea: text that may hold NUL (what users send, what programs print, names people choose)
CONTENT = frozenset({"source_code", "stdin", "stdout", "stderr", "signature", "name",
                     "compile_output"})
TIMES = frozenset({"created_at", "updated_at", "started_at", "finished_at", "revoked_at"})
DOCUMENTS = frozenset({"limits", "extra", "quotas"})  # jsonb: livecode's own
# json: users' text, NUL included
USER_DOCUMENTS = frozenset({"tests", "test_results", "files", "args", "compiler_options"})


def _dump(column: str, value):
    """A model value as the column's storage type."""
    from psycopg.types.json import Json, Jsonb

    if value is None:
        return None
    if column in CONTENT:
        # Lone surrogates can arrive in JSON ("\ud800"); keep them as they came.
        return value.encode("utf-8", "surrogatepass")
    if column in TIMES:
        return parse_time(value)
    if column in DOCUMENTS:
        return Jsonb(value)
    if column in USER_DOCUMENTS:
        return Json(value)
    if column == "status":
        return str(value)
    return value


def _load(column: str, value):
    if value is None:
        return None
    if column in CONTENT:
        return bytes(value).decode("utf-8", "surrogatepass")
    if column in TIMES:
        return iso(value)
    return value


def _session(row: dict) -> CodeSession:
    return CodeSession(**{c: _load(c, row[c]) for c in SESSION_COLUMNS})


def _execution(row: dict) -> Execution:
    return Execution.from_dict({c: _load(c, row[c]) for c in EXECUTION_COLUMNS})


def _key(row: dict) -> ApiKey:
    return ApiKey(**{c: _load(c, row[c]) for c in KEY_COLUMNS})


def _columns(texts) -> str:
    """The columns a listing reads: all but the texts it was not asked for."""
    if texts is None:
        return "*"
    return ", ".join(c if c not in TEXT_FIELDS or c in texts else
                     f"'[]'::json AS {c}" if c == "files" else f"''::bytea AS {c}"
                     for c in EXECUTION_COLUMNS)


def _assignments(changes: dict):
    from psycopg import sql

    return sql.SQL(", ").join(
        sql.SQL("{} = {}").format(sql.Identifier(c), sql.Placeholder(c)) for c in changes)


# coalesce: a run without a reason must count as "not this reason" when a reason is excluded.
COLUMN_OF = {"status": "status", "language": "language", "reason": "coalesce(reason, '')"}


def _filter_sql(match: ExecutionFilter, clauses: list, params: list) -> None:
    if match.owner is not None:
        clauses.append("owner = %s")
        params.append(match.owner)
    if match.created_after:
        clauses.append("created_at >= %s")
        params.append(parse_time(match.created_after))
    if match.created_before:
        clauses.append("created_at < %s")
        params.append(parse_time(match.created_before))
    for field, negate, values in match.groups():
        tests = []
        for value in values:
            if field == "text":
                tests.append("(position(%s in stdout) > 0 OR position(%s in stderr) > 0)")
                needle = _dump("stdout", value)
                params.extend([needle, needle])
            elif field == "worker":
                tests.append("strpos(coalesce(worker_id, ''), %s) > 0")
                params.append(value)
            else:
                tests.append(f"{COLUMN_OF[field]} = %s")
                params.append(value)
        clauses.append(("NOT (" if negate else "(") + " OR ".join(tests) + ")")


def _where(clauses: list) -> str:
    return f"WHERE {' AND '.join(clauses)}" if clauses else ""


class PostgresStore(Store):
    def __init__(self, url: str, settings=None):
        try:
            import psycopg
            from psycopg.rows import dict_row
            from psycopg_pool import ConnectionPool
        except ImportError:
            raise InvalidInput(f"{url!r} needs the psycopg and psycopg-pool packages "
                               "(pip install 'livecode[postgresql]')") from None

        options = {"autocommit": True, "row_factory": dict_row,
                   "connect_timeout": CONNECT_TIMEOUT}
        # One connection first, for a clear error when the URL is wrong, and for the schema.
        try:
            conn = psycopg.connect(url, **options)
        except psycopg.OperationalError as exc:
            raise Unavailable(f"the PostgreSQL store cannot be reached: {exc}") from exc
        with conn:
            migrate(conn)
        self.pool = ConnectionPool(url, kwargs=options, min_size=1, max_size=POOL_SIZE,
                                   timeout=POOL_TIMEOUT, reconnect_timeout=RECONNECT_SECONDS,
                                   check=ConnectionPool.check_connection,
                                   open=False)
        self.pool.open()

    def _execute(self, query, params=()):
        """Run one statement on a pooled connection; its rows, or its row count."""
        with self.pool.connection() as conn:
            cursor = conn.execute(query, params)
            return cursor.fetchall() if cursor.description else cursor.rowcount

    def _one(self, query, params=()):
        rows = self._execute(query, params)
        return rows[0] if rows else None

    # --- sessions ---

    def create_session(self, session: CodeSession) -> None:
        row = session.to_dict()
        self._execute(
            f"INSERT INTO code_sessions ({', '.join(SESSION_COLUMNS)}) "
            f"VALUES ({', '.join(f'%({c})s' for c in SESSION_COLUMNS)})",
            {c: _dump(c, row[c]) for c in SESSION_COLUMNS})

    def get_session(self, session_id: str) -> CodeSession | None:
        row = self._one("SELECT * FROM code_sessions WHERE session_id = %s", (session_id,))
        return _session(row) if row else None

    def update_session(self, session_id, changes, expected_revision=None):
        from psycopg import sql

        where = "session_id = %(_id)s" + (
            " AND revision = %(_rev)s" if expected_revision is not None else "")
        row = self._one(
            sql.SQL("UPDATE code_sessions SET {}, revision = revision + 1 WHERE "
                    + where + " RETURNING *").format(_assignments(changes)),
            {**{c: _dump(c, v) for c, v in changes.items()}, "_id": session_id,
             "_rev": expected_revision})
        return _session(row) if row else None

    def delete_session(self, session_id: str) -> None:
        self._execute("DELETE FROM code_sessions WHERE session_id = %s", (session_id,))

    # --- executions ---

    def create_execution(self, execution: Execution) -> None:
        row = execution.to_dict()
        self._execute(
            f"INSERT INTO executions ({', '.join(EXECUTION_COLUMNS)}) "
            f"VALUES ({', '.join(f'%({c})s' for c in EXECUTION_COLUMNS)})",
            {c: _dump(c, row[c]) for c in EXECUTION_COLUMNS})

    def get_execution(self, execution_id: str) -> Execution | None:
        row = self._one("SELECT * FROM executions WHERE execution_id = %s", (execution_id,))
        return _execution(row) if row else None

    def delete_execution(self, execution_id: str) -> None:
        self._execute("DELETE FROM executions WHERE execution_id = %s", (execution_id,))

    def list_executions(self, session_id=None, status=None, limit=50, before=None,
                        oldest_first=False, match=None, texts=None):
        clauses, params = [], []
        if session_id is not None:
            clauses.append("session_id = %s")
            params.append(session_id)
        if status is not None:
            clauses.append("status = %s")
            params.append(str(status))
        if before is not None:
            clauses.append("seq < (SELECT seq FROM executions WHERE execution_id = %s)")
            params.append(before)
        if match is not None:
            _filter_sql(match, clauses, params)
        rows = self._execute(
            f"SELECT {_columns(texts)} FROM executions {_where(clauses)} "
            f"ORDER BY seq {'ASC' if oldest_first else 'DESC'} LIMIT %s", (*params, limit))
        return [_execution(r) for r in rows]

    def transition(self, execution_id, expected, expected_attempts, changes):
        from psycopg import sql

        row = self._one(
            sql.SQL("UPDATE executions SET {} WHERE execution_id = %(_id)s "
                    "AND status = ANY(%(_expected)s) AND attempts = %(_attempts)s "
                    "RETURNING *").format(_assignments(changes)),
            {**{c: _dump(c, v) for c, v in changes.items()}, "_id": execution_id,
             "_expected": sorted(str(s) for s in expected), "_attempts": expected_attempts})
        return _execution(row) if row else None

    def count_executions(self, created_after=None, created_before=None,
                         owner=None) -> dict[str, int]:
        clauses, params = [], []
        _filter_sql(ExecutionFilter(created_after=created_after, created_before=created_before,
                                    owner=owner), clauses, params)
        rows = self._execute(
            f"SELECT status, count(*) AS n FROM executions {_where(clauses)} GROUP BY status",
            params)
        return {row["status"]: row["n"] for row in rows}

    def execution_timings(self, created_after, created_before, limit):
        rows = self._execute(
            "SELECT created_at, started_at, finished_at, execution_time_ms FROM executions "
            "WHERE created_at >= %s AND created_at < %s ORDER BY seq DESC LIMIT %s",
            (parse_time(created_after), parse_time(created_before), limit))
        return [Timing(**{c: _load(c, v) for c, v in row.items()}) for row in rows]

    def failure_groups(self, created_after, created_before):
        rows = self._execute(
            "SELECT status, reason, "
            "coalesce(signature, convert_to(coalesce(reason, ''), 'UTF8')) AS signature, "
            "count(*) AS count, min(created_at) AS first_seen, max(created_at) AS last_seen, "
            "(array_agg(execution_id ORDER BY seq DESC))[1] AS example "
            "FROM executions WHERE status IN ('FAILED', 'TIMEOUT') "
            "AND created_at >= %s AND created_at < %s GROUP BY 1, 2, 3",
            (parse_time(created_after), parse_time(created_before)))
        return [{**row, "signature": _load("signature", row["signature"]),
                 "first_seen": iso(row["first_seen"]), "last_seen": iso(row["last_seen"])}
                for row in rows]

    def oldest_queued_at(self) -> str | None:
        row = self._one("SELECT created_at FROM executions WHERE status = 'QUEUED' "
                        "ORDER BY seq LIMIT 1")
        return iso(row["created_at"]) if row else None

    def delete_finished_before(self, timestamp: str) -> int:
        return self._execute(
            "DELETE FROM executions WHERE finished_at < %s AND status = ANY(%s)",
            (parse_time(timestamp), TERMINAL_NAMES))

    # --- workers ---

    def save_worker(self, worker: WorkerInfo) -> None:
        from psycopg.types.json import Jsonb

        self._execute(
            "INSERT INTO workers (worker_id, info, last_heartbeat) VALUES (%s, %s, %s) "
            "ON CONFLICT (worker_id) DO UPDATE SET info = excluded.info, "
            "last_heartbeat = excluded.last_heartbeat",
            (worker.worker_id, Jsonb(worker.to_dict()), parse_time(worker.last_heartbeat)))

    def list_workers(self) -> list[WorkerInfo]:
        rows = self._execute("SELECT info FROM workers ORDER BY worker_id")
        return [WorkerInfo(**row["info"]) for row in rows]

    def delete_worker(self, worker_id: str) -> None:
        self._execute("DELETE FROM workers WHERE worker_id = %s", (worker_id,))

    # --- API keys ---

    def create_key(self, key: ApiKey) -> None:
        row = key.to_dict()
        self._execute(
            f"INSERT INTO api_keys ({', '.join(KEY_COLUMNS)}) "
            f"VALUES ({', '.join(f'%({c})s' for c in KEY_COLUMNS)})",
            {c: _dump(c, row[c]) for c in KEY_COLUMNS})

    def get_key(self, key_id: str) -> ApiKey | None:
        row = self._one("SELECT * FROM api_keys WHERE key_id = %s", (key_id,))
        return _key(row) if row else None

    def list_keys(self) -> list[ApiKey]:
        return [_key(row) for row in self._execute(
            "SELECT * FROM api_keys ORDER BY created_at, key_id")]

    def revoke_key(self, key_id: str, revoked_at: str) -> ApiKey | None:
        row = self._one("UPDATE api_keys SET revoked_at = coalesce(revoked_at, %s) "
                        "WHERE key_id = %s RETURNING *", (parse_time(revoked_at), key_id))
        return _key(row) if row else None

    def has_keys(self) -> bool:
        return self._one("SELECT 1 FROM api_keys WHERE revoked_at IS NULL LIMIT 1") is not None

    # --- quota counters: one clock, the database's, for every API host ---

    def hit_counter(self, key: str, expiry: float, amount: int = 1) -> int:
        return self._one(
            "WITH clock AS (SELECT extract(epoch FROM statement_timestamp())::float8 AS now) "
            "INSERT INTO quota_counters AS c (key, value, expires_at) "
            "SELECT %(key)s, %(amount)s, now + %(expiry)s FROM clock "
            "ON CONFLICT (key) DO UPDATE SET "
            "value = CASE WHEN c.expires_at <= (SELECT now FROM clock) "
            "THEN excluded.value ELSE c.value + excluded.value END, "
            "expires_at = CASE WHEN c.expires_at <= (SELECT now FROM clock) "
            "THEN excluded.expires_at ELSE c.expires_at END "
            "RETURNING value",
            {"key": key, "amount": amount, "expiry": float(expiry)})["value"]

    def get_counter(self, key: str) -> tuple[int, float]:
        row = self._one(
            "SELECT c.value, c.expires_at, clock.now FROM "
            "(SELECT extract(epoch FROM statement_timestamp())::float8 AS now) AS clock "
            "LEFT JOIN quota_counters AS c ON c.key = %s AND c.expires_at > clock.now", (key,))
        return (row["value"], row["expires_at"]) if row["value"] is not None else (0, row["now"])

    def ping(self) -> None:
        self._execute("SELECT 1")

    def close(self) -> None:
        self.pool.close()


@hookimpl
def livecode_register_stores(register):
    for scheme in ("postgresql", "postgres"):
        register(scheme, PostgresStore)
