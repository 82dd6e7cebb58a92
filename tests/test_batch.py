"""POST /executions/batch and GET /executions?ids= through falcon.testing on a real SQLite store,
the real in-process queue and real quota counters; two client keys for owner scoping."""

import sqlite3

import falcon.testing
import pytest

from livecode.api.app import create_app
from livecode.api import keys

from test_api import assert_error, snapshot


@pytest.fixture
def app(livecode):
    return falcon.testing.TestClient(create_app(livecode))


def key(livecode, scope="client", **quotas):
    return {"Authorization": f"Bearer {keys.issue(livecode.store, scope, scope, quotas)[1]}"}


def sessions_stored(livecode) -> int:
    path = livecode.settings.store.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        return db.execute("SELECT count(*) FROM code_sessions").fetchone()[0]


def everything(livecode):
    return snapshot(livecode), sessions_stored(livecode)


def test_a_batch_queues_every_run_in_order_code_and_session_runs_alike(app, livecode):
    alice = key(livecode)
    sid = app.simulate_post("/code-sessions", json={"source_code": "print(input())"},
                            headers=alice).json["session_id"]
    answer = app.simulate_post("/executions/batch", headers=alice, json={"runs": [
        {"code": "print(1)", "language": "python", "wall_time_limit": 3},
        {"session_id": sid, "stdin": "hi\n"},
        {"code": "print(input())", "tests": [{"stdin": "a", "expected_output": "a"}]},
    ]})
    assert answer.status_code == 202, answer.text
    queued = answer.json["executions"]
    assert [q["status"] for q in queued] == ["QUEUED"] * 3
    assert livecode.queue.depth() == 3
    runs = [livecode.get_execution(q["execution_id"]) for q in queued]
    assert runs[0].source_code == "print(1)" and runs[0].limits.wall_time_limit == 3
    assert runs[1].session_id == sid and runs[1].stdin == "hi\n"
    assert runs[2].tests["cases"][0]["expected_output"] == "a"
    assert {r.owner for r in runs} == {alice["Authorization"].split("_")[1]}


@pytest.mark.parametrize("bad, status, fragment", [
    ({"code": "1", "language": "cobol"}, 422, "unknown language"),
    ({"code": "1", "wall_time_limit": 10_000}, 422, "wall_time_limit"),
    ({"code": "1", "colour": "red"}, 422, "unknown field"),
    ({"code": 5}, 422, "code must be a string"),
    ({"stdin": "x"}, 422, "code (or files, or session_id) is required"),
    ({"code": "1", "session_id": "x"}, 422, "not both"),
    ({"session_id": "no-such-session"}, 404, "no code session"),
    ({"code": "1", "stdin": "x" * (64 * 1024 + 1)}, 413, "stdin"),
    ({"code": "1", "callback_url": "http://127.0.0.1:9/hook"}, 422, "refused"),
    ("not an object", 422, "must be an object"),
])
def test_one_bad_item_refuses_the_whole_batch_naming_its_index(app, livecode, bad, status,
                                                               fragment):
    alice = key(livecode)
    before = everything(livecode)
    answer = app.simulate_post("/executions/batch", headers=alice, json={"runs": [
        {"code": "print(1)"}, {"code": "print(2)"}, bad]})
    assert_error(answer, status, fragment=fragment)
    assert answer.json["error"]["index"] == 2
    assert "runs[2]" in answer.json["error"]["message"]
    assert everything(livecode) == before


def test_a_batch_over_the_cap_or_empty_is_refused(app, settings_with):
    from livecode.core.service import Livecode

    service = Livecode.open(settings_with(LIVECODE_MAX_BATCH="3"))
    try:
        client = falcon.testing.TestClient(create_app(service))
        for runs in ([], [{"code": "1"}] * 4):
            answer = client.simulate_post("/executions/batch", json={"runs": runs})
            assert_error(answer, 422)
        assert service.queue.depth() == 0
        assert client.simulate_post("/executions/batch",
                                    json={"runs": [{"code": "1"}] * 3}).status_code == 202
    finally:
        service.close()


def test_quotas_count_every_run_of_a_batch_and_a_batch_that_does_not_fit_spends_nothing(
        app, livecode):
    alice = key(livecode, runs_per_minute=5, active_runs=0, writes_per_second=0)
    before = everything(livecode)
    over = app.simulate_post("/executions/batch", headers=alice,
                             json={"runs": [{"code": "1"}] * 6})
    assert_error(over, 429, "quota_exceeded")
    assert over.json["error"]["quota"] == "runs_per_minute"
    assert everything(livecode) == before
    fits = app.simulate_post("/executions/batch", headers=alice,
                             json={"runs": [{"code": "1"}] * 5})
    assert fits.status_code == 202, fits.text
    one_more = app.simulate_post("/submit-code", json={"code": "1"}, headers=alice)
    assert_error(one_more, 429, "quota_exceeded")


