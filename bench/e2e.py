"""End-to-end hello world through the real API, each way a run can start, against bare
interpreter spawns measured in the same run, as ratios (issue 12's targets).

    .venv/bin/python bench/e2e.py [--rounds 2] [--latency 30] [--runs 200] [--clients 8]
                                  [--driver ../shared/tools/e2e_load.py]

For each round: the load driver's ``baseline`` (bare ``python3 -I -c`` and ``-I -S -c`` spawns of
the interpreter Python programs run on, one at a time and two at a time; the ratios are against
it), and the same baseline run as issue 12's table was, by the ``python3`` on PATH
(``baseline_python3_on_path``: on these machines a pyenv build whose site imports certifi
through a ``.pth`` file, 25 ms of its 35 ms ``-I`` start, so its ``spawn_per_s_2way`` is a
quarter of the other's; ``*_vs_python3_on_path`` are the ratios against it), then for each start
path a fresh ``livecode serve`` (SQLite store, in-process queue, subprocess sandbox with every
protection, ``LIVECODE_SANDBOX_STRICT=1``) warmed up until ``/health`` names that path, and the
driver's ``latency`` (``--latency`` runs one after another) and ``throughput`` (``--runs`` from
``--clients`` clients). The paths: ``in-process`` (the default: the program runs in the warm
interpreter), ``fork-server`` (jails forked, programs exec'd) and ``spawn`` (every jail a fresh
interpreter). Prints one JSON line per round and a summary with medians over rounds and the
ratios: e2e p50 ÷ ``spawn_nosite_p50_ms`` (target ≤ 0.5) and runs/s ÷ ``spawn_per_s_2way``
(target ≥ 4).
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from livecode.client import ApiClient
from livecode.plugins.python_runner import default_interpreter
from livecode.testing import LivecodeProcess

ROOT = Path(__file__).resolve().parents[1]
PATHS = {"in-process": {}, "fork-server": {"LIVECODE_SANDBOX_IN_PROCESS": "0"},
         "spawn": {"LIVECODE_SANDBOX_FORK_SERVER": "0"}}


def drive(driver: Path, *args: str, interpreter: str | None = None) -> dict:
    out = subprocess.run([interpreter or default_interpreter(), str(driver), *args],
                         capture_output=True, text=True, check=True, timeout=900)
    return json.loads(out.stdout.strip().splitlines()[-1])


def python3_on_path() -> str:
    """The interpreter ``python3`` starts, past any pyenv shim (a shell script)."""
    return subprocess.run(["python3", "-c", "import sys; print(sys.executable)"],
                          capture_output=True, text=True, check=True).stdout.strip()


def serve(tmp: Path, path: str, concurrency: int) -> LivecodeProcess:
    env = {"LIVECODE_DATA_DIR": str(tmp / "data"), "LIVECODE_WORK_ROOT": str(tmp / "runs"),
           "LIVECODE_SANDBOX": "subprocess", "LIVECODE_SANDBOX_STRICT": "1",
           "LIVECODE_CONCURRENCY": str(concurrency), **PATHS[path]}
    for sub in ("data", "runs"):
        (tmp / sub).mkdir(parents=True, exist_ok=True)
    return LivecodeProcess(["serve", "--port", "0"], env, tmp / "serve.log")


def warm_up(http: ApiClient, path: str) -> None:
    """Runs until /health names the path (the first runs start the fork-servers)."""
    sid = http.post("/code-sessions", {"source_code": 'print("Hello World")'})["session_id"]
    deadline = time.monotonic() + 60
    while http.get("/health")["sandboxes"]["subprocess"].get("start_path") != path:
        if time.monotonic() > deadline:
            raise RuntimeError(f"/health never said {path}")
        http.wait(http.post(f"/sessions/{sid}/run")["execution_id"], timeout=30)
        time.sleep(0.1)


def measure(driver: Path, path: str, args) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        process = serve(Path(tmp), path, args.concurrency)
        try:
            url = process.url(timeout=60)
            warm_up(ApiClient(url, timeout=30), path)
            latency = drive(driver, "--url", url, "latency", "--n", str(args.latency))
            throughput = drive(driver, "--url", url, "throughput", "--n", str(args.runs),
                               "--clients", str(args.clients))
        finally:
            process.stop()
    return {"p50_ms": latency["p50_ms"], "p95_ms": latency["p95_ms"],
            "runs_per_s": throughput["runs_per_s"],
            "wrong": latency["wrong"] + (throughput["n"] - throughput["ok"])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--latency", type=int, default=30)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--driver", type=Path, default=ROOT.parent / "shared/tools/e2e_load.py")
    args = parser.parse_args()
    if not args.driver.exists():
        sys.exit(f"no load driver at {args.driver} (--driver PATH)")
    rounds = []
    for _ in range(args.rounds):
        found = {"baseline": drive(args.driver, "baseline", "--n", str(args.latency)),
                 "baseline_python3_on_path": drive(args.driver, "baseline", "--n",
                                                   str(args.latency),
                                                   interpreter=python3_on_path())}
        for path in PATHS:
            found[path] = measure(args.driver, path, args)
        print(json.dumps(found), flush=True)
        rounds.append(found)

    def median(*keys):
        values = []
        for found in rounds:
            value = found
            for key in keys:
                value = value[key]
            values.append(value)
        return round(statistics.median(values), 2)

    summary = {name: {key: median(name, key) for key in (
        "spawn_p50_ms", "spawn_nosite_p50_ms", "spawn_per_s_2way")}
        for name in ("baseline", "baseline_python3_on_path")}
    on_path = summary["baseline_python3_on_path"]
    for path in PATHS:
        figures = {key: median(path, key) for key in ("p50_ms", "p95_ms", "runs_per_s")}
        figures["p50_vs_spawn_nosite"] = round(
            figures["p50_ms"] / summary["baseline"]["spawn_nosite_p50_ms"], 3)
        figures["runs_per_s_vs_spawn_2way"] = round(
            figures["runs_per_s"] / summary["baseline"]["spawn_per_s_2way"], 3)
        figures["p50_vs_python3_on_path"] = round(
            figures["p50_ms"] / on_path["spawn_nosite_p50_ms"], 3)
        figures["runs_per_s_vs_python3_on_path"] = round(
            figures["runs_per_s"] / on_path["spawn_per_s_2way"], 3)
        figures["wrong"] = sum(found[path]["wrong"] for found in rounds)
        summary[path] = figures
    print(json.dumps({"summary": summary}))


if __name__ == "__main__":
    main()
