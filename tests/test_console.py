"""The console driven with Textual's pilot against a real ``livecode serve`` with real runs (or a
real ``livecode api`` with no worker, where runs must stay QUEUED), and run as a command in a real
pseudo-terminal for what only a terminal shows: exit statuses and refusing to start."""

import asyncio
import time

import pytest
from textual.notifications import Notify
from textual.widgets import DataTable
from textual.widgets._footer import FooterKey

from livecode.client import ApiClient
from livecode.console import formatting as fmt
from livecode.console.app import Fetched, LivecodeConsole
from livecode.console.query import QueryError, parse
from livecode.console.views import (ConfirmView, DetailView, ExecutionsView, FailuresView,
                                    LiveEvent)

pytestmark = pytest.mark.slow


def test_the_filter_language():
    assert parse('state:FAILED language:python worker:w3 "MemoryError"') == [
        ("status", "FAILED"), ("language", "python"), ("worker", "w3"), ("q", "MemoryError")]
    assert parse('!state:QUEUED !"no such"') == [("status", "!QUEUED"), ("q", "!no such")]
    assert parse("lang:python Traceback") == [("language", "python"), ("q", "Traceback")]
    assert parse("reason:nonzero_exit") == [("reason", "nonzero_exit")]
    for bad in ("colour:red", 'state:', '"unclosed'):
        with pytest.raises(QueryError):
            parse(bad)


def rows(app) -> list[tuple[str, str]]:
    table = app.screen.query_one(DataTable)
    return [(str(table.get_row_at(i)[0]), str(table.get_row_at(i)[3]))
            for i in range(table.row_count)]


def column(app, key) -> list:
    """The cells of one column, top to bottom."""
    table = app.screen.query_one(DataTable)
    return [table.get_cell_at((i, list(table.columns).index(key))) for i in
            range(table.row_count)]


def under_cursor(app) -> str:
    table = app.screen.query_one(DataTable)
    return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value


class Messages:
    """What the console said and did, seen through Textual's message hook."""

    def __init__(self):
        self.notices: list[str] = []
        self.fetched: list[Fetched] = []

    def __call__(self, message):
        if isinstance(message, Notify):
            self.notices.append(message.notification.message)
        elif isinstance(message, Fetched):
            self.fetched.append(message)


def footer_keys(app) -> set[str]:
    return {key.key for key in app.screen.query(FooterKey)}


async def click_header(pilot, app, key) -> None:
    """A real mouse click on a column's header."""
    table = app.screen.query_one(DataTable)
    x = 0
    for column_key, column_ in table.columns.items():
        if column_key.value == key:
            break
        x += column_.get_render_width(table)
    await pilot.click(DataTable, offset=(x + 1, 0))


async def until(pilot, condition, timeout=30, what="condition"):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"no {what} within {timeout}s"
        await pilot.pause(0.1)


def submit(http, code, **extra) -> str:
    status, body = http.call("POST", "/submit-code", {"code": code, **extra})
    assert status == 202, body
    return body["jobId"]


def console(http, allow_actions=False) -> LivecodeConsole:
    return LivecodeConsole(ApiClient(http.url), interval=0.5, allow_actions=allow_actions)


def test_runs_appear_change_state_filter_and_open(serve):
    _, http = serve(LIVECODE_CONCURRENCY="1")

    async def scenario():
        app = console(http)
        async with app.run_test(size=(120, 36)) as pilot:
            await pilot.press("2")
            slow = submit(http, "import time; time.sleep(1.5); print('slow done')")
            await until(pilot, lambda: (slow[:8], "RUNNING") in rows(app) or
                        (slow[:8], "QUEUED") in rows(app), what="the new run")
            await until(pilot, lambda: (slow[:8], "COMPLETED") in rows(app),
                        what="the state change")
            failed = submit(http, "raise ValueError('filter me')")
            await until(pilot, lambda: (failed[:8], "FAILED") in rows(app), what="the failure")
            execution = http.call("GET", f"/executions/{failed}")[1]
            worker_id = execution["worker_id"]
            # The worker id whole: two workers of one host must not look the same.
            assert str(column(app, "worker")[0]) == worker_id
            await pilot.press("slash")
            await pilot.press(*"state:FAILED", "enter")
            await until(pilot, lambda: rows(app) == [(failed[:8], "FAILED")], what="filtering")
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, DetailView) and
                        "filter me" in str(app.screen.query_one("#stderr").render()),
                        what="the detail view")
            timeline = str(app.screen.query_one("#timeline").render())
            assert f"rss {fmt.kib(execution['max_rss_kb'])}  " in timeline + "  "
            await pilot.press("escape")
            assert not isinstance(app.screen, DetailView)

    asyncio.run(scenario())


