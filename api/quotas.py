"""Per-key quotas: write requests per second, runs started per minute, runs QUEUED or RUNNING at
once. Over any of them a request gets 429 with ``Retry-After`` and a JSON error naming the quota,
before it changes anything.

The rates use the ``limits`` library's fixed windows. Their counters live in Redis when the
deployment has Redis (its queue is ``redis://``), so every API host shares them, and otherwise in
the store (``Store.hit_counter``), which every API host of a deployment shares as well.

Runs active at once are counted by the store, which knows them exactly on every host; but
counting then inserting is not atomic, so requests racing for the last slot could all pass. Each
request therefore first reserves its slots in a shared counter, then counts the store's runs
(after reserving), and holds the reservation until its runs are stored. Of two racing requests
the second either sees the first's reservation or, once it was released, the first's stored run:
never neither. A reservation lives in a counter of the time bucket it was made in and is read
with the previous bucket's, so one that a dead API process never released lapses within two
buckets instead of holding the slot for ever.
"""

import math
import time
from contextlib import contextmanager

import falcon
import limits
from limits.storage import Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter

from .errors import APIError

WRITE_METHODS = {"POST", "PATCH", "PUT", "DELETE"}
RESERVATION_BUCKET = 30  # seconds; longer than any request takes to store its runs


class StoreCounters(Storage):
    """A ``limits`` storage over the livecode store's counters."""

    STORAGE_SCHEME = None

    def __init__(self, store):
        super().__init__()
        self.store = store

    @property
    def base_exceptions(self):
        return Exception

    def incr(self, key, expiry, amount=1):
        return self.store.hit_counter(key, expiry, amount)

    def get(self, key):
        return self.store.get_counter(key)[0]

    def get_expiry(self, key):
        return self.store.get_counter(key)[1]

    def check(self):
        self.store.ping()
        return True

    # Fixed windows never reset or clear a counter: each one expires with its window.
    def reset(self):
        raise NotImplementedError("livecode's quota counters expire; they are never reset")

    def clear(self, key):
        raise NotImplementedError("livecode's quota counters expire; they are never cleared")


def counters_for(settings, store) -> Storage:
    if settings.queue.startswith(("redis://", "rediss://")):
        return storage_from_string(settings.queue, key_prefix="livecode-quota")
    return StoreCounters(store)


class Quotas:
    def __init__(self, settings, store):
        self.store = store
        self.defaults = {"writes_per_second": settings.quota_writes_per_second,
                         "runs_per_minute": settings.quota_runs_per_minute,
                         "active_runs": settings.quota_active_runs}
        self.limiter = FixedWindowRateLimiter(counters_for(settings, store))

    def _quota(self, caller, name: str) -> int:
        """The caller's quota (0: unlimited); the local admin has none."""
        if caller.quotas is None:
            return 0
        value = caller.quotas.get(name)
        return self.defaults[name] if value is None else value

    def _hit(self, caller, name: str, per: str, cost: int = 1) -> None:
        amount = self._quota(caller, name)
        if not amount:
            return
        item = limits.parse(f"{amount}/{per}")
        if not self.limiter.hit(item, caller.key_id, name, cost=cost):
            reset = self.limiter.get_window_stats(item, caller.key_id, name).reset_time
            raise over(name, amount, reset - time.time())

    def process_resource(self, req, resp, resource, params):
        """Falcon middleware: every write request counts against ``writes_per_second``."""
        if resource is not None and req.method in WRITE_METHODS:
            self._hit(req.context.caller, "writes_per_second", "second")

    @contextmanager
    def reserve_runs(self, caller, runs: int = 1):
        """Around storing ``runs`` new runs for ``caller``: refuses (429) over ``active_runs``
        or ``runs_per_minute``, and holds the slots until the block has stored the runs."""
        active = self._quota(caller, "active_runs")
        release = self._reserve(caller, runs, active) if active else None
        try:
            self._hit(caller, "runs_per_minute", "minute", runs)
            yield
        finally:
            if release:
                release()

    def _reserve(self, caller, runs: int, active: int):
        """Reserve, then count (in that order: see the module's docstring); a release."""
        counters, bucket = self.limiter.storage, int(time.time() // RESERVATION_BUCKET)
        key = f"active_runs/{caller.key_id}/{bucket}"
        reserved = counters.incr(key, 2 * RESERVATION_BUCKET, runs)
        reserved += max(0, counters.get(f"active_runs/{caller.key_id}/{bucket - 1}"))

        def release():
            counters.incr(key, 2 * RESERVATION_BUCKET, -runs)

        try:
            counts = self.store.count_executions(owner=caller.key_id)
            if counts.get("QUEUED", 0) + counts.get("RUNNING", 0) + reserved > active:
                raise over("active_runs", active, 1)
        except BaseException:
            release()
            raise
        return release


def over(name: str, amount: int, retry_after: float) -> APIError:
    seconds = max(1, math.ceil(retry_after))
    return APIError(falcon.HTTP_429, "quota_exceeded",
                    f"quota {name} ({amount}) reached; retry in {seconds} s",
                    {"quota": name, "limit": amount, "retry_after": seconds},
                    headers={"Retry-After": str(seconds)})
