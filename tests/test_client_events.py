"""``livecode.client``'s reader of a run's Server-Sent Events, against a real ``livecode serve``:
events in order ending with the result, resuming after an event id without repeating what was
read, refusals raised at once, and ``close()`` from another thread ending a stream that waits."""

import threading
import time

import pytest

from livecode.client import ApiError

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def api(serve_for_module):
    from livecode.client import ApiClient

    _, url, _ = serve_for_module()
    return ApiClient(url, timeout=30)


def run(api, code, **extra) -> str:
    job = api.post("/submit-code", {"code": code, **extra})["jobId"]
    return job


def test_a_run_s_events_come_in_order_and_end_with_its_result(api):
    job = run(api, "import sys\nprint('out')\nprint('err', file=sys.stderr)")
    api.wait(job)
    events = list(api.events(job))
    names = [e.event for e in events]
    assert names[-2:] == ["state", "result"] and events[-2].data["status"] == "COMPLETED"
    assert "".join(e.data["data"] for e in events if e.event == "stdout") == "out\n"
    assert "".join(e.data["data"] for e in events if e.event == "stderr") == "err\n"
    assert events[-1].data == api.get(f"/executions/{job}")
    assert all(e.id for e in events)


def test_resuming_after_an_event_sends_only_what_came_after_it(api):
    job = run(api, "print('a' * 10)")
    api.wait(job)
    first = list(api.events(job))
    chunk = next(e for e in first if e.event == "stdout")
    resumed = list(api.events(job, last_event_id=chunk.id))
    assert [e.event for e in resumed] == [e.event for e in first[first.index(chunk) + 1:]]
    assert not any(e.event == "stdout" for e in resumed)


def test_an_unknown_run_is_refused_at_once(api):
    started = time.monotonic()
    with pytest.raises(ApiError) as refused:
        list(api.events("no-such-run"))
    assert refused.value.status == 404
    assert time.monotonic() - started < 5  # refused, not retried


def test_close_from_another_thread_ends_a_stream_that_waits(api):
    job = run(api, "input()", interactive=True, wall_time_limit=10)
    stream = api.events(job)
    seen, ended = [], threading.Event()

    def read():
        for event in stream:
            seen.append(event)
        ended.set()

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + 30
    while not seen:  # the stream's first event: the run's state
        assert time.monotonic() < deadline, "no first event"
        time.sleep(0.05)
    stream.close()
    assert ended.wait(5), "the reading thread still waits"
    assert all(e.event != "result" for e in seen)
