"""Which host paths a run's minimal root holds, and in what form.

Every run sees the system's program and library directories (``/usr``, ``/lib*``, and ``/bin``
and ``/sbin`` as they are on the host: links where the host has links) plus what its language
runner declares in ``Program.toolchain_paths`` (a pyenv or venv interpreter outside ``/usr``), and
the command itself with every link on the way to it.
All of it is bound read-only by the jail; nothing else of the host is in view.

Finding the layout takes a few dozen ``stat`` and ``readlink`` calls (0.3 ms, a tenth of a pooled
run's own path), so a run takes the one found for the same command and declared paths less than
:data:`FRESH_FOR` seconds ago: a toolchain installed, moved or relinked is seen by the runs that
start after that.
"""

import os
import threading
import time

FRESH_FOR = 2.0  # seconds a layout found is reused for the same paths
_found: dict[tuple, tuple[float, tuple]] = {}
_lock = threading.Lock()

SYSTEM_PATHS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")


def recent_layout(declared) -> tuple:
    """:func:`layout` of ``declared``, as found at most :data:`FRESH_FOR` seconds ago."""
    key = tuple(declared)
    now = time.monotonic()
    with _lock:
        found = _found.get(key)
    if found and now - found[0] < FRESH_FOR:
        return found[1]
    entries = tuple(layout(key))
    with _lock:
        if len(_found) > 64:  # a bound on what is kept: commands come from a few runners
            _found.clear()
        _found[key] = (now, entries)
    return entries


def layout(declared) -> list[tuple[str, str, str]]:
    """``("link", path, target)`` and ``("bind", path, "")`` entries, parents before children,
    none under a directory already bound (a bind brings everything below it)."""
    found: dict[str, tuple[str, str, str]] = {}
    pending = [*SYSTEM_PATHS, *declared]
    while pending:
        path = os.path.normpath(pending.pop())
        if path in found or not os.path.isabs(path) or not os.path.lexists(path):
            continue
        if os.path.islink(path):
            target = os.readlink(path)
            found[path] = ("link", path, target)
            # and the next hop, which may be a link again (/usr/bin/java -> /etc/alternatives/java)
            pending.append(os.path.join(os.path.realpath(os.path.dirname(path)), target))
        else:
            real = os.path.realpath(path)
            found[real] = ("bind", real, "")
    entries = sorted(found.values(), key=lambda entry: entry[1])
    bound: list[str] = []
    kept = []
    for entry in entries:
        if any(entry[1].startswith(parent + "/") for parent in bound):
            continue
        if entry[0] == "bind":
            bound.append(entry[1])
        kept.append(entry)
    return kept
