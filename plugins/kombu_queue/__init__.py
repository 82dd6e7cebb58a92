"""Queues through Kombu: ``memory://`` (one process), ``redis://`` and ``amqp://`` (RabbitMQ).

A message is ``{"execution_id": …}`` in JSON and nothing else; pickle is never accepted. The
consumer keeps at most ``capacity`` messages unacknowledged (``prefetch_count``) and acknowledges
each one on its own thread — Kombu channels are not thread-safe — once the worker reports the
result stored, so a worker that dies mid-run leaves its message to be delivered again.
"""

import importlib.util
import logging
import queue as stdlib_queue
import time

from kombu import Connection, Consumer, Exchange
from kombu import Queue as KombuQueueSpec
from kombu.exceptions import OperationalError
from kombu.pools import connections, producers

from livecode.core.contracts import Queue
from livecode.core.errors import InvalidInput
from livecode.core.hookspecs import hookimpl

from .memory_transport import BlockingMemoryTransport

log = logging.getLogger(__name__)

DRAIN_SECONDS = 1.0  # a consumer wakes at least this often, to heartbeat and to notice stop
RECONNECT_DELAY = 1.0
# A consumer with room that has received nothing for this long while the queue holds messages
# has a connection that died without telling (Kombu's Redis poller can miss a server restart).
WATCHDOG_SECONDS = 5.0
PUBLISH_RETRY = {"max_retries": 3, "interval_start": 0, "interval_step": 0.2, "interval_max": 1}


class SilentConnection(Exception):
    """Messages wait in the queue but none arrives: the connection died without telling."""


class KombuQueue(Queue):
    def __init__(self, url: str, settings):
        if url.startswith("redis") and importlib.util.find_spec("redis") is None:
            raise InvalidInput(f"{url!r} needs the redis package (pip install 'livecode[redis]')")
        self.url = url
        self.in_process = url.startswith("memory:")
        self.exchange = Exchange("livecode", type="direct", durable=True)
        self.spec = KombuQueueSpec(settings.queue_name, self.exchange,
                                   routing_key=settings.queue_name, durable=True)
        self._connection = self.connect()

    def connect(self) -> Connection:
        if self.url.startswith("memory:"):
            return Connection(transport=BlockingMemoryTransport)
        return Connection(self.url, heartbeat=30, connect_timeout=5,
                          transport_options={"socket_timeout": 10})

    def publish(self, execution_id: str) -> None:
        with producers[self._connection].acquire(block=True, timeout=10) as producer:
            producer.publish(
                {"execution_id": execution_id},
                exchange=self.exchange, routing_key=self.spec.routing_key, serializer="json",
                delivery_mode=2, declare=[self.spec], retry=True, retry_policy=PUBLISH_RETRY,
            )

    def depth(self) -> int:
        with connections[self._connection].acquire(block=True, timeout=10) as conn:
            conn.ensure_connection(max_retries=1, timeout=5)
            channel = conn.default_channel
            return self.spec(channel).queue_declare(passive=False).message_count

    def ping(self) -> None:
        self.depth()

    def purge_and_delete(self) -> None:
        """Remove the queue from the broker (for tests and for tearing a deployment down)."""
        with connections[self._connection].acquire(block=True, timeout=10) as conn:
            self.spec(conn.default_channel).delete()

    def consume(self, handler, capacity: int, stop) -> None:
        # As Kombu's ConsumerMixin: only the broker's connection and channel errors (and the
        # OperationalError that ensure_connection raises once its retries are spent) mean
        # "reconnect". Anything else is a bug, and reconnecting in a loop would only hide it.
        transport = self.connect()
        lost = (transport.connection_errors + transport.channel_errors
                + (OperationalError, SilentConnection))
        while not stop.is_set():
            try:
                self._consume_once(handler, capacity, stop)
            except lost as exc:
                if stop.is_set():
                    break
                log.warning("queue %s: connection lost (%s); reconnecting in %.0fs",
                            self.url, exc, RECONNECT_DELAY)
                time.sleep(RECONNECT_DELAY)

    def _consume_once(self, handler, capacity: int, stop) -> None:
        finished: stdlib_queue.SimpleQueue = stdlib_queue.SimpleQueue()
        unacked = 0
        last_delivery = last_check = time.monotonic()

        def on_message(body, message):
            nonlocal unacked, last_delivery
            last_delivery = time.monotonic()
            execution_id = body.get("execution_id") if isinstance(body, dict) else None
            if not isinstance(execution_id, str):
                log.error("queue %s: dropping malformed message %r", self.url, body)
                message.reject()
                return
            handler(execution_id, lambda requeue=False: finished.put((message, requeue)))
            unacked += 1  # settled on this thread, so never before this line

        def settle(item):
            nonlocal unacked
            message, requeue = item
            unacked -= 1
            try:
                message.requeue() if requeue else message.ack()
            except Exception as exc:  # the channel died; the broker will deliver it again
                log.warning("queue %s: could not settle a message: %s", self.url, exc)

        with self.connect() as conn:
            conn.ensure_connection(max_retries=3)
            with Consumer(conn.channel(), queues=[self.spec], callbacks=[on_message],
                          accept=["json"], prefetch_count=capacity):
                try:
                    while not stop.is_set():
                        while True:
                            try:
                                settle(finished.get_nowait())
                            except stdlib_queue.Empty:
                                break
                        if unacked >= capacity:
                            # Full: nothing can arrive, so wait for a run to finish instead.
                            try:
                                settle(finished.get(timeout=DRAIN_SECONDS))
                            except stdlib_queue.Empty:
                                pass
                            conn.heartbeat_check()
                            continue
                        try:
                            conn.drain_events(timeout=DRAIN_SECONDS)
                        except TimeoutError:
                            conn.heartbeat_check()
                            now = time.monotonic()
                            if (now - last_check >= WATCHDOG_SECONDS
                                    and now - last_delivery >= WATCHDOG_SECONDS):
                                last_check = now
                                if self.depth():
                                    raise SilentConnection("messages wait in the queue but "
                                                           "none arrives") from None
                finally:
                    # Runs in flight finish and are acknowledged before the connection closes.
                    while unacked:
                        settle(finished.get())


@hookimpl
def livecode_register_queues(register):
    for scheme in ("memory", "redis", "rediss", "amqp", "amqps", "pyamqp"):
        register(scheme, KombuQueue)
