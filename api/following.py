"""Following a run as it happens: the events of one run, from the event channel into asyncio,
and the order a follower sees them in whatever it missed.

A follower subscribes before it reads the stored run, so nothing falls between the two. Each
event it yields has a position, ``<rank>.<stdout bytes>.<stderr bytes>`` (rank 1 QUEUED,
2 RUNNING, 3 ended, 4 the result): where that event leaves the stream. A client that resumes
from a position gets only what follows it. Chunks are never sent out of order: after a gap
(joining mid-run, resuming, events lost in transit) the worker is asked to send again what
was missed, and whatever still misses when the run ends comes from the stored result, which
is the record.
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


class Streams:
    """What a follower has sent of stdout and stderr, and the chunks that arrived ahead of it
    (after a gap) waiting for what comes before them."""

    def __init__(self, after: Position):
        self.sent = after
        self.ahead: dict[str, dict[int, str]] = {"stdout": {}, "stderr": {}}

    def advance(self, kind: str, offset: int, data: str):
        """The events that this chunk lets out, in order (none while a gap remains)."""
        self.ahead[kind][offset] = data
        out = []
        while True:
            done = getattr(self.sent, kind)
            fits = [(o, d) for o, d in self.ahead[kind].items()
                    if o <= done < o + len(d.encode("utf-8", "surrogatepass"))]
            for o in [o for o, d in self.ahead[kind].items()
                      if o + len(d.encode("utf-8", "surrogatepass")) <= done]:
                del self.ahead[kind][o]  # wholly sent already
            if not fits:
                return out
            o, d = fits[0]
            del self.ahead[kind][o]
            raw = d.encode("utf-8", "surrogatepass")
            tail = raw[done - o:].decode("utf-8", "replace")
            self.sent = Position(max(self.sent.rank, 2), **{**_offsets(self.sent),
                                                            kind: o + len(raw)})
            out.append((kind, {"data": tail, "offset": done}, self.sent))

    @property
    def waiting(self) -> bool:
        return any(self.ahead.values())


async def stream(livecode, follower: Follower, execution, owner, after: Position):
    """``(name, data, position)`` for each event after ``after``, the result last; ``None``
    for a keep-alive. A follower that joins a RUNNING run, or finds a gap, asks the worker to
    send again what it missed (``replay`` on ``control:<id>``)."""
    streams = Streams(after)

    def state(execution):
        sent = streams.sent
        streams.sent = Position(rank_of(execution.status), sent.stdout, sent.stderr)
        return "state", {"status": str(execution.status),
                         "execution_id": execution.execution_id}, streams.sent

    async def replay():
        sent = streams.sent
        await asyncio.to_thread(livecode.events.publish, f"control:{execution.execution_id}",
                                {"type": "replay", "stdout": sent.stdout,
                                 "stderr": sent.stderr})

    if after.rank >= RESULT:
        return
    if after.rank < rank_of(execution.status) and execution.status not in TERMINAL:
        yield state(execution)
    if execution.status is Status.RUNNING:
        await replay()
    asked = follower.loop.time()
    while execution.status not in TERMINAL:
        event = await follower.next(KEEPALIVE)
        kind = event and event.get("type")
        if event is None:
            yield None
            execution = await read(livecode, execution.execution_id, owner)
        elif kind == "state" and event.get("status") in TERMINAL_NAMES:
            execution = await read(livecode, execution.execution_id, owner)
        elif kind == "state" and event.get("status") == "RUNNING" and streams.sent.rank < 2:
            yield state(execution.evolve(status=Status.RUNNING))
        elif kind in ("stdout", "stderr") and isinstance(event.get("data"), str):
            for item in streams.advance(kind, int(event.get("offset", 0)), event["data"]):
                yield item
            if streams.waiting and follower.loop.time() - asked > 1.0:
                asked = follower.loop.time()
                await replay()
    for kind in ("stdout", "stderr"):
        stored = (getattr(execution, kind) or "").encode("utf-8", "surrogatepass")
        done = getattr(streams.sent, kind)
        if len(stored) > done:
            streams.sent = Position(max(streams.sent.rank, 2),
                                    **{**_offsets(streams.sent), kind: len(stored)})
            yield kind, {"data": stored[done:].decode("utf-8", "replace"), "offset": done}, \
                streams.sent
    if streams.sent.rank < ENDED:
        yield state(execution)
    yield "result", execution_json(execution), Position(RESULT, streams.sent.stdout,
                                                        streams.sent.stderr)


def _offsets(position: Position) -> dict:
    return {"stdout": position.stdout, "stderr": position.stderr}
