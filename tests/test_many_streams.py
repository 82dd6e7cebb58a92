"""A thousand clients following runs on one API process (real TCP connections, real Redis),
while ordinary requests keep answering: the issue's target is p99 under 50 ms. Runs
``bench/live_streams.py``, which also measures memory, idle CPU and print-to-event latency."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.redis]

BENCH = Path(__file__).resolve().parents[1] / "bench" / "live_streams.py"


def test_a_thousand_open_event_streams_while_requests_answer_under_50_ms(redis_url):
    done = subprocess.run([sys.executable, str(BENCH), "--streams", "1000", "--requests", "300",
                           "--latency", "5", "--idle-seconds", "2"],
                          capture_output=True, text=True, timeout=600,
                          env={**os.environ, "LIVECODE_TEST_REDIS_URL": redis_url})
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(done.stdout[done.stdout.index("{"):])
    print(json.dumps(figures, indent=1))
    assert figures["streams_open"] == 1000, figures["stream_errors"]
    assert figures["requests_with_streams"]["p99_ms"] < 50