@pytest.fixture
def api_without_workers(start_livecode, redis_url, tmp_path):
    """``livecode api`` over the real Redis with no worker: runs stay QUEUED as long as a test
    needs them to, however slow the machine."""
    import uuid

    import redis

    queue = f"test-console-{uuid.uuid4().hex[:8]}"
    api = start_livecode("api", "--port", "0", "--processes", "1", LIVECODE_QUEUE=redis_url,
                         LIVECODE_QUEUE_NAME=queue, LIVECODE_DATA_DIR=str(tmp_path / "data"))
    yield ApiClient(api.url(), timeout=30)
    redis.Redis.from_url(redis_url).delete(queue)


@pytest.mark.redis
def test_the_cursor_follows_its_run_and_actions_ask_first(api_without_workers):
    """With new runs arriving on every refresh, the cursor stays on the run the operator chose,
    and x cancels that run, only after a yes."""
    http = api_without_workers
    submit(http, "print('older')")

    async def scenario():
        chosen = submit(http, "print('chosen')")
        messages = Messages()
        app = console(http, allow_actions=True)
        async with app.run_test(size=(120, 36), message_hook=messages) as pilot:
            await pilot.press("2")
            await until(pilot, lambda: (chosen[:8], "QUEUED") in rows(app), what="the run")
            table = app.screen.query_one(DataTable)
            table.move_cursor(row=[r[0] for r in rows(app)].index(chosen[:8]))
            before = len(rows(app))
            for number in range(4):  # newer runs arrive above it, refresh after refresh
                submit(http, f"print({number})")
                count = len(messages.fetched)
                await until(pilot, lambda: len(messages.fetched) > count + 1, what="refreshes")
                assert under_cursor(app) == chosen
            await until(pilot, lambda: len(rows(app)) == before + 4, what="the new runs")
            assert under_cursor(app) == chosen and rows(app)[0][0] != chosen[:8]
            await pilot.press("x")
            assert isinstance(app.screen, ConfirmView)
            assert chosen[:8] in str(app.screen.query_one("#confirm").render())
            await pilot.press("n")  # no: nothing happens
            await pilot.pause(1.0)
            assert http.call("GET", f"/executions/{chosen}")[1]["status"] == "QUEUED"
            await pilot.press("x")
            await pilot.press("y")
            await until(pilot, lambda: (chosen[:8], "CANCELLED") in rows(app),
                        what="the cancel")
            assert f"cancelled {chosen[:8]}" in messages.notices
        # Only the chosen run was cancelled.
        listed = http.call("GET", "/executions?status=CANCELLED")[1]["executions"]
        assert [e["execution_id"] for e in listed] == [chosen]

    asyncio.run(scenario())


@pytest.mark.redis
def test_read_only_offers_no_actions_and_says_why(api_without_workers):
    http = api_without_workers
    waiting = submit(http, "print('waiting')")

    async def scenario(allow):
        messages = Messages()
        app = console(http, allow_actions=allow)
        async with app.run_test(size=(120, 36), message_hook=messages) as pilot:
            await pilot.press("2")
            await until(pilot, lambda: (waiting[:8], "QUEUED") in rows(app), what="the run")
            await until(pilot, lambda: "slash" in footer_keys(app), what="the footer")
            shown = footer_keys(app)
            if not allow:
                await pilot.press("x")
                await pilot.pause(0.5)
                assert not isinstance(app.screen, ConfirmView)
                assert any("read-only" in notice for notice in messages.notices)
                assert "read-only" in app.sub_title
            return shown

    read_only = asyncio.run(scenario(False))
    assert http.call("GET", f"/executions/{waiting}")[1]["status"] == "QUEUED"
    allowed = asyncio.run(scenario(True))
    assert {"x", "R"}.isdisjoint(read_only) and {"x", "R"} <= allowed
    assert "enter" in read_only  # what enter does here is in the footer too


