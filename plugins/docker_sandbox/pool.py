"""The warm pool: containers made and started ahead, so that a run does not wait for the engine.

Creating and starting a container costs the engine a few hundred milliseconds; handing a
program to a ready one costs a write. The pool keeps ``size`` ready containers (the worker's
concurrency) for each spec a run has asked it for, refilling in one background thread as they
are taken. Each is used for exactly one run and then ended, so nothing of one run can meet the
next. A spec fixes what cannot change after creation (image, memory, PID limit, tmpfs size);
the sandbox asks the pool only for the spec of its default limits, and a run with other limits
gets a container made for it, exactly as when there is no pool. What differs per run within a
spec (rlimits, the wall deadline, the program) is applied when the run starts.

Containers that waited ``MAX_IDLE_SECONDS`` are replaced, and ones that ended while waiting are
dropped; a pool whose worker dies ends with it (see ``container``: each holder exits when its
worker's connection closes), and ``sweep`` removes whatever an engine still lists.
"""

import logging
import threading
import time
from collections import deque

from livecode.core.contracts import SandboxError

from .container import ContainerSpec, ReadyContainer

log = logging.getLogger(__name__)

MAX_IDLE_SECONDS = 600
RETRY_FIRST, RETRY_MAX = 1.0, 60.0  # seconds between attempts while the engine refuses


class WarmPool:
    def __init__(self, make, size: int):
        self.make, self.size = make, size
        self.ready: dict[ContainerSpec, deque[ReadyContainer]] = {}
        self.problem: str | None = None  # why the last refill failed, while it keeps failing
        self._changed = threading.Condition()
        self._stopped = False
        self._thread: threading.Thread | None = None

    def take(self, spec: ContainerSpec) -> ReadyContainer | None:
        """A ready container of ``spec``, or ``None`` when none is ready (the pool starts
        keeping some for ``spec`` from now on)."""
        dead = []
        with self._changed:
            if self._stopped:
                return None
            waiting = self.ready.setdefault(spec, deque())
            if self._thread is None:
                self._thread = threading.Thread(target=self._refill, name="docker-warm-pool",
                                                daemon=True)
                self._thread.start()
            self._changed.notify()
            taken = None
            while waiting and taken is None:
                candidate = waiting.popleft()
                if candidate.alive():
                    taken = candidate
                else:
                    dead.append(candidate)
        for container in dead:
            container.discard()
        return taken

    def _refill(self) -> None:
        delay = RETRY_FIRST
        while True:
            with self._changed:
                if self._stopped:
                    return
                stale = self._retire()
                short = [spec for spec, waiting in self.ready.items() if len(waiting) < self.size]
                if not short and not stale:
                    self._changed.wait(MAX_IDLE_SECONDS / 4)
                    continue
            for container in stale:
                container.discard()
            if not short:
                continue
            try:
                container = self.make(short[0], idle=True)
            except SandboxError as exc:
                self.problem = str(exc)
                log.warning("docker sandbox: the warm pool cannot make a container (%s); runs "
                            "get containers made for them meanwhile", exc)
                with self._changed:
                    self._changed.wait(delay)
                delay = min(delay * 2, RETRY_MAX)
                continue
            delay, self.problem = RETRY_FIRST, None
            with self._changed:
                if not self._stopped:
                    self.ready[short[0]].append(container)
                    continue
            container.discard()
            return

    def _retire(self) -> list[ReadyContainer]:
        """Take out the containers that ended while waiting or waited too long."""
        stale = []
        for waiting in self.ready.values():
            for container in list(waiting):
                too_old = time.monotonic() - container.made_at > MAX_IDLE_SECONDS
                if too_old or not container.alive():
                    waiting.remove(container)
                    stale.append(container)
        return stale

    def close(self) -> None:
        with self._changed:
            self._stopped = True
            self._changed.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout=60)
        for waiting in self.ready.values():
            while waiting:
                waiting.popleft().discard()
