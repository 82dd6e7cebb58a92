"""The long-lived routes, served by Falcon's ASGI app (see :mod:`.asgi`): a run's live events
(Server-Sent Events), its interactive input and output (a WebSocket), and ``GET
/executions/{id}?wait=N``. Each waiting client costs a coroutine and a subscription, never a
thread; the store is read (in a thread) when the run starts following and when it ends.
"""

import asyncio
import contextlib
import json

import falcon
from falcon.asgi import SSEvent

from . import following
from .errors import APIError
from .following import Follower, Position
from .operations import Answer, operation
from .resources import Resource, execution_json
from .validation import Param
from .waiting import wait_seconds

LAST_EVENT_ID = Param("last_event_id", "string", "resume after this event (as the "
                                                 "Last-Event-ID header does)")
WEBSOCKET = """A WebSocket (ws:// or wss://, this path): send JSON text frames
`{"stdin": "text"}` (to the program's standard input, for a run made with
`"interactive": true`; at most max_stdin_bytes in all) and `{"eof": true}` (closes its stdin; so
does closing the socket). The server sends `{"type": "state", "status": …}`,
`{"type": "stdout"|"stderr", "data": "…", "offset": n}` as the program writes, and last
`{"type": "result", "execution": {…}}`, then closes with code 1000; `{"type": "error", …}`
for a frame it refuses. The key: the Authorization header or `?access_token=`. A plain GET is
answered 426."""


class WaitingExecution(Resource):
    """``GET /executions/{id}?wait=N`` (the dispatcher sends only those here; the WSGI app's
    ``Executions`` declares the operation and answers the rest)."""

    def __init__(self, parts, declared):
        super().__init__(parts)
        self.declared = declared  # the same checks as the documented operation

    async def on_get(self, req, resp, execution_id):
        query = {p.name: p.read(req) for p in self.declared.query}
        seconds = wait_seconds(query)
        owner = req.context.caller.owner
        async with Follower(self.livecode.events, execution_id) as follower:
            execution = await following.read(self.livecode, execution_id, owner)
            if seconds:
                execution = await following.until_ended(self.livecode, follower, execution,
                                                        owner, seconds)
        resp.media = execution_json(execution)


class ExecutionEvents(Resource):
    @operation("Follow a run: its states and output as they happen, then its result "
               "(Server-Sent Events)",
               {200: Answer("EventStream", "event: state | stdout | stderr | result, each "
                                           "with an id; the result last, then the end",
                            media_type="text/event-stream")},
               query=(LAST_EVENT_ID,),
               errors={422: "last_event_id (or Last-Event-ID) is not an id of this stream"},
               description="Each event's id is its place in the stream; send it back as "
                           "Last-Event-ID (or ?last_event_id=) to resume after it. stdout "
                           "and stderr data are UTF-8 text with the byte offset of the chunk "
                           "in its stream; together with what a resumed stream sends, nothing "
                           "of the stored result is missing. A `: ping` comment every 15 s.")
    async def on_get(self, req, resp, execution_id):
        after = Position.parse(req.get_header("Last-Event-ID")
                               or req.context.query["last_event_id"])
        owner = req.context.caller.owner
        follower = await Follower(self.livecode.events, execution_id).__aenter__()
        try:
            execution = await following.read(self.livecode, execution_id, owner)
        except BaseException:
            await follower.__aexit__()
            raise
        resp.set_header("Cache-Control", "no-cache")
        resp.set_header("X-Accel-Buffering", "no")  # a proxy in front must not hold it back
        resp.sse = self._events(follower, execution, owner, after)

    async def _events(self, follower, execution, owner, after):
        try:
            async for item in following.stream(self.livecode, follower, execution, owner,
                                               after):
                if item is None:
                    yield None  # Falcon sends ": ping"
                    continue
                name, data, position = item
                yield SSEvent(event=name, json=data, event_id=str(position))
        finally:
            await follower.__aexit__()


