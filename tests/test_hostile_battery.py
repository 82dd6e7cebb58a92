"""The hostile-program battery, against every sandbox, through a real deployment.

For each sandbox a ``livecode serve`` runs (real HTTP, real worker, real SQLite, real sandbox,
real Docker engine for the docker one). Each test submits a hostile program and checks the status
and reason it ends with; then ``finish()`` checks that the API is healthy, that the next normal
run is correct, and that nothing of the run is left: no process of a sandbox uid, no container,
no file in the work root.

A Docker test skips only when no Docker engine can run here, saying why; in CI it fails instead.
"""

import hashlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import IN_CI, docker_problem, sandbox_processes
from livecode.client import ApiClient
from livecode.testing import LivecodeProcess

pytestmark = pytest.mark.slow

LIMITS = {"LIVECODE_WALL_TIME_LIMIT": "4", "LIVECODE_CPU_TIME_LIMIT": "2",
          "LIVECODE_MEMORY_LIMIT": str(128 * 1024), "LIVECODE_OUTPUT_LIMIT": str(1024 * 1024),
          "LIVECODE_DISK_LIMIT": str(16 * 1024 * 1024), "LIVECODE_MAX_PROCESSES": "32"}
SECRET = "livecode-battery-secret-7f3a"


class Deployment:
    def __init__(self, sandbox: str, process: LivecodeProcess, http: ApiClient, root: Path):
        self.sandbox, self.process, self.http, self.root = sandbox, process, http, root
        self.work_root = root / "runs"
        self.store_file = root / "data" / "livecode.db"

    def run(self, source: str, stdin: str = "", **limits) -> dict:
        status, job = self.http.call("POST", "/submit-code",
                                     {"code": source, "stdin": stdin, **limits})
        assert status == 202, job
        return self.http.wait(job["jobId"], timeout=90)

    def leftovers(self) -> dict:
        found = {"processes": sandbox_processes(), "containers": [],
                 "files": sorted(str(p) for p in self.work_root.rglob("*"))}
        if self.sandbox == "docker":
            out = subprocess.run(["docker", "ps", "-aq", "--filter", "label=livecode.sandbox"],
                                 capture_output=True, text=True)
            found["containers"] = out.stdout.split()
        return found

    def finish(self) -> None:
        """The API answers, the next normal run is right, nothing of the last run is left."""
        assert self.process.proc.poll() is None, "the server died"
        status, health = self.http.call("GET", "/health")
        assert status == 200 and health["ok"], health
        normal = self.run('print("Hello World")')
        assert normal["status"] == "COMPLETED" and normal["stdout"] == "Hello World\n", normal
        deadline = time.monotonic() + 10
        while (left := self.leftovers()) != {"processes": [], "containers": [], "files": []}:
            assert time.monotonic() < deadline, f"left behind: {left}"
            time.sleep(0.2)


@pytest.fixture(scope="module", params=["subprocess", "docker"])
def deployment(request, tmp_path_factory):
    sandbox = request.param
    if sandbox == "docker" and (problem := docker_problem()):
        if IN_CI:
            pytest.fail(f"CI must run the Docker battery, but {problem}")
        pytest.skip(problem)
    root = tmp_path_factory.mktemp(f"battery-{sandbox}")
    (root / "runs").mkdir()
    env = {"LIVECODE_DATA_DIR": str(root / "data"), "LIVECODE_WORK_ROOT": str(root / "runs"),
           "LIVECODE_SANDBOX": sandbox, "LIVECODE_CONCURRENCY": "2",
           "LIVECODE_BATTERY_SECRET": SECRET, "LIVECODE_SANDBOX_STRICT": "1", **LIMITS}
    process = LivecodeProcess(["serve", "--port", "0"], env, root / "serve.log")
    try:
        url = process.url(timeout=60)
        yield Deployment(sandbox, process, ApiClient(url, timeout=30), root)
    finally:
        process.stop()


# --- resource exhaustion ------------------------------------------------------------------------


def test_fork_bomb(deployment):
    result = deployment.run("import os\nwhile True:\n    try:\n        os.fork()\n"
                            "    except OSError:\n        pass\n")
    assert result["status"] == "TIMEOUT", result
    deployment.finish()