def test_sorting_by_every_column_by_value(serve):
    _, http = serve(LIVECODE_CONCURRENCY="2")
    jobs = [submit(http, code) for code in (
        "print('x' * 3000)", "import time; time.sleep(1.1)", "raise SystemExit(3)",
        "import time; time.sleep(0.2); print('y')", "print(1)")]
    for job in jobs:
        http.wait(job)
    for _ in range(2):  # both slots busy while the test clicks: the next run waits
        submit(http, "import time; time.sleep(12)", wall_time_limit=15)
    submit(http, "print('queued')")

    async def scenario():
        app = console(http)
        async with app.run_test(size=(160, 40)) as pilot:
            await pilot.press("2")
            await until(pilot, lambda: len(rows(app)) == 8 and any(
                s == "RUNNING" for _, s in rows(app)), what="all the runs")
            keys = [key for _, key in ExecutionsView.COLUMNS]
            keys.sort(key=lambda k: k != "state")  # first, while runs still wait and run
            for key in keys:
                for descending in (False, True):
                    await click_header(pilot, app, key)
                    await pilot.pause(0.1)
                    assert app.screen.sort == (key, descending), key
                    keys = [fmt.sort_key(cell) for cell in column(app, key)]
                    known = [k for k in keys if not k[0]]
                    assert known == sorted(known, reverse=descending), (key, column(app, key))
                    if key == "state" and not descending:
                        states = [str(c) for c in column(app, "state")]
                        assert states == sorted(states, key=list(fmt.STATE_STYLES).index)
                        assert states[0] == "QUEUED" and states[-1] == "FAILED", states  # not A-Z
                    if key == "run" and not descending:
                        # 1.1s after the milliseconds, not between them as text would put it
                        runs = [str(c) for c in column(app, "run") if str(c) != "-"]
                        assert runs[-3:][-1].endswith("s") and not runs[-1].endswith("ms")
                    if key == "out" and not descending:
                        assert str(column(app, "out")[-1]).endswith("K")
            assert not app.return_code

    asyncio.run(scenario())


def test_failures_drill_down_to_their_runs_and_back(serve):
    _, http = serve()
    bad_input = [submit(http, "raise ValueError('bad input')") for _ in range(2)]
    other = [submit(http, "import sys; sys.exit(3)"),  # nonzero_exit too, no stderr
             submit(http, "raise KeyError('k')")]
    for job in bad_input + other:
        http.wait(job)

    async def scenario():
        app = console(http)
        async with app.run_test(size=(160, 40)) as pilot:
            await pilot.press("4")
            await until(pilot, lambda: app.screen.query_one(DataTable).row_count == 3,
                        what="the failure groups")
            signatures = [str(c) for c in column(app, "signature")]
            table = app.screen.query_one(DataTable)
            table.move_cursor(row=signatures.index("ValueError: bad input"))
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, ExecutionsView) and
                        sorted(r[0] for r in rows(app)) == sorted(j[:8] for j in bad_input),
                        what="the group's runs")
            assert "reason:nonzero_exit" in app.screen.filter_text
            await pilot.press("escape")
            assert isinstance(app.screen, FailuresView)
            await pilot.press("2")  # the executions view is itself again, unfiltered
            await until(pilot, lambda: len(rows(app)) == 4, what="all runs")

    asyncio.run(scenario())


def test_j_and_k_in_every_view(serve):
    _, http = serve()
    for job in [submit(http, "print('\\n'.join(map(str, range(200))))"),
                submit(http, "raise ValueError(1)"), submit(http, "raise KeyError(2)")]:
        http.wait(job)

    async def scenario():
        app = console(http)
        async with app.run_test(size=(100, 30)) as pilot:
            for view in ("1", "2", "3", "4"):
                await pilot.press(view)
                await pilot.pause(0.3)
                active = app.screen.active_bindings
                assert active["j"].binding.action == "cursor_down", view
                assert active["k"].binding.action == "cursor_up", view
            for view in ("2", "4"):  # views with more than one row move
                await pilot.press(view)
                await until(pilot, lambda: app.screen.query_one(DataTable).row_count >= 2,
                            what="rows")
                table = app.screen.query_one(DataTable)
                table.move_cursor(row=0)
                await pilot.press("j")
                assert table.cursor_row == 1
                await pilot.press("k")
                assert table.cursor_row == 0
            await pilot.press("2")
            await until(pilot, lambda: len(rows(app)) == 3, what="the runs")
            app.screen.query_one(DataTable).move_cursor(row=2)  # the oldest: 200 lines
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, DetailView) and
                        app.screen.shown is not None, what="the detail")
            await pilot.pause(0.2)
            scroll = app.screen.query_one("#detail")
            await pilot.press("j", "j", "j")
            assert scroll.scroll_target_y > 0
            await pilot.press("k", "k", "k")
            await pilot.pause(0.3)
            assert scroll.scroll_target_y == 0

    asyncio.run(scenario())


