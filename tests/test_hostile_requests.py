"""What an attacker sends to a real ``livecode serve`` that the per-route tests do not: query
values that parse but name nothing (a NaN window, a window reaching before year 1). Each is
the documented 422, never a 500; bodies no store can hold (a lone UTF-16 surrogate, a revision
past 64 bits) and Judge0 batches refused for a later item, which must make nothing at all."""

import json
import urllib.error
import urllib.request

import pytest

from livecode.client import ApiClient


@pytest.fixture(scope="module")
def http(serve_for_module):
    _, url, _ = serve_for_module()
    return ApiClient(url, timeout=30)


@pytest.mark.parametrize("path", ["/stats", "/failures"])
@pytest.mark.parametrize("value", ["nan", "NaN", "-nan"])
def test_a_window_that_is_not_a_number_is_a_422(http, path, value):
    status, body = http.call("GET", path, params={"window": value})
    assert status == 422, body
    assert body["error"]["code"] == "invalid_input" and body["error"]["field"] == "window"


@pytest.mark.parametrize("path", ["/stats", "/failures"])
def test_a_window_that_starts_before_year_one_is_a_422(http, path):
    status, body = http.call("GET", path, params={"until": "0001-01-01T00:00:00Z"})
    assert status == 422, body
    assert body["error"]["code"] == "invalid_input" and body["error"]["field"] == "until"


@pytest.mark.parametrize("path", ["/stats", "/failures"])
def test_the_earliest_window_that_fits_still_answers(http, path):
    status, body = http.call("GET", path, params={"until": "0001-01-01T00:05:00Z",
                                                  "window": "300"})
    assert status == 200, body


def stored_runs(http) -> int:
    status, page = http.call("GET", "/executions", params={"limit": "200"})
    assert status == 200, page
    return len(page["executions"])


