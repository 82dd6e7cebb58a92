"""Timestamps as ISO 8601 UTC strings with milliseconds and a ``Z`` (``2026-03-02T12:00:00.000Z``),
so they sort as text in every store: the one set of helpers, for everyone."""

from datetime import datetime, timezone


def now() -> datetime:
    return datetime.now(timezone.utc)


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z")


def utcnow() -> str:
    return iso(now())


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def age_seconds(timestamp: str) -> float:
    return (now() - parse_time(timestamp)).total_seconds()
