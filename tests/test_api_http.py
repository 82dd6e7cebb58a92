"""What only a real server shows: keys at start-up, headers as bytes, a refused body's 413
reaching a client that sends it all first (http.client, and a real browser's fetch), stalled clients that must not starve the others,
quotas shared by two API processes (in Redis, or in their store), and the API's memory with
huge stored outputs."""

import http.client
import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from livecode.client import ApiClient

pytestmark = pytest.mark.slow
AMQP_URL = "amqp://guest:guest@127.0.0.1:5672//"


def api_env(tmp_path, **env):
    return {"LIVECODE_DATA_DIR": str(tmp_path / "data"), **env}


def create_key(tmp_path, scope="admin", *quota, **env):
    args = [sys.executable, "-m", "livecode.cli", "keys", "create", "--name", scope,
            "--scope", scope, *(f"--quota={q}" for q in quota)]
    done = subprocess.run(args, env={**os.environ, **api_env(tmp_path, **env)},
                          capture_output=True, text=True, check=True)
    assert "shown only now" in done.stderr
    return done.stdout.strip()


def start_api(start_livecode, tmp_path, *args, command="api", **env):
    """``livecode api`` (or ``serve``, which needs no broker) on a free port."""
    process = start_livecode(command, "--port", "0", *args, **api_env(tmp_path, **env))
    return process, ApiClient(process.url(), timeout=30)


def address(api: ApiClient) -> tuple[str, int]:
    parts = urlsplit(api.url)
    return parts.hostname, parts.port


def raw_request(api: ApiClient, lines: list[bytes], body: bytes = b""):
    conn = http.client.HTTPConnection(*address(api), timeout=10)
    conn.putrequest("GET", "/executions")
    for line in lines:
        conn.putheader(*line.split(b": ", 1))
    conn.endheaders(body or None)
    response = conn.getresponse()
    return response.status, dict(response.getheaders()), json.loads(response.read())


@pytest.mark.parametrize("command", ["serve", "api"])
def test_a_non_loopback_api_refuses_to_start_without_keys(start_livecode, tmp_path, redis_url,
                                                          command):
    env = {"LIVECODE_QUEUE": redis_url, "LIVECODE_QUEUE_NAME": f"test-{os.getpid()}-open"} \
        if command == "api" else {}
    refused = start_livecode(command, "--host", "0.0.0.0", "--port", "0",
                             **api_env(tmp_path, **env))
    assert refused.proc.wait(60) == 125  # livecode's own failure
    assert "refusing to serve 0.0.0.0 without API keys" in refused.log_path.read_text()
    process, api = start_api(start_livecode, tmp_path, "--host", "0.0.0.0", "--insecure-no-auth",
                             command=command, **env)
    assert api.call("GET", "/executions")[0] == 200  # everyone is the local admin: as asked
    process.stop()
    admin = create_key(tmp_path)
    _, api = start_api(start_livecode, tmp_path, "--host", "0.0.0.0", command=command, **env)
    status, body = api.call("GET", "/executions")
    assert status == 401 and body["error"]["code"] == "unauthorized"
    assert raw_request(api, [f"Authorization: Bearer {admin}".encode()])[0] == 200


def test_keys_over_http_and_headers_that_are_not_ascii(start_livecode, tmp_path):
    admin = create_key(tmp_path)
    _, api = start_api(start_livecode, tmp_path, command="serve")
    for header in [b"Authorization: Bearer \xe9\xe8\xff", b"Authorization: Bearer lck_\xc3\xa9_x",
                   b"Authorization: \xff", b"Authorization: Bearer " + admin.encode() + b"\xe9"]:
        status, headers, body = raw_request(api, [header])
        assert status == 401, body
        assert body["error"]["code"] == "unauthorized"
        assert headers["www-authenticate"].startswith('Bearer realm="livecode"')
    assert raw_request(api, [f"Authorization: Bearer {admin}".encode()])[0] == 200
    listed = subprocess.run([sys.executable, "-m", "livecode.cli", "keys", "list", "--json"],
                            env={**os.environ, **api_env(tmp_path)}, capture_output=True,
                            text=True, check=True)
    key_id = json.loads(listed.stdout)[0]["key_id"]
    assert admin.split("_")[1] == key_id and admin not in listed.stdout
    subprocess.run([sys.executable, "-m", "livecode.cli", "keys", "revoke", key_id],
                   env={**os.environ, **api_env(tmp_path)}, check=True, capture_output=True)
    assert raw_request(api, [f"Authorization: Bearer {admin}".encode()])[0] == 401