class ExecutionIO(Resource):
    """A WebSocket onto a run: its output as written, and (interactive runs) its stdin."""

    @operation("A run's interactive input and output (a WebSocket)",
               {101: Answer("WebSocketFrames", "the connection is a WebSocket from here on")},
               errors={426: "a plain HTTP request: this path speaks WebSocket"},
               description=WEBSOCKET)
    async def on_get(self, req, resp, execution_id):
        await following.read(self.livecode, execution_id, req.context.caller.owner)
        raise APIError(falcon.HTTP_426, "upgrade_required",
                       "this path speaks WebSocket: connect with ws:// (or wss://)",
                       headers={"Upgrade": "websocket", "Connection": "Upgrade"})

    async def on_websocket(self, req, ws, execution_id):
        owner = req.context.caller.owner
        async with Follower(self.livecode.events, execution_id) as follower:
            execution = await following.read(self.livecode, execution_id, owner)
            await ws.accept()
            stdin = StdinForwarder(self.livecode, execution, ws)
            if stdin.interactive:
                await asyncio.to_thread(self.livecode.events.publish,
                                        f"control:{execution_id}", {"type": "probe"})
            reading = asyncio.create_task(stdin.read_frames())
            writing = asyncio.create_task(self._send_events(ws, follower, stdin, execution, owner))
            try:
                await asyncio.wait({reading, writing}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in (reading, writing):
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, falcon.WebSocketDisconnected):
                        await task
                await stdin.closed()  # the socket is gone or the run has ended
                await stdin.settle(follower)

    async def _send_events(self, ws, follower, stdin, execution, owner):
        async for item in following.stream(self.livecode, StdinWatch(follower, stdin),
                                           execution, owner, Position()):
            if item is not None:
                name, data, _ = item
                frame = ({"type": name, "execution": data} if name == "result"
                         else {"type": name, **data})
                await ws.send_media(frame)
        await ws.close(1000)


class StdinWatch:
    """A follower as :func:`following.stream` reads it, that also tells the forwarder when the
    worker's stdin is open (events the stream itself ignores)."""

    def __init__(self, follower, stdin):
        self.follower, self.stdin, self.loop = follower, stdin, follower.loop

    async def next(self, timeout):
        event = await self.follower.next(timeout)
        if event is not None and event.get("type") == "stdin_open":
            await self.stdin.opened()
        return event


class StdinForwarder:
    """A socket's stdin frames to the run's ``control:<id>`` topic: held until the worker says
    the run's stdin is open, then sent in order; at most ``max_stdin_bytes`` in all."""

    def __init__(self, livecode, execution, ws):
        self.livecode, self.ws = livecode, ws
        self.topic = f"control:{execution.execution_id}"
        self.interactive = bool(execution.extra.get("interactive"))
        self.left = livecode.settings.max_stdin_bytes
        self.held: list[dict] | None = []  # None once the worker's stdin is open
        self.ended = False

    async def _send(self, event: dict) -> None:
        if self.held is not None:
            self.held.append(event)
        else:
            await asyncio.to_thread(self.livecode.events.publish, self.topic, event)

    async def opened(self) -> None:
        if self.held is not None:
            held, self.held = self.held, None
            for event in held:
                await self._send(event)

    async def read_frames(self) -> None:
        while True:
            raw = await self.ws.receive_text()
            try:
                frame = json.loads(raw)
                if not isinstance(frame, dict) or not set(frame) <= {"stdin", "eof"} or not (
                        isinstance(frame.get("stdin", ""), str)):
                    raise ValueError
            except ValueError:
                await self.ws.send_media({"type": "error", "code": "invalid_input",
                                          "message": 'send {"stdin": "text"} or {"eof": true}'})
                continue
            if not self.interactive or self.ended:
                await self.ws.send_media({"type": "error", "code": "conflict", "message":
                                          "this run takes no more input (it was not made "
                                          "with interactive: true, or its stdin is closed)"})
                continue
            if "stdin" in frame:
                data = frame["stdin"].encode("utf-8", "surrogatepass")
                if len(data) > self.left:
                    await self.ws.send_media({"type": "error", "code": "payload_too_large",
                                              "message": "stdin is over max_stdin_bytes; "
                                                         "it is closed now"})
                    frame = {"eof": True}
                else:
                    self.left -= len(data)
                    await self._send({"stdin": frame["stdin"]})
            if frame.get("eof"):
                self.ended = True
                await self._send({"eof": True})

    async def closed(self) -> None:
        """The socket is gone: the run's stdin ends too."""
        if self.interactive and not self.ended:
            self.ended = True
            await self._send({"eof": True})

    async def settle(self, follower) -> None:
        """Input held for a run that has not started yet when the socket closed is handed on
        when it starts, so the run is not left waiting for a stdin nobody will close."""
        while self.held:
            event = await follower.next(following.KEEPALIVE)
            if event is None:
                execution = await asyncio.to_thread(self.livecode.store.get_execution,
                                                    follower.execution_id)
                if execution is None or str(execution.status) in following.TERMINAL_NAMES:
                    return
            elif event.get("type") == "stdin_open":
                await self.opened()
            elif event.get("type") == "state" and event.get("status") in \
                    following.TERMINAL_NAMES:
                return


def live_routes(parts):
    """``(path, resource, suffix)`` of the ASGI app's documented routes."""
    return [("/executions/{execution_id}/events", ExecutionEvents(parts), None),
            ("/executions/{execution_id}/io", ExecutionIO(parts), None)]

