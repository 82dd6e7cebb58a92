"""Following runs live over real HTTP: ``GET /executions/{id}?wait=N``, Server-Sent Events at
``/executions/{id}/events`` and the WebSocket at ``/executions/{id}/io``, each against a real
``livecode serve`` (the in-process channel), on the subprocess and the Docker sandbox, and a
real split deployment (``livecode api`` and a separate ``livecode worker`` over the real Redis,
events through Redis pub/sub, and over RabbitMQ, events through a fanout exchange)."""

import json
import os
import time

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from conftest import IN_CI, REDIS_URL, docker_problem
from test_event_channels import AMQP_URL, reachable
from livecode.client import ApiClient
from livecode.testing import LivecodeProcess, stop_all

pytestmark = pytest.mark.slow

SLOW_PRINTS = ("import sys, time\n"
               "for i in range(4):\n"
               "    print('line', i, flush=True)\n"
               "    print('err', i, file=sys.stderr, flush=True)\n"
               "    time.sleep(0.4)\n")


@pytest.fixture(scope="module", params=["serve", "api+worker over redis",
                                        "api+worker over rabbitmq", "serve on docker"])
def deployment(request, tmp_path_factory):
    """``(url, kind)`` of a running deployment of each kind."""
    root = tmp_path_factory.mktemp("live")
    (root / "runs").mkdir()
    env = {"LIVECODE_DATA_DIR": str(root / "data"), "LIVECODE_WORK_ROOT": str(root / "runs"),
           "LIVECODE_OUTPUT_LIMIT": "65536"}
    started = []
    if request.param.startswith("serve"):
        if request.param == "serve on docker":
            if problem := docker_problem():
                if IN_CI:
                    pytest.fail(f"CI must run the Docker tests, but {problem}")
                pytest.skip(problem)
            env["LIVECODE_SANDBOX"] = "docker"
        started.append(LivecodeProcess(["serve", "--port", "0"], env, root / "serve.log"))
    else:
        broker = REDIS_URL if request.param.endswith("redis") else AMQP_URL
        if not reachable(broker):
            if IN_CI:
                pytest.fail(f"CI must run the broker tests, but {broker} does not answer")
            pytest.skip(f"{broker} is not reachable")
        env.update(LIVECODE_STORE=f"sqlite:///{root}/shared.db", LIVECODE_QUEUE=broker,
                   LIVECODE_QUEUE_NAME=f"live-{os.getpid()}-{time.monotonic_ns()}")
        started.append(LivecodeProcess(["api", "--port", "0", "--processes", "2"], env,
                                       root / "api.log"))
        worker = LivecodeProcess(["worker", "--concurrency", "2"], env, root / "worker.log")
        started.append(worker)
        worker.wait_for("consuming", 60)
    url = started[0].url(timeout=60)
    yield url, request.param
    stop_all(started)


@pytest.fixture
def http(deployment):
    return ApiClient(deployment[0], timeout=60)


def submit(url, code, **body):
    answer = httpx.post(url + "/submit-code", json={"code": code, **body}, timeout=30)
    assert answer.status_code == 202, answer.text
    return answer.json()["jobId"]


def read_events(url, execution_id, headers=None, params=None, stop_after=None):
    """``(events, closed)``: each event as ``(id, name, data)``, in order; ``closed`` when the
    server ended the stream (not we)."""
    events = []
    with httpx.stream("GET", f"{url}/executions/{execution_id}/events", headers=headers,
                      params=params, timeout=60) as answer:
        assert answer.status_code == 200, answer.read()
        assert answer.headers["content-type"].startswith("text/event-stream")
        event = {}
        for line in answer.iter_lines():
            if line.startswith(":"):
                continue
            if line == "":
                if event:
                    events.append((event.get("id"), event.get("event"),
                                   json.loads(event.get("data", "null"))))
                    event = {}
                    if stop_after and stop_after(events):
                        return events, False
                continue
            field, _, value = line.partition(":")
            event[field] = value[1:] if value.startswith(" ") else value
    return events, True


