"""The one rounding of a CPU-time limit both sandboxes enforce, so they agree to the second."""

import math

from livecode.core.limits import Limits


def whole_cpu_seconds(limits: Limits) -> int:
    """Whole seconds (RLIMIT_CPU, ulimit), rounded up so a run gets what it was promised, never
    0 (no limit)."""
    return max(1, math.ceil(limits.cpu_time_limit))
