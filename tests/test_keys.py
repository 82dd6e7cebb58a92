"""API keys, scopes, owners and quotas through falcon.testing, on a real SQLite store and the
real quota counters in it. Over real HTTP: tests/test_api_http.py."""

import time

import falcon
import falcon.testing
import pytest

from livecode.api.app import create_app
from livecode.api import keys
from livecode.core.errors import NotFound
from livecode.core.service import Livecode

from test_api import assert_error, snapshot


@pytest.fixture
def app(livecode):
    return falcon.testing.TestClient(create_app(livecode))


def key(livecode, scope="client", **quotas):
    return {"Authorization": f"Bearer {keys.issue(livecode.store, scope, scope, quotas)[1]}"}


def run_of(app, auth, source="print(1)"):
    session = app.simulate_post("/code-sessions", json={"source_code": source}, headers=auth)
    assert session.status_code == 201, session.text
    sid = session.json["session_id"]
    run = app.simulate_post(f"/code-sessions/{sid}/run", headers=auth)
    assert run.status_code == 202, run.text
    return sid, run.json["execution_id"]


def test_two_client_keys_cannot_see_or_touch_each_others_sessions_and_runs(app, livecode):
    alice, bob = key(livecode), key(livecode)
    sid, eid = run_of(app, alice)
    jid = app.simulate_post("/submit-code", json={"code": "1"}, headers=alice).json["jobId"]
    before = snapshot(livecode)
    for method, path, body in [
        ("GET", f"/code-sessions/{sid}", None),
        ("PATCH", f"/code-sessions/{sid}", {"source_code": "stolen"}),
        ("POST", f"/code-sessions/{sid}/run", None),
        ("POST", f"/sessions/{sid}/run", None),
        ("GET", f"/code-sessions/{sid}/executions", None),
        ("GET", f"/executions/{eid}", None),
        ("POST", f"/executions/{eid}/cancel", None),
        ("POST", f"/executions/{eid}/rerun", None),
        ("GET", f"/exec-result?jobId={jid}", None),
        ("GET", f"/executions?before={eid}", None),
    ]:
        path, _, query = path.partition("?")
        result = app.simulate_request(method, path, query_string=query, json=body, headers=bob)
        assert_error(result, 404, "not_found")
    assert snapshot(livecode) == before
    assert livecode.get_session(sid).source_code == "print(1)"
    assert app.simulate_get("/executions", headers=bob).json["executions"] == []
    assert app.simulate_get("/executions", params={"session_id": sid},
                            headers=bob).json["executions"] == []
    mine = app.simulate_get("/executions", headers=alice).json["executions"]
    assert {e["execution_id"] for e in mine} == {eid, jid}
    assert app.simulate_get(f"/executions/{eid}", headers=alice).json["owner"] != ""
    assert app.simulate_post(f"/executions/{eid}/cancel", headers=alice).status_code == 200


def test_operators_see_everything_and_may_cancel_and_rerun_anyones_runs(app, livecode):
    alice, operator = key(livecode), key(livecode, "operator")
    sid, eid = run_of(app, alice)
    _, other = run_of(app, key(livecode))
    listed = app.simulate_get("/executions", headers=operator).json["executions"]
    assert {e["execution_id"] for e in listed} == {eid, other}
    assert app.simulate_get(f"/code-sessions/{sid}", headers=operator).status_code == 200
    assert app.simulate_post(f"/executions/{eid}/cancel", headers=operator).json[
        "status"] == "CANCELLED"
    rerun = app.simulate_post(f"/executions/{eid}/rerun", headers=operator)
    assert rerun.status_code == 202
    # The re-run belongs to the session's owner, who sees it.
    assert app.simulate_get(f"/executions/{rerun.json['execution_id']}",
                            headers=alice).status_code == 200


@pytest.mark.parametrize("path", ["/workers", "/queues", "/stats", "/failures"])
def test_operator_views_need_operator_scope(app, livecode, path):
    assert_error(app.simulate_get(path, headers=key(livecode)), 403, "forbidden")
    assert app.simulate_get(path, headers=key(livecode, "operator")).status_code == 200
    assert app.simulate_get(path, headers=key(livecode, "admin")).status_code == 200


