"""A fresh working directory on the host, for hosts where runs cannot have a private tmpfs.

The program owns the directory while it runs and may plant symlinks in it; the host only creates
it empty (the jail writes the program's files with ``O_NOFOLLOW``) and removes the tree with the
fd-based ``rmtree``, which unlinks links and never descends through them.
"""

import shutil
import tempfile
from contextlib import contextmanager


@contextmanager
def private_workdir(root: str):
    path = tempfile.mkdtemp(prefix="livecode-run-", dir=root)  # mode 0700; the jail chowns it
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
