"""The console driven with Textual's pilot against a real ``livecode serve`` with real runs."""

import asyncio
import time

import pytest

from livecode.console.app import LivecodeConsole
from livecode.console.views import DetailView
from livecode.client import ApiClient
from livecode.console.query import QueryError, parse

pytestmark = pytest.mark.slow


def test_the_filter_language():
    assert parse('state:FAILED language:python worker:w3 "MemoryError"') == [
        ("status", "FAILED"), ("language", "python"), ("worker", "w3"), ("q", "MemoryError")]
    assert parse('!state:QUEUED !"no such"') == [("status", "!QUEUED"), ("q", "!no such")]
    assert parse("lang:python Traceback") == [("language", "python"), ("q", "Traceback")]
    for bad in ("colour:red", 'state:', '"unclosed'):
        with pytest.raises(QueryError):
            parse(bad)


def rows(app) -> list[tuple[str, str]]:
    table = app.screen.query_one("DataTable")
    return [(str(table.get_row_at(i)[0]), str(table.get_row_at(i)[3]))
            for i in range(table.row_count)]


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
            await pilot.press("slash")
            await pilot.press(*"state:FAILED", "enter")
            await until(pilot, lambda: rows(app) == [(failed[:8], "FAILED")], what="filtering")
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, DetailView) and
                        hasattr(app.screen, "execution"), what="the detail view")
            assert app.screen.execution["stderr"].endswith("ValueError: filter me\n")
            shown = str(app.screen.query_one("#stderr").render())
            assert "filter me" in shown
            await pilot.press("escape")
            assert not isinstance(app.screen, DetailView)

    asyncio.run(scenario())


def test_cancel_needs_allow_actions(serve):
    _, http = serve(LIVECODE_CONCURRENCY="1")
    submit(http, "import time; time.sleep(4)")  # keeps the only slot busy

    async def try_cancel(allow):
        waiting = submit(http, "print('waiting')")
        app = console(http, allow_actions=allow)
        async with app.run_test(size=(120, 36)) as pilot:
            await pilot.press("2")
            await until(pilot, lambda: (waiting[:8], "QUEUED") in rows(app), what="the run")
            table = app.screen.query_one("DataTable")
            table.move_cursor(row=[r[0] for r in rows(app)].index(waiting[:8]))
            await pilot.press("x")
            if allow:
                await until(pilot, lambda: (waiting[:8], "CANCELLED") in rows(app),
                            what="the cancel")
            else:
                await pilot.pause(1.0)
                assert "read-only" in app.last_notice
        return http.call("GET", f"/executions/{waiting}")[1]["status"]

    assert asyncio.run(try_cancel(False)) == "QUEUED"
    assert asyncio.run(try_cancel(True)) == "CANCELLED"


def test_rerun_pause_help_and_views(serve):
    _, http = serve()
    first = submit(http, "print('again')")
    http.wait(first)

    async def scenario():
        app = console(http, allow_actions=True)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("2")
            await until(pilot, lambda: (first[:8], "COMPLETED") in rows(app), what="the run")
            await pilot.press("R")
            await until(pilot, lambda: len(rows(app)) == 2, what="the re-run")
            status, listed = http.call("GET", "/executions")
            rerun = listed["executions"][0]
            assert rerun["rerun_of"] == first and http.wait(rerun["execution_id"])["stdout"] \
                == "again\n"
            await pilot.press("p")
            assert app.paused
            count = app.refreshes
            await pilot.pause(1.5)
            assert app.refreshes == count  # nothing is fetched while paused
            await pilot.press("p")
            await until(pilot, lambda: app.refreshes > count, what="resumed updates")
            await pilot.press("question_mark")
            assert type(app.screen).__name__ == "HelpView"
            await pilot.press("escape")
            await pilot.press("colon", *"work", "enter")
            await until(pilot, lambda: type(app.screen).__name__ == "WorkersView",
                        what="the workers view")
            await until(pilot, lambda: app.screen.query_one("DataTable").row_count == 1,
                        what="the worker row")
            await pilot.press("4")
            assert type(app.screen).__name__ == "FailuresView"
            await pilot.press("1")
            await until(pilot, lambda: app.screen.query_one("DataTable").row_count == 1,
                        what="the queue row")

    asyncio.run(scenario())


def test_the_console_refuses_to_start_without_a_server(capsys):
    from livecode.console.cli import main

    assert main(["--url", "http://127.0.0.1:9"]) == 2
    assert "cannot reach http://127.0.0.1:9" in capsys.readouterr().err


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
