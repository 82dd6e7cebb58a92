"""The store contract: every store passes the same tests (SQLite, MongoDB, PostgreSQL, and split
mode with metadata in SQLite or PostgreSQL and results in MongoDB).

MongoDB is ``LIVECODE_TEST_MONGO_URL`` when set; otherwise SecantusDB, a MongoDB-compatible server
speaking the real wire protocol, and the test ids say ``secantusdb``."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import MONGO_KIND, queued
from livecode.core.execution_states import Status
from livecode.core.limits import Limits
from livecode.core.models import CodeSession, Execution, WorkerInfo
from livecode.core.timestamps import utcnow
from livecode.plugins.mongo_store import MongoStore
from livecode.plugins.postgres_store import PostgresStore
from livecode.plugins.split_store import SplitStore
from livecode.plugins.sqlite_store import SQLiteStore


@pytest.fixture(params=["sqlite", "mongodb", "postgres", "split", "split-postgres"],
                ids=["sqlite", f"mongodb-{MONGO_KIND}", "postgres", f"split-sqlite+{MONGO_KIND}",
                     f"split-postgres+{MONGO_KIND}"])
def store(request, tmp_path, settings):
    if request.param == "sqlite":
        made = SQLiteStore(str(tmp_path / "store.db"))
    elif request.param == "postgres":
        made = PostgresStore(request.getfixturevalue("postgres_url"), settings)
    else:
        mongo = MongoStore(request.getfixturevalue("mongo_url"), settings)
        meta = (PostgresStore(request.getfixturevalue("postgres_url"), settings)
                if request.param == "split-postgres" else SQLiteStore(str(tmp_path / "meta.db")))
        made = mongo if request.param == "mongodb" else SplitStore(meta, mongo)
    yield made
    made.close()


def test_session_round_trip_and_revisioned_update(store):
    session = CodeSession.new("python", "a = 1")
    store.create_session(session)
    assert store.get_session(session.session_id) == session
    updated = store.update_session(session.session_id, {"source_code": "a = 2"}, None)
    assert (updated.source_code, updated.revision) == ("a = 2", 2)
    assert store.update_session(session.session_id, {"source_code": "lost"}, 1) is None
    assert store.get_session(session.session_id).source_code == "a = 2"
    assert store.update_session(session.session_id, {"source_code": "a = 3"}, 2).revision == 3
    assert store.update_session("missing", {"source_code": "x"}, None) is None
    assert store.get_session("missing") is None
    store.delete_session(session.session_id)
    assert store.get_session(session.session_id) is None


def test_execution_round_trip_and_transition_compare_and_set(store):
    execution = queued(store)
    assert store.get_execution(execution.execution_id) == execution
    running = store.transition(execution.execution_id, frozenset({Status.QUEUED}), 0,
                               {"status": Status.RUNNING, "worker_id": "w1", "attempts": 1})
    assert running.status is Status.RUNNING and running.worker_id == "w1"
    assert store.transition(execution.execution_id, frozenset({Status.QUEUED}), 0,
                            {"status": Status.RUNNING, "worker_id": "w2"}) is None
    # A worker that holds an older attempt cannot store over this one.
    assert store.transition(execution.execution_id, frozenset({Status.RUNNING}), 0,
                            {"status": Status.COMPLETED}) is None
    done = store.transition(execution.execution_id, frozenset({Status.RUNNING}), 1,
                            {"status": Status.COMPLETED, "stdout": "1\n", "truncated": True})
    assert done.stdout == "1\n" and done.truncated is True and done.limits.wall_time_limit == 2.0
    assert store.transition("missing", frozenset({Status.QUEUED}), 0,
                            {"status": Status.RUNNING}) is None


def test_compile_output_test_cases_and_their_results_round_trip(store):
    cases = {"comparison": "whitespace", "cases": [{"stdin": "1 2", "expected_output": "3"},
                                                   {"stdin": "é\n", "expected_output": None}]}
    session = CodeSession.new("c", "int main(void) { return 0; }")
    store.create_session(session)
    execution = Execution.snapshot(session, "", Limits()).evolve(tests=cases)
    store.create_execution(execution)
    assert store.get_execution(execution.execution_id).tests == cases
    store.transition(execution.execution_id, frozenset({Status.QUEUED}), 0,
                     {"status": Status.RUNNING, "attempts": 1})
    results = [{"status": "COMPLETED", "stdout": "3\n", "verdict": "accepted"},
               {"status": "TIMEOUT", "stdout": "", "verdict": None}]
    done = store.transition(execution.execution_id, frozenset({Status.RUNNING}), 1,
                            {"status": Status.TIMEOUT, "compile_output": "warning: x\n",
                             "test_results": results})
    again = store.get_execution(execution.execution_id)
    assert done == again
    assert (again.compile_output, again.test_results, again.tests) == (
        "warning: x\n", results, cases)
    plain = queued(store)
    assert (plain.compile_output, plain.tests, plain.test_results) == (None, None, [])
    assert store.get_execution(plain.execution_id) == plain


def test_listing_is_newest_first_filtered_and_paged(store):
    first = queued(store)
    ids = [first.execution_id] + [
        _same_session_run(store, first).execution_id for _ in range(4)]
    other = queued(store)
    store.transition(ids[1], frozenset({Status.QUEUED}), 0, {"status": Status.CANCELLED})
    by_session = [e.execution_id for e in store.list_executions(session_id=first.session_id)]
    assert by_session == ids[::-1]
    assert [e.execution_id for e in store.list_executions(limit=2)] == [other.execution_id, ids[4]]
    page2 = store.list_executions(session_id=first.session_id, limit=2, before=ids[3])
    assert [e.execution_id for e in page2] == [ids[2], ids[1]]
    cancelled = store.list_executions(status=Status.CANCELLED)
    assert [e.execution_id for e in cancelled] == [ids[1]]
    store.delete_execution(ids[0])
    assert store.get_execution(ids[0]) is None


def _same_session_run(store, execution) -> Execution:
    session = store.get_session(execution.session_id)
    new = Execution.snapshot(session, "", Limits())
    store.create_execution(new)
    return new



def test_counts_oldest_queued_and_retention(store):
    first, second, third = queued(store), queued(store), queued(store)
    assert store.oldest_queued_at() == first.created_at
    store.transition(first.execution_id, frozenset({Status.QUEUED}), 0,
                     {"status": Status.RUNNING, "attempts": 1})
    store.transition(first.execution_id, frozenset({Status.RUNNING}), 1,
                     {"status": Status.COMPLETED, "finished_at": "2020-01-01T00:00:00.000Z",
                      "stdout": "old\n"})
    store.transition(second.execution_id, frozenset({Status.QUEUED}), 0,
                     {"status": Status.CANCELLED, "finished_at": utcnow()})
    assert store.count_executions() == {"COMPLETED": 1, "CANCELLED": 1, "QUEUED": 1}
    assert store.oldest_queued_at() == third.created_at
    assert store.delete_finished_before("2021-01-01T00:00:00.000Z") == 1
    assert store.get_execution(first.execution_id) is None
    assert store.get_execution(second.execution_id).status is Status.CANCELLED
    assert store.get_session(first.session_id) is not None


def test_results_belong_to_their_attempt(store):
    execution = queued(store)
    store.transition(execution.execution_id, frozenset({Status.QUEUED}), 0,
                     {"status": Status.RUNNING, "attempts": 1})
    store.transition(execution.execution_id, frozenset({Status.RUNNING}), 1,
                     {"status": Status.QUEUED, "started_at": None})
    store.transition(execution.execution_id, frozenset({Status.QUEUED}), 1,
                     {"status": Status.RUNNING, "attempts": 2})
    # The first attempt's worker comes back late: its result must not land.
    assert store.transition(execution.execution_id, frozenset({Status.RUNNING}), 1,
                            {"status": Status.COMPLETED, "stdout": "stale\n"}) is None
    done = store.transition(execution.execution_id, frozenset({Status.RUNNING}), 2,
                            {"status": Status.COMPLETED, "stdout": "fresh\n", "exit_code": 0,
                             "truncated": False, "execution_time_ms": 1.5})
    assert (done.stdout, done.exit_code, done.attempts) == ("fresh\n", 0, 2)
    again = store.get_execution(execution.execution_id)
    assert again == done
    assert [e.stdout for e in store.list_executions()] == ["fresh\n"]


def test_workers_are_saved_listed_and_deleted(store):
    info = WorkerInfo(worker_id="w1", host="h", pid=7, queue="q", concurrency=2,
                      sandboxes=["subprocess"], started_at=utcnow(), last_heartbeat=utcnow(),
                      state="busy", current=["e1"], completed=3)
    store.save_worker(info)
    store.save_worker(info.__class__(**{**info.to_dict(), "completed": 4}))
    assert store.list_workers() == [info.__class__(**{**info.to_dict(), "completed": 4})]
    store.delete_worker("w1")
    assert store.list_workers() == []


def test_concurrent_claims_have_exactly_one_winner(store):
    ids = [queued(store).execution_id for _ in range(30)]
    start = threading.Barrier(6)

    def race(_):
        start.wait()
        return [i for i in ids if store.transition(
            i, frozenset({Status.QUEUED}), 0, {"status": Status.RUNNING, "attempts": 1})]

    with ThreadPoolExecutor(6) as pool:
        wins = list(pool.map(race, range(6)))
    assert sorted(i for won in wins for i in won) == sorted(ids)


def test_ping(store):
    store.ping()


def test_mongodb_expires_old_finished_runs_by_ttl_index(mongo_url, settings_with):
    import time

    store = MongoStore(mongo_url, settings_with(LIVECODE_RETENTION_SECONDS="1"))
    try:
        indexes = store.executions.index_information()
        assert indexes["retention"]["expireAfterSeconds"] == 1
        execution = queued(store)
        store.transition(execution.execution_id, frozenset({Status.QUEUED}), 0,
                         {"status": Status.CANCELLED, "finished_at": "2020-01-01T00:00:00.000Z"})
        waiting = queued(store)
        deadline = time.monotonic() + 15
        while store.get_execution(execution.execution_id) is not None:
            assert time.monotonic() < deadline, "the TTL index did not expire the run"
            time.sleep(0.2)
        assert store.get_execution(waiting.execution_id) is not None  # unfinished: kept
        assert store.get_session(execution.session_id) is not None
    finally:
        store.close()


def test_filters_terms_negation_text_and_time(store):
    from livecode.core.execution_filter import ExecutionFilter, Term

    def finish(execution, status, worker, stdout="", stderr=""):
        store.transition(execution.execution_id, frozenset({Status.QUEUED}), 0,
                         {"status": Status.RUNNING, "attempts": 1, "worker_id": worker})
        store.transition(execution.execution_id, frozenset({Status.RUNNING}), 1,
                         {"status": status, "stdout": stdout, "stderr": stderr,
                          "reason": "nonzero_exit" if status is Status.FAILED else None})

    ok, boom, slow, waiting = (queued(store) for _ in range(4))
    finish(ok, Status.COMPLETED, "host:1:w1", stdout="fine\n")
    finish(boom, Status.FAILED, "host:2:w3", stderr="Traceback\nMemoryError\n")
    finish(slow, Status.TIMEOUT, "host:3:w3")

    def ids(*terms, **window):
        found = store.list_executions(limit=50, match=ExecutionFilter(tuple(terms), **window))
        return {e.execution_id for e in found}

    assert ids(Term("status", "failed"), Term("status", "TIMEOUT")) == {
        boom.execution_id, slow.execution_id}
    assert ids(Term("status", "QUEUED", negate=True)) == {
        ok.execution_id, boom.execution_id, slow.execution_id}
    assert ids(Term("worker", "w3")) == {boom.execution_id, slow.execution_id}
    assert ids(Term("worker", "w3"), Term("status", "FAILED", negate=True)) == {slow.execution_id}
    assert ids(Term("text", "MemoryError")) == {boom.execution_id}
    assert ids(Term("reason", "nonzero_exit")) == {boom.execution_id}
    assert ids(Term("reason", "nonzero_exit", negate=True), Term("status", "QUEUED",
                                                                  negate=True)) == {
        ok.execution_id, slow.execution_id}
    assert ids(Term("text", "fine"), Term("language", "python")) == {ok.execution_id}
    assert ids(Term("text", "MemoryError", negate=True), Term("status", "QUEUED")) == {
        waiting.execution_id}
    text = ExecutionFilter((Term("text", "MemoryError"),))
    summary, = store.list_executions(match=text, texts=())  # found by its text, not sent it
    assert (summary.execution_id, summary.stderr, summary.stdout) == (boom.execution_id, "", "")
    whole, = store.list_executions(match=text)
    assert (whole.stderr, whole.source_code) == ("Traceback\nMemoryError\n", boom.source_code)
    assert ids(Term("language", "python", negate=True)) == set()
    assert ids(created_after=waiting.created_at) >= {waiting.execution_id}
    assert ids(created_before="2000-01-01T00:00:00.000Z") == set()
    assert store.count_executions(created_before="2000-01-01T00:00:00.000Z") == {}
    assert sum(store.count_executions(created_after=ok.created_at).values()) == 4


def test_split_retention_deletes_the_results_of_every_old_run_page_after_page(
        tmp_path, mongo_url, settings):
    """Retention in split mode reads the metadata a page at a time (3 here, 1000 in use): no old
    run's results may stay behind in the results store, however many pages there are."""
    long_ago, cutoff = "2020-01-01T00:00:00.000Z", "2021-01-01T00:00:00.000Z"
    results = MongoStore(mongo_url, settings)
    store = SplitStore(SQLiteStore(str(tmp_path / "meta.db")), results, retention_page=3)

    def finished(status, finished_at):
        session = CodeSession.new("python", "print(1)")
        store.create_session(session)
        execution = Execution.snapshot(session, "", Limits()).evolve(created_at=long_ago)
        store.create_execution(execution)
        store.transition(execution.execution_id, frozenset({Status.QUEUED}), 0,
                         {"status": Status.RUNNING, "attempts": 1})
        store.transition(execution.execution_id, frozenset({Status.RUNNING}), 1,
                         {"status": status, "stdout": "out\n", "finished_at": finished_at})
        return (execution.execution_id, 1)

    try:
        late = finished(Status.COMPLETED, utcnow())  # created long ago, finished just now
        old = [finished(status, long_ago) for status in [Status.COMPLETED] * 5
               + [Status.FAILED, Status.TIMEOUT] * 2]
        assert store.delete_finished_before(cutoff) == len(old)
        assert results.get_results(old) == {}
        assert all(store.get_execution(execution_id) is None for execution_id, _ in old)
        assert store.get_execution(late[0]).stdout == "out\n"
        assert list(results.get_results([late])) == [late]
    finally:
        store.close()


