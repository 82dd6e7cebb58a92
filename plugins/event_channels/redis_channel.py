"""Events over Redis pub/sub, between any number of worker and API hosts.

Each process that follows runs holds one connection subscribed to one pattern (every livecode
event of the deployment) and hands each event to its own subscribers: subscribing to a run is a
local act that takes effect at once, with no round trip to Redis per client. Pub/sub keeps
nothing: an event published while a process is reconnecting is lost to it, which the store
makes good (followers read the stored run when it ends, and at each keep-alive).
"""

import json
import logging
import threading
import time

import redis

from .live import LiveChannel, Subscribers

log = logging.getLogger(__name__)
RECONNECT_DELAY = 0.5


class RedisChannel(LiveChannel):
    def __init__(self, url, settings):
        super().__init__(url, settings)
        self.url = url
        self.prefix = f"{settings.queue_name}:events:"
        self.client = redis.Redis.from_url(url)
        self.subscribers = Subscribers()
        self._listening = None
        self._start = threading.Lock()
        self._stop = threading.Event()

    def publish(self, topic, event):
        self.client.publish(self.prefix + topic, json.dumps(event))

    def subscribe(self, topic, deliver):
        remove = self.subscribers.add(topic, deliver)
        self._listen()
        return remove

    def _listen(self) -> None:
        """Start the listening thread once, and return when its subscription is active."""
        with self._start:
            if self._listening is None:
                subscribed = threading.Event()
                self._listening = threading.Thread(target=self._run, args=(subscribed,),
                                                   name="livecode-events", daemon=True)
                self._listening.start()
                subscribed.wait(10)

    def _run(self, subscribed: threading.Event) -> None:
        while not self._stop.is_set():
            pubsub = redis.Redis.from_url(self.url).pubsub(ignore_subscribe_messages=False)
            try:
                pubsub.psubscribe(self.prefix + "*")
                while not self._stop.is_set():
                    message = pubsub.get_message(timeout=1.0)
                    if message is None:
                        continue
                    if message["type"] == "psubscribe":
                        subscribed.set()
                    elif message["type"] == "pmessage":
                        topic = message["channel"].decode()[len(self.prefix):]
                        self.subscribers.deliver(topic, json.loads(message["data"]))
            except redis.RedisError as exc:
                log.warning("event channel %s: %s; reconnecting", self.url, exc)
                time.sleep(RECONNECT_DELAY)
            finally:
                pubsub.close()

    def close(self) -> None:
        self._stop.set()
        if self._listening is not None:
            self._listening.join(timeout=3)
        self.client.close()
