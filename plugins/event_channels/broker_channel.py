"""Events through a Kombu broker (RabbitMQ: ``amqp://``), for deployments whose queue is
there: a fanout exchange; each following process binds its own exclusive, auto-deleted queue
and hands each event to its own subscribers, so subscribing to a run costs no round trip.
Like pub/sub it keeps nothing for a process that is away; the store makes that good."""

import logging
import time

from kombu import Connection, Consumer, Exchange, Queue
from kombu.pools import producers

from .live import ListeningChannel

log = logging.getLogger(__name__)
RECONNECT_DELAY = 0.5


class BrokerChannel(ListeningChannel):
    def __init__(self, url, settings):
        super().__init__(url, settings)
        self.exchange = Exchange(f"{settings.queue_name}.events", type="fanout",
                                 durable=False, auto_delete=False)
        self.connection = Connection(url, connect_timeout=5)

    def publish(self, topic, event):
        with producers[self.connection].acquire(block=True, timeout=10) as producer:
            producer.publish({"topic": topic, "event": event}, exchange=self.exchange,
                             serializer="json", declare=[self.exchange], retry=True,
                             retry_policy={"max_retries": 3, "interval_start": 0,
                                           "interval_step": 0.2})

    def _on_message(self, body, message):
        message.ack()
        if isinstance(body, dict) and "topic" in body:
            self.subscribers.deliver(body["topic"], body["event"])

    def listen(self, ready, stop) -> None:
        while not stop.is_set():
            try:
                with Connection(self.url, heartbeat=30, connect_timeout=5) as connection:
                    queue = Queue(exchange=self.exchange, exclusive=True, auto_delete=True,
                                  durable=False)
                    with Consumer(connection, [queue], callbacks=[self._on_message],
                                  accept=["json"]):
                        ready.set()
                        while not stop.is_set():
                            try:
                                connection.drain_events(timeout=1.0)
                            except TimeoutError:
                                connection.heartbeat_check()
            except Exception as exc:  # the broker's connection errors, whichever transport
                log.warning("event channel %s: %s; reconnecting", self.url, exc)
                time.sleep(RECONNECT_DELAY)

    def close(self) -> None:
        super().close()
        self.connection.release()
