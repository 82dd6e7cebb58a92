"""List and claim throughput of each store with 100,000 stored runs, as ratios against SQLite.

    .venv/bin/python bench/stores.py [--executions 100000] [--mongo-executions N]
                                     [--postgres URL] [--seconds 2]

Loads the same runs into a SQLite file, MongoDB and PostgreSQL (``--postgres``, default
``LIVECODE_TEST_POSTGRES_URL`` or the test database, in a schema of its own that is dropped
afterwards), each in bulk through its own row codec. Then, store by store in the same run, times
the listings the API and console make (newest first, by status, by session, a page deep in the
history, a text search) and the worker's claim (the compare-and-set from QUEUED to RUNNING) from
one thread and from four, each for ``--seconds``. Prints a table of operations per second with
each store's ratio to SQLite, then one JSON line.

MongoDB is ``LIVECODE_TEST_MONGO_URL`` when set. Otherwise it is SecantusDB, started here: a
MongoDB-compatible server written in Python, which answers a listing of 10,000 runs in seconds;
it then gets ``--mongo-executions`` runs (10,000 by default) so the bench ends in minutes, and its
figures measure SecantusDB, not MongoDB.
"""

import argparse
import json
import os
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone

from livecode.core.config import Settings
from livecode.core.execution_filter import ExecutionFilter, Term
from livecode.core.execution_states import Status
from livecode.core.limits import Limits
from livecode.core.models import Execution
from livecode.core.timestamps import iso

TEST_POSTGRES = os.environ.get(
    "LIVECODE_TEST_POSTGRES_URL",
    "postgresql://livecode_test:livecode_test@127.0.0.1:5432/livecode_test")
SESSIONS = 1000


def runs(count: int, queued: int) -> list[Execution]:
    """``count`` finished runs over the last day (a tenth FAILED, a twentieth TIMEOUT) across
    ``SESSIONS`` sessions, then ``queued`` runs waiting for a worker."""
    now = datetime.now(timezone.utc)
    made = []
    for i in range(count + queued):
        stamp = iso(now - timedelta(seconds=86400 * (count + queued - i) / (count + queued)))
        base = Execution(execution_id=str(uuid.uuid4()), session_id=f"session-{i % SESSIONS}",
                         language="python", source_code=f"print({i})", stdin="",
                         limits=Limits(), status=Status.QUEUED, created_at=stamp)
        if i >= count:
            made.append(base)
            continue
        status = (Status.FAILED if i % 10 == 0 else Status.TIMEOUT if i % 20 == 1
                  else Status.COMPLETED)
        made.append(base.evolve(
            status=status, started_at=stamp, finished_at=stamp, attempts=1,
            exit_code=1 if status is Status.FAILED else 0 if status is Status.COMPLETED else None,
            stdout=f"{i}\n" if status is Status.COMPLETED else "",
            stderr=f"ValueError: case {i % 7}\n" if status is Status.FAILED else "",
            execution_time_ms=12.0, worker_id=f"bench:{i % 4}:w", sandbox="subprocess"))
    return made


def load_sqlite(path: str, executions: list[Execution]):
    from livecode.plugins.sqlite_store import EXECUTION_COLUMNS, SQLiteStore, _to_row

    store = SQLiteStore(path)
    conn = store._connect()
    conn.execute("BEGIN")
    conn.executemany(f"INSERT INTO executions ({', '.join(EXECUTION_COLUMNS)}) "
                     f"VALUES ({', '.join(':' + c for c in EXECUTION_COLUMNS)})",
                     (_to_row(e) for e in executions))
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    return store


def load_mongo(url: str, executions: list[Execution]):
    from livecode.plugins.mongo_store import MongoStore, _execution_doc

    store = MongoStore(url, Settings.from_env({}))
    for start in range(0, len(executions), 10_000):
        store.executions.insert_many(
            [{**_execution_doc(e), "seq": start + n + 1}
             for n, e in enumerate(executions[start:start + 10_000])], ordered=False)
    store.counters.replace_one({"_id": "executions"}, {"seq": len(executions)}, upsert=True)
    return store


def load_postgres(url: str, executions: list[Execution]):
    from livecode.plugins.postgres_store import EXECUTION_COLUMNS, PostgresStore, _dump

    store = PostgresStore(url)
    with store.pool.connection() as conn:
        with conn.cursor().copy(
                f"COPY executions ({', '.join(EXECUTION_COLUMNS)}) FROM STDIN") as copy:
            for execution in executions:
                row = execution.to_dict()
                copy.write_row([_dump(c, row[c]) for c in EXECUTION_COLUMNS])
        conn.execute("ANALYZE executions")
    return store


def rate(action, seconds: float) -> float:
    """Operations per second of ``action``, repeated for ``seconds`` (at least three times)."""
    action()  # warm: caches, plans, pooled connections
    count, started = 0, time.perf_counter()
    while count < 3 or time.perf_counter() - started < seconds:
        action()
        count += 1
    return count / (time.perf_counter() - started)


