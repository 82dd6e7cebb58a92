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
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from livecode.client import ApiClient
from livecode.core.config import Settings
from livecode.core.plugins import Plugins
from livecode.testing import LivecodeProcess

HELLO = 'print("Hello World")'


def medians_ms(actions: dict, n: int, settle=None) -> dict:
    """Median milliseconds of each action over ``n`` interleaved rounds; ``settle()``, when
    given, runs untimed before each action (to let background work from the last one end)."""
    samples = {name: [] for name in actions}
    for name, action in actions.items():
        action()  # warm caches once
    for _ in range(n):
        for name, action in actions.items():
            if settle is not None:
                settle()
            started = time.perf_counter()
            action()
            samples[name].append((time.perf_counter() - started) * 1000)
    return {name: round(statistics.median(values), 2) for name, values in samples.items()}


def round_trip(http: ApiClient, sid: str) -> None:
    queued = http.post(f"/code-sessions/{sid}/run")
    done = http.wait(queued["execution_id"])
    assert done["stdout"] == "Hello World\n", done


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

        server = LivecodeProcess(["serve", "--port", "0"],
                                 {"LIVECODE_DATA_DIR": tmp, "LIVECODE_CONCURRENCY": "2"},
                                 Path(tmp, "serve.log"))
        try:
            http = ApiClient(server.url(), timeout=30)
            sid = http.post("/code-sessions", {"source_code": HELLO})["session_id"]
            figures = medians_ms({
                "bare_python3_I_c_ms": lambda: subprocess.run(
                    [runner.interpreter, "-I", "-c", HELLO], capture_output=True),
                "bare_runner_command_ms": lambda: subprocess.run(same_command, capture_output=True),
                "sandbox_run_ms": lambda: sandbox.run(program, b"", settings.limits),
                "http_round_trip_ms": lambda: round_trip(http, sid),
            }, n)
        finally:
            server.stop()
    base = figures["bare_python3_I_c_ms"]
    ratios = {k.replace("_ms", "_ratio"): round(v / base, 3) for k, v in figures.items()}
    print(json.dumps({"n": n, **figures, **ratios,
                      "overhead_over_runner_command_ms": round(
                          figures["http_round_trip_ms"] - figures["bare_runner_command_ms"], 2)}))


if __name__ == "__main__":
    main()
