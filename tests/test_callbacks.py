"""Callbacks: real HTTP receivers on 127.0.0.1 (the operator allows 127.0.0.0/8 in these
servers), real ``livecode serve`` processes, signatures checked as a receiver would, retries,
a worker killed mid-retry; and the SSRF policy that refuses the deployment's own networks."""

import base64
import ipaddress
import json
import os
import signal
import socket
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import falcon.testing
import pytest

from livecode.api.app import create_app
from livecode.api import keys
from livecode.plugins.callbacks import signing, targets
from livecode.plugins.callbacks.delivery import send
from livecode.testing import LivecodeProcess

from test_api import assert_error, snapshot

ALLOW_LOOPBACK = {"LIVECODE_CALLBACK_ALLOW_NETWORKS": "127.0.0.0/8",
                  "LIVECODE_CALLBACK_BACKOFF": "0.3", "LIVECODE_CALLBACK_SWEEP": "1"}


class Receiver:
    """An HTTP server on 127.0.0.1 that records every request; the first ``fail`` answers are
    500 (or ``answer``)."""

    def __init__(self, fail: int = 0, answer: int = 500, location: str | None = None):
        self.requests, self.fail, self.answer, self.location = [], fail, answer, location
        self.arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.arrived:
                    receiver.requests.append((self.command, self.path, dict(self.headers), body))
                    failing = len(receiver.requests) <= receiver.fail
                    receiver.arrived.notify_all()
                self.send_response(receiver.answer if failing else 200)
                if failing and receiver.location:
                    self.send_header("Location", receiver.location)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            do_PUT = do_POST

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook?run=1"

    def wait(self, count: int, timeout: float = 30.0) -> list:
        with self.arrived:
            assert self.arrived.wait_for(lambda: len(self.requests) >= count, timeout), \
                f"{len(self.requests)} of {count} callbacks arrived"
            return list(self.requests)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made = []

    def make(**options):
        made.append(Receiver(**options))
        return made[-1]

    yield make
    for r in made:
        r.close()


