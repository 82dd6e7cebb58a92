"""Which host paths a run's minimal root holds, and in what form.

Every run sees the system's program and library directories (``/usr``, ``/lib*``, and ``/bin``
and ``/sbin`` as they are on the host: links where the host has links) plus what its language
runner declares in ``Program.toolchain_paths`` (a pyenv or venv interpreter outside ``/usr``), and
the command itself with every link on the way to it.
All of it is bound read-only by the jail; nothing else of the host is in view.
"""

import os

SYSTEM_PATHS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")


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
