"""What is particular to the SQLite store: its URL forms, WAL mode, schema versions, file mode, and
several processes racing for the same executions on one file."""

import multiprocessing
import os
import sqlite3

import pytest

from conftest import queued
from livecode.core.execution_states import Status
from livecode.plugins.sqlite_store import SQLiteStore, path_from_url
from livecode.plugins.sqlite_store.schema import SCHEMA_VERSION


@pytest.fixture
def db_path(tmp_path):
    return str(tmp_path / "store" / "livecode.db")


@pytest.fixture
def store(db_path):
    store = SQLiteStore(db_path)
    yield store
    store.close()


def test_url_forms():
    assert path_from_url("sqlite:///rel/x.db") == "rel/x.db"
    assert path_from_url("sqlite:////abs/x.db") == "/abs/x.db"
    with pytest.raises(ValueError):
        path_from_url("sqlite://")


def test_file_is_in_wal_mode_with_a_versioned_schema(store, db_path):
    store.ping()
    conn = sqlite3.connect(db_path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_only_livecode_s_own_user_may_read_the_store(store, db_path):
    queued(store)
    for suffix in ("", "-wal", "-shm"):
        assert os.stat(db_path + suffix).st_mode & 0o077 == 0, suffix


def test_a_newer_schema_is_refused_not_guessed_at(store, db_path):
    sqlite3.connect(db_path).execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    with pytest.raises(RuntimeError, match="Upgrade livecode"):
        SQLiteStore(db_path)


def test_reopening_keeps_data(store, db_path):
    execution = queued(store)
    store.close()
    again = SQLiteStore(db_path)
    assert again.get_execution(execution.execution_id) == execution
    again.close()


def _race(db_path, ids, start, results):
    store = SQLiteStore(db_path)
    start.wait()
    won = [i for i in ids if store.transition(
        i, frozenset({Status.QUEUED}), 0, {"status": Status.RUNNING, "attempts": 1}) is not None]
    results.put(won)
    store.close()


def test_concurrent_claims_from_several_processes_have_exactly_one_winner(store, db_path):
    ids = [queued(store).execution_id for _ in range(200)]
    ctx = multiprocessing.get_context("spawn")
    start, results = ctx.Event(), ctx.Queue()
    racers = [ctx.Process(target=_race, args=(db_path, ids, start, results)) for _ in range(6)]
    for p in racers:
        p.start()
    start.set()
    wins = [results.get(timeout=60) for _ in racers]
    for p in racers:
        p.join(timeout=30)
        assert p.exitcode == 0
    claimed = sorted(i for won in wins for i in won)
    assert claimed == sorted(ids)  # every execution claimed once, none twice
    assert all(e.status is Status.RUNNING for e in store.list_executions(limit=200))