def test_the_split_store_is_composed_by_url(tmp_path, mongo_url, settings):
    from livecode.core.errors import InvalidInput
    from livecode.core.plugins import Plugins

    plugins = Plugins(settings)
    store = plugins.open_store(f"split:sqlite:///{tmp_path}/meta.db;{mongo_url}")
    try:
        assert isinstance(store.meta, SQLiteStore) and isinstance(store.results, MongoStore)
        execution = queued(store)
        assert store.get_execution(execution.execution_id) == execution
    finally:
        store.close()
    with pytest.raises(InvalidInput, match="split:<metadata store URL>;<results store URL>"):
        plugins.open_store(f"split:sqlite:///{tmp_path}/meta.db")
    with pytest.raises(InvalidInput, match="cannot hold results apart"):
        plugins.open_store(f"split:sqlite:///{tmp_path}/meta.db;sqlite:///{tmp_path}/r.db")


def test_keys_are_created_found_listed_and_revoked(store):
    from livecode.api import keys

    assert store.has_keys() is False and store.list_keys() == []
    first, secret = keys.new("ci", "client", {"runs_per_minute": 5})
    second, _ = keys.new("ops", "operator")
    store.create_key(first)
    store.create_key(second)
    assert store.has_keys() is True
    assert store.get_key(first.key_id) == first and store.get_key("nope") is None
    assert keys.matches(first, secret.encode()) and secret not in repr(store.list_keys())
    assert {k.key_id for k in store.list_keys()} == {first.key_id, second.key_id}
    revoked = store.revoke_key(first.key_id, "2030-01-01T00:00:00.000Z")
    assert revoked.revoked_at == "2030-01-01T00:00:00.000Z"
    assert not keys.matches(revoked, secret.encode())
    again = store.revoke_key(first.key_id, "2031-01-01T00:00:00.000Z")
    assert again.revoked_at == "2030-01-01T00:00:00.000Z"  # the first revocation stands
    assert store.revoke_key("nope", utcnow()) is None
    store.revoke_key(second.key_id, utcnow())
    assert store.has_keys() is False and len(store.list_keys()) == 2


