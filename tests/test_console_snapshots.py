"""Snapshots of every console view at 80x24 and 160x48, with time frozen: a real ``livecode api``
serves a store filled with fixed runs and workers, and the console's clock is pinned to a moment
among them, so every age, window and percentile is the same on every run.

Update after an intended change with ``pytest tests/test_console_snapshots.py --snapshot-update``
and look at the SVGs it writes before committing them."""

import time
from datetime import datetime, timezone

import pytest

from textual.widgets import DataTable

from conftest import IN_CI, REDIS_URL
from livecode.console.app import LivecodeConsole
from livecode.console.views import DetailView, HelpView
from livecode.client import ApiClient
from livecode.core.execution_states import Status
from livecode.core.limits import Limits
from livecode.core.models import CodeSession, Execution, WorkerInfo, with_derived
from livecode.plugins.sqlite_store import SQLiteStore

pytestmark = [pytest.mark.slow, pytest.mark.redis]

NOW = datetime(2026, 3, 2, 12, 0, 0, tzinfo=timezone.utc)
SIZES = [(80, 24), (160, 48)]


def at(seconds_before: float) -> str:
    moment = NOW.timestamp() - seconds_before
    return datetime.fromtimestamp(moment, timezone.utc).isoformat(
        timespec="milliseconds").replace("+00:00", "Z")


RUNS = [  # (source, status, created s before NOW, waited s, ran ms, exit, stdout, stderr, worker)
    ("print('hello')", "COMPLETED", 250, 0.012, 11.4, 0, "hello\n", "", "w1"),
    ("import time; time.sleep(2)", "COMPLETED", 200, 0.020, 2004.0, 0, "", "", "w2"),
    ("raise ValueError('bad input')", "FAILED", 150, 0.015, 25.0, 1, "",
     "Traceback (most recent call last):\n  File \"/tmp/box/main.py\", line 1\n"
     "ValueError: bad input\n", "w1"),
    ("x = bytearray(10**10)", "FAILED", 120, 0.030, 30.0, 1, "", "MemoryError\n", "w2"),
    ("raise ValueError('bad input')", "FAILED", 90, 0.010, 24.0, 1, "",
     "ValueError: bad input\n", "w1"),
    ("while True: pass", "TIMEOUT", 60, 0.011, 5003.0, None, "", "", "w2"),
    ("import time; time.sleep(30)", "RUNNING", 8, 0.050, None, None, "", "", "w1"),
    ("print(input())", "QUEUED", 3, None, None, None, "", "", None),
]


@pytest.fixture(scope="module")
def frozen_api(tmp_path_factory, request):
    root = tmp_path_factory.mktemp("frozen")
    store = SQLiteStore(str(root / "frozen.db"))
    for number, (source, status, before, waited, ran, exit_code, out, err, worker) in \
            enumerate(RUNS, start=1):
        session = CodeSession(f"5e55{number:04d}-0000-4000-8000-000000000000", "python", source,
                              at(before), at(before))
        store.create_session(session)
        started = at(before - waited) if waited is not None else None
        finished = at(before - waited - ran / 1000) if ran is not None else None
        worker_id = f"host-a:{100 + int(worker[1])}:{worker}" if worker else None
        execution = Execution(
            execution_id=f"e0{number:06d}-0000-4000-8000-000000000000",
            session_id=session.session_id, language="python", source_code=source, stdin="",
            limits=Limits(), status=Status(status), created_at=at(before),
            session_revision=1, started_at=started,
            finished_at=finished if status not in ("RUNNING", "QUEUED") else None,
            exit_code=exit_code, execution_time_ms=ran,
            # outputs with their sizes and signature, as the service stores them
            **with_derived({"stdout": out, "stderr": err, "reason": {
                "FAILED": "nonzero_exit", "TIMEOUT": "wall_time_limit"}.get(status)}, status),
            sandbox="subprocess" if worker else None, worker_id=worker_id,
            attempts=1 if worker else 0)
        store.create_execution(execution)
    for name, beat, state, current in (("w1", 1, "busy", ["e0000007"]), ("w2", 40, "idle", [])):
        store.save_worker(WorkerInfo(
            worker_id=f"host-a:{100 + int(name[1])}:{name}", host="host-a",
            pid=100 + int(name[1]), queue="livecode.executions", concurrency=2,
            sandboxes=["subprocess"], started_at=at(3600), last_heartbeat=at(beat), state=state,
            current=current, completed=3, failed=2, timed_out=1))
    store.close()
    start = request.getfixturevalue("start_livecode")
    # An API alone needs a queue shared between processes: the real Redis, on a queue of its
    # own that no worker consumes and nothing publishes to (its name is in the pictures).
    queue = "livecode.frozen"
    api = start("api", "--port", "0", "--processes", "1",
                LIVECODE_STORE=f"sqlite:///{root}/frozen.db", LIVECODE_DATA_DIR=str(root),
                LIVECODE_QUEUE=redis_url_for_module(), LIVECODE_QUEUE_NAME=queue)
    yield ApiClient(api.url(), timeout=30)
    import redis

    redis.Redis.from_url(REDIS_URL).delete(queue)


def redis_url_for_module() -> str:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        message = f"Redis is not reachable at {REDIS_URL}: {exc}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return REDIS_URL


@pytest.fixture(scope="module")
def start_livecode(tmp_path_factory):
    from livecode.testing import LivecodeProcess, stop_all

    started = []

    def start(*args, **env):
        process = LivecodeProcess(list(args), env,
                                  tmp_path_factory.mktemp("logs") / "livecode.log")
        started.append(process)
        return process

    yield start
    stop_all(started)


def frozen_console(http) -> LivecodeConsole:
    return LivecodeConsole(ApiClient(http.url), interval=3600, clock=lambda: NOW,
                           label="frozen deployment")


def has_data(screen) -> bool:
    """Whether a view shows what its first refresh brought (public state only)."""
    if isinstance(screen, HelpView):
        return has_data(screen.app.screen_stack[-2])
    if isinstance(screen, DetailView):
        return screen.shown is not None
    tables = screen.query(DataTable)
    return bool(tables) and tables.first().row_count > 0


def settle(app, *keys):
    async def run_before(pilot):
        for key in keys:
            await pilot.press(key)
        deadline = time.monotonic() + 20
        while not has_data(app.screen) or app.in_flight or app.wanted_again:
            assert time.monotonic() < deadline, "the view got no data"
            await pilot.pause(0.05)
        await pilot.pause(0.3)
    return run_before


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("view,keys", [
    ("overview", ()), ("executions", ("2",)), ("detail", ("2", "j", "j", "enter")),
    ("workers", ("3",)), ("failures", ("4",)), ("help", ("2", "question_mark")),
])
def test_view_snapshot(snap_compare, frozen_api, view, keys, size):
    app = frozen_console(frozen_api)
    assert snap_compare(app, terminal_size=size, run_before=settle(app, *keys))


def test_the_readme_pictures_are_the_current_snapshots():
    """docs/console/*.svg (shown in the README) are copies of the 160x48 snapshots."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    snapshots = root / "tests" / "__snapshots__" / "test_console_snapshots"
    for number, view in enumerate(("overview", "executions", "detail", "workers", "failures")):
        snapshot = snapshots / f"test_view_snapshot[{view}-keys{number}-160x48].svg"
        assert (root / "docs" / "console" / f"{view}.svg").read_bytes() == \
            snapshot.read_bytes(), f"copy {snapshot.name} to docs/console/{view}.svg"
