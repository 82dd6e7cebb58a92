"""The event channels against their real transports (in-process, Redis pub/sub, RabbitMQ), and
the worker's side of a live run: output chunks as events, stdin events onto the program."""

import os
import subprocess
import threading
import time
import uuid

import pytest

from conftest import REDIS_URL
from livecode.core.config import Settings
from livecode.core.contracts import LiveIO
from livecode.core.plugins import Plugins
from livecode.plugins.event_channels.live import OutputEvents, StdinPipe
from livecode.plugins.subprocess_sandbox.process_io import pump

AMQP_URL = os.environ.get("LIVECODE_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")


def reachable(url: str) -> bool:
    if url.startswith("redis"):
        import redis
        try:
            return bool(redis.Redis.from_url(url, socket_connect_timeout=2).ping())
        except redis.RedisError:
            return False
    if url.startswith("amqp"):
        from kombu import Connection
        try:
            with Connection(url, connect_timeout=2) as connection:
                connection.ensure_connection(max_retries=1)
            return True
        except Exception:
            return False
    return True


@pytest.fixture(params=["memory://", REDIS_URL, AMQP_URL], ids=["memory", "redis", "amqp"])
def channels(request, tmp_path):
    """Two channels on one URL, as two processes of a deployment would have (the in-process
    one shares its hub, as ``serve``'s API and worker do)."""
    if not reachable(request.param):
        pytest.skip(f"{request.param} is not reachable")
    settings = Settings.from_env({"LIVECODE_DATA_DIR": str(tmp_path),
                                  "LIVECODE_QUEUE_NAME": f"channels-{uuid.uuid4().hex[:8]}"})
    plugins = Plugins(settings)
    opened = [plugins.open_events(request.param) for _ in range(2)]
    yield opened
    for channel in opened:
        channel.close()


def collect(channel, topic):
    got, arrived = [], threading.Event()

    def deliver(event):
        got.append(event)
        arrived.set()

    return got, arrived, channel.subscribe(topic, deliver)


def wait_for(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_events_arrive_in_order_on_their_topic_only(channels):
    publisher, follower = channels
    got, _, unsubscribe = collect(follower, "run:a")
    other, _, unsubscribe_other = collect(follower, "run:b")
    for n in range(200):
        publisher.publish("run:a", {"type": "stdout", "n": n})
    publisher.publish("run:b", {"type": "state"})
    wait_for(lambda: len(got) == 200 and other)
    assert [e["n"] for e in got] == list(range(200))
    assert other == [{"type": "state"}]
    unsubscribe()
    unsubscribe_other()


def test_an_unsubscribed_callback_gets_nothing_more(channels):
    publisher, follower = channels
    got, arrived, unsubscribe = collect(follower, "run:c")
    publisher.publish("run:c", {"n": 1})
    assert arrived.wait(10)
    unsubscribe()
    sentinel, _, unsubscribe_sentinel = collect(follower, "run:c")
    publisher.publish("run:c", {"n": 2})
    wait_for(lambda: sentinel)  # the later event has arrived: the first callback missed it
    assert got == [{"n": 1}]
    unsubscribe_sentinel()


def test_the_default_channel_is_the_queue_s_url(tmp_path):
    from livecode.core.service import Livecode
    from livecode.plugins.event_channels.memory import MemoryChannel

    livecode = Livecode.open(Settings.from_env({"LIVECODE_DATA_DIR": str(tmp_path)}))
    assert isinstance(livecode.events, MemoryChannel)
    livecode.close()


def test_an_unknown_channel_scheme_names_the_installed_ones(tmp_path):
    from livecode.core.errors import InvalidInput

    plugins = Plugins(Settings.from_env({"LIVECODE_DATA_DIR": str(tmp_path)}))
    with pytest.raises(InvalidInput, match="no event channel plugin handles .*memory://"):
        plugins.open_events("nats://somewhere")


# --- the worker's side ---------------------------------------------------------------------


def test_output_events_hold_back_a_character_split_across_reads():
    published = []
    output = OutputEvents(published.append)
    output.MIN_INTERVAL = 0  # an event per read, to see each one
    data = "aé€😀".encode()
    for i in range(len(data)):
        output("stdout", data[i:i + 1])
    output.flush()
    assert "".join(e["data"] for e in published) == "aé€😀"
    offsets = [e["offset"] for e in published]
    assert offsets == [0, 1, 3, 6]  # each event starts where a whole character starts


def test_output_written_a_byte_at_a_time_goes_out_in_few_events():
    published = []
    output = OutputEvents(published.append)
    for _ in range(20000):
        output("stdout", b"x")
    wait_for(lambda: sum(len(e["data"]) for e in published) == 20000)  # the held part too
    assert len(published) < 2000
    offsets = [e["offset"] for e in published]
    assert offsets == sorted(offsets) and offsets[0] == 0
    output.flush()


def test_output_events_replay_what_a_late_follower_missed():
    published = []
    output = OutputEvents(published.append)
    output.MIN_INTERVAL = 0
    output("stdout", b"one\n")
    output("stdout", b"two\n")
    output("stderr", b"oops\n")
    published.clear()
    output.replay({"stdout": 4, "stderr": 0})
    assert published == [{"type": "stdout", "data": "two\n", "offset": 4},
                         {"type": "stderr", "data": "oops\n", "offset": 0}]
    published.clear()
    for _ in range(100):  # a crowd joining at once: the replay on its way serves them all
        output.replay({"stdout": 4, "stderr": 0})
    output.replay({"stdout": 0})  # from earlier than the one on its way: replayed
    assert published == [{"type": "stdout", "data": "one\ntwo\n", "offset": 0}]


def test_stdin_events_reach_the_pipe_until_eof_and_no_more_than_the_limit():
    stdin = StdinPipe(limit=8)
    stdin.deliver({"stdin": "hello "})
    stdin.deliver({"stdin": "world"})  # 2 bytes are left: "wo"
    stdin.deliver({"stdin": "ignored"})
    data = b""
    while chunk := os.read(stdin.read_fd, 100):
        data += chunk
    assert data == b"hello wo"
    stdin.close()


class Process:
    """A plain child as ``pump`` drives it (its pipes and a pidfd)."""

    def __init__(self, argv, pass_fds=()):
        self.popen = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, start_new_session=True,
                                      pass_fds=pass_fds)
        self.stdin, self.stdout, self.stderr = (self.popen.stdin, self.popen.stdout,
                                                self.popen.stderr)
        self.pidfd = os.pidfd_open(self.popen.pid)

    def kill(self):
        try:
            os.killpg(self.popen.pid, 9)
        except ProcessLookupError:
            pass