def test_quota_counters_count_within_their_window_then_restart(store):
    import time

    assert store.get_counter("k")[0] == 0
    assert [store.hit_counter("k", 0.6) for _ in range(3)] == [1, 2, 3]
    value, expires = store.get_counter("k")
    assert value == 3 and time.time() < expires <= time.time() + 0.6
    assert store.hit_counter("other", 10, amount=2) == 2
    assert store.hit_counter("other", 10, amount=-1) == 1  # a reservation released
    assert store.hit_counter("other", 10, amount=1) == 2
    time.sleep(0.7)
    assert store.get_counter("k")[0] == 0
    assert store.hit_counter("k", 0.6) == 1
    assert store.get_counter("other")[0] == 2


def test_owners_sizes_and_listings_without_texts(store):
    from livecode.core.execution_filter import ExecutionFilter

    session = CodeSession.new("python", "print('é')", owner="alice")
    store.create_session(session)
    assert store.get_session(session.session_id).owner == "alice"
    mine = Execution.snapshot(session, "stdin!", Limits())
    store.create_execution(mine)
    theirs = queued(store)
    store.transition(mine.execution_id, frozenset({Status.QUEUED}), 0,
                     {"status": Status.RUNNING, "attempts": 1})
    store.transition(mine.execution_id, frozenset({Status.RUNNING}), 1,
                     {"status": Status.COMPLETED, "stdout": "x" * 1000, "stdout_bytes": 1000})
    assert [e.execution_id for e in store.list_executions(match=ExecutionFilter(owner="alice"))
            ] == [mine.execution_id]
    assert [e.execution_id for e in store.list_executions(match=ExecutionFilter(owner=""))
            ] == [theirs.execution_id]
    assert store.count_executions(owner="alice") == {"COMPLETED": 1}
    summary = store.list_executions(match=ExecutionFilter(owner="alice"), texts=())[0]
    assert (summary.source_code, summary.stdin, summary.stdout, summary.stderr) == ("", "", "", "")
    assert (summary.owner, summary.source_bytes, summary.stdin_bytes, summary.stdout_bytes) == (
        "alice", len("print('é')".encode()), 6, 1000)
    assert summary.status is Status.COMPLETED and summary.limits == Limits()
    partial = store.list_executions(match=ExecutionFilter(owner="alice"), texts=("stdout",))[0]
    assert (partial.stdout, partial.source_code) == ("x" * 1000, "")


