"""What a run leaves to tidy once it has ended, tidied after its result is returned, not before.

By the time a run's result is known its processes are dead (the worker killed its cgroup and
read the cgroup's figures), but the cgroup's directories are still there, and its uid slot is
held until they are gone. Removing them costs little CPU, yet an ``rmdir`` in a cgroup v1
hierarchy waits for an RCU grace period, which on a quiet host lasts several milliseconds
(3-30 ms measured for ``cpuacct`` on a 2-core VM, against 0.04 ms for a cgroup that never held a
process): on the run's path that was the largest single part of a hello-world run. Here it is
done by one thread of its own, in the order handed over; the slot is released only once its
cgroup is gone, as before, so the next run of that slot still finds a new, empty cgroup.

A worker killed meanwhile leaves what it had not yet tidied as any crashed worker does: its
slots' locks die with it, and the next sandbox that claims one (or starts) clears its cgroup.
"""

import logging
import os
import queue
import threading
from contextlib import ExitStack

log = logging.getLogger(__name__)


class Aftercare:
    def __init__(self):
        self._todo: queue.SimpleQueue[ExitStack] = queue.SimpleQueue()
        self._pending = 0
        self._done = threading.Condition()
        self._pid = os.getpid()
        self._thread = threading.Thread(target=self._tidy, name="livecode-aftercare", daemon=True)
        self._thread.start()

    def later(self, stack: ExitStack) -> None:
        """Close ``stack`` soon, in this thread's stead (at once in a forked child, which has
        no such thread)."""
        if os.getpid() != self._pid or not self._thread.is_alive():
            stack.close()
            return
        with self._done:
            self._pending += 1
        self._todo.put(stack)

    def wait(self, timeout: float | None = None) -> bool:
        """Until everything handed over so far is tidied; False if ``timeout`` passed first."""
        with self._done:
            return self._done.wait_for(lambda: self._pending == 0, timeout)

    def _tidy(self) -> None:
        while True:
            stack = self._todo.get()
            try:
                stack.close()
            except Exception:  # this thread must live on; the slot's next claim clears it
                log.exception("subprocess sandbox: could not tidy up after a run")
            with self._done:
                self._pending -= 1
                self._done.notify_all()
