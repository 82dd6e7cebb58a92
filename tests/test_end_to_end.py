"""livecode as a user runs it: real processes, real HTTP, real Redis.

``livecode serve`` in a subprocess (embedded defaults), and ``livecode api`` with a separate
``livecode worker`` over the real Redis sharing one SQLite file."""

import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import sandbox_processes
from livecode.client import ApiClient

pytestmark = pytest.mark.slow


def run_source(http: ApiClient, source: str, stdin: str | None = None) -> dict:
    status, session = http.call("POST", "/code-sessions", {"language": "python"})
    assert status == 201, session
    sid = session["session_id"]
    status, _ = http.call("PATCH", f"/code-sessions/{sid}", {"sourceCode": source})
    assert status == 200
    status, queued = http.call("POST", f"/sessions/{sid}/run",
                               {"stdin": stdin} if stdin is not None else None)
    assert status == 202 and queued["status"] == "QUEUED", queued
    return http.wait(queued["execution_id"])


def test_sessions_api_over_http(serve, tmp_path):
    process, http = serve(LIVECODE_WALL_TIME_LIMIT="2")
    hello = run_source(http, 'print("Hello World")')
    assert hello["status"] == "COMPLETED" and hello["stdout"] == "Hello World\n"
    failed = run_source(http, 'raise ValueError("x")')
    assert failed["status"] == "FAILED"
    assert "Traceback (most recent call last)" in failed["stderr"]
    assert failed["stderr"].endswith("ValueError: x\n")
    started = time.monotonic()
    spin = run_source(http, "while True: pass")
    assert spin["status"] == "TIMEOUT" and spin["reason"] == "wall_time_limit"
    assert spin["execution_time_ms"] < 2000 + 1000
    assert time.monotonic() - started < 2 + 1 + 1  # the limit, one second, and polling slack
    assert sandbox_processes() == []
    assert process.proc.poll() is None


def test_one_shot_api_over_http(serve):
    _, http = serve()
    status, job = http.call("POST", "/submit-code", {"code": "print(6 * 7)"})
    assert status == 202
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status, result = http.call("GET", f"/exec-result?jobId={job['jobId']}")
        if result["status"] == "COMPLETED":
            break
        time.sleep(0.02)
    assert result["stdout"] == "42\n" and result["jobId"] == job["jobId"]


def test_a_hundred_runs_at_once_each_end_exactly_once(serve):
    _, http = serve(LIVECODE_CONCURRENCY="4")
    status, session = http.call("POST", "/code-sessions",
                                {"source_code": "import sys; print(sys.stdin.read())"})
    sid = session["session_id"]

    def submit(i):
        return http.call("POST", f"/code-sessions/{sid}/run", {"stdin": str(i)})[1]["execution_id"]

    with ThreadPoolExecutor(16) as pool:
        ids = list(pool.map(submit, range(100)))
        results = list(pool.map(lambda i: http.wait(i, timeout=120), ids))
    assert len(set(ids)) == 100
    assert [r["status"] for r in results] == ["COMPLETED"] * 100
    assert [r["stdout"] for r in results] == [f"{i}\n" for i in range(100)]
    assert all(r["attempts"] == 1 for r in results)
    status, listed = http.call("GET", f"/executions?session_id={sid}&limit=200")
    assert sorted(e["execution_id"] for e in listed["executions"]) == sorted(ids)


def test_livecode_run_prints_the_programs_output_and_exit_code(serve, tmp_path):
    _, http = serve()
    program = tmp_path / "prog.py"
    program.write_text("import sys\nprint(input() + '!')\nprint('warn', file=sys.stderr)\n"
                       "sys.exit(4)\n")
    stdin = tmp_path / "in.txt"
    stdin.write_text("hey\n")
    result = subprocess.run(
        [sys.executable, "-m", "livecode.cli", "run", str(program), "--url", http.url,
         "--stdin", str(stdin)], capture_output=True, text=True, timeout=60)
    assert result.stdout == "hey!\n"
    assert result.stderr.startswith("warn\n") and "FAILED" in result.stderr
    assert result.returncode == 4