def test_memory_bomb_is_reported_as_memory_limit(deployment):
    result = deployment.run("blocks = []\nwhile True:\n    blocks.append(bytearray(8 << 20))\n")
    assert (result["status"], result["reason"]) == ("FAILED", "memory_limit"), result
    deployment.finish()


def test_cpu_spin_is_a_cpu_time_timeout(deployment):
    result = deployment.run("while True: pass")
    assert (result["status"], result["reason"]) == ("TIMEOUT", "cpu_time_limit"), result
    deployment.finish()


def test_sleep_past_the_wall_limit(deployment):
    started = time.monotonic()
    result = deployment.run("import time; time.sleep(60)", wall_time_limit=1)
    assert (result["status"], result["reason"]) == ("TIMEOUT", "wall_time_limit"), result
    assert time.monotonic() - started < 1 + 3
    deployment.finish()


def test_two_hundred_megabytes_to_stdout(deployment):
    started = time.monotonic()
    result = deployment.run("import sys\nfor _ in range(200):\n"
                            "    sys.stdout.buffer.write(b'x' * 1_000_000)\n")
    assert (result["status"], result["reason"]) == ("FAILED", "output_limit"), result
    assert result["truncated"] and len(result["stdout"]) == 1024 * 1024
    assert time.monotonic() - started < 10
    deployment.finish()


def test_filling_the_disk_stops_at_the_run_s_own_limit(deployment):
    before = os.statvfs("/tmp").f_bavail
    result = deployment.run("f = open('fill', 'wb')\nwhile True:\n    f.write(b'x' * 65536)\n"
                            "    f.flush()\n")
    assert result["status"] == "FAILED", result
    assert "No space left on device" in result["stderr"] or "File too large" in result["stderr"]
    assert abs(os.statvfs("/tmp").f_bavail - before) * os.statvfs("/tmp").f_frsize < 8 << 20
    deployment.finish()


# --- escaping the run's lifetime ------------------------------------------------------------


def test_double_forked_daemon_does_not_outlive_the_run(deployment):
    source = ("import os, time\n"
              "if os.fork() == 0:\n"
              "    os.setsid()\n"
              "    if os.fork() == 0:\n"
              "        time.sleep(120)\n"
              "    os._exit(0)\n"
              "print('parent leaves')\n")
    result = deployment.run(source)
    assert result["status"] == "COMPLETED" and result["stdout"] == "parent leaves\n", result
    deployment.finish()


def test_setsid_and_setpgid_do_not_escape(deployment):
    source = ("import os, time\n"
              "for escape in (os.setsid, lambda: os.setpgid(0, 0)):\n"
              "    if os.fork() == 0:\n"
              "        escape()\n"
              "        time.sleep(120)\n"
              "print('spawned')\n")
    result = deployment.run(source)
    assert result["status"] == "COMPLETED", result
    deployment.finish()


def test_kill_every_process_it_can(deployment):
    result = deployment.run("import os, signal\nos.kill(-1, signal.SIGKILL)\nprint('alive')")
    assert result["status"] in ("COMPLETED", "FAILED"), result
    deployment.finish()  # the worker and the API survived


# --- reaching what is not the run's ---------------------------------------------------------


def test_no_network_to_the_broker_the_api_or_another_host(deployment):
    api_port = int(deployment.http.url.rsplit(":", 1)[1])
    own_address = next((a for a in socket.gethostbyname_ex(socket.gethostname())[2]
                        if not a.startswith("127.")), "192.0.2.2")
    source = (
        "import socket\n"
        f"for host, port in [('127.0.0.1', 6379), ('127.0.0.1', {api_port}), "
        f"({own_address!r}, {api_port})]:\n"
        "    try:\n"
        "        socket.create_connection((host, port), timeout=2).close()\n"
        "        print('REACHED', host, port)\n"
        "    except OSError as exc:\n"
        "        print('blocked', host, port, type(exc).__name__)\n"
    )
    result = deployment.run(source)
    assert result["status"] == "COMPLETED", result
    assert "REACHED" not in result["stdout"] and result["stdout"].count("blocked") == 3
    deployment.finish()


