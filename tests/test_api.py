"""The REST API through falcon.testing, on a real SQLite file and Kombu's in-process queue.

Every rejected request is checked to leave the store and the queue as they were."""

import json
import re
import sqlite3

import falcon.testing
import pytest

from livecode.api.app import create_app
from livecode.core.execution_states import Status
from livecode.worker.worker import Worker


@pytest.fixture
def client(livecode):
    return falcon.testing.TestClient(create_app(livecode))


@pytest.fixture
def worker(livecode):
    return Worker(livecode, concurrency=1)


def new_session(client, **body):
    result = client.simulate_post("/code-sessions", json=body)
    assert result.status_code == 201, result.json
    return result.json


def snapshot(livecode):
    """What a rejected request must not change: every execution, and the queue's depth."""
    return ([e.to_dict() for e in livecode.store.list_executions(limit=200)],
            livecode.queue.depth())


def assert_error(result, status, code=None, fragment=None):
    assert result.status_code == status, result.text
    assert result.headers["content-type"].startswith("application/json")
    error = result.json["error"]
    assert error["status"] == status and isinstance(error["message"], str) and error["message"]
    if code:
        assert error["code"] == code
    if fragment:
        assert fragment in error["message"]


# --- the sessions API ------------------------------------------------------------------------


def test_sessions_api_create_autosave_run_poll(client, livecode, worker):
    created = new_session(client, language="python")
    assert created["status"] == "ACTIVE" and created["source_code"] == ""
    sid = created["session_id"]
    saved = client.simulate_patch(f"/code-sessions/{sid}",
                                  json={"language": "python", "sourceCode": 'print("Hello World")'})
    assert saved.status_code == 200 and saved.json["revision"] == 2
    assert livecode.queue.depth() == 0  # autosave never runs anything
    run = client.simulate_post(f"/sessions/{sid}/run")
    assert run.status_code == 202
    assert run.json == {"execution_id": run.json["execution_id"], "status": "QUEUED"}
    assert run.headers["location"] == f"/executions/{run.json['execution_id']}"
    eid = run.json["execution_id"]
    assert client.simulate_get(f"/executions/{eid}").json["status"] == "QUEUED"
    worker.execute(eid)
    result = client.simulate_get(f"/executions/{eid}").json
    assert result["status"] == "COMPLETED" and result["stdout"] == "Hello World\n"
    for key in ("execution_id", "session_id", "language", "status", "stdout", "stderr",
                "exit_code", "execution_time_ms", "created_at", "started_at", "finished_at"):
        assert key in result
    assert result["exit_code"] == 0 and result["session_id"] == sid


def test_run_with_stdin_through_the_long_path(client, worker):
    sid = new_session(client, source_code="print(input().upper())")["session_id"]
    eid = client.simulate_post(f"/code-sessions/{sid}/run", json={"stdin": "shout\n"}).json[
        "execution_id"]
    assert worker.execute(eid).stdout == "SHOUT\n"


def test_get_session_and_its_executions(client):
    sid = new_session(client, source_code="x = 1")["session_id"]
    assert client.simulate_get(f"/code-sessions/{sid}").json["source_code"] == "x = 1"
    first = client.simulate_post(f"/code-sessions/{sid}/run").json["execution_id"]
    second = client.simulate_post(f"/code-sessions/{sid}/run").json["execution_id"]
    listed = client.simulate_get(f"/code-sessions/{sid}/executions").json
    assert [e["execution_id"] for e in listed["executions"]] == [second, first]


def test_autosave_with_a_stale_revision_is_a_conflict_that_changes_nothing(client):
    sid = new_session(client, source_code="v1")["session_id"]
    assert client.simulate_patch(f"/code-sessions/{sid}", json={"source_code": "v2",
                                                                "revision": 1}).status_code == 200
    stale = client.simulate_patch(f"/code-sessions/{sid}", json={"source_code": "v3",
                                                                 "revision": 1})
    assert_error(stale, 409, "conflict", "revision 2")
    assert stale.json["error"]["revision"] == 2
    assert client.simulate_get(f"/code-sessions/{sid}").json["source_code"] == "v2"