def first_stdout(url, http, execution_id):
    """The events up to the first stdout chunk, and the run's stored status just then."""
    statuses = []

    def stop(events):
        if any(name == "stdout" for _, name, _ in events):
            statuses.append(http.get(f"/executions/{execution_id}")["status"])
            return True
        return False

    events, _ = read_events(url, execution_id, stop_after=stop)
    return events, statuses[0]


def joined(events, stream):
    return "".join(data["data"] for _, name, data in events if name == stream)


# --- wait ----------------------------------------------------------------------------------


def test_wait_answers_when_the_run_ends_not_after_the_whole_wait(deployment, http):
    url, _ = deployment
    execution_id = submit(url, "import time; time.sleep(1); print('done')")
    started = time.monotonic()
    answer = httpx.get(f"{url}/executions/{execution_id}", params={"wait": 25}, timeout=40)
    took = time.monotonic() - started
    assert answer.status_code == 200
    assert answer.json()["status"] == "COMPLETED" and answer.json()["stdout"] == "done\n"
    assert took < 20  # woken by the run's end, long before the 25 s


def test_wait_gives_the_state_as_it_is_when_the_time_is_up(deployment, http):
    url, _ = deployment
    execution_id = submit(url, "import time; time.sleep(4)")
    answer = httpx.get(f"{url}/executions/{execution_id}", params={"wait": 0.5}, timeout=30)
    assert answer.status_code == 200
    assert answer.json()["status"] in ("QUEUED", "RUNNING")
    assert http.wait(execution_id)["status"] == "COMPLETED"


def test_wait_on_an_ended_run_answers_at_once(deployment, http):
    url, _ = deployment
    execution_id = submit(url, "print(1)")
    http.wait(execution_id)
    answer = httpx.get(f"{url}/executions/{execution_id}", params={"wait": 30}, timeout=30)
    assert answer.json()["status"] == "COMPLETED"


@pytest.mark.parametrize("wait", ["0", "-1", "30.5", "abc", ""])
def test_a_wait_out_of_range_is_a_422_naming_it(deployment, wait):
    url, _ = deployment
    answer = httpx.get(f"{url}/executions/nope", params={"wait": wait}, timeout=30)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"] == "wait"


def test_wait_on_an_unknown_run_is_a_404(deployment):
    url, _ = deployment
    answer = httpx.get(f"{url}/executions/nope", params={"wait": 1}, timeout=30)
    assert answer.status_code == 404 and answer.json()["error"]["code"] == "not_found"


# --- Server-Sent Events --------------------------------------------------------------------


def test_events_stream_output_while_the_run_runs_then_the_result(deployment, http):
    url, _ = deployment
    execution_id = submit(url, SLOW_PRINTS)
    early, status = first_stdout(url, http, execution_id)
    assert status == "RUNNING"  # the program still prints: the chunk came live
    events, closed = read_events(url, execution_id)
    assert closed
    names = [name for _, name, _ in events]
    assert names[-1] == "result" and names[-2] == "state"
    assert events[-2][2]["status"] == "COMPLETED"
    result = events[-1][2]
    assert result == http.get(f"/executions/{execution_id}")
    assert joined(events, "stdout") == result["stdout"] == "".join(
        f"line {i}\n" for i in range(4))
    assert joined(events, "stderr") == result["stderr"]
    ids = [event_id for event_id, _, _ in events]
    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids, key=lambda i: tuple(map(int, i.split("."))))


def test_a_stream_that_joins_mid_run_gets_the_earlier_output_at_once(deployment, http):
    url, _ = deployment
    execution_id = submit(url, SLOW_PRINTS)
    read_events(url, execution_id, stop_after=lambda events: any(
        name == "stdout" for _, name, _ in events))  # the run has printed
    joined_late, status = first_stdout(url, http, execution_id)
    assert status == "RUNNING"  # replayed by the worker, not read from the result
    assert joined(joined_late, "stdout").startswith("line 0\n")


def test_live_chunks_carry_their_byte_offsets_in_order(deployment, http):
    url, _ = deployment
    code = ("import time\n"
            "for word in ['é' * 3, 'ünï', '€uro', '\\U0001F600']:\n"
            "    print(word, flush=True); time.sleep(0.2)\n")
    events, closed = read_events(url, submit(url, code))
    assert closed
    offset = 0
    for _, name, data in events:
        if name == "stdout":
            assert data["offset"] == offset
            offset += len(data["data"].encode())
    assert joined(events, "stdout") == events[-1][2]["stdout"]


