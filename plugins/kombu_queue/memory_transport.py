"""Kombu's ``memory://`` transport, made to wait on its queue instead of polling it.

The stock transport polls with ``sleep(polling_interval)`` between empty reads, which adds up to
that interval to every run's latency in the embedded mode. Here the read blocks on the in-process
``queue.Queue`` for a short while, so a published id reaches the worker at once.
"""

from kombu.transport import memory

BLOCK_SECONDS = 0.2  # how long one read waits; bounds how late a consumer notices it should stop


class BlockingMemoryChannel(memory.Channel):
    def _get(self, queue, timeout=None):
        return self._queue_for(queue).get(block=True, timeout=BLOCK_SECONDS)


class BlockingMemoryTransport(memory.Transport):
    Channel = BlockingMemoryChannel
    polling_interval = 0


def reset() -> None:
    """Forget every in-process queue (the state is global to the process); for tests."""
    memory.Channel.queues.clear()
