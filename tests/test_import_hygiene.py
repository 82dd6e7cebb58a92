"""The core must not pull in any backend library: a plugin author, a worker with another store, or
the console must be able to import it alone."""

import subprocess
import sys

BACKENDS = ["falcon", "kombu", "redis", "sqlite3", "pymongo", "docker", "textual", "gunicorn"]


def test_importing_the_core_imports_no_backend_library():
    code = (
        "import sys, livecode.core.service, livecode.core.worker, livecode.core.plugins, "
        "livecode.core.hookspecs, livecode.core.contracts\n"
        f"print(','.join(m for m in {BACKENDS!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