def test_livecode_run_says_clearly_when_no_server_answers(tmp_path):
    program = tmp_path / "p.py"
    program.write_text("print(1)")
    result = subprocess.run([sys.executable, "-m", "livecode.cli", "run", str(program),
                             "--url", "http://127.0.0.1:9"], capture_output=True, text=True)
    assert result.returncode == 125 and "cannot reach http://127.0.0.1:9" in result.stderr


def test_api_refuses_to_start_when_the_queue_is_unreachable(start_livecode, tmp_path):
    process = start_livecode("api", "--port", "0", "--queue", "redis://127.0.0.1:1/0",
                             LIVECODE_DATA_DIR=str(tmp_path))
    assert process.proc.wait(60) == 125
    log = process.log_path.read_text()
    assert "cannot start" in log and "queue" in log and "listening" not in log


def test_serve_refuses_to_start_on_a_wrong_store_url(start_livecode):
    process = start_livecode("serve", "--port", "0", "--store", "mysql://nowhere/db")
    assert process.proc.wait(30) == 125
    assert "no store plugin handles 'mysql://nowhere/db'" in process.log_path.read_text()


@pytest.mark.redis
def test_api_and_a_separate_worker_over_real_redis(start_livecode, tmp_path, redis_url):
    env = {
        "LIVECODE_STORE": f"sqlite:///{tmp_path}/shared.db",
        "LIVECODE_QUEUE": redis_url,
        "LIVECODE_QUEUE_NAME": f"test-{os.getpid()}-{time.monotonic_ns()}",
        "LIVECODE_WORK_ROOT": str(tmp_path / "runs"),
    }
    (tmp_path / "runs").mkdir()
    api = start_livecode("api", "--port", "0", "--processes", "2", **env)
    http = ApiClient(api.url(), timeout=30)
    status, queued = http.call("POST", "/submit-code", {"code": "print('via redis')"})
    assert status == 202
    time.sleep(0.5)
    status, waiting = http.call("GET", f"/executions/{queued['jobId']}")
    assert waiting["status"] == "QUEUED"  # no worker yet: the run waits in Redis
    worker = start_livecode("worker", "--concurrency", "2", **env)
    worker.wait_for("consuming")
    done = http.wait(queued["jobId"])
    assert done["status"] == "COMPLETED" and done["stdout"] == "via redis\n"
    assert done["worker_id"].split(":")[1] == str(worker.proc.pid)
    status, health = http.call("GET", "/health")
    assert status == 200 and health["checks"]["queue"]["depth"] == 0
    assert worker.stop() == 0
    assert api.stop() == 0


@pytest.mark.parametrize("mode", ["mongodb", "split"])
def test_the_sessions_api_on_mongodb_and_in_split_mode(serve, mongo_url, mode, tmp_path):
    env = ({"LIVECODE_STORE": mongo_url} if mode == "mongodb" else
           {"LIVECODE_STORE": f"sqlite:///{tmp_path}/meta.db", "LIVECODE_RESULT_STORE": mongo_url})
    _, http = serve(**env)
    hello = run_source(http, 'print("Hello World")')
    assert hello["status"] == "COMPLETED" and hello["stdout"] == "Hello World\n"
    failed = run_source(http, 'raise ValueError("x")')
    assert failed["status"] == "FAILED" and failed["stderr"].endswith("ValueError: x\n")
    status, listed = http.call("GET", f"/executions?session_id={hello['session_id']}"
                                      "&fields=stdout")
    assert [e["stdout"] for e in listed["executions"]] == ["Hello World\n"]
    if mode == "split":  # the output really lives in MongoDB, the status in SQLite
        import pymongo
        import sqlite3

        db = pymongo.MongoClient(mongo_url).get_default_database()
        assert db.results.find_one({"execution_id": hello["execution_id"]})["stdout"] == \
            "Hello World\n"
        row = sqlite3.connect(tmp_path / "meta.db").execute(
            "SELECT status, stdout FROM executions WHERE execution_id = ?",
            (hello["execution_id"],)).fetchone()
        assert row == ("COMPLETED", "")


def test_a_result_store_that_cannot_hold_results_is_refused(start_livecode, tmp_path):
    process = start_livecode("serve", "--port", "0", "--result-store",
                             f"sqlite:///{tmp_path}/results.db", LIVECODE_DATA_DIR=str(tmp_path))
    assert process.proc.wait(30) == 125
    assert "cannot hold results apart" in process.log_path.read_text()