def raw_post(http, path: str, body: bytes):
    """A body as bytes: json.dumps would never write a lone surrogate escape."""
    request = urllib.request.Request(http.url + path, body, method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


@pytest.mark.parametrize("path, body", [
    ("/code-sessions", b'{"source_code": "print(1) # \\ud800"}'),
    ("/submit-code", b'{"code": "\\udfff"}'),
    ("/submit-code", b'{"code": "print(1)", "stdin": "\\ud800"}'),
    ("/judge0/submissions", b'{"source_code": "\\ud800", "language_id": 71}'),
    ("/judge0/submissions/batch",
     b'{"submissions": [{"source_code": "print(1)", "language_id": 71, "stdin": "\\ud800"}]}'),
])
def test_a_lone_surrogate_is_a_422_naming_its_field_and_stores_nothing(http, path, body):
    before = stored_runs(http)
    status, answer = raw_post(http, path, body)
    assert status == 422, answer
    assert answer["error"]["code"] == "invalid_input" and answer["error"]["field"], answer
    assert stored_runs(http) == before


def test_a_lone_surrogate_in_a_session_run_s_stdin_is_a_422(http):
    status, session = http.call("POST", "/code-sessions", {"source_code": "print(1)"})
    before = stored_runs(http)
    status, answer = raw_post(http, f"/code-sessions/{session['session_id']}/run",
                              b'{"stdin": "\\ud800"}')
    assert (status, answer["error"]["field"]) == (422, "stdin"), answer
    assert stored_runs(http) == before


def test_a_revision_no_store_can_hold_is_a_422(http):
    status, session = http.call("POST", "/code-sessions", {"source_code": "print(1)"})
    status, answer = http.call("PATCH", f"/code-sessions/{session['session_id']}",
                               {"source_code": "x", "revision": 2 ** 63})
    assert (status, answer["error"]["field"]) == (422, "revision"), answer
    status, now = http.call("GET", f"/code-sessions/{session['session_id']}")
    assert now["source_code"] == "print(1)" and now["revision"] == 1


OK = {"source_code": "print(1)", "language_id": 71}


@pytest.mark.parametrize("second, expected", [
    ({**OK, "source_code": "#" * 70000}, (413, "source_code")),
    ({**OK, "stdin": "y" * 70000}, (413, "stdin")),
    ({**OK, "wall_time_limit": 1000}, (422, "wall_time_limit")),
    ({**OK, "memory_limit": 10 ** 12}, (422, "memory_limit")),
])
def test_a_judge0_batch_refused_for_a_later_item_runs_none_of_them(http, second, expected):
    before = stored_runs(http)
    status, answer = http.call("POST", "/judge0/submissions/batch",
                               {"submissions": [OK, second]})
    assert (status, answer["error"]["field"]) == expected, answer
    assert answer["error"]["message"].startswith("submissions[1]: "), answer
    assert stored_runs(http) == before


@pytest.mark.parametrize("store", ["sqlite", "mongodb"])
def test_a_quota_past_64_bits_is_a_422_on_every_store(serve, request, store):
    env = {"LIVECODE_STORE": request.getfixturevalue("mongo_url")} if store == "mongodb" else {}
    _, http = serve(**env)
    status, answer = http.call("POST", "/keys", {"name": "huge",
                                                 "quotas": {"runs_per_minute": 2 ** 63}})
    assert (status, answer["error"]["field"]) == (422, "quotas"), answer
    status, listed = http.call("GET", "/keys")
    assert status == 200 and listed["keys"] == [], listed


@pytest.fixture
def postgres_http(serve, postgres_url):
    _, http = serve(LIVECODE_STORE=postgres_url)
    return http


NUL_PATHS = [("GET", "/executions/a%00b"), ("GET", "/code-sessions/a%00b"),
             ("GET", "/judge0/submissions/a%00b"), ("DELETE", "/keys/a%00b"),
             ("GET", "/code-sessions/a%00b/executions"), ("POST", "/executions/a%00b/rerun"),
             ("POST", "/executions/a%00b/cancel"), ("PATCH", "/code-sessions/a%00b"),
             ("POST", "/code-sessions/a%00b/run")]
NUL_QUERIES = [("/exec-result", "jobId"), ("/judge0/submissions/batch", "tokens"),
               ("/executions", "session_id"), ("/executions", "worker"),
               ("/executions", "before"), ("/executions", "language")]


def test_a_nul_in_an_id_or_a_query_value_is_refused_on_postgresql_too(postgres_http):
    """PostgreSQL's text holds no NUL: these were 500s there (and misses elsewhere)."""
    for method, path in NUL_PATHS:
        status, answer = postgres_http.call(method, path,
                                            {} if method in ("POST", "PATCH") else None)
        assert (status, answer["error"]["code"]) == (404, "not_found"), (path, answer)
    for path, param in NUL_QUERIES:
        status, answer = postgres_http.call("GET", path, params={param: "a\x00b"})
        assert (status, answer["error"].get("field")) == (422, param), (path, answer)


def test_a_search_for_a_nul_still_finds_the_output_that_holds_one(postgres_http):
    status, job = postgres_http.call("POST", "/submit-code",
                                     {"code": "print('x\\0y-nul-marker')"})
    postgres_http.wait(job["jobId"], timeout=60)
    status, page = postgres_http.call("GET", "/executions", params={"q": "x\x00y-nul-marker"})
    assert status == 200 and [run["execution_id"] for run in page["executions"]] == [
        job["jobId"]], page


@pytest.mark.parametrize("q", ["." * 300, "b" * 5000])
def test_a_search_too_long_for_a_store_s_pattern_is_a_422_on_mongodb(serve, mongo_url, q):
    _, http = serve(LIVECODE_STORE=mongo_url)
    status, answer = http.call("GET", "/executions", params={"q": q})
    assert (status, answer["error"]["field"]) == (422, "q"), answer
    status, page = http.call("GET", "/executions", params={"q": "." * 256})
    assert status == 200, page