# --- the one-shot API -------------------------------------------------------------------------


def test_one_shot_api_submit_code_and_poll_exec_result(client, worker):
    submitted = client.simulate_post("/submit-code", json={"code": "raise ValueError('x')"})
    assert submitted.status_code == 202 and submitted.json["status"] == "QUEUED"
    job = submitted.json["jobId"]
    assert client.simulate_get("/exec-result", params={"jobId": job}).json["status"] == "QUEUED"
    worker.execute(job)
    result = client.simulate_get("/exec-result", params={"jobId": job}).json
    assert result["jobId"] == job and result["status"] == "FAILED"
    assert "ValueError: x" in result["stderr"]


def test_exec_result_without_job_id_is_a_400(client):
    assert_error(client.simulate_get("/exec-result"), 400, fragment="jobId")


# --- listing and cancelling -------------------------------------------------------------------


def test_list_executions_filters_by_session_and_status_and_pages(client, livecode):
    sid = new_session(client, source_code="print(1)")["session_id"]
    ids = [client.simulate_post(f"/code-sessions/{sid}/run").json["execution_id"]
           for _ in range(3)]
    client.simulate_post(f"/executions/{ids[0]}/cancel")
    page = client.simulate_get("/executions", params={"session_id": sid, "limit": 2}).json
    assert [e["execution_id"] for e in page["executions"]] == [ids[2], ids[1]]
    rest = client.simulate_get("/executions", params={"session_id": sid, "limit": 2,
                                                      "before": page["next_before"]}).json
    assert [e["execution_id"] for e in rest["executions"]] == [ids[0]]
    assert rest["next_before"] is None
    cancelled = client.simulate_get("/executions", params={"status": "cancelled"}).json
    assert [e["execution_id"] for e in cancelled["executions"]] == [ids[0]]


@pytest.mark.parametrize("params,fragment", [
    ({"status": "DONE"}, "unknown status 'DONE'"),
    ({"limit": "0"}, 'The "limit" parameter is invalid. The value must be at least 1'),
    ({"limit": "201"}, "may not exceed 200"),
    ({"limit": "ten"}, 'The "limit" parameter is invalid. The value must be an integer'),
    ({"since": "yesterday"}, "since must be an ISO 8601 time"),
    ({"until": "garbage"}, "until must be an ISO 8601 time"),
    ({"fields": "stdout,secrets"}, "fields: unknown secrets"),
])
def test_list_executions_rejects_bad_parameters(client, params, fragment):
    assert_error(client.simulate_get("/executions", params=params), 422, fragment=fragment)


def test_list_executions_with_an_unknown_cursor_is_a_404(client):
    assert_error(client.simulate_get("/executions", params={"before": "nope"}), 404)


def test_cancel_a_queued_run_then_409_once_it_has_ended(client, livecode, worker):
    sid = new_session(client, source_code="print(1)")["session_id"]
    eid = client.simulate_post(f"/code-sessions/{sid}/run").json["execution_id"]
    cancelled = client.simulate_post(f"/executions/{eid}/cancel")
    assert cancelled.status_code == 200 and cancelled.json["status"] == "CANCELLED"
    assert cancelled.json["finished_at"]
    assert_error(client.simulate_post(f"/executions/{eid}/cancel"), 409, "conflict", "CANCELLED")
    other = client.simulate_post(f"/code-sessions/{sid}/run").json["execution_id"]
    worker.execute(other)
    assert_error(client.simulate_post(f"/executions/{other}/cancel"), 409, fragment="COMPLETED")


def test_cancel_a_running_run_is_a_409(client, livecode):
    sid = new_session(client, source_code="print(1)")["session_id"]
    eid = client.simulate_post(f"/code-sessions/{sid}/run").json["execution_id"]
    livecode.transition(livecode.get_execution(eid), Status.RUNNING)
    assert_error(client.simulate_post(f"/executions/{eid}/cancel"), 409, fragment="RUNNING")
    assert livecode.get_execution(eid).status is Status.RUNNING