def test_active_runs_quota_counts_the_batch_it_would_add(app, livecode):
    alice = key(livecode, active_runs=3, runs_per_minute=0, writes_per_second=0)
    assert app.simulate_post("/submit-code", json={"code": "1"}, headers=alice).status_code == 202
    over = app.simulate_post("/executions/batch", headers=alice,
                             json={"runs": [{"code": "1"}] * 3})
    assert_error(over, 429)
    assert over.json["error"]["quota"] == "active_runs"
    assert app.simulate_post("/executions/batch", headers=alice,
                             json={"runs": [{"code": "1"}] * 2}).status_code == 202


def test_a_batch_cannot_run_another_keys_session(app, livecode):
    alice, bob = key(livecode), key(livecode)
    sid = app.simulate_post("/code-sessions", json={"source_code": "1"},
                            headers=alice).json["session_id"]
    before = everything(livecode)
    answer = app.simulate_post("/executions/batch", headers=bob,
                               json={"runs": [{"code": "1"}, {"session_id": sid}]})
    assert_error(answer, 404, "not_found")
    assert answer.json["error"]["index"] == 1
    assert everything(livecode) == before


def test_ids_reads_the_callers_runs_in_order_and_leaves_out_anyone_elses(app, livecode):
    alice, bob = key(livecode), key(livecode)
    mine = [q["execution_id"] for q in app.simulate_post(
        "/executions/batch", headers=alice,
        json={"runs": [{"code": "print(1)"}, {"code": "print(2)"}]}).json["executions"]]
    theirs = app.simulate_post("/submit-code", json={"code": "x"}, headers=bob).json["jobId"]
    asked = [mine[1], theirs, "unknown-id", mine[0]]
    answer = app.simulate_get("/executions", params={"ids": ",".join(asked)}, headers=alice)
    assert answer.status_code == 200, answer.text
    assert [e["execution_id"] for e in answer.json["executions"]] == [mine[1], mine[0]]
    assert "source_code" not in answer.json["executions"][0]
    with_code = app.simulate_get("/executions", params={"ids": mine[0],
                                                        "fields": "source_code"}, headers=alice)
    assert with_code.json["executions"][0]["source_code"] == "print(1)"
    for_bob = app.simulate_get("/executions", params={"ids": ",".join(asked)}, headers=bob)
    assert [e["execution_id"] for e in for_bob.json["executions"]] == [theirs]
    operator = key(livecode, "operator")
    everyone = app.simulate_get("/executions", params={"ids": ",".join(asked)}, headers=operator)
    assert len(everyone.json["executions"]) == 3


def test_ids_is_capped_and_goes_with_fields_alone(app, settings_with):
    from livecode.core.service import Livecode

    service = Livecode.open(settings_with(LIVECODE_MAX_BATCH="2"))
    try:
        client = falcon.testing.TestClient(create_app(service))
        assert_error(client.simulate_get("/executions", params={"ids": "a,b,c"}), 422,
                     fragment="1 to 2")
        assert_error(client.simulate_get("/executions", params={"ids": "a", "status": "FAILED"}),
                     422, fragment="fields alone")
        assert_error(client.simulate_get("/executions", params={"ids": "a", "limit": "5"}),
                     422, fragment="fields alone")
        assert client.simulate_get("/executions", params={"ids": "a,a,b"}).json == {
            "executions": [], "next_before": None}
    finally:
        service.close()


def test_a_queue_that_fails_mid_batch_leaves_nothing_behind_with_a_wrapped_queue(app, livecode):
    """The real in-process queue, wrapped to fail on the batch's second publish (a broker
    cannot be made to fail at exactly that moment here): 503, and the first run, already
    published, is gone from the store with every session made for the batch."""
    real = livecode.queue

    class FailingSecond:
        def __init__(self):
            self.published = 0

        def publish(self, execution_id):
            self.published += 1
            if self.published == 2:
                raise ConnectionError("broker went away")
            real.publish(execution_id)

        def __getattr__(self, name):
            return getattr(real, name)

    livecode.queue = FailingSecond()
    before = sessions_stored(livecode)
    answer = app.simulate_post("/executions/batch",
                               json={"runs": [{"code": "1"}, {"code": "2"}, {"code": "3"}]})
    assert_error(answer, 503, "unavailable")
    assert livecode.store.list_executions() == [] and sessions_stored(livecode) == before