def test_timings_and_failure_groups_are_computed_by_the_store(store):
    def end(execution, status, **changes):
        store.transition(execution.execution_id, frozenset({Status.QUEUED}), 0,
                         {"status": Status.RUNNING, "attempts": 1, "started_at": utcnow()})
        store.transition(execution.execution_id, frozenset({Status.RUNNING}), 1,
                         {"status": status, "finished_at": utcnow(), **changes})

    runs = [queued(store) for _ in range(5)]
    end(runs[0], Status.COMPLETED, execution_time_ms=12.5, stdout="big" * 1000)
    end(runs[1], Status.FAILED, signature="MemoryError", reason="nonzero_exit")
    end(runs[2], Status.FAILED, signature="MemoryError", reason="memory_limit")
    end(runs[3], Status.TIMEOUT, reason="wall_time_limit")  # stored without a signature
    end(runs[4], Status.FAILED, signature="MemoryError", reason="nonzero_exit")
    window = ("2000-01-01T00:00:00.000Z", "2100-01-01T00:00:00.000Z")
    timings = store.execution_timings(*window, 3)
    assert [t.created_at for t in timings] == [r.created_at for r in runs[4:1:-1]]
    first = store.execution_timings(*window, 10)[-1]
    assert first.execution_time_ms == 12.5 and first.started_at and first.finished_at
    groups = sorted(store.failure_groups(*window), key=lambda g: (g["status"], g["count"]))
    assert groups == [
        {"status": "FAILED", "reason": "memory_limit", "signature": "MemoryError", "count": 1,
         "first_seen": runs[2].created_at, "last_seen": runs[2].created_at,
         "example": runs[2].execution_id},
        {"status": "FAILED", "reason": "nonzero_exit", "signature": "MemoryError", "count": 2,
         "first_seen": runs[1].created_at, "last_seen": runs[4].created_at,
         "example": runs[4].execution_id},
        {"status": "TIMEOUT", "reason": "wall_time_limit", "signature": "wall_time_limit",
         "count": 1, "first_seen": runs[3].created_at, "last_seen": runs[3].created_at,
         "example": runs[3].execution_id}]
    assert store.failure_groups("2000-01-01T00:00:00.000Z", "2000-01-02T00:00:00.000Z") == []


