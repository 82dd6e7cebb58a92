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
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from conftest import (IN_CI, TEST_USER, docker_problem, run_processes_of, sandbox_processes,
                      unprivileged_python)
from livecode.client import ApiClient
from livecode.testing import (BATTERY_LIMITS, HostileBattery, LivecodeProcess, LivecodeServer,
                              descendants, stop_all)

pytestmark = pytest.mark.slow

LIMITS = BATTERY_LIMITS
SECRET = "livecode-battery-secret-7f3a"


class Deployment(LivecodeServer):
    """A livecode.testing server that also knows this battery's users."""

    def __init__(self, sandbox: str, process: LivecodeProcess, http: ApiClient, root: Path,
                 user: str | None = None):
        super().__init__(sandbox, process, root, http)
        self.user = user  # livecode runs as this ordinary user (None: as whoever runs the tests)

    def run_processes(self) -> list[int]:
        if self.user:
            import pwd

            return run_processes_of(pwd.getpwnam(self.user).pw_uid)
        return sandbox_processes()


# Each sandbox, and the subprocess one once more run by an ordinary user (in a user namespace).
DEPLOYMENTS = ["subprocess", "subprocess-as-user", "docker"]


def deployment_root(name: str, tmp_path_factory) -> tuple[Path, str | None, str]:
    """A directory for the deployment's data and work root, the user livecode runs as, and its
    interpreter."""
    if name != "subprocess-as-user":
        return tmp_path_factory.mktemp(f"battery-{name}"), None, sys.executable
    python = unprivileged_python()
    root = Path(tempfile.mkdtemp(prefix="livecode-battery-as-user-"))
    shutil.chown(root, TEST_USER, TEST_USER)
    return root, TEST_USER, python


def start_server(name: str, root: Path, user: str | None, python: str, wrapper=(),
                 **env) -> LivecodeProcess:
    for sub in ("runs", "data"):
        (root / sub).mkdir(exist_ok=True)
        if user:
            shutil.chown(root / sub, user, user)
    env = {"LIVECODE_DATA_DIR": str(root / "data"), "LIVECODE_WORK_ROOT": str(root / "runs"),
           "LIVECODE_SANDBOX": name.split("-")[0], "LIVECODE_CONCURRENCY": "2",
           "LIVECODE_BATTERY_SECRET": SECRET, **LIMITS, **env}
    return LivecodeProcess(["serve", "--port", "0"], env, root / "serve.log", user=user,
                           python=python, wrapper=wrapper)


@pytest.fixture(scope="module", params=DEPLOYMENTS)
def deployment(request, tmp_path_factory):
    name = request.param
    if name == "docker" and (problem := docker_problem()):
        if IN_CI:
            pytest.fail(f"CI must run the Docker battery, but {problem}")
        pytest.skip(problem)
    root, user, python = deployment_root(name, tmp_path_factory)
    # As root, strict: every protection or no start. As an ordinary user, the default: a uid per
    # run is missing (only root hands them out), no isolation at all would refuse to start.
    strict = {} if user else {"LIVECODE_SANDBOX_STRICT": "1"}
    process = start_server(name, root, user, python, **strict)
    try:
        url = process.url(timeout=60)
        yield Deployment(name.split("-")[0], process, ApiClient(url, timeout=30), root, user)
    finally:
        process.stop()
        if user:
            shutil.rmtree(root, ignore_errors=True)


# --- the sandbox-generic cases, from livecode.testing ----------------------------------------


@pytest.fixture(scope="module")
def livecode_server(deployment):
    return deployment


class TestSandboxGeneric(HostileBattery):
    """Resource exhaustion, escaping the run's lifetime, writing outside its directory, the
    network, privileges, hostile input and output: the cases a third-party sandbox runs too
    (``livecode.testing.HostileBattery``), here against each of livecode's deployments."""


# --- escaping the run's lifetime ------------------------------------------------------------


DAEMONISING = (
    "import os, subprocess, sys, time\n"
    "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'])\n"
    "if os.fork() == 0:\n"
    "    os.setsid()\n"
    "    if os.fork() == 0:\n"
    "        time.sleep(120)\n"
    "    os._exit(0)\n"
    "time.sleep(3)\n"
    "print('done')\n"
)


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def runs_in_flight(server_pid: int, run_processes, count: int) -> set[int]:
    """The processes of this server's runs, once there are ``count`` of them."""
    deadline = time.monotonic() + 60
    while True:
        found = descendants(server_pid) & set(run_processes())
        if len(found) >= count:
            return found
        assert time.monotonic() < deadline, f"only {len(found)} run processes"
        time.sleep(0.1)


