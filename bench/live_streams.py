"""Many clients following runs on one API process, and how fast a program's print reaches one.

    .venv/bin/python bench/live_streams.py [--streams 1000] [--requests 300] [--latency 20]

Starts ``livecode api`` (one process) over the real Redis with a SQLite store and no worker, so
its runs stay QUEUED and every stream stays open and idle. Measures, in one run:

- normal requests (``GET /executions/{id}`` and ``GET /health``, one after another) with no
  stream open: the baseline, then with ``--streams`` Server-Sent Event streams open on real TCP
  connections: p50/p99 and their ratio to the baseline;
- the API process's resident memory before and with the streams, and its CPU over an idle
  window with them open (``/proc``);
- then starts a ``livecode worker`` and measures, ``--latency`` times, the time from a
  program's ``print`` (its ``time.time()``, same host clock) to the stdout event reaching a
  client: through Redis (``api`` + ``worker``) and in-process (``livecode serve``).

Prints one JSON object. ``tests/test_many_streams.py`` runs it and checks its figures.
"""

import argparse
import asyncio
import json
import os
import resource
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from livecode.testing import LivecodeProcess, stop_all

REDIS_URL = os.environ.get("LIVECODE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


async def open_stream(host, port, path, opened: asyncio.Event | None = None):
    """One SSE stream on its own connection; returns once its first event has arrived, and
    keeps the connection (reader, writer)."""
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\n\r\n"
                 .encode())
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    if b" 200 " not in head.split(b"\r\n", 1)[0]:
        raise RuntimeError(head.decode(errors="replace"))
    await reader.readuntil(b"\n\n")  # the first event: the run's state
    return reader, writer


async def open_streams(url, paths, concurrency=100):
    parts = urlsplit(url)
    gate = asyncio.Semaphore(concurrency)

    async def one(path):
        async with gate:
            return await open_stream(parts.hostname, parts.port, path)

    return await asyncio.gather(*(one(p) for p in paths), return_exceptions=True)


def request_latencies(url, paths, n) -> list[float]:
    took = []
    with httpx.Client(base_url=url, timeout=30) as client:
        for i in range(n):
            started = time.perf_counter()
            answer = client.get(paths[i % len(paths)])
            took.append((time.perf_counter() - started) * 1000)
            answer.raise_for_status()
    return took


def percentiles(values) -> dict:
    values = sorted(values)
    return {"p50_ms": round(statistics.median(values), 2),
            "p99_ms": round(values[min(len(values) - 1, int(len(values) * 0.99))], 2)}


def api_worker_pid(master_pid: int) -> int:
    """gunicorn's one worker process under the master."""
    for task in os.listdir(f"/proc/{master_pid}/task"):
        children = Path(f"/proc/{master_pid}/task/{task}/children").read_text().split()
        if children:
            return int(children[0])
    raise RuntimeError("no API worker process")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def print_to_event_ms(url: str, n: int) -> dict:
    """The time from a program's print to its stdout event reaching this client."""
    code = "import time\ntime.sleep(0.3)\nprint(repr(time.time()), flush=True)\ntime.sleep(0.2)\n"
    took = []
    with httpx.Client(base_url=url, timeout=60) as client:
        for _ in range(n):
            job = client.post("/submit-code", json={"code": code}).json()["jobId"]
            with client.stream("GET", f"/executions/{job}/events") as stream:
                name = None
                for line in stream.iter_lines():
                    if line.startswith("event: "):
                        name = line[7:]
                    elif line.startswith("data: ") and name == "stdout":
                        arrived = time.time()
                        printed = float(json.loads(line[6:])["data"].split()[0])
                        took.append((arrived - printed) * 1000)
                        break
    return percentiles(took)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--latency", type=int, default=20)
    parser.add_argument("--idle-seconds", type=float, default=20.0)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)  # a descriptor per stream
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, args.streams + 512)), hard))
    root = Path(tempfile.mkdtemp(prefix="livecode-streams-"))
    (root / "runs").mkdir()
    env = {"LIVECODE_DATA_DIR": str(root / "data"), "LIVECODE_WORK_ROOT": str(root / "runs"),
           "LIVECODE_STORE": f"sqlite:///{root}/shared.db", "LIVECODE_QUEUE": REDIS_URL,
           "LIVECODE_QUEUE_NAME": f"streams-{uuid.uuid4().hex[:8]}"}
    started = []
    try:
        api = LivecodeProcess(["api", "--port", "0", "--processes", "1"], env, root / "api.log")
        started.append(api)
        url = api.url(timeout=60)
        with httpx.Client(base_url=url, timeout=30) as client:
            runs = [client.post("/submit-code", json={"code": "print('queued')"}).json()["jobId"]
                    for _ in range(50)]
        normal = [f"/executions/{runs[0]}", "/health"]
        request_latencies(url, normal, 30)  # warm
        baseline = percentiles(request_latencies(url, normal, args.requests))
        pid = api_worker_pid(api.proc.pid)
        rss_before = rss_mib(pid)
        loop = asyncio.new_event_loop()
        opening = time.perf_counter()
        streams = loop.run_until_complete(open_streams(
            url, [f"/executions/{runs[i % len(runs)]}/events" for i in range(args.streams)]))
        opened_in = time.perf_counter() - opening
        failed = [s for s in streams if isinstance(s, BaseException)]
        cpu_start = cpu_seconds(pid)
        loop.run_until_complete(asyncio.sleep(args.idle_seconds))
        idle_cpu = (cpu_seconds(pid) - cpu_start) / args.idle_seconds
        rss_with = rss_mib(pid)
        with_streams = percentiles(request_latencies(url, normal, args.requests))
        for s in streams:
            if not isinstance(s, BaseException):
                s[1].close()
        loop.close()
        worker = LivecodeProcess(["worker", "--concurrency", "2"], env, root / "worker.log")
        started.append(worker)
        worker.wait_for("consuming", 60)
        via_redis = print_to_event_ms(url, args.latency)
        stop_all(started)
        started = []
        serve_env = {k: v for k, v in env.items() if k not in ("LIVECODE_QUEUE",
                                                                "LIVECODE_STORE")}
        serve = LivecodeProcess(["serve", "--port", "0"], serve_env, root / "serve.log")
        started.append(serve)
        in_process = print_to_event_ms(serve.url(timeout=60), args.latency)
    finally:
        stop_all(started)
    print(json.dumps({
        "streams": args.streams, "streams_open": args.streams - len(failed),
        "stream_errors": sorted({repr(e)[:120] for e in failed})[:3],
        "opened_in_s": round(opened_in, 2),
        "requests_no_streams": baseline, "requests_with_streams": with_streams,
        "p99_ratio": round(with_streams["p99_ms"] / baseline["p99_ms"], 2),
        "api_rss_mib": {"before": rss_before, "with_streams": rss_with,
                        "per_stream_kib": round((rss_with - rss_before) * 1024
                                                / max(1, args.streams), 1)},
        "api_cpu_idle_with_streams_percent": round(idle_cpu * 100, 2),
        "print_to_event_ms": {"api+worker over redis": via_redis, "serve": in_process},
        "load": os.getloadavg()[0],
    }, indent=1))


if __name__ == "__main__":
    sys.exit(main())
