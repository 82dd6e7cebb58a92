"""The core must not pull in any backend library: a plugin author, a worker with another store, or
the console must be able to import it alone."""

import subprocess
import sys

BACKENDS = ["falcon", "kombu", "redis", "sqlite3", "pymongo", "psycopg", "docker", "textual", "gunicorn"]


def test_importing_the_core_imports_no_backend_library():
    code = (
        "import sys, livecode.core.service, livecode.worker.worker, livecode.core.plugins, "
        "livecode.core.hookspecs, livecode.core.contracts\n"
        f"print(','.join(m for m in {BACKENDS!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_the_embedded_default_runs_without_the_optional_backends(tmp_path):
    """redis, docker and pymongo are extras: with none of them importable, the defaults (SQLite,
    the in-process queue, the subprocess sandbox) still store, queue and run a program, and a
    backend that needs one names the extra to install."""
    code = (
        "import sys\n"
        "for name in ('redis', 'docker', 'pymongo'): sys.modules[name] = None  # not installed\n"
        "from livecode.core.config import Settings\n"
        "from livecode.core.errors import InvalidInput\n"
        "from livecode.core.plugins import Plugins\n"
        "from livecode.core.service import Livecode\n"
        "from livecode.worker.worker import Worker\n"
        f"settings = Settings.from_env({{'LIVECODE_DATA_DIR': {str(tmp_path)!r}}})\n"
        "livecode = Livecode.open(settings)\n"
        "queued = livecode.submit_code('print(6 * 7)')\n"
        "print(Worker(livecode, 1).execute(queued.execution_id).stdout.strip())\n"
        "for url in ('redis://127.0.0.1:6379/0', 'mongodb://127.0.0.1:1/x'):\n"
        "    try:\n"
        "        (Plugins(settings).open_queue if url.startswith('redis') else\n"
        "         Plugins(settings).open_store)(url)\n"
        "    except InvalidInput as exc:\n"
        "        print(exc.message)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "42"
    assert "livecode[redis]" in lines[1] and "livecode[mongodb]" in lines[2]