@pytest.mark.parametrize("name", ["subprocess", "subprocess-as-user"])
def test_sigkill_of_serve_takes_every_process_of_its_runs_with_it(name, tmp_path_factory):
    """setuid clears PDEATHSIG, so the program cannot hold it: the run's init, root and PID 1
    of its namespace, does, and the kernel empties the namespace when it dies."""
    root, user, python = deployment_root(name, tmp_path_factory)
    process = start_server(name, root, user, python, LIVECODE_WALL_TIME_LIMIT="60")
    try:
        http = ApiClient(process.url(timeout=60), timeout=30)
        for _ in range(2):
            assert http.call("POST", "/submit-code", {"code": DAEMONISING})[0] == 202
        deployment = Deployment("subprocess", process, http, root, user)
        # per run: the program, its subprocess and the daemon (and, as a user, the init)
        pids = runs_in_flight(process.proc.pid, deployment.run_processes, 6)
        os.kill(process.proc.pid, signal.SIGKILL)
        time.sleep(1)
        assert [pid for pid in pids if alive(pid)] == []
    finally:
        process.stop()
        if user:
            shutil.rmtree(root, ignore_errors=True)


@pytest.mark.redis
def test_sigkill_of_a_worker_takes_its_runs_with_it_and_they_are_recovered(tmp_path, redis_url):
    env = {"LIVECODE_STORE": f"sqlite:///{tmp_path / 'shared.db'}", "LIVECODE_QUEUE": redis_url,
           "LIVECODE_QUEUE_NAME": f"test-battery-{uuid.uuid4().hex[:8]}",
           "LIVECODE_DATA_DIR": str(tmp_path / "data"), "LIVECODE_WORK_ROOT": str(tmp_path),
           "LIVECODE_HEARTBEAT_INTERVAL": "0.3", "LIVECODE_WORKER_LOST_AFTER": "2",
           "LIVECODE_MAINTENANCE_INTERVAL": "0.5", "LIVECODE_REQUEUE_AFTER": "2",
           "LIVECODE_WALL_TIME_LIMIT": "30", "LIVECODE_SANDBOX_STRICT": "1"}
    started = []

    def start(*args):
        started.append(LivecodeProcess(list(args), env, tmp_path / f"{args[0]}-{len(started)}.log"))
        return started[-1]

    try:
        api = start("api", "--port", "0", "--processes", "1")
        http = ApiClient(api.url(timeout=60), timeout=30)
        worker = start("worker", "--concurrency", "2")
        worker.wait_for("consuming", timeout=60)
        ids = [http.call("POST", "/submit-code", {"code": DAEMONISING})[1]["jobId"]
               for _ in range(2)]
        pids = runs_in_flight(worker.proc.pid, sandbox_processes, 6)
        os.kill(worker.proc.pid, signal.SIGKILL)
        time.sleep(1)
        assert [pid for pid in pids if alive(pid)] == []
        start("worker", "--concurrency", "2").wait_for("consuming", timeout=60)
        for execution_id in ids:
            result = http.wait(execution_id, timeout=120)
            assert (result["status"], result["stdout"], result["attempts"]) == (
                "COMPLETED", "done\n", 2), result
    finally:
        stop_all(started)


# As the ordinary user, in a user namespace of its own whose user.max_user_namespaces is 0: a host
# where unprivileged user namespaces are disabled.
NO_USER_NAMESPACES = ("unshare", "--user", "--map-root-user", "sh", "-c",
                      'echo 0 > /proc/sys/user/max_user_namespaces && exec "$@"', "sh")


def test_serve_refuses_untrusted_code_where_no_isolation_is_possible(tmp_path_factory):
    root, user, python = deployment_root("subprocess-as-user", tmp_path_factory)
    process = start_server("subprocess-as-user", root, user, python, wrapper=NO_USER_NAMESPACES)
    try:
        assert process.proc.wait(60) != 0
        log = process.log_path.read_text()
        assert "refusing to run untrusted code" in log and "LIVECODE_SANDBOX_STRICT=0" in log, log
    finally:
        process.stop()
        shutil.rmtree(root, ignore_errors=True)


