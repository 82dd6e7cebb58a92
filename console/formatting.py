"""How the console shows times, sizes and states."""

from datetime import datetime

from rich.text import Text

from livecode.core import timestamps

STATE_STYLES = {"QUEUED": "yellow", "RUNNING": "bold cyan", "COMPLETED": "green",
                "FAILED": "bold red", "TIMEOUT": "magenta", "CANCELLED": "dim"}


def parse_time(value: str | None) -> datetime | None:
    return timestamps.parse_time(value) if value else None


def seconds_between(start: str | None, end: str | datetime | None) -> float | None:
    begin = parse_time(start)
    finish = parse_time(end) if isinstance(end, str) else end
    if begin is None or finish is None:
        return None
    return max(0.0, (finish - begin).total_seconds())


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 120:
        return f"{seconds:.1f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.0f}h"


def ms(value: float | None) -> str:
    return "-" if value is None else duration(value / 1000)


def size(count: int) -> str:
    for unit in ("B", "K", "M"):
        if count < 1024:
            return f"{count}{unit}"
        count //= 1024
    return f"{count}G"


def state(name: str) -> Text:
    return Text(name, style=STATE_STYLES.get(name, ""))


def short(identifier: str | None, width: int = 8) -> str:
    return (identifier or "-")[:width]


def percent(rate: float | None) -> str:
    return "-" if rate is None else f"{rate * 100:.1f}%"

