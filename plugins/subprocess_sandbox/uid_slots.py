"""One uid per live run on a host, so that per-user kernel limits and permissions separate runs.

``RLIMIT_NPROC`` counts the processes of a uid, system-wide: two concurrent runs under one uid
would share one budget, and one run's fork bomb would starve the other. Each run therefore takes a
uid of its own from a range, claimed with ``flock`` on a lock file per uid, which works across
worker processes and is released by the kernel if a worker dies.
"""

import fcntl
import os
import threading
import time
from contextlib import contextmanager

WAIT_STEP = 0.01


class UidSlots:
    def __init__(self, lock_dir: str, base: int, count: int):
        os.makedirs(lock_dir, mode=0o700, exist_ok=True)
        self.lock_dir, self.base, self.count = lock_dir, base, count
        self._next = os.getpid() % count  # spread processes over the range
        self._mutex = threading.Lock()

    @contextmanager
    def acquire(self):
        fd, uid = self._claim()
        try:
            yield uid
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def _claim(self) -> tuple[int, int]:
        while True:
            with self._mutex:
                start = self._next
                self._next = (self._next + 1) % self.count
            for offset in range(self.count):
                uid = self.base + (start + offset) % self.count
                fd = os.open(os.path.join(self.lock_dir, f"{uid}.lock"),
                             os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return fd, uid
                except BlockingIOError:
                    os.close(fd)
            time.sleep(WAIT_STEP)  # every uid is running a program; wait for one to end
