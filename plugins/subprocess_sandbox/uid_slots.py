"""One uid per live run on a host, so that per-user kernel limits and permissions separate runs.

``RLIMIT_NPROC`` counts the processes of a uid, system-wide: two concurrent runs under one uid
would share one budget, and one run's fork bomb would starve the other. Each run therefore takes a
uid of its own from a range, claimed with ``flock`` on a lock file per uid, which works across
worker processes and is released by the kernel if a worker dies.

A slot is handed out only once nothing of its previous run is alive: whoever claims it first calls
``ready(uid)``, which clears what a dead worker's run may have left (its cgroup, its processes)
and says whether the slot is clean; a slot that is not is skipped.

While every slot is taken, a claimer waits, after each look calling its ``when_full``: a run has
jails started ahead of demand (:mod:`.prefork`) give one slot back, and such a jail's own claim
gives up rather than wait (it raises).
"""

import fcntl
import os
import signal
import threading
import time
from contextlib import contextmanager, suppress

WAIT_STEP = 0.01
KILL_ROUNDS = 50


def kill_processes_of(uid: int) -> bool:
    """SIGKILL every process running as ``uid``, again until none is left (a forking program may
    add some meanwhile); False if some are still there. Where runs have cgroups, killing the
    cgroup does this without reading all of /proc."""
    for _ in range(KILL_ROUNDS):
        found = False
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            with suppress(OSError, IndexError):
                if entry.stat(follow_symlinks=False).st_uid != uid:
                    continue
                with open(f"/proc/{entry.name}/stat") as stat:
                    if stat.read().rsplit(")", 1)[1].split()[0] == "Z":
                        continue  # dead already, waiting for its parent to reap it
                os.kill(int(entry.name), signal.SIGKILL)
                found = True
        if not found:
            return True
        time.sleep(WAIT_STEP)
    return False


class UidSlots:
    def __init__(self, lock_dir: str, base: int, count: int):
        os.makedirs(lock_dir, mode=0o700, exist_ok=True)
        self.lock_dir, self.base, self.count = lock_dir, base, count
        self._next = os.getpid() % count  # spread processes over the range
        self._mutex = threading.Lock()

    @contextmanager
    def acquire(self, ready=lambda uid: True, when_full=lambda: None):
        fd, uid = self._claim(ready, when_full)
        try:
            yield uid
        finally:
            self._release(fd)

    @contextmanager
    def hold_if_free(self, uid: int):
        """Hold ``uid``'s slot if no one does (yields True), else yield False at once."""
        fd = self._try(uid)
        try:
            yield fd is not None
        finally:
            if fd is not None:
                self._release(fd)

    def _claim(self, ready, when_full) -> tuple[int, int]:
        while True:
            with self._mutex:
                start = self._next
                self._next = (self._next + 1) % self.count
            for offset in range(self.count):
                uid = self.base + (start + offset) % self.count
                fd = self._try(uid)
                if fd is None:
                    continue
                if ready(uid):
                    return fd, uid
                self._release(fd)
            when_full()
            time.sleep(WAIT_STEP)  # every uid is running a program; wait for one to end

    def _try(self, uid: int) -> int | None:
        fd = os.open(os.path.join(self.lock_dir, f"{uid}.lock"),
                     os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            os.close(fd)
            return None

    @staticmethod
    def _release(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
