"""What the language runners share about the toolchains they call: finding one, and telling its
version once per process for ``GET /languages``."""

import functools
import re
import shutil
import subprocess

VERSION = re.compile(rb"(\d+\.\d+(?:\.\d+)?)")
# The container image with Node.js, esbuild, GCC and Bash (scripts/build-docker-image builds it
# from Debian's packages; their versions are Debian's, not necessarily the host's).
POLYGLOT_IMAGE = "livecode-polyglot:bookworm"


def find(name: str, *fallbacks: str) -> str:
    """``name`` on the safe PATH runs see, else the first fallback (reported missing at run time
    by the sandbox, and as a ``None`` version meanwhile)."""
    return shutil.which(name, path="/usr/local/bin:/usr/bin:/bin") or (
        fallbacks[0] if fallbacks else f"/usr/bin/{name}")


@functools.lru_cache(maxsize=None)
def probe_version(*argv: str) -> str | None:
    """The first version number ``argv`` prints, or ``None`` when it cannot be run."""
    try:
        out = subprocess.run(list(argv), capture_output=True, timeout=10, env={},
                             stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return None
    found = VERSION.search(out.stdout + out.stderr)
    return found.group(1).decode() if found else None