def call(url, method="GET", body=None, key=None):
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def wait_callback_state(url, execution_id, key, state, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _, run = call(f"{url}/executions/{execution_id}", key=key)
        if (run.get("callback") or {}).get("state") == state:
            return run
        time.sleep(0.1)
    raise AssertionError(f"callback of {execution_id} never {state}: {run.get('callback')}")


@pytest.fixture(scope="module")
def server(serve_for_module):
    """One serve that allows callbacks to 127.0.0.0/8, and a client key of it."""
    _, url, create_key = serve_for_module(**ALLOW_LOOPBACK)
    return url, create_key()


# --- delivery, signatures, retries (real serve, real receivers) -------------------------------


def test_a_run_calls_its_callback_once_with_its_json_signed_with_the_keys_secret(
        server, receiver):
    url, key = server
    hook = receiver()
    status, job = call(f"{url}/submit-code", "POST",
                       {"code": "print(6*7)", "callback_url": hook.url}, key)
    assert status == 202, job
    method, path, headers, body = hook.wait(1)[0]
    assert (method, path) == ("POST", "/hook?run=1")
    sent = json.loads(body)
    assert sent["execution_id"] == job["jobId"] and sent["status"] == "COMPLETED"
    assert sent["stdout"] == "42\n"
    secret = signing.secret_of_key(key)
    assert call(f"{url}/callbacks/signing-secret", key=key)[1]["signing_secret"] == secret
    assert signing.verify(secret, body, headers["Livecode-Signature"])
    assert headers["Livecode-Delivery"] == job["jobId"] and headers["Livecode-Attempt"] == "1"
    run = wait_callback_state(url, job["jobId"], key, "delivered")
    assert run["callback"]["attempts"] == 1 and run["callback"]["last_status"] == 200
    time.sleep(1.5)  # a sweep or two later: still once
    assert len(hook.requests) == 1


def test_signatures_fail_for_another_secret_a_changed_body_or_an_old_timestamp():
    secret = signing.secret_of_key("lck_0123456789abcdef_secret")
    body = b'{"status": "COMPLETED"}'
    header = signing.signature(secret, body)
    assert signing.verify(secret, body, header)
    assert not signing.verify(secret, body + b" ", header)
    assert not signing.verify(signing.secret_of_key("lck_0123456789abcdef_other"), body, header)
    old = signing.signature(secret, body, timestamp=int(time.time()) - 3600)
    assert not signing.verify(secret, body, old)
    assert not signing.verify(secret, body, "t=abc,v1=00")
    record, key = keys.new("k", "client")
    assert keys.signing_secret(record) == signing.secret_of_key(key)


def test_a_receiver_that_fails_twice_gets_the_third_attempt_after_backing_off(server, receiver):
    url, key = server
    hook = receiver(fail=2)
    _, job = call(f"{url}/submit-code", "POST", {"code": "print(1)", "callback_url": hook.url},
                  key)
    requests = hook.wait(3)
    assert [r[2]["Livecode-Attempt"] for r in requests] == ["1", "2", "3"]
    assert {r[2]["Livecode-Delivery"] for r in requests} == {job["jobId"]}
    assert requests[0][3] == requests[2][3]  # the same body each time
    run = wait_callback_state(url, job["jobId"], key, "delivered")
    assert run["callback"]["attempts"] == 3


def test_redirects_are_not_followed_and_attempts_are_bounded(serve_for_module, receiver):
    _, url, create_key = serve_for_module(**ALLOW_LOOPBACK, LIVECODE_CALLBACK_MAX_ATTEMPTS="2")
    key = create_key()
    elsewhere = receiver()
    hook = receiver(fail=10, answer=302, location=elsewhere.url)
    _, job = call(f"{url}/submit-code", "POST", {"code": "print(1)", "callback_url": hook.url},
                  key)
    run = wait_callback_state(url, job["jobId"], key, "failed")
    assert run["callback"]["attempts"] == 2 and run["callback"]["last_status"] == 302
    assert len(hook.requests) == 2 and elsewhere.requests == []


def test_a_session_run_and_a_batch_carry_callbacks_too(server, receiver):
    url, key = server
    hook = receiver()
    _, session = call(f"{url}/code-sessions", "POST", {"source_code": "print(2)"}, key)
    status, _ = call(f"{url}/code-sessions/{session['session_id']}/run", "POST",
                     {"callback_url": hook.url}, key)
    assert status == 202
    status, batch = call(f"{url}/executions/batch", "POST", {"runs": [
        {"code": "print(3)", "callback_url": hook.url}, {"code": "print(4)"},
        {"session_id": session["session_id"], "callback_url": hook.url}]}, key)
    assert status == 202, batch
    hook.wait(3)
    time.sleep(1)
    assert sorted(json.loads(r[3])["stdout"] for r in hook.requests) == ["2\n", "2\n", "3\n"]


def test_a_run_cancelled_through_the_api_is_called_back_too(server, receiver):
    url, key = server
    hook = receiver()
    sleepers = [{"code": "import time; time.sleep(4)"}] * 3  # the worker's slots are busy
    status, _ = call(f"{url}/executions/batch", "POST", {"runs": sleepers}, key)
    assert status == 202
    _, job = call(f"{url}/submit-code", "POST",
                  {"code": "print(1)", "callback_url": hook.url}, key)
    status, cancelled = call(f"{url}/executions/{job['jobId']}/cancel", "POST", {}, key)
    assert status == 200 and cancelled["status"] == "CANCELLED"
    _, _, _, body = hook.wait(1)[0]
    assert json.loads(body)["status"] == "CANCELLED"
    wait_callback_state(url, job["jobId"], key, "delivered")


def test_judge0s_callback_url_gets_a_put_of_the_submission_and_its_batch_carries_them_too(
        server, receiver):
    url, key = server
    hook = receiver()
    status, token = call(f"{url}/judge0/submissions", "POST", {
        "source_code": "print(input())", "language_id": 71, "stdin": "hi",
        "expected_output": "hi", "callback_url": hook.url}, key)
    assert status == 201, token
    method, _, headers, body = hook.wait(1)[0]
    sent = json.loads(body)
    assert method == "PUT" and sent["token"] == token["token"]
    assert sent["status"] == {"id": 3, "description": "Accepted"}
    assert base64.b64decode(sent["stdout"]) == b"hi\n"  # Judge0 sends its callbacks encoded
    assert set(sent) == {"token", "stdout", "time", "memory", "stderr", "compile_output",
                         "message", "status"}
    assert signing.verify(signing.secret_of_key(key), body, headers["Livecode-Signature"])
    status, shown = call(f"{url}/judge0/submissions/{token['token']}?fields=callback_url",
                         key=key)
    assert shown == {"callback_url": hook.url}
    status, tokens = call(f"{url}/judge0/submissions/batch", "POST", {"submissions": [
        {"source_code": "print(1)", "language_id": 71, "callback_url": hook.url},
        {"source_code": "print(2)", "language_id": 71}]}, key)
    assert status == 201, tokens
    hook.wait(2)
    assert json.loads(hook.requests[1][3])["token"] == tokens[0]["token"]


def test_a_judge0_batch_with_a_refused_callback_queues_nothing(server):
    url, key = server
    _, before = call(f"{url}/executions", key=key)
    status, error = call(f"{url}/judge0/submissions/batch", "POST", {"submissions": [
        {"source_code": "print(1)", "language_id": 71},
        {"source_code": "print(2)", "language_id": 71,
         "callback_url": "http://169.254.169.254/latest/meta-data/"}]}, key)
    assert status == 422 and error["error"]["index"] == 1
    assert "submissions[1]" in error["error"]["message"]
    # The same runs as before (an earlier test's run may have ended meanwhile: compare ids).
    ids = [e["execution_id"] for e in call(f"{url}/executions", key=key)[1]["executions"]]
    assert ids == [e["execution_id"] for e in before["executions"]]


def test_a_callback_pending_when_its_worker_is_killed_is_delivered_by_the_next_one(
        tmp_path, receiver):
    """SIGKILL of the whole serve between the first (failed) attempt and the retry: the retry
    state is in the run's record, so the next serve on the same store goes on from attempt 2."""
    env = {"LIVECODE_DATA_DIR": str(tmp_path / "data"), "LIVECODE_WORK_ROOT": str(tmp_path),
           **ALLOW_LOOPBACK, "LIVECODE_CALLBACK_BACKOFF": "3"}
    import subprocess
    import sys

    key = subprocess.run([sys.executable, "-m", "livecode.cli", "keys", "create", "--name", "k"],
                         env={**os.environ, **env}, capture_output=True, text=True,
                         check=True).stdout.strip()
    hook = receiver(fail=1)
    first = LivecodeProcess(["serve", "--port", "0"], env, tmp_path / "first.log")
    try:
        url = first.url(timeout=60)
        _, job = call(f"{url}/submit-code", "POST",
                      {"code": "print(1)", "callback_url": hook.url}, key)
        hook.wait(1)
        os.killpg(first.proc.pid, signal.SIGKILL)
        first.proc.wait()
    finally:
        first.stop()
    assert len(hook.requests) == 1
    second = LivecodeProcess(["serve", "--port", "0"], env, tmp_path / "second.log")
    try:
        url = second.url(timeout=60)
        requests = hook.wait(2)
        assert requests[1][2]["Livecode-Attempt"] == "2"
        run = wait_callback_state(url, job["jobId"], key, "delivered")
        assert run["callback"]["attempts"] == 2
    finally:
        second.stop()


# --- SSRF: refused at submission (default policy) and again at delivery -----------------------


@pytest.fixture
def app(livecode):
    return falcon.testing.TestClient(create_app(livecode))


def client_key(livecode):
    return {"Authorization": f"Bearer {keys.issue(livecode.store, 'c', 'client')[1]}"}


REFUSED_URLS = [
    "http://127.0.0.1/hook", "http://localhost:8080/", "http://[::1]/", "http://10.0.0.5/",
    "http://172.16.3.4/", "http://192.168.1.1/", "http://169.254.169.254/latest/meta-data/",
    "http://[fd00:ec2::254]/", "http://100.64.0.1/", "http://0.0.0.0/", "http://224.0.0.1/",
    "http://240.0.0.1/", "http://[::ffff:127.0.0.1]/", "http://[::ffff:169.254.169.254]/",
    "http://[fe80::1]/", "http://[fc00::1]/", "http://[2002:7f00:1::]/", "http://[64:ff9b::a00:1]/",
    "http://2130706433/", "http://0x7f000001/", "http://127.1/",
    "ftp://example.com/", "file:///etc/passwd", "http://user:pw@example.com/", "not a url",
]


@pytest.mark.parametrize("url", REFUSED_URLS)
def test_the_deployments_own_networks_and_bad_urls_are_refused_at_submission(app, livecode, url):
    auth = client_key(livecode)
    before = snapshot(livecode)
    answer = app.simulate_post("/submit-code", json={"code": "1", "callback_url": url},
                               headers=auth)
    assert_error(answer, 422, "invalid_input")
    assert answer.json["error"]["field"] == "callback_url"
    assert snapshot(livecode) == before


def test_a_run_without_a_key_cannot_ask_for_a_callback(app, livecode):
    answer = app.simulate_post("/submit-code",
                               json={"code": "1", "callback_url": "http://93.184.215.14/"})
    assert_error(answer, 422, fragment="needs an API key")


def test_every_refused_kind_of_address_is_refused_and_public_ones_are_not():
    for address in ("127.0.0.1", "::1", "10.1.2.3", "169.254.169.254", "fd00:ec2::254",
                    "100.64.0.1", "198.18.0.1", "::ffff:10.0.0.1", "224.0.0.251", "ff02::1",
                    "255.255.255.255", "192.0.0.8", "2001:db8::1"):
        assert targets.refusal(address, []), address
    for address in ("93.184.215.14", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"):
        assert targets.refusal(address, []) is None, address
    allowed = [ipaddress.ip_network("127.0.0.0/8")]
    assert targets.refusal("127.0.0.1", allowed) is None
    assert targets.refusal("::ffff:127.0.0.1", allowed) is None  # the IPv4 address inside
    assert targets.refusal("10.0.0.1", allowed)


def test_rebinding_is_refused_at_delivery_with_a_mocked_resolver(monkeypatch, receiver):
    """A name that resolved to a public address when the run was asked for and resolves to
    loopback when the callback goes out reaches nothing: delivery resolves again, checks every
    address and connects to the checked address. The resolver is mocked (no DNS server can be
    made to rebind here); the receiver on 127.0.0.1 is real and must see nothing."""
    hook = receiver()
    port = hook.server.server_port
    answers = iter([[(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port))],
                    [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]])
    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kw: next(answers))
    url = f"http://rebind.example:{port}/hook"
    targets.checked_addresses(url, [])  # at submission: public, accepted
    outcome = send(url, "POST", b"{}", {}, [], timeout=2)  # at delivery: loopback
    assert not outcome.ok and outcome.refused and "127.0.0.1" in outcome.error
    assert hook.requests == []