# --- introspection ----------------------------------------------------------------------------


def test_languages_lists_each_language_with_its_version_and_sandbox(client):
    languages = {lang["name"]: lang for lang in client.simulate_get("/languages").json["languages"]}
    # the built-ins; third-party packages installed next to livecode (examples/) add theirs
    assert {"bash", "c", "cpp", "javascript", "python", "typescript"} <= set(languages)
    assert languages["python"]["version"].startswith("3.")
    assert re.fullmatch(r"\d+\.\d+\.\d+", languages["javascript"]["version"])
    assert re.fullmatch(r"\d+\.\d+\.\d+", languages["c"]["version"])
    assert languages["c"]["version"] == languages["cpp"]["version"]
    assert re.fullmatch(r"esbuild \d+\.\d+\.\d+, node \d+\.\d+\.\d+",
                        languages["typescript"]["version"])
    assert languages["bash"]["version"].startswith("5.")
    assert {lang["sandbox"] for lang in languages.values()} == {"subprocess"}


def test_health_reports_store_and_queue(client):
    result = client.simulate_get("/health")
    assert result.status_code == 200
    assert result.json["ok"] is True
    assert result.json["checks"]["store"] == {"ok": True}
    assert result.json["checks"]["queue"]["ok"] is True


def test_health_is_503_when_the_queue_is_unreachable(settings_with):
    from livecode.core.service import Livecode

    # A port nothing listens on: a real connection attempt that really fails.
    livecode = Livecode.open(settings_with(LIVECODE_QUEUE="redis://127.0.0.1:1/0"))
    try:
        client = falcon.testing.TestClient(create_app(livecode))
        result = client.simulate_get("/health")
        assert result.status_code == 503
        assert result.json["ok"] is False and result.json["checks"]["queue"]["ok"] is False
        assert result.json["checks"]["store"]["ok"] is True
        # And a run cannot be queued: 503, and nothing is left behind claiming it was.
        sid = new_session(client, source_code="print(1)")["session_id"]
        assert_error(client.simulate_post(f"/code-sessions/{sid}/run"), 503, "unavailable")
        assert livecode.store.list_executions() == []
        # The one-shot call leaves not even its session behind.
        assert_error(client.simulate_post("/submit-code", json={"code": "print(1)"}), 503)
        db = sqlite3.connect(livecode.store.path)
        assert db.execute("SELECT session_id FROM code_sessions").fetchall() == [(sid,)]
        assert db.execute("SELECT count(*) FROM executions").fetchone() == (0,)
    finally:
        livecode.close()


def test_a_run_may_set_its_own_limits_within_the_caps(client, livecode, worker):
    sid = new_session(client, source_code="import time; time.sleep(3)")["session_id"]
    eid = client.simulate_post(f"/code-sessions/{sid}/run",
                               json={"wall_time_limit": 1, "memory_limit": 65536}).json[
        "execution_id"]
    queued = client.simulate_get(f"/executions/{eid}").json
    assert queued["limits"]["wall_time_limit"] == 1 and queued["limits"]["memory_limit"] == 65536
    assert queued["limits"]["cpu_time_limit"] == livecode.settings.limits.cpu_time_limit
    done = worker.execute(eid)
    assert done.status is Status.TIMEOUT and done.reason == "wall_time_limit"


def test_a_limit_over_its_cap_names_the_cap(client, livecode):
    cap = livecode.settings.limit_caps.wall_time_limit
    result = client.simulate_post("/submit-code", json={"code": "1", "wall_time_limit": cap + 1})
    assert_error(result, 422, "invalid_input", f"at most {cap}")
    assert result.json["error"]["cap"] == cap and result.json["error"]["field"] == "wall_time_limit"
    zero = client.simulate_post("/submit-code", json={"code": "1", "max_processes": 0})
    assert_error(zero, 422, fragment="max_processes must be greater than 0")


