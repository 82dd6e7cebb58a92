"""The one Python that programs and the jail may run outside livecode's own environment."""

import os
import sys


def base_interpreter() -> str:
    """The interpreter behind livecode's own, outside any virtualenv or pyenv shim: for what must
    run Python outside livecode's environment (the jail, programs on a host without Python)."""
    return os.path.realpath(getattr(sys, "_base_executable", None) or sys.executable)