def test_the_detail_view_follows_a_running_run_s_output_live(serve):
    """The run prints only once the view follows its stream (it waits for a line that the test
    sends over the run's WebSocket after the view's first live event), then sleeps: what the
    view shows meanwhile came over the stream, since its refreshes are a minute apart."""
    import json

    from websockets.sync.client import connect

    _, http = serve()
    live = []

    def hook(message):
        if isinstance(message, LiveEvent):
            live.append(message)

    async def scenario():
        app = LivecodeConsole(ApiClient(http.url), interval=60)
        async with app.run_test(size=(120, 40), message_hook=hook) as pilot:
            job = submit(http, "import time\ninput()\nprint('first', flush=True)\n"
                               "time.sleep(4)\nprint('second')",
                         interactive=True, wall_time_limit=30)
            await app.push_screen(DetailView(job))
            await until(pilot, lambda: any(m.event and m.event.event == "state" for m in live),
                        what="the stream's first event")
            with connect(http.url.replace("http", "ws", 1) + f"/executions/{job}/io") as io:
                io.send(json.dumps({"stdin": "go\n"}))
                stdout = lambda: str(app.screen.query_one("#stdout").render())  # noqa: E731
                await until(pilot, lambda: "first" in stdout(), what="live output")
                assert "second" not in stdout()
                assert http.call("GET", f"/executions/{job}")[1]["status"] == "RUNNING"
                await until(pilot, lambda: "second" in stdout() and "COMPLETED" in
                            str(app.screen.query_one("#timeline").render()), what="the result")
            assert app.screen.live["stdout"] == "first\nsecond\n"

    asyncio.run(scenario())


def test_pause_help_and_views(serve):
    _, http = serve()
    first = submit(http, "print('again')")
    http.wait(first)

    async def scenario():
        messages = Messages()
        app = console(http, allow_actions=True)
        async with app.run_test(size=(80, 24), message_hook=messages) as pilot:
            await pilot.press("2")
            await until(pilot, lambda: (first[:8], "COMPLETED") in rows(app), what="the run")
            await pilot.press("R")
            assert isinstance(app.screen, ConfirmView)
            await pilot.press("y")
            await until(pilot, lambda: len(rows(app)) == 2, what="the re-run")
            status, listed = http.call("GET", "/executions")
            rerun = listed["executions"][0]
            assert rerun["rerun_of"] == first and http.wait(rerun["execution_id"])["stdout"] \
                == "again\n"
            await pilot.press("p")
            assert app.paused and "paused" in app.sub_title
            await pilot.pause(0.3)
            count = len(messages.fetched)
            await pilot.pause(1.5)
            assert len(messages.fetched) == count  # nothing is fetched while paused
            await pilot.press("p")
            await until(pilot, lambda: len(messages.fetched) > count, what="resumed updates")
            await pilot.press("question_mark")
            assert type(app.screen).__name__ == "HelpView"
            help_text = str(app.screen.query_one("#help").render())
            for key, description in (("/", "Filter"), ("R", "Re-run"), ("p", "Pause")):
                assert f"{key} " in help_text and description in help_text
            await pilot.press("escape")
            await pilot.press("colon", *"work", "enter")
            await until(pilot, lambda: type(app.screen).__name__ == "WorkersView",
                        what="the workers view")
            await until(pilot, lambda: app.screen.query_one(DataTable).row_count == 1,
                        what="the worker row")
            await pilot.press("4")
            assert type(app.screen).__name__ == "FailuresView"
            await pilot.press("1")
            await until(pilot, lambda: app.screen.query_one(DataTable).row_count == 1,
                        what="the queue row")
            caption = str(app.screen.query_one("#spark-caption").render())
            assert "per 10s" in caption and "highest bar" in caption

    asyncio.run(scenario())