def test_limits_endpoint_shows_defaults_caps_and_compile_limits(client, livecode):
    body = client.simulate_get("/limits").json
    assert body["defaults"] == livecode.settings.limits.to_dict()
    assert body["caps"]["wall_time_limit"] == livecode.settings.limit_caps.wall_time_limit
    assert body["compile"] == livecode.settings.compile_limits.to_dict()


def test_health_and_languages_show_the_sandbox_and_its_protections(client):
    health = client.simulate_get("/health").json
    subprocess_report = health["sandboxes"]["subprocess"]
    assert subprocess_report["ok"] and subprocess_report["protections"]["rlimits"] is True
    language = client.simulate_get("/languages").json["languages"][0]
    assert language["protections"] == subprocess_report["protections"]


def test_cors_headers_for_browser_frontends(client):
    result = client.simulate_get("/languages", headers={"Origin": "https://editor.example"})
    assert result.headers["access-control-allow-origin"] == "*"
    preflight = client.simulate_options("/code-sessions", headers={
        "Origin": "https://editor.example", "Access-Control-Request-Method": "POST"})
    assert "POST" in preflight.headers["access-control-allow-methods"]


def test_cors_origins_are_configurable(settings_with):
    from livecode.core.service import Livecode

    livecode = Livecode.open(settings_with(LIVECODE_CORS_ORIGINS="https://a.example"))
    try:
        client = falcon.testing.TestClient(create_app(livecode))
        allowed = client.simulate_get("/languages", headers={"Origin": "https://a.example"})
        assert allowed.headers["access-control-allow-origin"] == "https://a.example"
        refused = client.simulate_get("/languages", headers={"Origin": "https://b.example"})
        assert "access-control-allow-origin" not in refused.headers
    finally:
        livecode.close()


# --- bad input: a clear error and nothing changed ---------------------------------------------

BIG = "x" * (64 * 1024 + 1)


def bad_requests(sid):
    raw = {"headers": {"Content-Type": "application/json"}}
    return [
        ("POST", "/code-sessions", {"body": "{not json", **raw}, 400, "malformed_json"),
        ("POST", "/code-sessions", {"json": [1, 2]}, 422, "invalid_input"),
        ("POST", "/code-sessions", {"json": {"language": "cobol"}}, 422, "invalid_input"),
        ("POST", "/code-sessions", {"json": {"language": 3}}, 422, "invalid_input"),
        ("POST", "/code-sessions", {"json": {"source_code": ["x"]}}, 422, "invalid_input"),
        ("POST", "/code-sessions", {"json": {"sourcecode": "typo"}}, 422, "invalid_input"),
        ("POST", "/code-sessions", {"json": {"source_code": BIG}}, 413, "payload_too_large"),
        ("POST", "/code-sessions", {"body": "language=python", "headers": {
            "Content-Type": "application/x-www-form-urlencoded"}}, 415, "unsupported_media_type"),
        ("PATCH", f"/code-sessions/{sid}", {"json": {"sourceCode": BIG}}, 413, None),
        ("PATCH", f"/code-sessions/{sid}", {"json": {"language": "cobol"}}, 422, None),
        ("PATCH", f"/code-sessions/{sid}", {"json": {"revision": "1"}}, 422, None),
        ("PATCH", f"/code-sessions/{sid}", {"json": {"revision": True}}, 422, None),
        ("PATCH", f"/code-sessions/{sid}", {"json": {"sourceCode": "a", "source_code": "b"}},
         422, None),
        ("PATCH", "/code-sessions/missing", {"json": {"sourceCode": "a"}}, 404, "not_found"),
        ("GET", "/code-sessions/missing", {}, 404, "not_found"),
        ("POST", f"/code-sessions/{sid}/run", {"json": {"stdin": 5}}, 422, None),
        ("POST", f"/code-sessions/{sid}/run", {"json": {"stdin": BIG}}, 413, None),
        ("POST", f"/code-sessions/{sid}/run", {"body": "{", **raw}, 400, None),
        ("POST", "/sessions/missing/run", {}, 404, "not_found"),
        ("POST", f"/code-sessions/{sid}/run", {"json": {"wall_time_limit": 0}}, 422, None),
        ("POST", f"/code-sessions/{sid}/run", {"json": {"cpu_time_limit": -1}}, 422, None),
        ("POST", f"/code-sessions/{sid}/run", {"json": {"memory_limit": 10**12}}, 422, None),
        ("POST", f"/code-sessions/{sid}/run", {"json": {"memory_limit": 1.5}}, 422, None),
        ("POST", f"/code-sessions/{sid}/run", {"json": {"max_processes": "64"}}, 422, None),
        ("POST", f"/code-sessions/{sid}/run", {"json": {"wall_time_limit": True}}, 422, None),
        ("POST", "/submit-code", {"json": {"code": "x", "disk_limit": 10**15}}, 422, None),
        ("POST", "/submit-code", {"json": {}}, 422, None),
        ("POST", "/submit-code", {"json": {"code": "x", "language": "cobol"}}, 422, None),
        ("POST", "/submit-code", {"json": {"code": BIG}}, 413, None),
        ("POST", "/submit-code", {"json": {"code": 1}}, 422, None),
        ("GET", "/executions/missing", {}, 404, "not_found"),
        ("POST", "/executions/missing/cancel", {}, 404, "not_found"),
        ("GET", "/exec-result", {"params": {"jobId": "missing"}}, 404, None),
        ("GET", "/no-such-route", {}, 404, None),
        ("DELETE", "/languages", {}, 405, None),
    ]


