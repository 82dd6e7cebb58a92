"""What API keys and quotas add to each request, against the same app without keys.

    .venv/bin/python bench/auth_overhead.py [--n 2000] [--redis redis://127.0.0.1:6379/15]

Three apps, each over its own SQLite store, called in-process through Falcon's WSGI test client
(no network noise, so the difference is the middleware's own): ``off``, without keys on loopback
(every request is the local admin: no key lookup, no quota); ``store``, where every request
brings a client key whose quotas are counted but never reached (key lookup and hash compare on
every request; a writes-per-second counter on writes) with the counters in the store; and
``redis``, the same with the counters in Redis (left out when Redis does not answer). Requests
alternate between the apps, so all see the same machine. Prints one JSON line: median
microseconds per request for a read (GET /executions/{id}) and a write (PATCH of a session), and
each app's ratio to ``off``, with and without the time the request waited for a CPU.

It also prints the median time each request spent waiting for a CPU (``run_delay``, from
``/proc/thread-self/schedstat``) and Redis's own wait per command: a Redis counter is a round trip
to another process, so on a loaded machine each one costs two wake-ups behind the other
runnable tasks, while a store counter stays in the process. That, not Redis, is what made the
Redis counters look slow (several ms) on a shared 2-core machine.
"""

import argparse
import json
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import falcon.testing

from livecode.api.app import create_app
from livecode.api import keys
from livecode.core.config import Settings
from livecode.core.service import Livecode


def app_for(root: Path, queue: str, with_key: bool):
    settings = Settings.from_env({
        "LIVECODE_DATA_DIR": str(root), "LIVECODE_QUEUE": queue,
        "LIVECODE_QUEUE_NAME": f"bench-{uuid.uuid4().hex[:8]}"})
    livecode = Livecode.open(settings)
    headers = {}
    if with_key:
        secret = keys.issue(livecode.store, "bench", "client",
                            {"writes_per_second": 10**9, "runs_per_minute": 10**9})[1]
        headers = {"Authorization": f"Bearer {secret}"}
    client = falcon.testing.TestClient(create_app(livecode))
    sid = client.simulate_post("/code-sessions", json={"source_code": "1"},
                               headers=headers).json["session_id"]
    eid = client.simulate_post(f"/code-sessions/{sid}/run", headers=headers).json["execution_id"]
    return livecode, client, headers, sid, eid


def run_delay(path: str = "/proc/thread-self/schedstat") -> float:
    """Seconds the thread (or process) has waited runnable for a CPU, so far."""
    return int(Path(path).read_text().split()[1]) / 1e9


def served(times: list[float], waits: list[float]) -> list[float]:
    """Each request's time less what it spent waiting for a CPU."""
    return [taken - waited for taken, waited in zip(times, waits)]


def redis_process(url: str):
    """Redis's schedstat path and its command count, if Redis answers and runs on this host."""
    import redis

    try:
        info = redis.Redis.from_url(url, socket_connect_timeout=1).info()
    except redis.RedisError:
        return None
    path = Path(f"/proc/{info['process_id']}/schedstat")
    return (path, redis.Redis.from_url(url)) if path.exists() else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/15",
                        help="count the redis app's quotas in this Redis (its queue URL)")
    args = parser.parse_args()
    server = redis_process(args.redis)
    with tempfile.TemporaryDirectory() as tmp:
        apps = {"off": app_for(Path(tmp) / "off", "memory://", False),
                "store": app_for(Path(tmp) / "store", "memory://", True)}
        if server:
            apps["redis"] = app_for(Path(tmp) / "redis", args.redis, True)
            redis_delay = run_delay(str(server[0]))
            redis_commands = server[1].info("stats")["total_commands_processed"]
        times = {(mode, kind): [] for mode in apps for kind in ("read", "write")}
        waits = {(mode, kind): [] for mode in apps for kind in ("read", "write")}
        for i in range(args.n):
            for mode, (_, client, headers, sid, eid) in apps.items():
                for kind in ("read", "write"):
                    waited, started = run_delay(), time.perf_counter()
                    if kind == "read":
                        result = client.simulate_get(f"/executions/{eid}", headers=headers)
                    else:
                        result = client.simulate_patch(f"/code-sessions/{sid}",
                                                       json={"source_code": str(i)},
                                                       headers=headers)
                    times[mode, kind].append(time.perf_counter() - started)
                    waits[mode, kind].append(run_delay() - waited)
                    assert result.status_code == 200, result.text
        if server:
            commands = server[1].info("stats")["total_commands_processed"] - redis_commands
            redis_wait = (run_delay(str(server[0])) - redis_delay) / max(commands, 1)
        for livecode, *_ in apps.values():
            livecode.close()
    report = {"n": args.n, "quota_counters": {"store": "sqlite", "redis": args.redis}}
    for kind in ("read", "write"):
        off = statistics.median(times["off", kind])
        off_served = statistics.median(served(times["off", kind], waits["off", kind]))
        report[kind] = {}
        for mode in apps:
            taken = statistics.median(times[mode, kind])
            without_wait = statistics.median(served(times[mode, kind], waits[mode, kind]))
            report[kind][mode] = {
                "us": round(taken * 1e6), "on/off": round(taken / off, 2),
                "us_mean": round(statistics.mean(times[mode, kind]) * 1e6),
                "cpu_wait_us_mean": round(statistics.mean(waits[mode, kind]) * 1e6),
                "us_without_cpu_wait": round(without_wait * 1e6),
                "on/off_without_cpu_wait": round(without_wait / off_served, 2)}
    if server:
        # Every client of the shared Redis counts here, not only this bench: a mean.
        report["redis_server_cpu_wait_us_per_command"] = round(redis_wait * 1e6)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
