"""What one console refresh costs the server with 100,000 executions in the store.

    .venv/bin/python bench/console_refresh.py [--executions 100000] [--n 20]

Fills a SQLite store (a fifth of the runs failed, in the last hour), starts ``livecode api`` on
it, and for each view times the requests the console makes per refresh (the same client, the
same parameters, a filter in the executions view too), as medians over ``--n`` refreshes. Prints
one JSON line: requests per refresh and milliseconds per view.
"""

import argparse
import json
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from livecode.client import ApiClient
from livecode.console.query import parse
from livecode.console.views import (DetailView, ExecutionsView, FailuresView, OverviewView,
                                    WorkersView)
from livecode.core.execution_states import Status
from livecode.core.limits import Limits
from livecode.core.models import CodeSession, Execution
from livecode.core.timestamps import iso, now
from livecode.plugins.sqlite_store import SQLiteStore
from livecode.testing import LivecodeProcess

REDIS_URL = "redis://127.0.0.1:6379/14"  # an API alone needs a queue other processes share


def fill(path: str, count: int) -> str:
    store = SQLiteStore(path)
    conn = store._connect()
    end = now()
    session = CodeSession.new("python", "print(1)")
    store.create_session(session)
    conn.execute("BEGIN")
    last = None
    for i in range(count):
        stamp = iso(end - timedelta(seconds=3600 * (count - i) / count))
        failed = i % 5 == 0
        execution = Execution.snapshot(session, "", Limits()).evolve(
            status=Status.FAILED if failed else Status.COMPLETED, created_at=stamp,
            started_at=stamp, finished_at=stamp, exit_code=1 if failed else 0,
            stdout="" if failed else "1\n",
            stderr=f"ValueError: case {i % 7}\n" if failed else "", execution_time_ms=12.0,
            worker_id="bench:1:w", attempts=1)
        store.create_execution(execution)
        last = execution.execution_id
    conn.execute("COMMIT")
    store.close()
    return last


def timed(view, client, n):
    samples = []
    counting = CountingClient(client)
    for _ in range(n):
        counting.calls = 0
        started = time.perf_counter()
        view.fetch(counting, now())
        samples.append((time.perf_counter() - started) * 1000)
    return {"requests": counting.calls, "ms_p50": round(statistics.median(samples), 2),
            "ms_max": round(max(samples), 2)}


class CountingClient:
    def __init__(self, client):
        self.client, self.calls = client, 0

    def get(self, *args, **kwargs):
        self.calls += 1
        return self.client.get(*args, **kwargs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--executions", type=int, default=100_000)
    parser.add_argument("--n", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        last = fill(f"{tmp}/bench.db", args.executions)
        filled = time.perf_counter() - started
        # An API alone needs a queue other processes share: Redis, on a queue of the bench's.
        api = LivecodeProcess(["api", "--port", "0", "--processes", "1"],
                              {"LIVECODE_STORE": f"sqlite:///{tmp}/bench.db",
                               "LIVECODE_DATA_DIR": tmp, "LIVECODE_QUEUE": REDIS_URL,
                               "LIVECODE_QUEUE_NAME": "bench-console-refresh"},
                              Path(tmp, "api.log"))
        try:
            client = ApiClient(api.url())
            views = {}
            for name, view in (("overview", OverviewView()), ("executions", ExecutionsView()),
                               ("workers", WorkersView()), ("failures", FailuresView()),
                               ("detail", DetailView(last))):
                views[name] = view
            report = {name: timed(view, client, args.n) for name, view in views.items()}
            views["executions"].filter_params = parse('state:FAILED "case 3"')
            report["executions_filtered"] = timed(views["executions"], client, args.n)
        finally:
            api.stop()
    print(json.dumps({"stored_executions": args.executions, "fill_seconds": round(filled, 1),
                      **report}))


if __name__ == "__main__":
    main()
