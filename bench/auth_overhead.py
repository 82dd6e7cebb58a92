"""What API keys and quotas add to each request, against the same app without keys.

    .venv/bin/python bench/auth_overhead.py [--n 2000] [--redis redis://127.0.0.1:6379/15]

Two apps over two SQLite stores, called in-process through Falcon's WSGI test client (no network
noise, so the difference is the middleware's own): one without keys on loopback (every request
is the local admin: no key lookup, no quota), one where every request brings a client key whose
quotas are counted but never reached (key lookup and hash compare on every request; a
writes-per-second counter on writes, in the store, or in Redis with ``--redis``). Requests
alternate between the two apps, so both see the same machine. Prints one JSON line: median
microseconds per request for a read (GET /executions/{id}) and a write (PATCH of a session),
off, on, and on/off.
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--redis", help="count quotas in this Redis (its queue URL)")
    args = parser.parse_args()
    queue = args.redis or "memory://"
    with tempfile.TemporaryDirectory() as tmp:
        apps = {"off": app_for(Path(tmp) / "off", queue, False),
                "on": app_for(Path(tmp) / "on", queue, True)}
        times = {(mode, kind): [] for mode in apps for kind in ("read", "write")}
        for i in range(args.n):
            for mode, (_, client, headers, sid, eid) in apps.items():
                for kind in ("read", "write"):
                    started = time.perf_counter()
                    if kind == "read":
                        result = client.simulate_get(f"/executions/{eid}", headers=headers)
                    else:
                        result = client.simulate_patch(f"/code-sessions/{sid}",
                                                       json={"source_code": str(i)},
                                                       headers=headers)
                    times[mode, kind].append(time.perf_counter() - started)
                    assert result.status_code == 200, result.text
        for livecode, *_ in apps.values():
            livecode.close()
    report = {"n": args.n, "quota_counters": "redis" if args.redis else "store (sqlite)"}
    for kind in ("read", "write"):
        off, on = (statistics.median(times[m, kind]) * 1e6 for m in ("off", "on"))
        report[kind] = {"off_us": round(off), "on_us": round(on), "on/off": round(on / off, 2),
                        "added_us": round(on - off)}
    print(json.dumps(report))


if __name__ == "__main__":
    main()
