"""What every channel does the same way on the worker's side: turning a sandbox's output chunks
into events, and an interactive run's stdin events into bytes on a pipe the sandbox reads.

Output events carry whole UTF-8 characters (a character split across two reads waits for its
end) and the byte offset of their text in its stream, so a follower can tell what it missed and
take it from the stored result.
"""

import codecs
import logging
import os
import queue
import threading
import time
from collections import defaultdict
from contextlib import contextmanager

from livecode.core.contracts import EventChannel, LiveIO

STREAMS = ("stdout", "stderr")

log = logging.getLogger("livecode.events")


class Subscribers:
    """This process's subscriptions by topic; ``deliver`` hands an event to each."""

    def __init__(self):
        self.lock = threading.Lock()
        self.by_topic: dict[str, list] = defaultdict(list)

    def add(self, topic: str, deliver):
        with self.lock:
            self.by_topic[topic].append(deliver)

        def remove():
            with self.lock:
                found = self.by_topic.get(topic)
                if found and deliver in found:
                    found.remove(deliver)
                    if not found:
                        del self.by_topic[topic]

        return remove

    def deliver(self, topic: str, event: dict) -> None:
        with self.lock:
            targets = list(self.by_topic.get(topic, ()))
        for deliver in targets:
            deliver(event)


class OutputEvents:
    """A sandbox's ``LiveIO.output``: publishes each stream's new text as a ``stdout``/
    ``stderr`` event, at most one per stream every ``MIN_INTERVAL`` (what arrives sooner is
    sent together a moment later, so a program that flushes every byte costs the channel no
    more than one that prints in lines). It keeps what it read (at most ``output_limit`` per
    stream, as the sandbox does) so that a follower that joins mid-run can ask for what it
    missed (:meth:`replay`)."""

    MIN_INTERVAL = 0.005
    REPLAY_SHARED = 0.25

    def __init__(self, publish):
        self.publish = publish
        self.decoders = {s: codecs.getincrementaldecoder("utf-8")("replace") for s in STREAMS}
        self.kept = {s: bytearray() for s in STREAMS}  # every byte handed to the decoder
        self.text = dict.fromkeys(STREAMS, "")  # decoded, not yet published
        self.sent = dict.fromkeys(STREAMS, 0)  # bytes whose text has been published
        self.last = dict.fromkeys(STREAMS, 0.0)
        self.timers: dict[str, threading.Timer | None] = dict.fromkeys(STREAMS)
        self.replayed: dict[str, tuple[float, int]] = {}  # stream: (when, from which offset)
        self.lock = threading.Lock()

    def __call__(self, stream: str, chunk: bytes, final: bool = False) -> None:
        with self.lock:
            decoder = self.decoders[stream]
            self.text[stream] += decoder.decode(chunk, final)
            self.kept[stream] += chunk
            if final or time.monotonic() - self.last[stream] >= self.MIN_INTERVAL:
                self._send(stream)
            elif self.timers[stream] is None:
                self.timers[stream] = timer = threading.Timer(self.MIN_INTERVAL, self._later,
                                                              (stream,))
                timer.daemon = True
                timer.start()

    def _later(self, stream: str) -> None:
        with self.lock:
            self.timers[stream] = None
            self._send(stream)

    def _send(self, stream: str) -> None:
        decoded_to = len(self.kept[stream]) - len(self.decoders[stream].getstate()[0])
        if self.text[stream]:
            self.publish({"type": stream, "data": self.text[stream],
                          "offset": self.sent[stream]})
            self.text[stream] = ""
            self.last[stream] = time.monotonic()
        self.sent[stream] = decoded_to

    def replay(self, event: dict) -> None:
        """Publish again what was published of each stream from the offsets asked for (a
        follower's position, always a published event's boundary). Every follower sees a
        replay, so one asked for within ``REPLAY_SHARED`` seconds of a replay from no later an
        offset is already on its way: a crowd joining at once costs one replay, not one each."""
        with self.lock:
            now = time.monotonic()
            for stream in STREAMS:
                start = event.get(stream)
                at, since = self.replayed.get(stream, (0.0, -1))
                if isinstance(start, int) and now - at < self.REPLAY_SHARED and (
                        0 <= since <= start):
                    continue
                if isinstance(start, int) and 0 <= start < self.sent[stream]:
                    self.replayed[stream] = (now, start)
                    text = bytes(self.kept[stream][start:self.sent[stream]]).decode(
                        "utf-8", "replace")
                    self.publish({"type": stream, "data": text, "offset": start})

    def flush(self) -> None:
        """The end of the run: whatever is held goes now, before the run's last state."""
        for stream in STREAMS:
            with self.lock:
                if self.timers[stream] is not None:
                    self.timers[stream].cancel()
                    self.timers[stream] = None
            self(stream, b"", final=True)


