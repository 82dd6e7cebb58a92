"""How the console shows times, sizes and states, and how its table cells sort."""

from datetime import datetime

from rich.text import Text

from livecode.core import timestamps

STATE_STYLES = {"QUEUED": "yellow", "RUNNING": "bold cyan", "COMPLETED": "green",
                "FAILED": "bold red", "TIMEOUT": "magenta", "CANCELLED": "dim"}
# States sort in the order a run goes through them, not alphabetically.
LIFECYCLE = {name: rank for rank, name in enumerate(STATE_STYLES)}


class Cell(Text):
    """A table cell that shows text and sorts by a value: a duration by its seconds, a size by
    its bytes, a state by its place in the lifecycle. Never read as markup, so a program's
    output in a cell is shown as it is."""

    def __init__(self, text: str, value=None, style: str = ""):
        super().__init__(text, style=style)
        self.value = text if value is None and text != "-" else value

    def __eq__(self, other):
        return super().__eq__(other) and getattr(other, "value", None) == self.value


def sort_key(cell):
    """What a column sorts by: the cell's value, unknown values (``-``) after known ones."""
    value = cell.value if isinstance(cell, Cell) else str(cell)
    return (value is None, value if value is not None else 0)


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


def state(name: str) -> Cell:
    return Cell(name, LIFECYCLE.get(name, len(LIFECYCLE)), STATE_STYLES.get(name, ""))


def duration_cell(seconds: float | None) -> Cell:
    return Cell(duration(seconds), seconds)


def size_cell(count: int) -> Cell:
    return Cell(size(count), count)


def kib(value: int | None) -> str:
    """A size given in KiB (a run's peak memory), ``-`` when unknown."""
    return "-" if value is None else size(value * 1024)


def short(identifier: str | None, width: int = 8) -> str:
    return (identifier or "-")[:width]


def percent(rate: float | None) -> str:
    return "-" if rate is None else f"{rate * 100:.1f}%"