def test_pump_forwards_live_stdin_and_reports_output_as_written():
    process = Process(["python3", "-u", "-c",
                       "import sys\nfor line in sys.stdin: print('echo', line.strip())"])
    read_fd, write_fd = os.pipe()
    chunks = []

    def typist():
        for word in ("one", "two"):
            os.write(write_fd, word.encode() + b"\n")
            wait_for(lambda: sum(c.count(b"echo") for _, c in chunks) >= (
                1 if word == "one" else 2))
        os.close(write_fd)  # the end of the run's stdin: the program ends

    threading.Thread(target=typist, daemon=True).start()
    captured = pump(process, b"zero\n", 1 << 20, time.monotonic() + 20, process.kill,
                    live=LiveIO(lambda stream, chunk: chunks.append((stream, chunk)), read_fd))
    process.popen.wait()
    os.close(read_fd)
    assert bytes(captured.stdout) == b"echo zero\necho one\necho two\n"
    assert b"".join(c for s, c in chunks if s == "stdout") == bytes(captured.stdout)
    assert not captured.timed_out


def test_pump_reports_no_more_output_than_the_limit():
    process = Process(["python3", "-c", "print('x' * 100000)"])
    chunks = []
    captured = pump(process, b"", 1000, time.monotonic() + 20, process.kill,
                    live=LiveIO(lambda stream, chunk: chunks.append(chunk)))
    process.popen.wait()
    assert captured.truncated and len(b"".join(chunks)) == len(captured.stdout) == 1000


STATUS_WRITER = """
import os, sys, time
status = int(sys.argv[1])
print("out", flush=True)
os.close(1), os.close(2)  # as the jail and its init leave the streams to the program
os.write(status, b"exec 1\\n")
if sys.argv[2] == "told":
    os.write(status, b"exit 256\\n")  # the init's word: the program exited with 1
    time.sleep(30)  # the process itself lingers
"""


@pytest.mark.parametrize("told", [True, False])
def test_pump_ends_the_run_on_the_status_pipe_s_exit_line_before_the_process_exits(told):
    status_r, status_w = os.pipe()
    process = Process(["python3", "-c", STATUS_WRITER, str(status_w), "told" if told else "-"],
                      pass_fds=(status_w,))
    os.close(status_w)
    killed = []
    started = time.monotonic()
    try:
        captured = pump(process, b"", 1 << 20, started + 20, lambda: killed.append(1),
                        status=status_r)
    finally:
        process.kill()
        process.popen.wait()
        os.close(status_r)
    assert bytes(captured.stdout) == b"out\n" and captured.exited_at is not None
    if told:
        assert captured.exit_status == 256 and bytes(captured.report) == b"exec 1\nexit 256\n"
        assert killed and time.monotonic() - started < 10  # not the 30 s the process lingers
    else:
        assert captured.exit_status is None and bytes(captured.report) == b"exec 1\n"
