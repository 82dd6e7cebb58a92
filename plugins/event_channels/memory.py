"""The in-process channel: events go straight to the subscribers' callbacks, in the thread that
publishes them. One hub per process, as kombu's ``memory://`` transport is, so every service
opened on ``memory://`` in a process (``serve``'s API and its worker) shares it."""

from .live import LiveChannel, Subscribers

_subscribers = Subscribers()


class MemoryChannel(LiveChannel):
    def publish(self, topic, event):
        _subscribers.deliver(topic, event)

    def subscribe(self, topic, deliver):
        return _subscribers.add(topic, deliver)