def test_serve_runs_without_isolation_only_when_told_and_says_so(tmp_path_factory):
    root, user, python = deployment_root("subprocess-as-user", tmp_path_factory)
    process = start_server("subprocess-as-user", root, user, python, wrapper=NO_USER_NAMESPACES,
                           LIVECODE_SANDBOX_STRICT="0")
    try:
        http = ApiClient(process.url(timeout=60), timeout=30)
        status, health = http.call("GET", "/health")
        protections = health["sandboxes"]["subprocess"]["protections"]
        on = sorted(name for name, active in protections.items() if active)
        assert on == ["clean_environment", "no_new_privs", "rlimits", "seccomp"], health
        assert "(none mode): running WITHOUT" in process.log_path.read_text()
    finally:
        process.stop()
        shutil.rmtree(root, ignore_errors=True)


# --- reaching what is not the run's ---------------------------------------------------------


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


def unix_sockets_of_the_host() -> list[str]:
    """Every unix socket bound to a path on this host, as /proc/net/unix lists them."""
    found = set()
    for line in Path("/proc/net/unix").read_text().splitlines()[1:]:
        fields = line.split()
        if len(fields) >= 8 and fields[7].startswith("/"):
            found.add(fields[7])
    return sorted(found)


@pytest.fixture
def bait_sockets():
    """World-writable listening sockets in /run and /var/tmp and an abstract one, non-blocking,
    so the test can tell afterwards whether any connection arrived."""
    token = uuid.uuid4().hex[:8]
    made = []
    for path in (f"/run/livecode-bait-{token}.sock", f"/var/tmp/livecode-bait-{token}.sock",
                 f"\0livecode-bait-{token}"):
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(path)
        if not path.startswith("\0"):
            os.chmod(path, 0o777)
        listener.listen(16)
        listener.setblocking(False)
        made.append((path, listener))
    yield made
    for path, listener in made:
        listener.close()
        if not path.startswith("\0"):
            os.unlink(path)


def test_no_unix_socket_of_the_host_answers(deployment, bait_sockets):
    """A unix socket with a path ignores network namespaces: only the filesystem keeps a run from
    PostgreSQL's, Docker's or any daemon's socket. Abstract sockets (the other kind) belong to
    the network namespace."""
    paths = sorted({*unix_sockets_of_the_host(), "/run/postgresql/.s.PGSQL.5432",
                    "/var/run/docker.sock", *(p for p, _ in bait_sockets)})
    source = (
        "import socket\n"
        f"for path in {paths!r}:\n"
        "    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\n"
        "    s.settimeout(2)\n"
        "    try:\n"
        "        s.connect(path)\n"
        "        print('REACHED', repr(path))\n"
        "    except OSError as exc:\n"
        "        print('blocked', repr(path), type(exc).__name__)\n"
        "    s.close()\n"
    )
    result = deployment.run(source)
    assert result["status"] == "COMPLETED", result
    assert "REACHED" not in result["stdout"], result["stdout"]
    assert result["stdout"].count("blocked") == len(paths)
    for path, listener in bait_sockets:
        with pytest.raises(BlockingIOError):
            listener.accept()  # no connection ever arrived
    deployment.finish()


def world_writable_host_directories() -> list[str]:
    """Every directory of this host anyone may write to, three levels deep, outside /proc and
    /sys (kernel views), as a run would look for them."""
    found = []
    for top in Path("/").iterdir():
        if top.name in ("proc", "sys") or top.is_symlink() or not top.is_dir():
            continue
        for directory, subdirs, _ in os.walk(top):
            depth = directory.count("/")
            if depth >= 3:
                subdirs.clear()
            try:
                info = os.stat(directory)
            except OSError:
                continue
            if info.st_mode & 0o002:
                found.append(directory)
    return sorted(found)


def test_nothing_lands_in_a_world_writable_host_directory(deployment):
    """/run/lock, /var/tmp, /dev/shm, /dev/mqueue…: a run that can write there leaves files
    past its end and its disk limit, and reads what another run left. SysV IPC objects are the
    same attack through another door (the IPC namespace keeps them apart)."""
    token = f"livecode-battery-{uuid.uuid4().hex[:8]}"
    directories = world_writable_host_directories()
    assert "/tmp" in directories and "/var/tmp" in directories
    source = (
        "import ctypes, os\n"
        f"for d in {directories!r}:\n"
        "    try:\n"
        f"        open(os.path.join(d, {token!r}), 'w').write('x')\n"
        "        print('WROTE', d)\n"
        "    except OSError:\n"
        "        pass\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "print('shm', libc.shmget(0x4c697665, 4096, 0o1666))\n"  # IPC_CREAT | 0666
        "print('done')\n"
    )
    result = deployment.run(source)
    assert result["status"] == "COMPLETED" and result["stdout"].endswith("done\n"), result
    landed = [d for d in directories if os.path.lexists(os.path.join(d, token))]
    assert landed == [], landed
    assert "4c697665" not in Path("/proc/sysvipc/shm").read_text()
    deployment.finish()


