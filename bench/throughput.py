"""Hello-world throughput with 1, 2 and 4 worker processes, on Redis and on RabbitMQ, in one run.

    .venv/bin/python bench/throughput.py [--runs 200] [--brokers redis,amqp] [--workers 1,2,4]

For each broker and worker count: a fresh SQLite store, ``livecode api`` and N ``livecode worker
--concurrency 1`` processes; submits ``--runs`` hello-world runs over HTTP, then waits until all
are COMPLETED. Reports runs per second from the first submit to the last completion, next to the
rate of bare interpreter spawns two at a time (this machine's ceiling for the same work without
any sandbox), measured in the same run. Prints one JSON line.
"""

import argparse
import json
import os
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from livecode.client import ApiClient
from livecode.plugins.python_runner import default_interpreter
from livecode.testing import LivecodeProcess, stop_all

BROKERS = {"redis": "redis://127.0.0.1:6379/14", "amqp": "amqp://guest:guest@127.0.0.1:5672//"}
HELLO = 'print("Hello World")'


def bare_spawns_per_second(n: int = 60) -> float:
    argv = [default_interpreter(), "-I", "-S", "-c", HELLO]

    def spawn(count):
        for _ in range(count):
            subprocess.run(argv, capture_output=True)

    started = time.perf_counter()
    threads = [threading.Thread(target=spawn, args=(n // 2,)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return round(n / (time.perf_counter() - started), 2)


def measure(broker: str, workers: int, runs: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        env = {"LIVECODE_STORE": f"sqlite:///{tmp}/bench.db", "LIVECODE_QUEUE": BROKERS[broker],
               "LIVECODE_QUEUE_NAME": f"bench-{os.getpid()}-{broker}-{workers}",
               "LIVECODE_DATA_DIR": tmp}
        api = LivecodeProcess(["api", "--port", "0"], env, Path(tmp, "api.log"))
        processes = [api]
        try:
            http = ApiClient(api.url(), timeout=30)
            for i in range(workers):
                worker = LivecodeProcess(["worker", "--concurrency", "1"], env,
                                         Path(tmp, f"worker-{i}.log"))
                processes.append(worker)
                worker.wait_for("consuming")
            sid = http.post("/code-sessions", {"source_code": HELLO})["session_id"]
            started = time.perf_counter()
            ids = [http.post(f"/code-sessions/{sid}/run")["execution_id"] for _ in range(runs)]
            for execution_id in ids:
                result = http.wait(execution_id, timeout=600)
                assert result["stdout"] == "Hello World\n", result
            return round(runs / (time.perf_counter() - started), 2)
        finally:
            stop_all(processes)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--brokers", default="redis,amqp")
    parser.add_argument("--workers", default="1,2,4")
    args = parser.parse_args()
    report = {"runs": args.runs, "bare_spawns_per_s_two_way": bare_spawns_per_second()}
    for broker in args.brokers.split(","):
        for workers in map(int, args.workers.split(",")):
            report[f"{broker}_{workers}_workers_runs_per_s"] = measure(broker, workers, args.runs)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
