"""The SQLite schema, as numbered migrations recorded in ``PRAGMA user_version``.

A store opening an older file applies the missing steps in one transaction; one opening a newer
file refuses, rather than guess at columns it does not know.
"""

MIGRATIONS = [
    # 1: sessions and executions
    """
    CREATE TABLE code_sessions (
        session_id   TEXT PRIMARY KEY,
        language     TEXT NOT NULL,
        source_code  TEXT NOT NULL,
        status       TEXT NOT NULL,
        revision     INTEGER NOT NULL,
        created_at   TEXT NOT NULL,
        updated_at   TEXT NOT NULL
    );
    CREATE TABLE executions (
        seq               INTEGER PRIMARY KEY AUTOINCREMENT,
        execution_id      TEXT NOT NULL UNIQUE,
        session_id        TEXT NOT NULL,
        language          TEXT NOT NULL,
        status            TEXT NOT NULL,
        source_code       TEXT NOT NULL,
        stdin             TEXT NOT NULL,
        limits            TEXT NOT NULL,
        session_revision  INTEGER NOT NULL,
        created_at        TEXT NOT NULL,
        started_at        TEXT,
        finished_at       TEXT,
        stdout            TEXT NOT NULL DEFAULT '',
        stderr            TEXT NOT NULL DEFAULT '',
        exit_code         INTEGER,
        execution_time_ms REAL,
        cpu_time_ms       REAL,
        max_rss_kb        INTEGER,
        truncated         INTEGER NOT NULL DEFAULT 0,
        reason            TEXT,
        sandbox           TEXT,
        worker_id         TEXT,
        attempts          INTEGER NOT NULL DEFAULT 0,
        extra             TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX executions_by_session ON executions (session_id, seq);
    CREATE INDEX executions_by_status ON executions (status, seq);
    """,
    # 2: worker heartbeats, and finding old finished runs for retention
    """
    CREATE TABLE workers (
        worker_id       TEXT PRIMARY KEY,
        info            TEXT NOT NULL,
        last_heartbeat  TEXT NOT NULL
    );
    CREATE INDEX executions_by_finish ON executions (finished_at);
    """,
    # 3: windows of time for the console's statistics
    """
    CREATE INDEX executions_by_creation ON executions (created_at);
    """,
    # 4: owners, sizes and failure signatures (listings and reports read no texts), API keys,
    # and quota counters for deployments without Redis
    """
    ALTER TABLE code_sessions ADD COLUMN owner TEXT NOT NULL DEFAULT '';
    ALTER TABLE executions ADD COLUMN owner TEXT NOT NULL DEFAULT '';
    ALTER TABLE executions ADD COLUMN source_bytes INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE executions ADD COLUMN stdin_bytes INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE executions ADD COLUMN stdout_bytes INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE executions ADD COLUMN stderr_bytes INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE executions ADD COLUMN signature TEXT;
    UPDATE executions SET source_bytes = length(CAST(source_code AS BLOB)),
        stdin_bytes = length(CAST(stdin AS BLOB)), stdout_bytes = length(CAST(stdout AS BLOB)),
        stderr_bytes = length(CAST(stderr AS BLOB));
    CREATE INDEX executions_by_owner ON executions (owner, status);
    CREATE TABLE api_keys (
        key_id      TEXT PRIMARY KEY,
        name        TEXT NOT NULL,
        scope       TEXT NOT NULL,
        key_hash    TEXT NOT NULL,
        created_at  TEXT NOT NULL,
        revoked_at  TEXT,
        quotas      TEXT NOT NULL DEFAULT '{}'
    );
    CREATE TABLE quota_counters (
        key         TEXT PRIMARY KEY,
        value       INTEGER NOT NULL,
        expires_at  REAL NOT NULL
    );
    """,
    # 5: what a compile step said (Judge0's compile_output); test cases and their results
    """
    ALTER TABLE executions ADD COLUMN compile_output TEXT;
    ALTER TABLE executions ADD COLUMN tests TEXT NOT NULL DEFAULT 'null';
    ALTER TABLE executions ADD COLUMN test_results TEXT NOT NULL DEFAULT '[]';
    """,
    # 6: programs of several files; a run's arguments, compiler options and merged stderr
    """
    ALTER TABLE code_sessions ADD COLUMN files TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE code_sessions ADD COLUMN entry TEXT NOT NULL DEFAULT '';
    ALTER TABLE executions ADD COLUMN files TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE executions ADD COLUMN entry TEXT NOT NULL DEFAULT '';
    ALTER TABLE executions ADD COLUMN args TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE executions ADD COLUMN compiler_options TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE executions ADD COLUMN redirect_stderr_to_stdout INTEGER NOT NULL DEFAULT 0;
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)
