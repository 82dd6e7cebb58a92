"""A private, fresh working directory per run, written and removed without following links.

The program owns the directory while it runs and may plant symlinks in it; everything the host
does there afterwards (writing the program's files before, removing the tree after) goes through
directory file descriptors with ``O_NOFOLLOW``, so a planted link never leads the host outside.
"""

import os
import shutil
import tempfile
from contextlib import contextmanager


def _check_name(name: str) -> str:
    if not name or name.startswith(".") or "/" in name or "\0" in name:
        raise ValueError(f"program file name {name!r} must be a plain file name")
    return name


@contextmanager
def private_workdir(root: str | None, files: dict[str, bytes]):
    path = tempfile.mkdtemp(prefix="livecode-run-", dir=root)  # mode 0700
    try:
        dir_fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        try:
            for name, content in files.items():
                fd = os.open(_check_name(name), os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW,
                             0o600, dir_fd=dir_fd)
                with os.fdopen(fd, "wb") as handle:
                    handle.write(content)
        finally:
            os.close(dir_fd)
        yield path
    finally:
        # rmtree uses the fd-based walk on Linux: it unlinks symlinks, never descends into them.
        shutil.rmtree(path, ignore_errors=True)