class StdinPipe:
    """Bytes from ``control:<id>`` stdin events onto a pipe the sandbox forwards to the program: written
    by a thread of its own, so a program that does not read never blocks the channel's
    delivery. ``{"eof": true}``, the run's end or ``limit`` bytes close it."""

    def __init__(self, limit: int):
        self.read_fd, self._write_fd = os.pipe()
        self.left = limit
        self.pending: queue.SimpleQueue = queue.SimpleQueue()
        self.writer = threading.Thread(target=self._write, name="livecode-stdin", daemon=True)
        self.writer.start()

    def deliver(self, event: dict) -> None:
        if "stdin" in event:
            data = str(event["stdin"]).encode("utf-8", "replace")[:max(self.left, 0)]
            self.left -= len(data)
            self.pending.put(data)
        if event.get("eof") or self.left <= 0:
            self.pending.put(None)

    def _write(self) -> None:
        try:
            while (data := self.pending.get()) is not None:
                os.write(self._write_fd, data) if data else None
        except OSError:
            pass  # the program is gone and the sandbox closed its end
        finally:
            os.close(self._write_fd)

    def close(self) -> None:
        self.pending.put(None)
        os.close(self.read_fd)  # a write blocked on a full pipe fails now, and the writer ends
        self.writer.join(timeout=5)


class LiveChannel(EventChannel):
    """An event channel whose workers publish output live and take interactive stdin."""

    def __init__(self, url, settings):
        self.settings = settings

    @contextmanager
    def live(self, execution):
        """Output as events on ``run:<id>``; on ``control:<id>`` the requests of followers
        (``replay``: what they missed; ``probe``: is stdin open?) and an interactive run's
        stdin."""
        topic = f"run:{execution.execution_id}"

        def publish(event):
            # Followers are told, never relied on: a channel that is down (a broker restarting)
            # costs them live events, and the run and its stored result nothing.
            try:
                self.publish(topic, event)
            except Exception as exc:
                log.warning("live event of %s not published: %s", execution.execution_id, exc)

        output = OutputEvents(publish)
        stdin = StdinPipe(self.settings.max_stdin_bytes) if execution.extra.get(
            "interactive") else None

        def deliver(event):
            kind = event.get("type")
            if kind == "replay":
                output.replay(event)
            elif kind == "probe" and stdin is not None:
                publish({"type": "stdin_open"})
            elif stdin is not None and kind is None:
                stdin.deliver(event)

        unsubscribe = self.subscribe(f"control:{execution.execution_id}", deliver)
        try:
            if stdin is not None:
                publish({"type": "stdin_open"})
            yield LiveIO(output, stdin.read_fd if stdin else None)
            output.flush()
        finally:
            unsubscribe()
            if stdin is not None:
                stdin.close()


class ListeningChannel(LiveChannel):
    """A channel over a transport where one connection per process listens to every event of
    the deployment and hands each to this process's own subscribers: subscribing to a run is
    then local and immediate. Subclasses publish, and ``listen(ready, stop)`` until ``stop``
    is set, setting ``ready`` once they receive (reconnecting as their transport needs)."""

    def __init__(self, url, settings):
        super().__init__(url, settings)
        self.url = url
        self.subscribers = Subscribers()
        self._listening = None
        self._start = threading.Lock()
        self._stop = threading.Event()

    def subscribe(self, topic, deliver):
        remove = self.subscribers.add(topic, deliver)
        with self._start:  # the first subscription starts the listener and waits for it
            if self._listening is None:
                ready = threading.Event()
                self._listening = threading.Thread(target=self.listen, args=(ready, self._stop),
                                                   name="livecode-events", daemon=True)
                self._listening.start()
                ready.wait(10)
        return remove

    def listen(self, ready: threading.Event, stop: threading.Event) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self._stop.set()
        if self._listening is not None:
            self._listening.join(timeout=3)
