"""What is particular to the PostgreSQL store: its URLs through the plugin registry, text that
PostgreSQL's ``text`` could not hold, schema versions, several processes starting on an empty
schema and racing for the same executions, and livecode served on PostgreSQL alone and as split
mode's metadata store (results in MongoDB).

Every test gets a schema of its own in ``LIVECODE_TEST_POSTGRES_URL`` (see ``postgres_url``)."""

import multiprocessing

import psycopg
import pytest

from conftest import queued
from livecode.core.execution_filter import ExecutionFilter, Term
from livecode.core.execution_states import Status
from livecode.core.limits import Limits
from livecode.core.models import Execution
from livecode.core.plugins import Plugins
from livecode.plugins.postgres_store import PostgresStore
from livecode.plugins.postgres_store.schema import SCHEMA_VERSION


@pytest.fixture
def store(postgres_url, settings):
    made = PostgresStore(postgres_url, settings)
    yield made
    made.close()


def query(url, sql, *params):
    with psycopg.connect(url, autocommit=True) as conn:
        cursor = conn.execute(sql, params)
        return cursor.fetchall() if cursor.description else None


def test_both_url_schemes_open_it_through_the_plugin_registry(postgres_url, settings):
    plugins = Plugins(settings)
    for url in (postgres_url, postgres_url.replace("postgresql://", "postgres://", 1)):
        store = plugins.open_store(url)
        assert isinstance(store, PostgresStore)
        store.ping()
        store.close()


def test_nul_and_lone_surrogates_survive_in_code_stdin_output_and_test_cases(store):
    tricky = "a\x00b 'quoted' \\n \ud800 é"
    execution = queued(store, source=tricky)
    assert store.get_session(execution.session_id).source_code == tricky
    assert store.get_execution(execution.execution_id).source_code == tricky
    store.transition(execution.execution_id, frozenset({Status.QUEUED}), 0,
                     {"status": Status.RUNNING, "attempts": 1})
    done = store.transition(execution.execution_id, frozenset({Status.RUNNING}), 1,
                            {"status": Status.COMPLETED, "stdout": tricky, "stderr": "\x00"})
    assert (done.stdout, done.stderr) == (tricky, "\x00")
    found = store.list_executions(match=ExecutionFilter((Term("text", "\x00b 'quoted'"),)))
    assert [e.execution_id for e in found] == [execution.execution_id]
    cases = {"comparison": "exact", "cases": [{"stdin": tricky, "expected_output": "\x00\n"}]}
    tested = Execution.snapshot(store.get_session(execution.session_id), "", Limits()).evolve(
        tests=cases)
    store.create_execution(tested)
    store.transition(tested.execution_id, frozenset({Status.QUEUED}), 0,
                     {"status": Status.FAILED, "compile_output": tricky,
                      "test_results": [{"stdout": "\x00"}]})
    again = store.get_execution(tested.execution_id)
    assert (again.tests, again.compile_output, again.test_results) == (
        cases, tricky, [{"stdout": "\x00"}])


def test_a_newer_schema_is_refused_not_guessed_at(store, postgres_url, settings):
    query(postgres_url, "UPDATE livecode_schema SET version = %s", SCHEMA_VERSION + 1)
    with pytest.raises(RuntimeError, match="Upgrade livecode"):
        PostgresStore(postgres_url, settings)


def test_reopening_keeps_data_and_the_schema_version(store, postgres_url, settings):
    execution = queued(store)
    store.close()
    again = PostgresStore(postgres_url, settings)
    assert again.get_execution(execution.execution_id) == execution
    again.close()
    assert query(postgres_url, "SELECT version FROM livecode_schema") == [(SCHEMA_VERSION,)]


def _open_at_once(url, start, results):
    start.wait()
    store = PostgresStore(url)
    store.ping()
    store.close()
    results.put("ok")


def test_several_processes_starting_on_an_empty_schema_migrate_it_once(postgres_url):
    ctx = multiprocessing.get_context("spawn")
    start, results = ctx.Event(), ctx.Queue()
    starters = [ctx.Process(target=_open_at_once, args=(postgres_url, start, results))
                for _ in range(6)]
    for p in starters:
        p.start()
    start.set()
    assert [results.get(timeout=60) for _ in starters] == ["ok"] * 6
    for p in starters:
        p.join(timeout=30)
        assert p.exitcode == 0
    assert query(postgres_url, "SELECT version FROM livecode_schema") == [(SCHEMA_VERSION,)]