def test_admins_manage_keys_over_the_api(app, livecode):
    admin = key(livecode, "admin")
    for scope in ("client", "operator"):
        assert_error(app.simulate_get("/keys", headers=key(livecode, scope)), 403)
        assert_error(app.simulate_post("/keys", json={"name": "x"}, headers=key(livecode, scope)),
                     403)
    made = app.simulate_post("/keys", json={"name": "ci", "scope": "client",
                                            "quotas": {"active_runs": 2}}, headers=admin)
    assert made.status_code == 201 and made.json["key"].startswith("lck_")
    assert "key_hash" not in made.json and made.json["quotas"] == {"active_runs": 2}
    new = {"Authorization": f"Bearer {made.json['key']}"}
    assert app.simulate_get("/executions", headers=new).status_code == 200
    listed = app.simulate_get("/keys", headers=admin).json["keys"]
    assert made.json["key_id"] in {k["key_id"] for k in listed}
    assert all("key_hash" not in k and "key" not in k for k in listed)
    assert_error(app.simulate_post("/keys", json={"name": "x", "scope": "root"}, headers=admin),
                 422, fragment="unknown scope")
    assert_error(app.simulate_post("/keys", json={"name": "x", "quotas": {"runs": 1}},
                                   headers=admin), 422, fragment="unknown quota")
    revoked = app.simulate_delete(f"/keys/{made.json['key_id']}", headers=admin)
    assert revoked.status_code == 200 and revoked.json["revoked_at"]
    assert_error(app.simulate_get("/executions", headers=new), 401)
    assert_error(app.simulate_delete("/keys/0123456789abcdef", headers=admin), 404)


def test_without_keys_on_loopback_every_request_is_the_local_admin(app, livecode):
    sid, eid = run_of(app, {})
    assert app.simulate_get("/stats").status_code == 200
    assert app.simulate_get("/keys").json == {"keys": []}
    keys.issue(livecode.store, "first", "client")
    time.sleep(1.1)  # the "no keys yet" answer is trusted for a second
    result = app.simulate_get(f"/executions/{eid}")
    assert_error(result, 401, "unauthorized")
    assert result.headers["www-authenticate"] == 'Bearer realm="livecode"'
    assert app.simulate_get("/health").status_code == 200  # load balancers need no key
    assert app.simulate_options("/executions").status_code == 200  # CORS preflight


@pytest.mark.parametrize("header", [
    "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "bearer lck_nothex_x", "Token abc",
    "Bearer lck_0123456789abcdef_wrong", "Bearer " + "x" * 5000,
])
def test_malformed_or_wrong_authorization_is_401_with_a_challenge(app, livecode, header):
    keys.issue(livecode.store, "someone", "client")
    result = app.simulate_get("/executions", headers={"Authorization": header})
    assert_error(result, 401, "unauthorized")
    assert result.headers["www-authenticate"].startswith('Bearer realm="livecode"')


def test_a_subclass_of_a_known_error_keeps_its_status(livecode):
    class GoneSession(NotFound):
        pass

    app = create_app(livecode)

    class Boom:
        def on_get(self, req, resp):
            raise GoneSession("gone")

    app.add_route("/boom", Boom())
    assert_error(falcon.testing.TestClient(app).simulate_get("/boom"), 404, "not_found")


def test_rerun_checks_the_limits_against_todays_caps(settings_with, tmp_path):
    from conftest import make_settings

    generous = Livecode.open(make_settings(tmp_path, LIVECODE_CAP_WALL_TIME_LIMIT="60"))
    try:
        app = falcon.testing.TestClient(create_app(generous))
        sid = app.simulate_post("/code-sessions", json={}).json["session_id"]
        eid = app.simulate_post(f"/code-sessions/{sid}/run",
                                json={"wall_time_limit": 50}).json["execution_id"]
    finally:
        generous.close()
    strict = Livecode.open(make_settings(tmp_path, LIVECODE_CAP_WALL_TIME_LIMIT="30"))
    try:
        app = falcon.testing.TestClient(create_app(strict))
        before = snapshot(strict)
        assert_error(app.simulate_post(f"/executions/{eid}/rerun"), 422,
                     fragment="wall_time_limit is 50")
        assert snapshot(strict) == before
    finally:
        strict.close()