def test_sizes_and_unknown_values_are_shown_plainly():
    assert fmt.kib(None) == "-" and fmt.kib(2048) == "2M"
    assert fmt.sort_key(fmt.duration_cell(0.011)) < fmt.sort_key(fmt.duration_cell(1.5))
    assert fmt.sort_key(fmt.state("QUEUED")) < fmt.sort_key(fmt.state("FAILED"))
    assert fmt.sort_key(fmt.duration_cell(None)) > fmt.sort_key(fmt.duration_cell(99))


def in_terminal(args: list[str], keys: bytes = b"", after: bytes = b"", timeout=60):
    """Run ``livecode-console`` (or ``python -c``) in a real pseudo-terminal; type ``keys`` once
    ``after`` appears on the screen. Returns its exit status and what it wrote."""
    import os
    import pty
    import select
    import sys

    pid, fd = pty.fork()
    if pid == 0:
        os.environ["TERM"] = "xterm-256color"
        os.execv(sys.executable, [sys.executable, *args])
    output, typed = b"", not keys
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.2)
            chunk = b""
            if ready:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:  # the child closed the terminal: it is exiting
                    chunk = b""
                output += chunk
            if not typed and after in output:
                time.sleep(0.5)
                os.write(fd, keys)
                typed = True
            if ready and not chunk:
                _, status = os.waitpid(pid, 0)
                return os.waitstatus_to_exitcode(status), output.decode(errors="replace")
        raise AssertionError(f"the console did not exit; it wrote {output[-2000:]!r}")
    finally:
        os.close(fd)
        try:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass


CONSOLE = ["-m", "livecode.console.cli"]


def test_the_console_refuses_to_start_without_a_server():
    status, output = in_terminal([*CONSOLE, "--url", "http://127.0.0.1:9"])
    assert status == 125 and "cannot reach http://127.0.0.1:9" in output


def test_without_a_terminal_the_console_refuses_at_once(serve):
    import subprocess
    import sys

    _, http = serve()
    result = subprocess.run([sys.executable, *CONSOLE, "--url", http.url],
                            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
    assert result.returncode == 125 and "needs a terminal" in result.stderr


def test_quitting_exits_0_and_a_crash_does_not(serve):
    _, http = serve()
    status, output = in_terminal([*CONSOLE, "--url", http.url], keys=b"q", after=b"every")
    assert status == 0, output
    # A stand-in crash: the overview raises as it mounts (injected, not a real bug).
    crash = ("import sys; from livecode.console import cli, views; "
             "views.OverviewView.setup = lambda self: 1 / 0; sys.exit(cli.main(sys.argv[1:]))")
    status, output = in_terminal(["-c", crash, "--url", http.url])
    assert status == 1 and "ZeroDivisionError" in output


def test_a_slow_server_never_gets_a_pile_of_requests():
    """A real HTTP server that takes a second per answer: with a 0.5 s interval the console must
    still have at most one round of requests in flight."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    state = {"in_flight": 0, "most": 0, "total": 0}
    lock = threading.Lock()

    class Slow(BaseHTTPRequestHandler):
        def do_GET(self):
            with lock:
                state["in_flight"] += 1
                state["total"] += 1
                state["most"] = max(state["most"], state["in_flight"])
            time.sleep(1.0)
            body = json.dumps({  # enough of every endpoint for any view
                "workers": [], "lost_after_seconds": 10, "queues": [], "counts": {},
                "sparkline": [], "runs_per_second": 0, "wait_ms": {"p50": None, "p95": None},
                "run_ms": {"p50": None, "p95": None}, "failed_rate": 0, "timeout_rate": 0,
            }).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            with lock:
                state["in_flight"] -= 1

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        async def scenario():
            app = LivecodeConsole(ApiClient(f"http://127.0.0.1:{server.server_port}"),
                                  interval=0.5)
            async with app.run_test() as pilot:
                await pilot.press("3")  # the workers view: one request per refresh
                await pilot.pause(4.0)

        asyncio.run(scenario())
    finally:
        server.shutdown()
    assert state["most"] == 1
    assert state["total"] <= 6  # about one a second, not one every half second
