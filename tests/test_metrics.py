"""``GET /metrics`` through a real ``livecode serve``: prometheus-client in multiprocess mode in a
private directory that the server makes and removes."""

import re
import urllib.request
from pathlib import Path

import pytest


def value(text, name, **labels):
    """The value of one sample of the exposition ``text``, or None."""
    for line in text.splitlines():
        match = re.match(rf"{name}{{(.*)}} (\S+)$", line)
        if match and all(f'{k}="{v}"' in match.group(1) for k, v in labels.items()):
            return float(match.group(2))
    return None


@pytest.mark.slow
def test_metrics_through_a_real_serve(serve):
    process, client = serve()
    session = client.post("/code-sessions", {"source_code": "print('hi')"})
    run = client.post(f"/code-sessions/{session['session_id']}/run", {})
    failing = client.post("/submit-code", {"code": "raise SystemExit(3)"})
    assert client.wait(run["execution_id"])["status"] == "COMPLETED"
    assert client.wait(failing["jobId"])["status"] == "FAILED"
    with urllib.request.urlopen(f"{client.url}/metrics", timeout=30) as answer:
        assert answer.headers["Content-Type"].startswith("text/plain")
        text = answer.read().decode()
    assert value(text, "livecode_api_request_duration_seconds_count",
                 route="/code-sessions", method="POST", status="201") == 1
    assert value(text, "livecode_api_request_duration_seconds_count",
                 route="/executions/{execution_id}", method="GET", status="200") >= 1
    assert value(text, "livecode_runs_ended_total", status="COMPLETED", language="python",
                 reason="") == 1
    assert value(text, "livecode_runs_ended_total", status="FAILED", language="python",
                 reason="nonzero_exit") == 1
    assert value(text, "livecode_run_wait_seconds_count", language="python") == 2
    assert value(text, "livecode_run_duration_seconds_count", language="python",
                 status="COMPLETED") == 1
    assert value(text, "livecode_runs", status="COMPLETED") == 1
    assert value(text, "livecode_queue_depth", queue="livecode.executions") == 0
    assert value(text, "livecode_queue_oldest_wait_seconds", queue="livecode.executions") == 0
    assert value(text, "livecode_workers", state="idle") == 1
    # Each gunicorn process maps its metric files from the server's private directory...
    children = open(f"/proc/{process.proc.pid}/task/{process.proc.pid}/children").read().split()
    maps = "".join(open(f"/proc/{pid}/maps").read() for pid in children)
    directories = set(re.findall(r"(/\S+/livecode-metrics-\w+)/", maps))
    assert len(directories) == 1
    directory = Path(directories.pop())
    assert any(directory.glob("*.db"))
    # ... which is gone once the server has stopped.
    process.terminate()
    process.proc.wait(timeout=60)
    assert not directory.exists()