def test_last_event_id_resumes_after_that_event_and_nothing_is_lost(deployment, http):
    url, _ = deployment
    execution_id = submit(url, SLOW_PRINTS)
    first, _ = read_events(url, execution_id, stop_after=lambda events: sum(
        name == "stdout" for _, name, _ in events) >= 1)
    rest, closed = read_events(url, execution_id, headers={"Last-Event-ID": first[-1][0]})
    assert closed and rest[-1][1] == "result"
    assert all(event not in rest for event in first)
    stored = rest[-1][2]
    assert joined(first, "stdout") + joined(rest, "stdout") == stored["stdout"]
    assert joined(first, "stderr") + joined(rest, "stderr") == stored["stderr"]


def test_resuming_an_ended_run_sends_what_was_missed_from_the_stored_result(deployment, http):
    url, _ = deployment
    execution_id = submit(url, "print('a' * 10); print('b' * 10)")
    stored = http.wait(execution_id)
    events, closed = read_events(url, execution_id, params={"last_event_id": "2.11.0"})
    assert closed
    assert [name for _, name, _ in events] == ["stdout", "state", "result"]
    assert events[0][2] == {"data": "b" * 10 + "\n", "offset": 11}
    assert events[-1][2] == stored
    done, closed = read_events(url, execution_id, headers={"Last-Event-ID": events[-1][0]})
    assert done == [] and closed


def test_the_stream_of_a_run_not_ended_starts_with_its_state(deployment, http):
    url, _ = deployment
    events, closed = read_events(url, submit(url, "import time; time.sleep(1); print('hi')"))
    assert closed and events[0][1] == "state"
    assert events[0][2]["status"] in ("QUEUED", "RUNNING")
    assert events[-1][2]["stdout"] == "hi\n"


def test_output_past_the_limit_streams_only_up_to_the_limit(deployment, http):
    url, _ = deployment
    events, _ = read_events(url, submit(url, "import sys\nfor i in range(2000):\n"
                                             "    sys.stdout.write('x' * 100 + '\\n')"))
    result = events[-1][2]
    assert result["reason"] == "output_limit"
    assert len(joined(events, "stdout").encode()) == len(result["stdout"].encode()) <= 65536


@pytest.mark.parametrize("bad", ["x", "1.2", "9.0.0", "2.-1.0", "2.0.0.0"])
def test_a_malformed_last_event_id_is_a_422(deployment, bad):
    url, _ = deployment
    answer = httpx.get(f"{url}/executions/nope/events", headers={"Last-Event-ID": bad},
                       timeout=30)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"] == "last_event_id"


def test_events_of_an_unknown_run_are_a_json_404(deployment):
    url, _ = deployment
    answer = httpx.get(f"{url}/executions/nope/events", timeout=30)
    assert answer.status_code == 404 and answer.json()["error"]["code"] == "not_found"


# --- WebSocket -----------------------------------------------------------------------------


def ws_url(url, execution_id):
    return url.replace("http://", "ws://") + f"/executions/{execution_id}/io"


def frames_until_closed(ws, timeout=30):
    frames = []
    try:
        while True:
            frames.append(json.loads(ws.recv(timeout=timeout)))
    except ConnectionClosed as closed:
        return frames, closed.rcvd.code if closed.rcvd else None


def test_an_interactive_run_answers_input_prompts_over_the_socket(deployment, http):
    url, _ = deployment
    code = ("name = input('name? ')\nprint('hello', name, flush=True)\n"
            "age = input('age? ')\nprint('in ten years', int(age) + 10)\n")
    execution_id = submit(url, code, interactive=True)
    with connect(ws_url(url, execution_id)) as ws:
        seen = ""
        while "name? " not in seen:  # the prompt came live: the program waits for us
            frame = json.loads(ws.recv(timeout=30))
            seen += frame.get("data", "") if frame["type"] == "stdout" else ""
        ws.send(json.dumps({"stdin": "Ada\n"}))
        while "age? " not in seen:
            frame = json.loads(ws.recv(timeout=30))
            seen += frame.get("data", "") if frame["type"] == "stdout" else ""
        assert "hello Ada" in seen
        ws.send(json.dumps({"stdin": "36\n"}))
        frames, code = frames_until_closed(ws)
    assert code == 1000
    result = frames[-1]
    assert result["type"] == "result" and result["execution"]["status"] == "COMPLETED"
    assert result["execution"]["stdout"] == "name? hello Ada\nage? in ten years 46\n"