def test_every_bad_request_gets_a_json_error_and_changes_nothing(client, livecode):
    sid = new_session(client, source_code="print('original')")["session_id"]
    for method, path, kwargs, status, code in bad_requests(sid):
        before = snapshot(livecode), client.simulate_get(f"/code-sessions/{sid}").json
        result = client.simulate_request(method, path, **kwargs)
        assert result.status_code == status, (method, path, kwargs.get("json"), result.text)
        assert_error(result, status, code)
        after = snapshot(livecode), client.simulate_get(f"/code-sessions/{sid}").json
        assert after == before, (method, path)


def test_a_body_far_over_the_cap_is_refused_before_it_is_read(client, livecode):
    body = json.dumps({"source_code": "x" * (1024 * 1024)})
    result = client.simulate_post("/code-sessions", body=body,
                                  headers={"Content-Type": "application/json"})
    assert_error(result, 413, "payload_too_large")


def test_source_at_the_cap_is_accepted(client):
    assert new_session(client, source_code="x" * (64 * 1024))["source_code"] == "x" * 65536


def test_every_route_answers_errors_in_one_shape_with_one_code_per_meaning(client, livecode):
    """For every route the app has: an unknown id, a wrong method and bad bodies each get the
    same status and code whichever route it is, and change nothing."""
    from falcon.inspect import inspect_routes

    sid = new_session(client, source_code="print(1)")["session_id"]
    eid = client.simulate_post(f"/code-sessions/{sid}/run").json["execution_id"]
    raw = {"Content-Type": "application/json"}
    checked = 0
    for route in inspect_routes(client.app):
        methods = {m.method for m in route.methods if not m.internal and m.method != "OPTIONS"}
        missing = route.path.replace("{session_id}", "missing").replace("{execution_id}",
                                                                        "missing")
        real = route.path.replace("{session_id}", sid).replace("{execution_id}", eid)
        before = snapshot(livecode)
        if "{" in route.path:
            for method in methods:
                assert_error(client.simulate_request(method, missing), 404, "not_found")
        wrong = next(m for m in ("DELETE", "PUT", "PATCH", "POST") if m not in methods)
        assert_error(client.simulate_request(wrong, real), 405, "method_not_allowed",
                     f"{real} does not take {wrong}")
        for method in methods & {"POST", "PATCH"}:
            assert_error(client.simulate_request(method, real, body="{oops", headers=raw),
                         400, "malformed_json")
            assert_error(client.simulate_request(method, real, json=[1]), 422, "invalid_input")
            unknown = client.simulate_request(method, real, json={"nope": 1})
            assert_error(unknown, 422, "invalid_input", "nope")
            assert unknown.json["error"]["fields"] == ["nope"]
            assert_error(client.simulate_request(method, real, body="a=1", headers={
                "Content-Type": "application/x-www-form-urlencoded"}), 415,
                "unsupported_media_type")
        assert snapshot(livecode) == before, route.path
        checked += 1
    assert checked >= 15
    assert_error(client.simulate_get("/no/such/route"), 404, "not_found", "GET / lists")


