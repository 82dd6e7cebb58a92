"""Following a run as it happens: the events of one run, from the event channel into asyncio,
and the order a follower sees them in whatever it missed.

A follower subscribes before it reads the stored run, so nothing falls between the two. Each
event it yields has a position, ``<rank>.<stdout bytes>.<stderr bytes>`` (rank 1 QUEUED,
2 RUNNING, 3 ended, 4 the result): where that event leaves the stream. A client that resumes
from a position gets only what follows it. Live chunks that arrive after a gap (events lost
in transit, or a resume mid-run) are not sent out of order: that stream waits, and what it
missed comes from the stored result once the run has ended, which is the record.
"""

import asyncio
import contextlib
import re
from dataclasses import dataclass

from livecode.core.errors import InvalidInput
from livecode.core.execution_states import TERMINAL, Status

from .resources import execution_json

KEEPALIVE = 15.0  # seconds between keep-alive comments; the stored run is read again then
RANKS = {Status.QUEUED: 1, Status.RUNNING: 2}
ENDED, RESULT = 3, 4
TERMINAL_NAMES = {str(status) for status in TERMINAL}
POSITION = re.compile(r"^([0-4])\.(\d{1,12})\.(\d{1,12})$")


def rank_of(status: Status) -> int:
    return RANKS.get(status, ENDED)


@dataclass(frozen=True)
class Position:
    rank: int = 0
    stdout: int = 0
    stderr: int = 0

    @classmethod
    def parse(cls, raw: str | None) -> "Position":
        if raw is None or raw == "":
            return cls()
        found = POSITION.match(raw.strip())
        if not found:
            raise InvalidInput("Last-Event-ID (or last_event_id) must be an event id this "
                               f"stream sent, such as 2.120.0; not {raw[:40]!r}",
                               field="last_event_id")
        return cls(*map(int, found.groups()))

    def __str__(self):
        return f"{self.rank}.{self.stdout}.{self.stderr}"


class Follower:
    """One run's events, delivered from the channel's thread into this event loop."""

    def __init__(self, events, execution_id: str):
        self.events, self.execution_id = events, execution_id
        self.queue: asyncio.Queue = asyncio.Queue()
        self.loop = asyncio.get_running_loop()
        self._remove = None

    async def __aenter__(self):
        # The channel's first subscription may wait for its connection: not in the loop.
        self._remove = await asyncio.to_thread(
            self.events.subscribe, f"run:{self.execution_id}", self._deliver)
        return self

    async def __aexit__(self, *exc):
        self._remove()

    def _deliver(self, event: dict) -> None:
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody follows any more
            self.loop.call_soon_threadsafe(self.queue.put_nowait, event)

    async def next(self, timeout: float) -> dict | None:
        """The next event, or ``None`` after ``timeout`` seconds without one."""
        try:
            return await asyncio.wait_for(self.queue.get(), max(timeout, 0))
        except asyncio.TimeoutError:
            return None


async def read(livecode, execution_id: str, owner):
    return await asyncio.to_thread(livecode.get_execution, execution_id, owner)


async def until_ended(livecode, follower: Follower, execution, owner, seconds: float):
    """The run once it has ended, or as it is after ``seconds``."""
    deadline = follower.loop.time() + seconds
    while execution.status not in TERMINAL:
        event = await follower.next(deadline - follower.loop.time())
        if event is None:
            return await read(livecode, execution.execution_id, owner)
        if event.get("type") == "state" and event.get("status") in TERMINAL_NAMES:
            execution = await read(livecode, execution.execution_id, owner)
    return execution


async def stream(livecode, follower: Follower, execution, owner, after: Position):
    """``(name, data, position)`` for each event after ``after``, the result last; ``None``
    for a keep-alive."""
    sent = after

    def state(execution):
        nonlocal sent
        sent = Position(rank_of(execution.status), sent.stdout, sent.stderr)
        return "state", {"status": str(execution.status),
                         "execution_id": execution.execution_id}, sent

    if sent.rank >= RESULT:
        return
    if sent.rank < rank_of(execution.status) and execution.status not in TERMINAL:
        yield state(execution)
    behind = set()  # streams that missed a chunk: they wait for the stored result
    while execution.status not in TERMINAL:
        event = await follower.next(KEEPALIVE)
        kind = event and event.get("type")
        if event is None:
            yield None
            execution = await read(livecode, execution.execution_id, owner)
        elif kind == "state" and event.get("status") in TERMINAL_NAMES:
            execution = await read(livecode, execution.execution_id, owner)
        elif kind == "state" and event.get("status") == "RUNNING" and sent.rank < 2:
            yield state(execution.evolve(status=Status.RUNNING))
        elif kind in ("stdout", "stderr") and kind not in behind:
            done = getattr(sent, kind)
            offset, data = event.get("offset", 0), event.get("data", "")
            end = offset + len(data.encode("utf-8", "surrogatepass"))
            if offset > done:
                behind.add(kind)
            elif offset == done and end > done:
                sent = Position(max(sent.rank, 2), **{**_offsets(sent), kind: end})
                yield kind, {"data": data, "offset": offset}, sent
    for kind in ("stdout", "stderr"):
        stored = (getattr(execution, kind) or "").encode("utf-8", "surrogatepass")
        done = getattr(sent, kind)
        if len(stored) > done:
            sent = Position(max(sent.rank, 2), **{**_offsets(sent), kind: len(stored)})
            yield kind, {"data": stored[done:].decode("utf-8", "replace"), "offset": done}, sent
    if sent.rank < ENDED:
        yield state(execution)
    yield "result", execution_json(execution), Position(RESULT, sent.stdout, sent.stderr)


def _offsets(position: Position) -> dict:
    return {"stdout": position.stdout, "stderr": position.stderr}