def test_stdin_sent_before_the_run_starts_is_kept_for_it(deployment, http):
    url, _ = deployment
    execution_id = submit(url, "print(input()[::-1])", interactive=True)
    with connect(ws_url(url, execution_id)) as ws:
        ws.send(json.dumps({"stdin": "stressed\n"}))
        frames, code = frames_until_closed(ws)
    assert frames[-1]["execution"]["stdout"] == "desserts\n" and code == 1000


def test_eof_closes_the_program_s_stdin(deployment, http):
    url, _ = deployment
    execution_id = submit(url, "import sys; print(len(sys.stdin.read()))", interactive=True,
                          stdin="ab")
    with connect(ws_url(url, execution_id)) as ws:
        ws.send(json.dumps({"stdin": "cde"}))
        ws.send(json.dumps({"eof": True}))
        frames, _ = frames_until_closed(ws)
    assert frames[-1]["execution"]["stdout"] == "5\n"  # the run's stdin, then the socket's


def test_closing_the_socket_ends_the_run_s_stdin(deployment, http):
    url, _ = deployment
    execution_id = submit(url, "import sys; data = sys.stdin.read(); print('got', data)",
                          interactive=True, wall_time_limit=20)
    with connect(ws_url(url, execution_id)) as ws:
        ws.send(json.dumps({"stdin": "bye"}))
        time.sleep(0.5)
    started = time.monotonic()
    done = http.wait(execution_id, timeout=30)
    assert done["status"] == "COMPLETED" and done["stdout"] == "got bye\n"
    assert time.monotonic() - started < 15  # not the wall time limit


def test_an_interactive_run_that_waits_for_input_still_times_out(deployment, http):
    url, _ = deployment
    execution_id = submit(url, "input()", interactive=True, wall_time_limit=1)
    with connect(ws_url(url, execution_id)) as ws:
        frames, code = frames_until_closed(ws)
    assert frames[-1]["execution"]["status"] == "TIMEOUT"
    assert frames[-1]["execution"]["reason"] == "wall_time_limit"


def test_the_socket_refuses_bad_frames_and_stdin_past_the_limit(deployment, http):
    url, _ = deployment
    execution_id = submit(url, "import sys; print(len(sys.stdin.read()))", interactive=True)
    with connect(ws_url(url, execution_id)) as ws:
        ws.send("not json")
        ws.send(json.dumps({"stdin": 3}))
        ws.send(json.dumps({"stdin": "y" * (64 * 1024 + 1)}))
        frames, code = frames_until_closed(ws)
    errors = [f["code"] for f in frames if f["type"] == "error"]
    assert errors == ["invalid_input", "invalid_input", "payload_too_large"]
    assert frames[-1]["execution"]["stdout"] == "0\n"  # over the limit: closed, nothing sent
    assert code == 1000


def test_stdin_to_a_run_that_is_not_interactive_is_refused(deployment, http):
    url, _ = deployment
    execution_id = submit(url, "import time; time.sleep(0.5); print(input())", stdin="given\n")
    with connect(ws_url(url, execution_id)) as ws:
        ws.send(json.dumps({"stdin": "more\n"}))
        frames, _ = frames_until_closed(ws)
    assert any(f["type"] == "error" and f["code"] == "conflict" for f in frames)
    assert frames[-1]["execution"]["stdout"] == "given\n"


def test_a_socket_to_an_unknown_run_is_closed_with_3404(deployment):
    url, _ = deployment
    with connect(ws_url(url, "nope")) as ws, pytest.raises(ConnectionClosed) as refused:
        ws.recv(timeout=10)
    assert refused.value.rcvd.code == 3404 and "nope" in refused.value.rcvd.reason


