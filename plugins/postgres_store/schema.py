"""The PostgreSQL schema, as numbered migrations recorded in ``livecode_schema``.

Every process that opens the store runs :func:`migrate`; an advisory lock held for the length
of that transaction lets several workers and API hosts start at once (one applies the missing
steps, the others then find nothing to do). A store opening a newer schema refuses, rather than
guess at columns it does not know.

What users send and what their programs print (code, stdin, stdout, stderr, the failure
signature taken from stderr, a key's name) is ``bytea``, the UTF-8 bytes of the text:
PostgreSQL's ``text`` cannot hold NUL, and a program may print one.
Times are ``timestamptz``, so the database can compute with them.
"""

MIGRATIONS = [
    # 1: sessions, executions, workers, and the indexes the listings and housekeeping read by
    """
    CREATE TABLE code_sessions (
        session_id   text PRIMARY KEY,
        language     text NOT NULL,
        source_code  bytea NOT NULL,
        status       text NOT NULL,
        revision     integer NOT NULL,
        created_at   timestamptz NOT NULL,
        updated_at   timestamptz NOT NULL
    );
    CREATE TABLE executions (
        seq               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        execution_id      text NOT NULL UNIQUE,
        session_id        text NOT NULL,
        language          text NOT NULL,
        status            text NOT NULL,
        source_code       bytea NOT NULL,
        stdin             bytea NOT NULL,
        limits            jsonb NOT NULL,
        session_revision  integer NOT NULL,
        created_at        timestamptz NOT NULL,
        started_at        timestamptz,
        finished_at       timestamptz,
        stdout            bytea NOT NULL DEFAULT '',
        stderr            bytea NOT NULL DEFAULT '',
        exit_code         integer,
        execution_time_ms double precision,
        cpu_time_ms       double precision,
        max_rss_kb        bigint,
        truncated         boolean NOT NULL DEFAULT false,
        reason            text,
        sandbox           text,
        worker_id         text,
        attempts          integer NOT NULL DEFAULT 0,
        extra             jsonb NOT NULL DEFAULT '{}'
    );
    CREATE INDEX executions_by_session ON executions (session_id, seq);
    CREATE INDEX executions_by_status ON executions (status, seq);
    CREATE INDEX executions_by_language ON executions (language, seq);
    CREATE INDEX executions_by_creation ON executions (created_at);
    CREATE INDEX executions_by_finish ON executions (finished_at);
    CREATE TABLE workers (
        worker_id       text PRIMARY KEY,
        info            jsonb NOT NULL,
        last_heartbeat  timestamptz NOT NULL
    );
    """,
    # 2: owners, sizes and failure signatures (listings and reports read no texts), API keys,
    # and quota counters for deployments without Redis
    """
    ALTER TABLE code_sessions ADD COLUMN owner text NOT NULL DEFAULT '';
    ALTER TABLE executions
        ADD COLUMN owner text NOT NULL DEFAULT '',
        ADD COLUMN source_bytes bigint NOT NULL DEFAULT 0,
        ADD COLUMN stdin_bytes bigint NOT NULL DEFAULT 0,
        ADD COLUMN stdout_bytes bigint NOT NULL DEFAULT 0,
        ADD COLUMN stderr_bytes bigint NOT NULL DEFAULT 0,
        ADD COLUMN signature bytea;
    UPDATE executions SET source_bytes = octet_length(source_code),
        stdin_bytes = octet_length(stdin), stdout_bytes = octet_length(stdout),
        stderr_bytes = octet_length(stderr);
    CREATE INDEX executions_by_owner ON executions (owner, seq);
    CREATE TABLE api_keys (
        key_id      text PRIMARY KEY,
        name        bytea NOT NULL,
        scope       text NOT NULL,
        key_hash    text NOT NULL,
        created_at  timestamptz NOT NULL,
        revoked_at  timestamptz,
        quotas      jsonb NOT NULL DEFAULT '{}'
    );
    CREATE TABLE quota_counters (
        key         text PRIMARY KEY,
        value       bigint NOT NULL,
        expires_at  double precision NOT NULL
    );
    """,
    # 3: what a compile step said; test cases and their results. Those hold what users send and
    # what programs print, so they are json (kept as text, where "\u0000" may stand), not jsonb.
    """
    ALTER TABLE executions
        ADD COLUMN compile_output bytea,
        ADD COLUMN tests json,
        ADD COLUMN test_results json NOT NULL DEFAULT '[]';
    """,
    # 4: programs of several files; a run's arguments, compiler options and merged stderr.
    # Files and arguments are users' text: json, as the test cases are.
    """
    ALTER TABLE code_sessions
        ADD COLUMN files json NOT NULL DEFAULT '[]',
        ADD COLUMN entry text NOT NULL DEFAULT '';
    ALTER TABLE executions
        ADD COLUMN files json NOT NULL DEFAULT '[]',
        ADD COLUMN entry text NOT NULL DEFAULT '',
        ADD COLUMN args json NOT NULL DEFAULT '[]',
        ADD COLUMN compiler_options json NOT NULL DEFAULT '[]',
        ADD COLUMN redirect_stderr_to_stdout boolean NOT NULL DEFAULT false;
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)

# The first key of the advisory lock migrations take; the second is the schema's name, so two
# deployments in two schemas of one database do not wait for each other.
MIGRATION_LOCK = 0x6C697665  # "live"


def migrate(conn) -> None:
    """Bring the schema ``conn`` sees (the first of its ``search_path``) up to
    :data:`SCHEMA_VERSION`. ``conn`` returns rows as dicts."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s, hashtext(current_schema()))",
                     (MIGRATION_LOCK,))
        conn.execute("CREATE TABLE IF NOT EXISTS livecode_schema (version integer NOT NULL)")
        row = conn.execute("SELECT version FROM livecode_schema").fetchone()
        version = row["version"] if row else 0
        if version > SCHEMA_VERSION:
            where = conn.execute("SELECT current_database() AS db, current_schema() AS schema"
                                 ).fetchone()
            raise RuntimeError(f"{where['db']}.{where['schema']} has livecode schema version "
                               f"{version}; this livecode knows up to {SCHEMA_VERSION}. "
                               "Upgrade livecode.")
        for number in range(version, SCHEMA_VERSION):
            conn.execute(MIGRATIONS[number])
        if row is None:
            conn.execute("INSERT INTO livecode_schema (version) VALUES (%s)", (SCHEMA_VERSION,))
        elif version != SCHEMA_VERSION:
            conn.execute("UPDATE livecode_schema SET version = %s", (SCHEMA_VERSION,))