def test_user_namespaces_keyrings_and_risky_kernel_interfaces_are_refused(deployment):
    """A user namespace gives a run every capability inside it (and the kernel's bugs behind
    them); a keyring outlives the run for the next one of its uid; io_uring and bpf are the
    kernel's most exploited interfaces."""
    source = (
        "import ctypes, errno, os, subprocess\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "def attempt(name, result):\n"
        "    print(name, 'ALLOWED' if result >= 0 else 'refused')\n"
        "attempt('unshare', libc.unshare(0x10000000))\n"
        "attempt('clone', libc.syscall(56, 0x10000000 | 17, 0, 0, 0, 0))\n"  # fork in a new userns
        "attempt('add_key', libc.syscall(248, b'user', b'livecode', b'secret', 6, -3))\n"
        "attempt('keyctl', libc.syscall(250, 0, -3, 0))\n"
        "attempt('io_uring_setup', libc.syscall(425, 1, ctypes.create_string_buffer(120)))\n"
        "attempt('bpf', libc.syscall(321, 0, ctypes.create_string_buffer(64), 64))\n"
        "try:\n"
        "    out = subprocess.run(['unshare', '--user', '--map-root-user', 'id', '-u'],\n"
        "                         capture_output=True, text=True)\n"
        "    attempt('unshare-command', -1 if out.returncode else 0)\n"
        "except OSError:\n"
        "    attempt('unshare-command', -1)\n"
    )
    result = deployment.run(source)
    assert result["status"] == "COMPLETED", result
    assert "ALLOWED" not in result["stdout"], result["stdout"]
    assert result["stdout"].count("refused") == 7
    deployment.finish()


def test_packet_netlink_and_raw_sockets_are_refused(deployment):
    source = (
        "import socket\n"
        "for name, family, kind in [('packet', socket.AF_PACKET, socket.SOCK_RAW),\n"
        "                           ('netlink', socket.AF_NETLINK, socket.SOCK_RAW),\n"
        "                           ('raw', socket.AF_INET, socket.SOCK_RAW)]:\n"
        "    try:\n"
        "        socket.socket(family, kind, 0 if family != socket.AF_INET else 1).close()\n"
        "        print(name, 'ALLOWED')\n"
        "    except OSError as exc:\n"
        "        print(name, 'refused')\n"
    )
    result = deployment.run(source)
    assert result["status"] == "COMPLETED", result
    assert result["stdout"] == "packet refused\nnetlink refused\nraw refused\n", result
    deployment.finish()


def test_host_terminals_and_network_interfaces_are_out_of_sight(deployment):
    """The host's /dev/pts lists every terminal of the host (and lets a run exhaust its ptys);
    /sys and /proc/net show the host's interfaces. A run has a devpts and an ``lo`` of its own."""
    source = (
        "import os, pty\n"
        "print(sorted(os.listdir('/dev/pts')))\n"
        "print(sorted(line.split(':')[0].strip() for line in\n"
        "             open('/proc/net/dev').read().splitlines()[2:]))\n"
        "print(sorted(os.listdir('/sys/class/net')) if os.path.isdir('/sys/class/net') else 'no')\n"
        "opened = 0\n"
        "try:\n"
        "    for _ in range(300):\n"
        "        pty.openpty()\n"
        "        opened += 1\n"
        "except OSError:\n"
        "    pass\n"
        "print('ptys', opened)\n"
    )
    host_ptys = len(os.listdir("/dev/pts"))
    result = deployment.run(source)
    assert result["status"] == "COMPLETED", result
    pts, interfaces, sys_net, ptys = result["stdout"].splitlines()
    assert pts in ("['ptmx']", "[]"), pts
    assert interfaces == "['lo']" and sys_net in ("no", "['lo']"), result["stdout"]
    assert 0 < int(ptys.split()[1]) < 300  # a pty limit of its own (or its open-files limit)
    assert len(os.listdir("/dev/pts")) == host_ptys
    deployment.finish()


