"""livecode: run untrusted code for other programs, through plugins.

Plugin authors mark their hook implementations with ``from livecode import hookimpl``; the hooks
are documented in :mod:`livecode.core.hookspecs`.
"""

from livecode.core.hookspecs import hookimpl

__all__ = ["hookimpl"]
__version__ = "0.1.0"