def test_reading_secrets_of_the_host(deployment):
    server = deployment.process.proc.pid
    worker_pids = [server] + [int(child) for task in Path(f"/proc/{server}/task").iterdir()
                              for child in (task / "children").read_text().split()]
    targets = ["/etc/shadow", str(deployment.store_file), str(deployment.store_file) + "-wal",
               *[f"/proc/{pid}/environ" for pid in worker_pids]]
    source = (
        "import glob\n"
        f"targets = {targets!r} + glob.glob('/proc/*/environ')\n"
        "for path in targets:\n"
        "    try:\n"
        "        data = open(path, 'rb').read()\n"
        "        print('READ', path, data[:4000])\n"
        "    except OSError as exc:\n"
        "        print('denied', path, type(exc).__name__)\n"
    )
    result = deployment.run(source)
    assert result["status"] == "COMPLETED", result
    assert SECRET not in result["stdout"]
    for path in targets[:2]:
        assert f"READ {path}" not in result["stdout"]
    deployment.finish()


def test_another_run_s_working_directory_is_out_of_reach(deployment):
    first = deployment.http.call("POST", "/submit-code", {"code": (
        "import os, time\n"
        f"open('secret.txt', 'w').write({SECRET!r})\n"
        "print(os.getcwd(), flush=True)\n"
        "time.sleep(3)\n")})[1]["jobId"]
    deadline = time.monotonic() + 30
    while deployment.http.call("GET", f"/executions/{first}")[1]["status"] != "RUNNING":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(0.5)
    source = (
        "import os, glob\n"
        f"roots = ['/tmp/box', {str(deployment.work_root)!r}, '/tmp', '/var/tmp']\n"
        "found = [p for r in roots for p in glob.glob(r + '/**/secret.txt', recursive=True)]\n"
        "for path in found + glob.glob('/proc/*/cwd/secret.txt'):\n"
        "        try:\n"
        "            print('READ', path, open(path).read())\n"
        "        except OSError:\n"
        "            pass\n"
        "print('looked')\n"
    )
    second = deployment.run(source)
    assert second["status"] == "COMPLETED" and second["stdout"].endswith("looked\n"), second
    assert SECRET not in second["stdout"]
    assert deployment.http.wait(first)["status"] == "COMPLETED"
    deployment.finish()


def test_writing_outside_the_working_directory(deployment):
    targets = ["/etc/livecode-pwned", "/usr/lib/livecode-pwned", "/root/livecode-pwned",
               str(deployment.root / "livecode-pwned"), "/livecode-pwned"]
    source = (
        f"for path in {targets!r}:\n"
        "    try:\n"
        "        open(path, 'w').write('x')\n"
        "        print('WROTE', path)\n"
        "    except OSError as exc:\n"
        "        print('denied', path)\n"
    )
    result = deployment.run(source)
    assert result["status"] == "COMPLETED" and "WROTE" not in result["stdout"], result
    assert not any(os.path.exists(p) for p in targets)
    deployment.finish()


def test_planted_symlinks_never_lead_the_host_outside(deployment, tmp_path):
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep.txt").write_text("precious")
    passwd = hashlib.sha256(Path("/etc/passwd").read_bytes()).hexdigest()
    source = (
        "import os\n"
        f"for name, target in [('to-victim', {str(victim)!r}), ('to-passwd', '/etc/passwd'),\n"
        "                     ('to-root', '/'), ('main.py', '/etc/passwd')]:\n"
        "    try:\n"
        "        os.remove(name)\n"
        "    except OSError:\n"
        "        pass\n"
        "    os.symlink(target, name)\n"
        "os.symlink('/etc/passwd', '/tmp/planted')\n"
        "print('planted')\n"
    )
    result = deployment.run(source)
    assert result["status"] == "COMPLETED", result
    deployment.finish()
    assert (victim / "keep.txt").read_text() == "precious"
    assert hashlib.sha256(Path("/etc/passwd").read_bytes()).hexdigest() == passwd
    assert not os.path.lexists("/tmp/planted")