def claim_rate(store, ids: list[str], threads: int, seconds: float) -> float:
    """Claims per second of distinct QUEUED runs, ``threads`` workers racing through ``ids``
    for ``seconds`` at most."""
    position, lock = iter(ids), threading.Lock()
    claimed = [0]
    deadline = time.perf_counter() + seconds

    def claim_all():
        while time.perf_counter() < deadline:
            with lock:
                execution_id = next(position, None)
            if execution_id is None:
                return
            won = store.transition(execution_id, frozenset({Status.QUEUED}), 0,
                                   {"status": Status.RUNNING, "attempts": 1,
                                    "worker_id": "bench:claim", "started_at": iso(
                                        datetime.now(timezone.utc))})
            assert won is not None
            with lock:
                claimed[0] += 1

    racers = [threading.Thread(target=claim_all) for _ in range(threads)]
    started = time.perf_counter()
    for t in racers:
        t.start()
    for t in racers:
        t.join()
    return claimed[0] / (time.perf_counter() - started)


def measure(store, executions: list[Execution], queued: int, seconds: float) -> dict:
    middle = executions[len(executions) // 2].execution_id
    text = ExecutionFilter((Term("text", "case 3"), Term("status", "FAILED")))
    waiting = [e.execution_id for e in executions[-queued:]]
    half = len(waiting) // 2
    return {
        "list_newest": rate(lambda: store.list_executions(limit=50), seconds),
        "list_by_status": rate(lambda: store.list_executions(status=Status.FAILED, limit=50),
                               seconds),
        "list_by_session": rate(lambda: store.list_executions(session_id="session-7", limit=50),
                                seconds),
        "list_page_deep": rate(lambda: store.list_executions(limit=50, before=middle), seconds),
        "list_text_search": rate(lambda: store.list_executions(limit=50, match=text), seconds),
        "claim_1_thread": claim_rate(store, waiting[:half], 1, seconds),
        "claim_4_threads": claim_rate(store, waiting[half:], 4, seconds),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--executions", type=int, default=100_000)
    parser.add_argument("--mongo-executions", type=int, default=None,
                        help="runs MongoDB gets (default: --executions, or 10,000 on SecantusDB)")
    parser.add_argument("--queued", type=int, default=2000, help="QUEUED runs among them")
    parser.add_argument("--seconds", type=float, default=2.0, help="time per measurement")
    parser.add_argument("--postgres", default=TEST_POSTGRES)
    args = parser.parse_args()
    executions = runs(args.executions, args.queued)
    report, loaded, stored = {}, {}, {}
    with tempfile.TemporaryDirectory() as tmp, mongo_url() as (mongo_kind, mongo), \
            postgres_schema(args.postgres) as postgres:
        mongo_count = args.mongo_executions or (
            args.executions if mongo_kind == "mongodb" else min(args.executions, 10_000))
        for name, load, url, count in (
                ("sqlite", load_sqlite, f"{tmp}/bench.db", args.executions),
                (f"mongodb-{mongo_kind}", load_mongo, mongo, mongo_count),
                ("postgres", load_postgres, postgres, args.executions)):
            # The newest runs (the QUEUED ones among them) are the same in every store.
            subset = executions[len(executions) - count - args.queued:]
            started = time.perf_counter()
            store = load(url, subset)
            loaded[name], stored[name] = round(time.perf_counter() - started, 1), len(subset)
            print(f"{name}: loaded {len(subset)} runs in {loaded[name]} s", file=sys.stderr)
            try:
                report[name] = measure(store, subset, args.queued, args.seconds)
            finally:
                store.close()
    baseline = report["sqlite"]
    names = list(report)
    print(f"{'ops/s (ratio to sqlite)':24}" + "".join(f"{n:>26}" for n in names))
    print(f"{'stored runs':24}" + "".join(f"{stored[n]:>26}" for n in names))
    for op in baseline:
        print(f"{op:24}" + "".join(
            f"{report[n][op]:>17.1f} ({report[n][op] / baseline[op]:5.2f}x)" for n in names))
    print(json.dumps({"stored_executions": stored, "load_seconds": loaded,
                      "ops_per_second": {n: {op: round(v, 1) for op, v in r.items()}
                                         for n, r in report.items()},
                      "ratio_to_sqlite": {n: {op: round(v / baseline[op], 3)
                                              for op, v in r.items()}
                                          for n, r in report.items() if n != "sqlite"}}))


class mongo_url:
    """``LIVECODE_TEST_MONGO_URL`` when set, else SecantusDB here; a fresh database either way."""

    def __enter__(self):
        name = f"livecode_bench_{uuid.uuid4().hex[:8]}"
        base = os.environ.get("LIVECODE_TEST_MONGO_URL")
        self.server = None
        if base:
            return "mongodb", f"{base.rstrip('/')}/{name}"
        from secantus import SecantusDBServer

        self.server = SecantusDBServer(host="127.0.0.1", port=0, storage_path=":memory:")
        self.server.__enter__()
        return "secantusdb", f"{self.server.uri.rstrip('/')}/{name}"

    def __exit__(self, *exc):
        if self.server is not None:
            self.server.__exit__(*exc)


class postgres_schema:
    """A schema of the bench's own in ``url``'s database, dropped afterwards."""

    def __init__(self, url: str):
        self.url, self.schema = url, f"livecode_bench_{uuid.uuid4().hex[:8]}"

    def __enter__(self):
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{self.schema}"')
        separator = "&" if "?" in self.url else "?"
        return f"{self.url}{separator}options=-csearch_path%3D{self.schema}"

    def __exit__(self, *exc):
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{self.schema}" CASCADE')


if __name__ == "__main__":
    main()