@pytest.mark.parametrize("path,param", [
    ("/executions", "since"), ("/executions", "until"), ("/stats", "until"),
    ("/failures", "until"), ("/code-sessions/{sid}/executions", "since"),
])
def test_time_parameters_must_be_times(client, path, param):
    sid = new_session(client)["session_id"]
    path = path.format(sid=sid)
    result = client.simulate_get(path, params={param: "yesterday"})
    assert_error(result, 422, "invalid_input", param)
    assert result.json["error"]["field"] == param
    # Any ISO 8601 spelling works, a time without an offset being UTC.
    for moment in ("2000-01-01T00:00:00Z", "2000-01-01T01:00:00+01:00", "2000-01-01T00:00"):
        assert client.simulate_get(path, params={param: moment}).status_code == 200, moment


def test_both_spellings_of_a_field_are_refused_with_a_sensible_message(client):
    for body in ({"sourceCode": "a", "source_code": "b"}, {"source_code": "b", "sourceCode": "a"}):
        result = client.simulate_post("/code-sessions", json=body)
        assert_error(result, 422, "invalid_input", "send source_code or sourceCode, not both")
        assert result.json["error"]["field"] == "source_code"


def test_a_query_parameter_of_the_wrong_type_is_a_422_naming_it(client):
    result = client.simulate_get("/stats", params={"window": "abc"})
    assert_error(result, 422, "invalid_input", "window")
    assert result.json["error"]["field"] == "window"
    missing = client.simulate_get("/exec-result")
    assert_error(missing, 400, "missing_parameter")
    assert missing.json["error"]["field"] == "jobId"


def test_the_root_points_to_the_docs_health_and_every_route(client):
    root = client.simulate_get("/")
    assert root.status_code == 200
    assert root.json["health"] == "/health" and "/api-docs" in root.json["docs"]
    assert root.json["routes"]["/code-sessions/{session_id}"] == ["GET", "PATCH"]
    assert root.json["routes"]["/executions/{execution_id}/cancel"] == ["POST"]


# --- what the console needs -------------------------------------------------------------------


def test_execution_filters_in_the_query_string(client, worker):
    ok = client.simulate_post("/submit-code", json={"code": "print('fine')"}).json["jobId"]
    bad = client.simulate_post("/submit-code", json={"code": "import sys; sys.exit('boom')"}
                               ).json["jobId"]
    waiting = client.simulate_post("/submit-code", json={"code": "print(1)"}).json["jobId"]
    worker.execute(ok)
    worker.execute(bad)

    def ids(query):
        result = client.simulate_get("/executions", query_string=query)
        assert result.status_code == 200, result.text
        return {e["execution_id"] for e in result.json["executions"]}

    assert ids("status=FAILED&status=COMPLETED") == {ok, bad}
    assert ids("status=!QUEUED&q=boom") == {bad}
    assert ids("q=!boom&language=python") == {ok, waiting}
    assert ids(f"worker={worker.worker_id}") == {ok, bad}
    assert ids("language=!python") == set()
    assert ids("until=2000-01-01T00:00:00.000Z") == set()
    assert_error(client.simulate_get("/executions", query_string="status=DONE"), 422)