def test_a_finished_runs_extra_changes_in_place_and_listings_carry_it(store):
    """What the callbacks plugin relies on: a transition that keeps the status and attempts
    changes only ``extra`` (the callback's state), and summaries carry ``extra``."""
    execution = queued(store)
    execution = store.transition(execution.execution_id, frozenset({Status.QUEUED}), 0,
                                 {"status": Status.CANCELLED, "finished_at": utcnow(),
                                  "stdout": "kept"})
    callback = {"url": "https://example.com/", "state": "pending", "attempts": 1,
                "next_at": 12.5, "last_error": None}
    changed = store.transition(execution.execution_id, frozenset({Status.CANCELLED}), 0,
                               {"status": Status.CANCELLED, "extra": {"callback": callback}})
    assert changed.extra == {"callback": callback} and changed.stdout == "kept"
    assert changed.status is Status.CANCELLED and changed.finished_at == execution.finished_at
    [summary] = store.list_executions(limit=10, texts=())
    assert summary.extra == {"callback": callback}


def test_programs_of_several_files_and_run_options_round_trip(store):
    from livecode.core.execution_filter import ExecutionFilter

    files = [{"name": "main.py", "content": "import lib\n"},
             {"name": "pkg/lib.py", "content": "x = 'é\\u0000'\0"}]
    session = CodeSession.new("python", "import lib\n", owner="bob", files=files,
                              entry="main.py")
    store.create_session(session)
    assert store.get_session(session.session_id) == session
    renamed = [files[1], {"name": "app.py", "content": "print(1)"}]
    updated = store.update_session(session.session_id, {"files": renamed, "entry": "app.py",
                                                        "source_code": "print(1)"}, 1)
    assert (updated.files, updated.entry, updated.revision) == (renamed, "app.py", 2)
    assert store.get_session(session.session_id).files == renamed
    execution = Execution.snapshot(session, "", Limits()).evolve(
        args=["-v", "two words", "é"], compiler_options=["-O0"],
        redirect_stderr_to_stdout=True)
    store.create_execution(execution)
    assert store.get_execution(execution.execution_id) == execution
    assert execution.source_bytes == sum(len(f["content"].encode()) for f in files)
    summary = store.list_executions(match=ExecutionFilter(owner="bob"), texts=())[0]
    assert (summary.files, summary.entry, summary.source_bytes) == (
        [], "main.py", execution.source_bytes)
    assert (summary.args, summary.redirect_stderr_to_stdout) == (["-v", "two words", "é"], True)
    assert store.list_executions(match=ExecutionFilter(owner="bob"),
                                 texts=("files",))[0].files == files
    store.update_session(session.session_id, {"files": [], "entry": "", "source_code": "1"}, 2)
    assert store.get_session(session.session_id).files == []
