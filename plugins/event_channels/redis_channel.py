"""Events over Redis pub/sub, between any number of worker and API hosts.

Each process that follows runs holds one connection subscribed to one pattern (every livecode
event of the deployment) and hands each event to its own subscribers: subscribing to a run is a
local act that takes effect at once, with no round trip to Redis per client. Pub/sub keeps
nothing: an event published while a process is reconnecting is lost to it, which the store
makes good (followers read the stored run when it ends, and at each keep-alive).
"""

import json
import logging
import time

import redis

from .live import ListeningChannel

log = logging.getLogger(__name__)
RECONNECT_DELAY = 0.5


class RedisChannel(ListeningChannel):
    def __init__(self, url, settings):
        super().__init__(url, settings)
        self.prefix = f"{settings.queue_name}:events:"
        self.client = redis.Redis.from_url(url)

    def publish(self, topic, event):
        self.client.publish(self.prefix + topic, json.dumps(event))

    def listen(self, ready, stop) -> None:
        while not stop.is_set():
            pubsub = redis.Redis.from_url(self.url).pubsub(ignore_subscribe_messages=False)
            try:
                pubsub.psubscribe(self.prefix + "*")
                while not stop.is_set():
                    message = pubsub.get_message(timeout=1.0)
                    if message is None:
                        continue
                    if message["type"] == "psubscribe":
                        ready.set()
                    elif message["type"] == "pmessage":
                        topic = message["channel"].decode()[len(self.prefix):]
                        self.subscribers.deliver(topic, json.loads(message["data"]))
            except redis.RedisError as exc:
                log.warning("event channel %s: %s; reconnecting", self.url, exc)
                time.sleep(RECONNECT_DELAY)
            finally:
                pubsub.close()

    def close(self) -> None:
        super().close()
        self.client.close()