def test_a_body_over_the_cap_gets_its_413_even_when_sent_whole_first(serve):
    _, api = serve()
    body = b'{"source_code": "' + b"x" * (4 * 1024 * 1024) + b'"}'
    conn = http.client.HTTPConnection(*address(api), timeout=30)
    # http.client sends the whole body before it reads anything, as most clients do.
    conn.request("POST", "/code-sessions", body=body,
                 headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    error = json.loads(response.read())["error"]
    assert response.status == 413 and error["code"] == "payload_too_large"
    assert api.call("GET", "/health")[0] == 200


def test_a_browser_s_fetch_of_a_body_over_the_cap_reads_the_json_413(serve, chromium):
    _, api = serve()
    chromium.get(api.url + "/")  # a page of the same origin: fetch needs no CORS
    chromium.set_script_timeout(60)
    answer = chromium.execute_async_script("""
        const done = arguments[arguments.length - 1];
        const body = JSON.stringify({source_code: "x".repeat(12 * 1024 * 1024)});
        fetch("/code-sessions", {method: "POST", body,
                                 headers: {"Content-Type": "application/json"}})
          .then(async r => done({status: r.status, error: (await r.json()).error}))
          .catch(e => done({network_error: String(e)}));
    """)
    assert answer.get("status") == 413, answer  # not a TypeError "Failed to fetch"
    assert answer["error"]["code"] == "payload_too_large", answer
    assert api.call("GET", "/executions")[1]["executions"] == []


def test_a_chunked_body_is_refused_before_it_is_read(serve):
    _, api = serve()
    conn = http.client.HTTPConnection(*address(api), timeout=30)
    conn.request("POST", "/code-sessions", body=iter([b'{"source_code": "', b"x" * 65536, b'"}']),
                 headers={"Content-Type": "application/json"}, encode_chunked=True)
    response = conn.getresponse()
    assert response.status == 411
    assert json.loads(response.read())["error"]["code"] == "length_required"
    assert api.call("GET", "/executions")[1]["executions"] == []


def test_half_open_connections_do_not_starve_the_api(serve):
    _, api = serve(LIVECODE_REQUEST_TIMEOUT="60")
    assert api.call("GET", "/health")[0] == 200  # the first one probes the sandboxes: not timed
    stalled = []
    for i in range(50):
        sock = socket.create_connection(address(api))
        # Half the requests stop inside their headers, half inside their body.
        sock.sendall(b"POST /code-sessions HTTP/1.1\r\nHost: x\r\n" if i % 2 else
                     b"POST /code-sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
                     b"\r\nContent-Length: 100\r\n\r\n{\"sou")
        stalled.append(sock)
    try:
        for _ in range(5):
            for method, path, body in [("GET", "/health", None),
                                       ("POST", "/code-sessions", {"source_code": "1"}),
                                       ("GET", "/executions", None)]:
                started = time.monotonic()
                status, _ = ApiClient(api.url).call(method, path, body)  # a new connection each
                assert status in (200, 201) and time.monotonic() - started < 1.0
    finally:
        for sock in stalled:
            sock.close()


def test_a_stalled_request_is_closed_after_the_request_timeout(serve):
    _, api = serve(LIVECODE_REQUEST_TIMEOUT="1")
    sock = socket.create_connection(address(api))
    sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")  # and never the end of the headers
    sock.settimeout(10)
    started = time.monotonic()
    assert sock.recv(1024) == b""  # closed by the server
    assert 0.5 < time.monotonic() - started < 5
    sock.close()


@pytest.fixture(params=["redis", "store"])
def quota_counters(request):
    """Where two API processes count quotas: Redis (their queue), or their store (SQLite, with
    RabbitMQ as the queue)."""
    if request.param == "redis":
        return "redis", request.getfixturevalue("redis_url")
    try:
        socket.create_connection(("127.0.0.1", 5672), timeout=2).close()
    except OSError as exc:
        pytest.skip(f"RabbitMQ is not reachable at 127.0.0.1:5672: {exc}")
    return "store", AMQP_URL


def test_quotas_are_shared_by_two_api_processes(start_livecode, tmp_path, quota_counters):
    where, queue = quota_counters
    client = create_key(tmp_path, "client", "runs_per_minute=4", "active_runs=0")
    env = {"LIVECODE_QUEUE": queue, "LIVECODE_QUEUE_NAME": f"test-{os.getpid()}-quota-{where}"}
    apis = [start_api(start_livecode, tmp_path, **env)[1] for _ in range(2)]
    codes = []
    try:
        for i in range(6):
            conn = http.client.HTTPConnection(*address(apis[i % 2]), timeout=10)
            conn.request("POST", "/submit-code", body=json.dumps({"code": "1"}),
                         headers={"Content-Type": "application/json",
                                  "Authorization": f"Bearer {client}"})
            response = conn.getresponse()
            body = json.loads(response.read())
            codes.append(response.status)
            if response.status == 429:
                assert body["error"]["quota"] == "runs_per_minute"
                assert 1 <= int(response.getheader("Retry-After")) <= 60
        assert codes == [202, 202, 202, 202, 429, 429]
        key_id = client.split("_")[1]
        if where == "redis":
            import redis

            assert list(redis.Redis.from_url(queue).scan_iter(f"livecode-quota*{key_id}*"))
        else:
            db = sqlite3.connect(tmp_path / "data" / "livecode.db")
            counted = db.execute("SELECT value FROM quota_counters WHERE key LIKE ?",
                                 (f"%{key_id}%runs_per_minute%",)).fetchall()
            assert counted == [(6,)]  # refused hits count too: the window stays closed
    finally:
        from livecode.core.config import Settings
        from livecode.plugins.kombu_queue import KombuQueue

        runs = KombuQueue(queue, Settings.from_env(env))  # no worker: drop what was queued
        runs.purge_and_delete()
        runs.close()


def post_at_once(urls: list[str], key: str, n: int) -> list[int]:
    """``n`` one-shot runs, posted by ``n`` threads released together, spread over ``urls``."""
    import threading

    gate, statuses = threading.Barrier(n), [None] * n
    connections = []
    for i in range(n):
        conn = http.client.HTTPConnection(*address(ApiClient(urls[i % len(urls)])), timeout=30)
        conn.connect()  # connected before the gate opens: only the requests race
        connections.append(conn)

    def post(i):
        gate.wait()
        connections[i].request("POST", "/submit-code", body=json.dumps({"code": "1"}),
                               headers={"Content-Type": "application/json",
                                        "Authorization": f"Bearer {key}"})
        response = connections[i].getresponse()
        body = json.loads(response.read())
        if response.status == 429:
            assert body["error"]["quota"] == "active_runs", body
        statuses[i] = response.status

    threads = [threading.Thread(target=post, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return statuses


def test_racing_runs_never_take_more_than_the_active_runs_quota(start_livecode, tmp_path,
                                                                quota_counters):
    where, queue = quota_counters
    client = create_key(tmp_path, "client", "active_runs=3", "runs_per_minute=0",
                        "writes_per_second=0")
    env = {"LIVECODE_QUEUE": queue, "LIVECODE_QUEUE_NAME": f"test-{os.getpid()}-race-{where}"}
    apis = [start_api(start_livecode, tmp_path, **env)[1] for _ in range(2)]
    mine = ApiClient(apis[0].url, token=client)
    try:
        for round_ in range(3):  # no worker: the accepted runs stay QUEUED, taking their slots
            statuses = post_at_once([api.url for api in apis], client, 24)
            assert set(statuses) <= {202, 429}, statuses
            queued = [e["execution_id"] for e in mine.get("/executions?limit=100")["executions"]
                      if e["status"] == "QUEUED"]
            print(f"round {round_}: {statuses.count(202)} of 24 accepted")
            assert len(queued) == statuses.count(202)
            assert 1 <= len(queued) <= 3, f"{len(queued)} runs at once over a quota of 3"
            for execution_id in queued:  # the slots are free again for the next round
                mine.post(f"/executions/{execution_id}/cancel")
    finally:
        from livecode.core.config import Settings
        from livecode.plugins.kombu_queue import KombuQueue

        runs = KombuQueue(queue, Settings.from_env(env))
        runs.purge_and_delete()
        runs.close()


def vm_hwm_kib(pid: int) -> int:
    """Peak resident memory of a process and its children, summed (KiB)."""
    total = 0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
        if pid in (int(fields["Pid"]), int(fields["PPid"])):  # gunicorn and its workers
            total += int(fields.get("VmHWM", "0 kB").split()[0])
    return total


def test_reports_and_lists_keep_the_api_memory_flat_over_huge_outputs(start_livecode,
                                                                     tmp_path):
    from livecode.core.execution_states import Status
    from livecode.core.models import utcnow
    from livecode.plugins.sqlite_store import SQLiteStore

    from conftest import queued

    store = SQLiteStore(str(tmp_path / "data" / "livecode.db"))
    big = "x" * (16 * 1024 * 1024)
    first = None
    for i in range(100):
        execution = queued(store)
        first = first or execution
        store.transition(execution.execution_id, frozenset({Status.QUEUED}), 0,
                         {"status": Status.RUNNING, "attempts": 1, "started_at": utcnow()})
        store.transition(execution.execution_id, frozenset({Status.RUNNING}), 1, {
            "status": Status.FAILED if i % 2 else Status.COMPLETED, "finished_at": utcnow(),
            "stdout": big, "stderr": big[:1024 * 1024] + "\nMemoryError",
            "stdout_bytes": len(big), "signature": "MemoryError", "execution_time_ms": 5.0})
    store.close()
    process, api = start_api(start_livecode, tmp_path, command="serve")
    assert api.call("GET", "/health")[0] == 200
    baseline = vm_hwm_kib(process.proc.pid)
    for path in ["/stats?window=86400", "/failures?window=86400", "/executions?limit=200",
                 f"/code-sessions/{first.session_id}/executions?limit=200",
                 "/executions?limit=200&status=FAILED", "/queues"]:
        status, body = api.call("GET", path)
        assert status == 200, body
    status, body = api.call("GET", "/executions?limit=200")
    assert len(body["executions"]) == 100 and body["executions"][0]["stdout_bytes"] == len(big)
    assert "stdout" not in body["executions"][0]
    failures = api.call("GET", "/failures?window=86400")[1]["failures"]
    assert failures[0]["count"] == 50 and failures[0]["signature"] == "MemoryError"
    grown = vm_hwm_kib(process.proc.pid) - baseline
    print(f"\nAPI peak RSS {baseline} KiB at start, {grown} KiB more after reports and lists")
    assert grown < 50 * 1024, f"the API's peak RSS grew by {grown} KiB"
    # Asked for outputs, a page holds what its byte budget allows (at least one run).
    status, body = api.call("GET", "/executions?limit=200&fields=stdout")
    assert len(body["executions"]) == 1 and body["next_before"]
    assert len(body["executions"][0]["stdout"]) == len(big)


def test_a_text_search_in_split_mode_reads_no_outputs_into_the_api(start_livecode, tmp_path,
                                                                   mongo_url, settings):
    """``q=`` in split mode: the results store (MongoDB's protocol, here SecantusDB in the test
    process) finds the runs; the API process (measured alone) reads their keys, not outputs."""
    from livecode.core.execution_states import Status
    from livecode.core.models import utcnow
    from livecode.plugins.mongo_store import MongoStore
    from livecode.plugins.split_store import SplitStore
    from livecode.plugins.sqlite_store import SQLiteStore

    from conftest import queued

    (tmp_path / "data").mkdir()
    meta = tmp_path / "data" / "meta.db"
    store = SplitStore(SQLiteStore(str(meta)), MongoStore(mongo_url, settings))
    big = "x" * (8 * 1024 * 1024)  # under BSON's 16 MiB a document
    wanted = []
    for i in range(24):
        execution = queued(store)
        store.transition(execution.execution_id, frozenset({Status.QUEUED}), 0,
                         {"status": Status.RUNNING, "attempts": 1, "started_at": utcnow()})
        store.transition(execution.execution_id, frozenset({Status.RUNNING}), 1, {
            "status": Status.FAILED, "finished_at": utcnow(), "stdout": big,
            "stderr": "MemoryError\n" if i % 3 == 0 else "ok\n", "stdout_bytes": len(big)})
        if i % 3 == 0:
            wanted.append(execution.execution_id)
    store.close()
    process, api = start_api(start_livecode, tmp_path, command="serve",
                             LIVECODE_STORE=f"split:sqlite:///{meta};{mongo_url}")
    assert api.call("GET", "/health")[0] == 200
    baseline = vm_hwm_kib(process.proc.pid)
    status, body = api.call("GET", "/executions", params={"q": "MemoryError", "limit": 200})
    assert status == 200, body
    assert {e["execution_id"] for e in body["executions"]} == set(wanted)
    assert all("stdout" not in e for e in body["executions"])
    status, body = api.call("GET", "/executions", params={"q": "!MemoryError", "limit": 200})
    assert len(body["executions"]) == 24 - len(wanted)
    grown = vm_hwm_kib(process.proc.pid) - baseline
    print(f"\nsplit API peak RSS {baseline} KiB at start, {grown} KiB more after text searches "
          f"over {24 * len(big) >> 20} MiB of stored output")
    assert grown < 50 * 1024, f"the API's peak RSS grew by {grown} KiB"