def _race(url, ids, start, results):
    store = PostgresStore(url)
    start.wait()
    won = [i for i in ids if store.transition(
        i, frozenset({Status.QUEUED}), 0, {"status": Status.RUNNING, "attempts": 1}) is not None]
    results.put(won)
    store.close()


def test_concurrent_claims_from_several_processes_have_exactly_one_winner(store, postgres_url):
    ids = [queued(store).execution_id for _ in range(200)]
    ctx = multiprocessing.get_context("spawn")
    start, results = ctx.Event(), ctx.Queue()
    racers = [ctx.Process(target=_race, args=(postgres_url, ids, start, results))
              for _ in range(6)]
    for p in racers:
        p.start()
    start.set()
    wins = [results.get(timeout=60) for _ in racers]
    for p in racers:
        p.join(timeout=30)
        assert p.exitcode == 0
    assert sorted(i for won in wins for i in won) == sorted(ids)  # each once, none twice
    assert all(e.status is Status.RUNNING for e in store.list_executions(limit=200))


def test_serve_refuses_to_start_when_postgresql_does_not_answer(start_livecode):
    process = start_livecode("serve", "--port", "0",
                             "--store", "postgresql://livecode@127.0.0.1:1/livecode")
    assert process.proc.wait(30) == 125
    log = process.log_path.read_text()
    assert "PostgreSQL store cannot be reached" in log and "127.0.0.1" in log
    assert "listening" not in log and "Traceback" not in log


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["postgres", "split-postgres"])
def test_served_on_postgresql_alone_and_as_split_mode_metadata(serve, postgres_url, mode,
                                                               request):
    env = {"LIVECODE_STORE": postgres_url}
    if mode == "split-postgres":
        mongo_url = request.getfixturevalue("mongo_url")
        env = {"LIVECODE_STORE": f"split:{postgres_url};{mongo_url}"}
    _, http = serve(**env)
    ids = []
    for source in ('print("Hello World")', 'raise ValueError("x")'):
        status, body = http.call("POST", "/submit-code", {"code": source})
        assert status == 202, body
        ids.append(body["jobId"])
    hello, failed = (http.wait(i) for i in ids)
    assert hello["status"] == "COMPLETED" and hello["stdout"] == "Hello World\n"
    assert failed["status"] == "FAILED" and failed["stderr"].endswith("ValueError: x\n")
    status, listed = http.call("GET", "/executions?status=COMPLETED&fields=stdout")
    assert [e["stdout"] for e in listed["executions"]] == ["Hello World\n"]
    stored = query(postgres_url, "SELECT status, convert_from(stdout, 'UTF8') "
                                 "FROM executions WHERE execution_id = %s", ids[0])
    if mode == "postgres":
        assert stored == [("COMPLETED", "Hello World\n")]
    else:  # the status lives in PostgreSQL, the output in MongoDB
        import pymongo

        assert stored == [("COMPLETED", "")]
        db = pymongo.MongoClient(mongo_url).get_default_database()
        assert db.results.find_one({"execution_id": ids[0]})["stdout"] == "Hello World\n"


def test_a_store_of_the_first_schema_is_upgraded_in_place(postgres_url, settings):
    from livecode.plugins.postgres_store.schema import MIGRATIONS

    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(MIGRATIONS[0])
        conn.execute("CREATE TABLE livecode_schema (version integer NOT NULL)")
        conn.execute("INSERT INTO livecode_schema VALUES (1)")
        conn.execute("INSERT INTO executions (execution_id, session_id, language, status, "
                     "source_code, stdin, limits, session_revision, created_at, stdout) VALUES "
                     "('old', 's', 'python', 'COMPLETED', 'print(1)', '', '{}', 1, now(), %s)",
                     (b"1\n",))
    store = PostgresStore(postgres_url, settings)
    try:
        old = store.get_execution("old")
        assert (old.source_bytes, old.stdout_bytes, old.owner) == (8, 2, "")
    finally:
        store.close()
    assert query(postgres_url, "SELECT version FROM livecode_schema") == [(SCHEMA_VERSION,)]