def test_files_left_for_a_later_run_are_gone(deployment):
    plant = ("import os, shutil, sys\n"
             "for d in ('/tmp', '/var/tmp', '/dev/shm', '.'):\n"
             "    try:\n"
             "        open(os.path.join(d, 'left-behind'), 'w').write('x')\n"
             "    except OSError:\n"
             "        pass\n"
             "try:\n"
             "    shutil.copy(sys.executable, '/tmp/suid-python')\n"
             "    os.chmod('/tmp/suid-python', 0o4755)\n"
             "except OSError:\n"
             "    pass\n"
             "print('planted')\n")
    assert deployment.run(plant)["status"] == "COMPLETED"
    look = ("import os\n"
            "for p in ('/tmp/left-behind', '/var/tmp/left-behind', '/dev/shm/left-behind',\n"
            "          'left-behind', '/tmp/suid-python'):\n"
            "    print(p, os.path.exists(p))\n")
    result = deployment.run(look)
    assert result["status"] == "COMPLETED" and "True" not in result["stdout"], result
    for path in ("/tmp/left-behind", "/var/tmp/left-behind", "/dev/shm/left-behind",
                 "/tmp/suid-python"):
        assert not os.path.exists(path)
    deployment.finish()


def test_no_privilege_to_gain(deployment):
    source = ("import os\n"
              "print(os.getuid() != 0, os.geteuid() != 0)\n"
              "status = open('/proc/self/status').read()\n"
              "print([l for l in status.splitlines() if l.startswith(('CapEff', 'CapBnd', "
              "'NoNewPrivs'))])\n")
    result = deployment.run(source)
    assert result["status"] == "COMPLETED", result
    lines = result["stdout"].splitlines()
    assert lines[0] == "True True"
    assert "CapEff:\\t0000000000000000" in lines[1] and "NoNewPrivs:\\t1" in lines[1]
    deployment.finish()


# --- what users send ------------------------------------------------------------------------


def test_quotes_newlines_and_shell_syntax_pass_through_untouched(deployment):
    tricky = "a'b\"c\n$(touch /tmp/pwned) `id` ; rm -rf / #\\n\x00end"
    source = ("import sys\n"
              "data = sys.stdin.read()\n"
              f"print(data == {tricky!r}, repr(data))\n"
              "# '; rm -rf / # $(reboot)\n")
    result = deployment.run(source, stdin=tricky)
    assert result["status"] == "COMPLETED", result
    assert result["stdout"].startswith("True ")
    assert not os.path.exists("/tmp/pwned")
    deployment.finish()


def test_a_huge_argv_and_environment(deployment):
    source = ("import os, sys\n"
              "os.environ['BIG'] = 'y' * 100_000\n"
              "try:\n"
              "    os.execv(sys.executable, [sys.executable, '-c', 'print(1)'] + ['x' * 100_000] "
              "* 200)\n"
              "except OSError as exc:\n"
              "    print('refused', exc.errno)\n")
    result = deployment.run(source)
    assert result["status"] in ("COMPLETED", "FAILED"), result
    deployment.finish()


def test_input_it_never_reads(deployment):
    result = deployment.run("import time; time.sleep(60)", stdin="y" * 65536, wall_time_limit=1)
    assert (result["status"], result["reason"]) == ("TIMEOUT", "wall_time_limit"), result
    deployment.finish()


def test_output_that_is_not_utf8(deployment):
    result = deployment.run("import sys; sys.stdout.buffer.write(b'ok \\xff\\xfe\\n')")
    assert result["status"] == "COMPLETED" and result["stdout"] == "ok \ufffd\ufffd\n", result
    deployment.finish()


def test_closing_its_output_and_lingering(deployment):
    result = deployment.run("import os, time\nos.close(1)\nos.close(2)\ntime.sleep(60)",
                            wall_time_limit=1)
    assert (result["status"], result["reason"]) == ("TIMEOUT", "wall_time_limit"), result
    deployment.finish()


def test_the_battery_leaves_the_server_serving(deployment):
    """Last: after everything above, the same server still does its job."""
    status, languages = deployment.http.call("GET", "/languages")
    assert status == 200 and languages["languages"][0]["sandbox"] == deployment.sandbox
    assert all(languages["languages"][0]["protections"].values()), languages
    deployment.finish()


def test_the_battery_runs_from_the_command_line_too(deployment, tmp_path):
    program = tmp_path / "p.py"
    program.write_text("print('cli ok')")
    result = subprocess.run([sys.executable, "-m", "livecode.cli", "run", str(program),
                             "--url", deployment.http.url], capture_output=True, text=True)
    assert result.stdout == "cli ok\n" and result.returncode == 0