def test_the_host_s_init_is_out_of_reach_through_proc(deployment):
    """/proc/1 is the host's init outside a PID namespace: its environment, its root (the whole
    host filesystem) and its working directory. Inside, 1 is the run's own init."""
    source = (
        "import os\n"
        "for path in ('/proc/1/environ', '/proc/1/root/etc/shadow', '/proc/1/cwd'):\n"
        "    try:\n"
        "        data = open(path, 'rb').read() if not path.endswith('cwd') else os.listdir(path)\n"
        "        print('READ', path, repr(data))\n"
        "    except OSError as exc:\n"
        "        print('denied', path, type(exc).__name__)\n"
    )
    result = deployment.run(source)
    assert result["status"] == "COMPLETED", result
    assert SECRET not in result["stdout"] and "LIVECODE" not in result["stdout"], result
    assert "READ /proc/1/root/etc/shadow" not in result["stdout"]
    for path, read in (("/proc/1/environ", lambda p: open(p, "rb").read()),
                       ("/proc/1/cwd", os.listdir)):
        try:
            host_view = read(path)
        except PermissionError:  # not even root here may read the host's init (a container)
            continue
        assert f"READ {path} {host_view!r}" not in result["stdout"], result["stdout"]
    deployment.finish()


def test_what_programs_need_keeps_working(deployment):
    """Threads, subprocesses, multiprocessing, stdin and input(), files in the box, a loopback
    server with asyncio and a pseudo-terminal: the filter and the minimal root take none away."""
    source = (
        "import asyncio, multiprocessing, os, pty, subprocess, sys, threading\n"
        "print(input())\n"
        "print(sys.stdin.read().strip())\n"
        "found = []\n"
        "t = threading.Thread(target=found.append, args=('thread',)); t.start(); t.join()\n"
        "print(*found)\n"
        "print(subprocess.run([sys.executable, '-c', 'print(6 * 7)'], capture_output=True,\n"
        "                     text=True).stdout.strip())\n"
        "with multiprocessing.Pool(2) as pool:\n"
        "    print(sum(pool.map(abs, range(-4, 0))))\n"
        "queue = multiprocessing.Queue(); queue.put('queue'); print(queue.get())\n"
        "open('data.txt', 'w').write('box')\n"
        "os.makedirs('sub/dir'); print(open('data.txt').read(), sorted(os.listdir()))\n"
        "async def echo():\n"
        "    async def answer(reader, writer):\n"
        "        writer.write(await reader.read(4)); await writer.drain(); writer.close()\n"
        "    server = await asyncio.start_server(answer, '127.0.0.1', 0)\n"
        "    reader, writer = await asyncio.open_connection(*server.sockets[0].getsockname())\n"
        "    writer.write(b'ping'); print((await reader.read()).decode())\n"
        "    server.close()\n"
        "asyncio.run(echo())\n"
        "main, follower = pty.openpty(); os.write(follower, b'tty\\n'); print(os.read(main, 8).decode().strip())\n"
    )
    result = deployment.run(source, stdin="typed line\nthe rest\n")
    assert result["status"] == "COMPLETED", result
    assert result["stdout"].splitlines() == [
        "typed line", "the rest", "thread", "42", "10", "queue",
        "box ['data.txt', 'main.py', 'sub']", "ping", "tty"], result
    deployment.finish()


# --- what users send ------------------------------------------------------------------------


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


def test_the_battery_leaves_the_server_serving(deployment):
    """Last: after everything above, the same server still does its job."""
    status, languages = deployment.http.call("GET", "/languages")
    assert status == 200 and languages["languages"][0]["sandbox"] == deployment.sandbox
    protections = languages["languages"][0]["protections"]
    if deployment.sandbox == "subprocess":
        # as an ordinary user: no uid slots and no run cgroups (only root hands them out)
        absent = (["uid_per_run", "cgroup_memory", "cgroup_pids", "cgroup_cpu"] if deployment.user
                  else ["user_namespace"])
        assert [protections.pop(name) for name in absent] == [False] * len(absent), protections
    assert all(protections.values()), languages
    deployment.finish()


def test_the_battery_runs_from_the_command_line_too(deployment, tmp_path):
    program = tmp_path / "p.py"
    program.write_text("print('cli ok')")
    result = subprocess.run([sys.executable, "-m", "livecode.cli", "run", str(program),
                             "--url", deployment.http.url], capture_output=True, text=True)
    assert result.stdout == "cli ok\n" and result.returncode == 0