def test_stats_and_failures_over_a_window(client, worker):
    for code in ("print(1)", "print(2)", "raise ValueError('x')", "raise ValueError('x')",
                 "import time; time.sleep(5)"):
        job = client.simulate_post("/submit-code", json={"code": code,
                                                         "wall_time_limit": 1}).json["jobId"]
        worker.execute(job)
    stats = client.simulate_get("/stats", params={"window": 60}).json
    assert stats["counts"] == {"COMPLETED": 2, "FAILED": 2, "TIMEOUT": 1}
    assert stats["failed_rate"] == 0.4 and stats["timeout_rate"] == 0.2
    assert stats["run_ms"]["p50"] > 0 and stats["wait_ms"]["p95"] >= stats["wait_ms"]["p50"]
    assert sum(stats["sparkline"]) == 5 and len(stats["sparkline"]) == 30
    failures = client.simulate_get("/failures").json["failures"]
    assert [(f["status"], f["signature"], f["count"]) for f in failures] == [
        ("FAILED", "ValueError: x", 2), ("TIMEOUT", "wall_time_limit", 1)]
    old = client.simulate_get("/stats", params={"until": "2000-01-01T00:00:00.000Z"}).json
    assert old["counts"] == {} and old["runs_per_second"] == 0
    assert_error(client.simulate_get("/stats", params={"window": 0}), 422)


def test_rerun_makes_a_new_linked_execution_of_the_same_code(client, livecode, worker):
    sid = new_session(client, source_code="print(input())")["session_id"]
    first = client.simulate_post(f"/code-sessions/{sid}/run", json={"stdin": "again\n"}).json
    worker.execute(first["execution_id"])
    client.simulate_patch(f"/code-sessions/{sid}", json={"source_code": "print('changed')"})
    rerun = client.simulate_post(f"/executions/{first['execution_id']}/rerun")
    assert rerun.status_code == 202 and rerun.json["rerun_of"] == first["execution_id"]
    done = worker.execute(rerun.json["execution_id"])
    assert done.stdout == "again\n"  # the same code and stdin, not the session's new code
    shown = client.simulate_get(f"/executions/{rerun.json['execution_id']}").json
    assert shown["rerun_of"] == first["execution_id"]
    assert_error(client.simulate_post("/executions/missing/rerun"), 404)



def test_lists_are_summaries_unless_fields_ask_and_pages_have_a_byte_budget(settings_with):
    from livecode.core.service import Livecode

    livecode = Livecode.open(settings_with(LIVECODE_MAX_PAGE_BYTES="6000"))
    try:
        client = falcon.testing.TestClient(create_app(livecode))
        sid = new_session(client, source_code="print('x' * 100)")["session_id"]
        ids = [client.simulate_post(f"/code-sessions/{sid}/run", json={"stdin": "s" * 2000}).json[
            "execution_id"] for _ in range(5)]
        summaries = client.simulate_get("/executions").json
        assert [e["execution_id"] for e in summaries["executions"]] == ids[::-1]
        first = summaries["executions"][0]
        assert not {"source_code", "stdin", "stdout", "stderr"} & set(first)
        assert (first["source_bytes"], first["stdin_bytes"], first["stdout_bytes"]) == (16, 2000, 0)
        page = client.simulate_get("/executions", params={"fields": "stdin,source_code"}).json
        assert 1 <= len(page["executions"]) < 5 and page["next_before"]
        assert page["executions"][0]["stdin"] == "s" * 2000
        assert len(json.dumps(page["executions"])) <= 6000
        seen = [e["execution_id"] for e in page["executions"]]
        while page["next_before"]:
            page = client.simulate_get("/executions", params={
                "fields": "stdin", "before": page["next_before"]}).json
            seen += [e["execution_id"] for e in page["executions"]]
        assert seen == ids[::-1]
    finally:
        livecode.close()


@pytest.mark.parametrize("path,param,value", [
    ("/stats", "until", "garbage"), ("/stats", "window", "abc"), ("/stats", "window", "0"),
    ("/failures", "until", "yesterday"), ("/failures", "window", "1e12"),
    ("/executions", "since", "2026-13-45"),
])
def test_every_bad_query_parameter_is_a_422_naming_it(client, path, param, value):
    result = client.simulate_get(path, params={param: value})
    assert_error(result, 422, "invalid_input", param)
    assert result.json["error"]["field"] == param