def test_a_plain_get_on_the_socket_path_is_a_426(deployment, http):
    url, _ = deployment
    execution_id = submit(url, "print(1)")
    answer = httpx.get(ws_url(url, execution_id).replace("ws://", "http://"), timeout=30)
    assert answer.status_code == 426 and answer.json()["error"]["code"] == "upgrade_required"


def test_interactive_with_tests_is_refused(deployment):
    url, _ = deployment
    answer = httpx.post(url + "/submit-code", json={"code": "print(1)", "interactive": True,
                                                    "tests": [{"stdin": ""}]}, timeout=30)
    assert answer.status_code == 422 and answer.json()["error"]["field"] == "interactive"


# --- keys ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def keyed(serve_for_module):
    """A ``serve`` with keys: ``(url, key of client A, key of client B)``."""
    _, url, create_key = serve_for_module()
    return url, create_key("client"), create_key("client")


def test_following_needs_a_key_and_finds_only_the_key_s_own_runs(keyed):
    url, mine, theirs = keyed
    execution_id = httpx.post(url + "/submit-code", json={"code": "print(1)"}, timeout=30,
                              headers={"Authorization": f"Bearer {mine}"}).json()["jobId"]
    for path, params in ((f"/executions/{execution_id}/events", None),
                         (f"/executions/{execution_id}", {"wait": 5})):
        anonymous = httpx.get(url + path, params=params, timeout=30)
        assert anonymous.status_code == 401 and "Bearer" in anonymous.headers[
            "WWW-Authenticate"]
        other = httpx.get(url + path, params=params, timeout=30,
                          headers={"Authorization": f"Bearer {theirs}"})
        assert other.status_code == 404 and other.json()["error"]["code"] == "not_found"
    events, closed = read_events(url, execution_id,
                                 headers={"Authorization": f"Bearer {mine}"})
    assert closed and events[-1][2]["stdout"] == "1\n"


def test_the_socket_takes_the_key_as_access_token_and_refuses_others(keyed):
    url, mine, theirs = keyed
    execution_id = httpx.post(url + "/submit-code", timeout=30,
                              json={"code": "print(input())", "interactive": True},
                              headers={"Authorization": f"Bearer {mine}"}).json()["jobId"]
    for key, code in ((None, 3401), (theirs, 3404), ("lck_bad", 3401)):
        suffix = f"?access_token={key}" if key else ""
        with connect(ws_url(url, execution_id) + suffix) as ws, \
                pytest.raises(ConnectionClosed) as refused:
            ws.recv(timeout=10)
        assert refused.value.rcvd.code == code
    with connect(ws_url(url, execution_id) + f"?access_token={mine}") as ws:
        ws.send(json.dumps({"stdin": "by token\n"}))
        frames, _ = frames_until_closed(ws)
    assert frames[-1]["execution"]["stdout"] == "by token\n"
    with connect(ws_url(url, execution_id),
                 additional_headers={"Authorization": f"Bearer {mine}"}) as ws:
        frames, _ = frames_until_closed(ws)  # the run has ended: its result, then the close
    assert frames[-1]["type"] == "result"


def test_stopping_the_api_ends_its_open_streams_instead_of_waiting_for_them(start_livecode,
                                                                             tmp_path):
    if not reachable(REDIS_URL):
        pytest.skip(f"{REDIS_URL} is not reachable")
    env = {"LIVECODE_STORE": f"sqlite:///{tmp_path}/shared.db", "LIVECODE_QUEUE": REDIS_URL,
           "LIVECODE_QUEUE_NAME": f"stop-{os.getpid()}-{time.monotonic_ns()}"}
    api = start_livecode("api", "--port", "0", "--processes", "1", **env)
    url = api.url(timeout=60)
    execution_id = submit(url, "print(1)")  # no worker: it stays QUEUED, its stream open
    with httpx.stream("GET", f"{url}/executions/{execution_id}/events", timeout=60) as stream:
        lines = stream.iter_lines()
        assert next(lines) == "event: state"
        started = time.monotonic()
        assert api.stop(timeout=60) == 0
        assert time.monotonic() - started < 15  # not the graceful timeout: streams were ended