def test_delivery_connects_to_the_checked_address_and_reads_a_bounded_answer(receiver):
    hook = receiver()
    outcome = send(hook.url, "POST", b'{"a": 1}', {"X-Test": "1"},
                   [ipaddress.ip_network("127.0.0.0/8")], timeout=2)
    assert outcome.ok and outcome.status == 200
    assert hook.requests[0][2]["X-Test"] == "1"
    refused = send(hook.url, "POST", b"{}", {}, [], timeout=2)
    assert refused.refused and len(hook.requests) == 1


def test_a_receiver_that_drips_its_answer_is_cut_off_at_the_attempts_timeout():
    """Each byte comes well within the socket timeout, so only the attempt's overall deadline
    can end it: the attempt fails instead of holding a delivery thread for as long as the
    receiver likes."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def drip():
        conn, _ = listener.accept()
        conn.recv(65536)
        try:
            conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
            while not stop.wait(0.2):
                conn.sendall(b"a")
        except OSError:
            pass
        finally:
            conn.close()

    threading.Thread(target=drip, daemon=True).start()
    try:
        outcome = send(f"http://127.0.0.1:{listener.getsockname()[1]}/", "POST", b"{}", {},
                       [ipaddress.ip_network("127.0.0.0/8")], timeout=1)
        assert not outcome.ok and outcome.status is None and outcome.error
    finally:
        stop.set()
        listener.close()
