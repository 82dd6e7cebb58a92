"""What a hello-world run costs, against bare interpreter spawns measured in the same run.

    .venv/bin/python bench/hello_world.py [--n 50]

Starts ``livecode serve`` on embedded defaults in a temporary directory, then measures, as
medians over ``--n`` rounds in which each action runs once (interleaved, so drift on a shared
machine hits all alike): a bare ``python3 -I -c`` spawn of the real interpreter (the baseline), a
bare spawn of exactly the command the Python runner uses, one ``Sandbox.run``, and the full HTTP
round trip a frontend sees (run, then poll every millisecond until COMPLETED). Prints one JSON line
with each figure and its ratio to the baseline; only the ratios compare between runs.
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from conftest import Http  # noqa: E402  (the tests' real-HTTP client)

from livecode.core.config import Settings  # noqa: E402
from livecode.core.plugins import Plugins  # noqa: E402

HELLO = 'print("Hello World")'


def medians_ms(actions: dict, n: int) -> dict:
    samples = {name: [] for name in actions}
    for name, action in actions.items():
        action()  # warm caches once
    for _ in range(n):
        for name, action in actions.items():
            started = time.perf_counter()
            action()
            samples[name].append((time.perf_counter() - started) * 1000)
    return {name: round(statistics.median(values), 2) for name, values in samples.items()}


def start_server(tmp: str) -> tuple[subprocess.Popen, str]:
    log = open(os.path.join(tmp, "serve.log"), "w+")
    env = {**os.environ, "LIVECODE_DATA_DIR": tmp, "LIVECODE_CONCURRENCY": "2"}
    proc = subprocess.Popen([sys.executable, "-m", "livecode.cli", "serve", "--port", "0"],
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        match = re.search(r"listening on (http://\S+)", Path(log.name).read_text())
        if match:
            return proc, match.group(1)
        time.sleep(0.05)
    proc.kill()
    raise SystemExit(f"livecode serve did not start:\n{Path(log.name).read_text()}")


def round_trip(http: Http, sid: str) -> None:
    status, queued = http.call("POST", f"/code-sessions/{sid}/run")
    assert status == 202, queued
    while True:
        status, body = http.call("GET", f"/executions/{queued['execution_id']}")
        if body["status"] in ("COMPLETED", "FAILED", "TIMEOUT", "CANCELLED"):
            assert body["stdout"] == "Hello World\n", body
            return
        time.sleep(0.001)


def hello_parts(data_dir: str):
    """Settings on ``data_dir``, the loaded plugins, the Python runner and the hello program."""
    settings = Settings.from_env({"LIVECODE_DATA_DIR": data_dir})
    plugins = Plugins(settings)
    runner = plugins.languages["python"]
    return settings, plugins, runner, runner.build(HELLO)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=50)
    n = parser.parse_args().n
    with tempfile.TemporaryDirectory() as tmp:
        settings, plugins, runner, program = hello_parts(tmp)
        sandbox = plugins.create_sandbox(settings.sandbox)
        main_py = Path(tmp, "main.py")
        main_py.write_text(HELLO)
        same_command = [runner.interpreter, *runner.flags, str(main_py)]

        proc, url = start_server(tmp)
        try:
            http = Http(url)
            sid = http.call("POST", "/code-sessions", {"source_code": HELLO})[1]["session_id"]
            figures = medians_ms({
                "bare_python3_I_c_ms": lambda: subprocess.run(
                    [runner.interpreter, "-I", "-c", HELLO], capture_output=True),
                "bare_runner_command_ms": lambda: subprocess.run(same_command, capture_output=True),
                "sandbox_run_ms": lambda: sandbox.run(program, b"", settings.limits),
                "http_round_trip_ms": lambda: round_trip(http, sid),
            }, n)
        finally:
            proc.terminate()
            proc.wait(30)
    base = figures["bare_python3_I_c_ms"]
    ratios = {k.replace("_ms", "_ratio"): round(v / base, 3) for k, v in figures.items()}
    print(json.dumps({"n": n, **figures, **ratios,
                      "overhead_over_runner_command_ms": round(
                          figures["http_round_trip_ms"] - figures["bare_runner_command_ms"], 2)}))


if __name__ == "__main__":
    main()
