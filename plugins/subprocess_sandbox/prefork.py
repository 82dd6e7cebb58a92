"""Jails started ahead of demand: a run takes one that has already done every step that does not
depend on the run, and pays only for its own.

A pooled jail has its uid slot (held while it waits) and its cgroup (with default limits), was
forked by a fork-server, has its namespaces, its init in the cgroup, its minimal root built for
its toolchain and loopback up; its init waits for the run's part of the spec (:mod:`.jail`).
A run takes one whose fixed part is its own (the same :data:`Key`: fork-server, mode, toolchain
layout; a compile step never does, as its outputs file is given to the jail when it is forked),
sets the cgroup's limits to its own and sends the rest. From there the jail goes on exactly as
one started for the run, and serves that run only. Each take has a background thread start a
replacement, for the most recently used kinds of run only (:data:`KEYS`).

A pooled jail keeps the ties of any jail: it dies with its fork-server, which dies with the
worker (``PR_SET_PDEATHSIG``), and its init with it; its slot's lock is held, so another
worker's sweep leaves its cgroup alone while its worker lives, and clears it once it is gone.
One that died while it waited (its fork-server restarted, say) is found when taken and
discarded; the run then starts a jail of its own.
"""

import logging
import os
import select
import signal
import threading
from collections import OrderedDict
from contextlib import ExitStack
from typing import Callable

from livecode.core.contracts import SandboxError

log = logging.getLogger(__name__)

KEYS = 2  # kinds of run kept ready at once (each holds up to the pool's size of uid slots)
DISCARD_GRACE = 2.0  # seconds a killed jail's fork-server has to report it reaped

Key = tuple  # (fork-server, mode, toolchain layout): what a jail did before its run was known


class Pooled:
    """A jail waiting for its run, its cgroup (or ``None``) and the limits that cgroup has now,
    and ``resources``: what the run unwinds once it has ended, as a run of its own would (the
    jail's pipes closed, its cgroup removed, its slot released)."""

    def __init__(self, jail, cgroup, resources: ExitStack, cgroup_limits: tuple = ()):
        self.jail, self.cgroup, self.resources = jail, cgroup, resources
        self.cgroup_limits = cgroup_limits

    def alive(self) -> bool:
        """Neither the jail nor its fork-server has ended: the reply socket closes with the
        fork-server at once, before its jails die of it."""
        poll = select.poll()
        poll.register(self.jail.pidfd, select.POLLIN)
        poll.register(self.jail.reply, select.POLLIN)
        return not poll.poll(0)

    def discard(self) -> None:
        """Kill the jail (its init dies with it) and free what it held."""
        try:
            signal.pidfd_send_signal(self.jail.pidfd, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            self.jail.reap(DISCARD_GRACE)
        except SandboxError:
            pass  # its fork-server is gone, and so is the jail
        self.resources.close()


class Pool:
    """Up to ``size`` pooled jails for each of the :data:`KEYS` most recently used keys, made by
    ``prepare(key)`` (``None`` if it cannot now) in a thread of the pool's own."""

    def __init__(self, size: int, prepare: Callable[[Key], Pooled | None]):
        self.size, self._prepare = size, prepare
        self._ready: OrderedDict[Key, list[Pooled]] = OrderedDict()  # least recently used first
        self._stalled: set[Key] = set()  # its last start failed: none before its next take
        self._doomed: list[Pooled] = []  # evicted or dead: discarded by the pool's thread
        self._changed = threading.Condition()
        self._closed = False
        self.taken = 0  # runs that had a pooled jail
        self._pid = os.getpid()  # a forked child has no refill thread, nor these jails' zygote
        threading.Thread(target=self._refill, name="livecode-prefork", daemon=True).start()

    def take(self, key: Key) -> Pooled | None:
        """A live pooled jail for ``key``, or ``None``; either way ``key`` is now the most
        recently used, and is refilled."""
        if os.getpid() != self._pid:
            return None
        with self._changed:
            if self._closed:
                return None
            jails = self._ready.setdefault(key, [])
            self._ready.move_to_end(key)
            self._stalled.discard(key)
            dropped = self._evict()
            found = None
            while jails and found is None:
                jail = jails.pop(0)
                if jail.alive():
                    found = jail
                    self.taken += 1
                else:
                    dropped.append(jail)
            self._doomed.extend(dropped)  # not in the run's time
            self._changed.notify()
        return found

    def give_back(self) -> None:
        """Discard one pooled jail, for a run that found every uid slot taken; its key is not
        refilled before it is taken again, or the slot would go straight back to the pool."""
        with self._changed:
            found = next(((key, jails.pop(0)) for key, jails in self._ready.items() if jails),
                         None)
            if found:
                self._stalled.add(found[0])
        if found:
            found[1].discard()

    def waiting(self) -> list[Pooled]:
        """The jails that wait now, of every key."""
        with self._changed:
            return [jail for jails in self._ready.values() for jail in jails]

    def close(self) -> None:
        with self._changed:
            self._closed = True
            dropped = [jail for jails in self._ready.values() for jail in jails] + self._doomed
            self._ready.clear()
            self._doomed = []
            self._changed.notify()
        for jail in dropped:
            jail.discard()

    def _evict(self) -> list[Pooled]:
        """The jails of keys past the most recently used :data:`KEYS` (under the lock)."""
        dropped = []
        while len(self._ready) > KEYS:
            key, jails = self._ready.popitem(last=False)
            self._stalled.discard(key)
            dropped.extend(jails)
        return dropped

    def _short(self) -> Key | None:
        """The most recently used key that wants a jail more (under the lock)."""
        for key in reversed(self._ready):
            if len(self._ready[key]) < self.size and key not in self._stalled:
                return key
        return None

    def _refill(self) -> None:
        while True:
            with self._changed:
                while not (self._closed or self._doomed) and (key := self._short()) is None:
                    self._changed.wait()
                if self._closed:
                    return
                doomed, self._doomed = self._doomed, []
            if doomed:
                for jail in doomed:
                    jail.discard()
                continue
            try:
                jail = self._prepare(key)
            except Exception:  # this thread must live on: the next take tries the key again
                log.exception("subprocess sandbox: a jail could not be started ahead of its run")
                jail = None
            with self._changed:
                if jail is None:
                    self._stalled.add(key)
                elif key in self._ready and not self._closed:
                    self._ready[key].append(jail)
                    jail = None
            if jail:  # its key was evicted, or the pool closed, meanwhile
                jail.discard()