# --- quotas -------------------------------------------------------------------------------


def test_writes_per_second_quota_is_a_429_with_retry_after(app, livecode):
    auth = key(livecode, writes_per_second=3)
    codes = [app.simulate_post("/code-sessions", json={}, headers=auth).status_code
             for _ in range(4)]
    assert codes[:3] == [201, 201, 201] and codes[3] == 429
    result = app.simulate_post("/code-sessions", json={}, headers=auth)
    assert_error(result, 429, "quota_exceeded", "writes_per_second")
    assert result.json["error"]["quota"] == "writes_per_second"
    assert 1 <= int(result.headers["retry-after"]) <= 1
    assert app.simulate_get("/executions", headers=auth).status_code == 200  # reads are free
    assert app.simulate_post("/code-sessions", json={},
                             headers=key(livecode, writes_per_second=3)).status_code == 201


def test_runs_per_minute_quota(app, livecode):
    auth = key(livecode, runs_per_minute=2, active_runs=0)
    sid = app.simulate_post("/code-sessions", json={}, headers=auth).json["session_id"]
    for _ in range(2):
        assert app.simulate_post(f"/code-sessions/{sid}/run", headers=auth).status_code == 202
    before = snapshot(livecode)
    for path in (f"/code-sessions/{sid}/run", "/submit-code"):
        result = app.simulate_post(path, json={"code": "1"} if "submit" in path else None,
                                   headers=auth)
        assert_error(result, 429, "quota_exceeded", "runs_per_minute")
        assert 1 <= int(result.headers["retry-after"]) <= 60
    assert snapshot(livecode) == before  # nothing stored, nothing queued


def test_active_runs_quota_counts_queued_and_running(app, livecode):
    auth = key(livecode, active_runs=2)
    sid, first = run_of(app, auth)
    _, second = run_of(app, auth)
    before = snapshot(livecode)
    result = app.simulate_post(f"/code-sessions/{sid}/run", headers=auth)
    assert_error(result, 429, "quota_exceeded", "active_runs")
    assert result.headers["retry-after"] == "1"
    assert_error(app.simulate_post(f"/executions/{first}/rerun", headers=auth), 429)
    assert snapshot(livecode) == before
    app.simulate_post(f"/executions/{first}/cancel", headers=auth)
    assert app.simulate_post(f"/code-sessions/{sid}/run", headers=auth).status_code == 202


def test_a_judge0_batch_takes_a_slot_per_submission_and_a_refusal_holds_none(app, livecode):
    auth = key(livecode, active_runs=3, runs_per_minute=0)
    item = {"source_code": "print(1)", "language_id": 71}
    before = snapshot(livecode)
    refused = app.simulate_post("/judge0/submissions/batch", json={"submissions": [item] * 4},
                                headers=auth)
    assert_error(refused, 429, "quota_exceeded", "active_runs")
    assert snapshot(livecode) == before
    made = app.simulate_post("/judge0/submissions/batch", json={"submissions": [item] * 3},
                             headers=auth)
    assert made.status_code == 201, made.text  # the refused batch's reservation was released
    assert_error(app.simulate_post("/submit-code", json={"code": "1"}, headers=auth), 429)


def test_default_quotas_come_from_settings(settings_with):
    livecode = Livecode.open(settings_with(LIVECODE_QUOTA_ACTIVE_RUNS="1"))
    try:
        app = falcon.testing.TestClient(create_app(livecode))
        auth = key(livecode)
        sid, _ = run_of(app, auth)
        assert_error(app.simulate_post(f"/code-sessions/{sid}/run", headers=auth), 429)
    finally:
        livecode.close()
