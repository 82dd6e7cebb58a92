"""What a batch and a callback save a client, measured in the same run.

    .venv/bin/python bench/batch_callbacks.py [--n 10] [--size 20]

One ``livecode serve`` (a client key without quotas, callbacks allowed to 127.0.0.0/8, a real
HTTP receiver on 127.0.0.1). Medians over ``--n`` interleaved rounds of:

- ``singles``: ``--size`` ``POST /submit-code`` one after another, then polling each with
  ``GET /executions/{id}`` every millisecond until all ended (the baseline);
- ``batch``: one ``POST /executions/batch`` of ``--size`` runs, then polling them together with
  ``GET /executions?ids=`` every millisecond until all ended;
- ``queue_singles`` / ``queue_batch``: the submitting requests alone (the runs are waited
  for untimed);
- ``poll_one`` (baseline) / ``callback_one``: one hello world until its result is known,
  by polling every millisecond, or by its callback arriving at the receiver.

Prints one JSON line with each figure and the ratios; only the ratios compare between runs.
"""

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hello_world import medians_ms  # noqa: E402

from livecode.client import ApiClient  # noqa: E402
from livecode.testing import LivecodeProcess  # noqa: E402

SOURCE = 'print("Hello World")'
ENDED = {"COMPLETED", "FAILED", "TIMEOUT", "CANCELLED"}


class Receiver:
    def __init__(self):
        self.arrived: dict[str, threading.Event] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers["Content-Length"]))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()
                receiver.event(self.headers["Livecode-Delivery"]).set()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.lock = threading.Lock()

    def event(self, execution_id: str) -> threading.Event:
        with self.lock:
            return self.arrived.setdefault(execution_id, threading.Event())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10)
    parser.add_argument("--size", type=int, default=20)
    args = parser.parse_args()
    receiver = Receiver()
    with tempfile.TemporaryDirectory() as root:
        (Path(root) / "runs").mkdir()
        env = {"LIVECODE_DATA_DIR": f"{root}/data", "LIVECODE_WORK_ROOT": f"{root}/runs",
               "LIVECODE_CALLBACK_ALLOW_NETWORKS": "127.0.0.0/8"}
        key = subprocess.run(
            [sys.executable, "-m", "livecode.cli", "keys", "create", "--name", "bench",
             "--quota", "writes_per_second=0", "--quota", "runs_per_minute=0",
             "--quota", "active_runs=0"], env={**__import__("os").environ, **env},
            capture_output=True, text=True, check=True).stdout.strip()
        process = LivecodeProcess(["serve", "--port", "0"], env, Path(root) / "serve.log")
        try:
            api = ApiClient(process.url(timeout=60), token=key, timeout=60)
            pending = []

            def settle():
                if pending:
                    wait_all(api, pending)
                    pending.clear()

            figures = medians_ms(actions(api, receiver, args.size, pending), args.n, settle)
        finally:
            process.stop()
            receiver.server.shutdown()
    print(json.dumps({
        **figures, "size": args.size,
        "batch_ratio": round(figures["batch"] / figures["singles"], 2),
        "queue_batch_ratio": round(figures["queue_batch"] / figures["queue_singles"], 2),
        "callback_one_ratio": round(figures["callback_one"] / figures["poll_one"], 2)}))


def wait_all(api, ids: list[str], cap: int = 20) -> None:
    for start in range(0, len(ids), cap):
        chunk = ids[start:start + cap]
        while True:
            runs = api.get("/executions", {"ids": ",".join(chunk)})["executions"]
            if len(runs) == len(chunk) and all(run["status"] in ENDED for run in runs):
                break
            time.sleep(0.001)


def actions(api, receiver: Receiver, size: int, pending: list) -> dict:
    def submit_singles():
        return [api.post("/submit-code", {"code": SOURCE})["jobId"] for _ in range(size)]

    def submit_batch():
        return [q["execution_id"] for q in api.post(
            "/executions/batch", {"runs": [{"code": SOURCE}] * size})["executions"]]

    def singles():
        for job in submit_singles():
            api.wait(job, interval=0.001)

    def batch():
        wait_all(api, submit_batch())

    def queue_singles():
        pending.extend(submit_singles())  # settle() waits for them, untimed

    def queue_batch():
        pending.extend(submit_batch())

    def poll_one():
        api.wait(api.post("/submit-code", {"code": SOURCE})["jobId"], interval=0.001)

    def callback_one():
        job = api.post("/submit-code", {"code": SOURCE, "callback_url": receiver.url})["jobId"]
        assert receiver.event(job).wait(60), "no callback"

    return {"singles": singles, "batch": batch, "queue_singles": queue_singles,
            "queue_batch": queue_batch, "poll_one": poll_one, "callback_one": callback_one}


if __name__ == "__main__":
    main()
