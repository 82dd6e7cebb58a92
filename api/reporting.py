"""What operators read (``/workers``, ``/queues``, ``/stats``, ``/failures``): worker records,
queue statistics, windows of run statistics, failures by signature. Only the API serves these.

The window functions take ``until`` so that a console can ask about a fixed moment (its snapshot
tests freeze time that way); by default the window ends now.
"""

from datetime import datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

from livecode.core.errors import InvalidInput
from livecode.core.execution_states import TERMINAL, Status
from livecode.core.service import Livecode
from livecode.core.timestamps import age_seconds, iso, now, parse_time

STATS_SAMPLE = 5000  # runs a statistics window reads at most
RAN_TO_AN_END = TERMINAL - {Status.CANCELLED}  # what throughput and failure rates count


class Reporting:
    """Reads the store and queue of ``livecode``; changes nothing."""

    def __init__(self, livecode: Livecode):
        self.settings, self.store, self.queue = livecode.settings, livecode.store, livecode.queue

    def workers(self) -> list[dict]:
        """Every worker that reported, with the age of its last heartbeat and whether it is lost
        (silent for longer than ``worker_lost_after``): a lost worker's runs are recovered."""
        lost_after = self.settings.worker_lost_after
        return [{**w.to_dict(), "heartbeat_age_seconds": round(age_seconds(w.last_heartbeat), 3),
                 "lost": w.is_lost(lost_after)} for w in self.store.list_workers()]

    def queue_stats(self) -> list[dict]:
        counts = self.store.count_executions()
        oldest = self.store.oldest_queued_at()
        live = [w for w in self.store.list_workers()
                if w.is_live(self.settings.worker_lost_after)
                and w.queue == self.settings.queue_name]
        try:
            depth = self.queue.depth()
        except Exception:
            depth = None
        return [{
            "name": self.settings.queue_name,
            "url": redact(self.settings.queue),
            "depth": depth,
            "consumers": len(live),
            "capacity": sum(w.concurrency for w in live),
            "queued": counts.get("QUEUED", 0),
            "running": counts.get("RUNNING", 0),
            "oldest_waiting_seconds": round(age_seconds(oldest), 3) if oldest else None,
            "oldest_waiting_since": oldest,
        }]

    def stats(self, window: float, until: str | None = None, buckets: int = 30) -> dict:
        """What the last ``window`` seconds (up to ``until``, default now) looked like: counts
        by state, throughput, wait and run time percentiles, failure rates, and runs per bucket
        for a sparkline. Counts are the store's aggregate; percentiles and the sparkline come
        from the times (never the texts) of the newest ``STATS_SAMPLE`` runs of the window."""
        end, start = _window(window, until)
        bounds = (iso(start), iso(end))
        counts = self.store.count_executions(*bounds)
        sample = self.store.execution_timings(*bounds, STATS_SAMPLE)
        waits = sorted((parse_time(t.started_at) - parse_time(t.created_at)).total_seconds()
                       * 1000 for t in sample if t.started_at)
        runs = sorted(t.execution_time_ms for t in sample if t.execution_time_ms is not None)
        ended = sum(counts.get(str(s), 0) for s in RAN_TO_AN_END)
        spark = [0] * buckets
        for t in sample:
            if t.finished_at:
                offset = (parse_time(t.finished_at) - start).total_seconds()
                if 0 <= offset < window:
                    spark[int(offset / window * buckets)] += 1
        return {
            "window_seconds": window, "until": bounds[1], "counts": counts,
            "runs_per_second": round(ended / window, 3),
            "wait_ms": {"p50": percentile(waits, 50), "p95": percentile(waits, 95)},
            "run_ms": {"p50": percentile(runs, 50), "p95": percentile(runs, 95)},
            "failed_rate": round(counts.get("FAILED", 0) / ended, 4) if ended else 0.0,
            "timeout_rate": round(counts.get("TIMEOUT", 0) / ended, 4) if ended else 0.0,
            "sparkline": spark, "sampled": len(sample),
        }

    def failures(self, window: float, until: str | None = None) -> list[dict]:
        """FAILED and TIMEOUT runs of the window grouped by status, reason and signature (the
        last line of stderr, or the reason; see ``models.with_derived``), most frequent first.
        The store groups."""
        end, start = _window(window, until)
        groups = self.store.failure_groups(iso(start), iso(end))
        return sorted(groups, key=lambda g: (-g["count"], g["signature"]))


def _window(window: float, until: str | None) -> tuple[datetime, datetime]:
    """The window's end and start; a window reaching before year 1 names no time at all."""
    end = parse_time(until) if until else now()
    try:
        return end, end - timedelta(seconds=window)
    except OverflowError:
        raise InvalidInput(f"a window of {window} s before {until} starts before year 1",
                           field="until") from None


def percentile(ordered: list[float], p: int) -> float | None:
    if not ordered:
        return None
    return round(ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))], 3)


def redact(url: str) -> str:
    """A URL without its password, fit to show operators."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))
