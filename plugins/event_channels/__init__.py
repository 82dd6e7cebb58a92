"""Event channels: how a run's states, output and interactive stdin travel between the workers
and the API processes that stream them.

``memory://`` keeps them inside one process (``livecode serve``, where the API and the worker
share it); ``redis://`` carries them over Redis pub/sub between hosts, ``amqp://`` through
RabbitMQ (a fanout exchange). A deployment's default is
its queue's URL, so whatever broker it already has carries its events too.
"""

from livecode.core.hookspecs import hookimpl


def _memory(url, settings):
    from .memory import MemoryChannel
    return MemoryChannel(url, settings)


def _redis(url, settings):
    from .redis_channel import RedisChannel
    return RedisChannel(url, settings)


def _broker(url, settings):
    from .broker_channel import BrokerChannel
    return BrokerChannel(url, settings)


@hookimpl
def livecode_register_event_channels(register):
    register("memory", _memory)
    for scheme in ("redis", "rediss"):
        register(scheme, _redis)
    for scheme in ("amqp", "amqps", "pyamqp"):
        register(scheme, _broker)
