"""What is particular to the docker sandbox, against the real engine: its start-up checks, the
sweep of containers that crashed workers left behind, limits that hold for the whole run, the
isolation a hostile program meets, the protections it reports, the warm pool and its fallback,
and containers that die with their worker. The CPU, memory and worker-kill cases run both
through the sandbox's API and through a real ``livecode serve`` with ``LIVECODE_SANDBOX=docker``.
"""

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import replace
from pathlib import Path

import pytest

from conftest import DOCKER_IMAGE, IN_CI, docker_problem, make_settings
from livecode.core.contracts import Program, SandboxError
from livecode.client import ApiClient
from livecode.core.plugins import Plugins
from livecode.plugins.docker_sandbox import HOLDER_USER, PROGRAM_USER
from livecode.plugins.docker_sandbox.container import (IDLE_PREFIX, LABEL, OWNER_LABEL,
                                                       RUN_PREFIX)
from livecode.testing import LivecodeProcess

pytestmark = pytest.mark.slow

SPIN_CHILDREN = """
import os
for _ in range(4):
    if os.fork() == 0:
        break
while True:
    pass
"""
EIGHT_TIMES_100_MIB = """
import os, time
children = []
for _ in range(8):
    pid = os.fork()
    if pid == 0:
        block = b"x" * (100 << 20)  # written, so resident
        time.sleep(3)
        os._exit(0)
    children.append(pid)
for pid in children:
    os.waitpid(pid, 0)
print("parent done")
"""


@pytest.fixture(scope="module")
def engine():
    if problem := docker_problem():
        if IN_CI:
            pytest.fail(f"CI must run the Docker tests, but {problem}")
        pytest.skip(problem)
    import docker

    client = docker.from_env()
    yield client
    client.close()


# The limits the hostile cases run under.
LIMITS = {"LIVECODE_MEMORY_LIMIT": str(128 * 1024), "LIVECODE_CPU_TIME_LIMIT": "2",
          "LIVECODE_WALL_TIME_LIMIT": "10"}


@pytest.fixture(scope="module")
def plugins(engine, tmp_path_factory):
    return Plugins(make_settings(tmp_path_factory.mktemp("docker"), **LIMITS))


@pytest.fixture(scope="module")
def sandbox(plugins):
    sandbox = plugins.create_sandbox("docker")
    yield sandbox
    sandbox.close()


@pytest.fixture(scope="module")
def run(plugins, sandbox):
    limits = plugins.settings.limits

    def run(source: str, stdin: bytes = b"", **changes):
        return sandbox.run(plugins.languages["python"].build(source), stdin,
                           replace(limits, **changes))

    return run


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def listed(engine, label: str, prefix: str = "", running: bool = False) -> list[dict]:
    """Containers labelled ``label`` (``key`` or ``key=value``) whose name starts with ``prefix``,
    as the engine lists them (no inspection, which would race with their removal)."""
    return [c for c in engine.api.containers(all=not running, filters={"label": label})
            if c["Names"][0].lstrip("/").startswith(prefix)]


def of_sandbox(sandbox) -> str:
    return sandbox.containers.label


def processes_in(container_ids) -> list[int]:
    """Live host processes in any of these containers (by their cgroup)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cgroup = (entry / "cgroup").read_text()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state != "Z" and any(cid in cgroup for cid in container_ids):
            found.append(int(entry.name))
    return found


def wait_until(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


# --- start-up and the sweep ---------------------------------------------------------------------


def test_a_worker_sweeps_containers_whose_worker_is_gone(engine, settings):
    orphan = engine.containers.create(
        DOCKER_IMAGE, ["sleep", "300"], labels={LABEL: "1", OWNER_LABEL: f"{socket.gethostname()}:"
                                                                  f"{dead_pid()}"})
    orphan.start()
    sandbox = Plugins(settings).create_sandbox("docker")
    try:
        assert orphan.id not in [c["Id"] for c in listed(engine, LABEL)]
    finally:
        sandbox.close()


def test_containers_of_a_live_worker_are_left_alone(engine, settings):
    mine = engine.containers.create(
        DOCKER_IMAGE, ["sleep", "300"], labels={LABEL: "1", OWNER_LABEL: f"{socket.gethostname()}:"
                                                                  f"{os.getppid()}"})
    try:
        Plugins(settings).create_sandbox("docker").close()
        assert mine.id in [c["Id"] for c in listed(engine, LABEL)]
    finally:
        mine.remove(force=True)


def test_a_missing_image_is_a_clear_error_naming_the_build_script(engine, settings_with):
    settings = settings_with(LIVECODE_DOCKER_IMAGE_PYTHON="livecode-python:no-such-tag")
    with pytest.raises(SandboxError) as info:
        Plugins(settings).create_sandbox("docker")
    assert "'livecode-python:no-such-tag' for python is missing" in str(info.value)
    assert "scripts/build-docker-image" in str(info.value)


def test_serve_refuses_to_start_without_the_image(engine, start_livecode, tmp_path):
    process = start_livecode("serve", "--port", "0", "--sandbox", "docker",
                             LIVECODE_DOCKER_IMAGE_PYTHON="livecode-python:no-such-tag",
                             LIVECODE_DATA_DIR=str(tmp_path))
    assert process.proc.wait(60) == 125
    assert "scripts/build-docker-image" in process.log_path.read_text()


def test_input_the_program_never_reads_cannot_hold_the_worker(engine, sandbox, run):
    run("print(1)")  # so that the time below is the run's, not the engine's making a container
    assert wait_until(lambda: len(idle_of(engine, sandbox)) == 2, 60)
    started = time.monotonic()
    result = run("import time; time.sleep(60)", b"y" * 2_000_000, wall_time_limit=1)
    assert result.limit_hit == "wall_time_limit"
    assert time.monotonic() - started < 1 + 3


# --- limits of the whole run --------------------------------------------------------------------


def test_cpu_time_is_limited_for_the_whole_run_not_per_process(run):
    result = run(SPIN_CHILDREN, cpu_time_limit=1)
    assert result.limit_hit == "cpu_time_limit", result
    # Five processes shared the CPU time: none had spent a second of its own.
    assert 1000 <= result.cpu_time_ms and result.wall_time_ms < 10_000, result


def test_cpu_time_and_peak_memory_are_the_whole_run_s(run):
    source = """
import os, time
def burn():
    block = b"x" * (40 << 20)
    end = time.process_time() + 0.3
    while time.process_time() < end:
        pass
    time.sleep(0.5)
    return block
if os.fork() == 0:
    burn()
    os._exit(0)
burn()
os.wait()
"""
    result = run(source)
    assert result.exit_code == 0, result
    assert result.cpu_time_ms >= 600, result  # the child's CPU time counts too
    assert result.max_rss_kb >= 80 * 1024, result  # both blocks were held at once


def test_eight_processes_of_100_mib_under_128_mib(run):
    result = run(EIGHT_TIMES_100_MIB)
    assert result.limit_hit == "memory_limit", result
    assert result.max_rss_kb <= 128 * 1024, result


# --- isolation ----------------------------------------------------------------------------------


def test_the_program_runs_as_a_uid_of_its_own_and_cannot_touch_the_holder(run):
    result = run("""
import os, signal
print(os.getuid(), os.getgid(), os.geteuid())
try:
    os.kill(1, signal.SIGKILL)
except PermissionError:
    print("pid 1 refused")
""")
    uid, gid = PROGRAM_USER.split(":")
    assert result.stdout.decode().split("\n")[:2] == [f"{uid} {gid} {uid}", "pid 1 refused"]
    assert uid not in ("0", "65534", HOLDER_USER.split(":")[0])


def test_no_user_namespace_keyring_or_packet_socket(run):
    result = run("""
import ctypes, errno, os, socket
libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWUSER, SYS_add_key, SYS_keyctl = 0x10000000, 248, 250
def errno_of(value):
    return errno.errorcode.get(ctypes.get_errno(), "ok") if value == -1 else "ok"
print("unshare", errno_of(libc.unshare(CLONE_NEWUSER)))
print("add_key", errno_of(libc.syscall(SYS_add_key, b"user", b"k", b"v", 1, -3)))
print("keyctl", errno_of(libc.syscall(SYS_keyctl, 0, -3, 0)))
try:
    socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    print("packet ok")
except PermissionError:
    print("packet EPERM")
""")
    assert result.stdout.decode().split() == ["unshare", "EPERM", "add_key", "EPERM",
                                              "keyctl", "EPERM", "packet", "EPERM"], result


def test_host_terminals_and_network_interfaces_are_invisible(run):
    result = run("""
import os, socket
print(sorted(os.listdir("/dev/pts")))
print(sorted(os.listdir("/sys/class/net")))
try:
    print([name for _, name in socket.if_nameindex()])
except OSError as exc:  # it asks netlink, which the seccomp profile refuses
    print(exc.errno)
""")
    assert result.stdout.decode().splitlines() == ["['ptmx']", "['lo']", "1"], result


def test_host_unix_sockets_are_out_of_reach(run, tmp_path):
    listeners, paths = [], []
    for directory in ("/run", "/var/tmp"):
        path = f"{directory}/livecode-test-{uuid.uuid4().hex[:8]}.sock"
        listener = socket.socket(socket.AF_UNIX)
        listener.bind(path)
        os.chmod(path, 0o777)
        listener.listen()
        listener.settimeout(0.5)
        listeners.append(listener)
        paths.append(path)
    try:
        source = f"""
import os, socket
tried = 0
targets = {paths!r}
for top in ("/run", "/var/run", "/var/tmp", "/tmp", "/dev/shm"):
    for root, dirs, files in os.walk(top):
        targets += [os.path.join(root, name) for name in files]
for path in targets:
    try:
        s = socket.socket(socket.AF_UNIX)
        s.connect(path)
        print("connected", path)
    except OSError:
        tried += 1
print("tried", tried)
"""
        result = run(source)
        assert result.exit_code == 0 and b"connected" not in result.stdout, result
        for listener in listeners:
            with pytest.raises(socket.timeout):
                listener.accept()
    finally:
        for listener, path in zip(listeners, paths):
            listener.close()
            os.unlink(path)


def test_world_writable_host_directories_are_not_written(run):
    marker = f"livecode-test-{uuid.uuid4().hex[:8]}"
    directories = ["/tmp", "/var/tmp", "/run/lock", "/var/lock", "/dev/shm", "/dev/mqueue"]
    result = run(f"""
written = []
for directory in {directories!r}:
    try:
        with open(directory + "/{marker}", "w") as f:
            f.write("x")
        written.append(directory)
    except OSError:
        pass
print(written)
""")
    assert result.exit_code == 0, result
    assert "/tmp" in result.stdout.decode()  # its own tmpfs
    assert [d for d in directories if os.path.exists(f"{d}/{marker}")] == []


# --- protections --------------------------------------------------------------------------------

SHARED_NAMES = {"unprivileged_user", "no_capabilities", "no_new_privs", "seccomp", "read_only_root",
                "minimal_root", "private_tmp", "devpts", "cgroup_memory", "cgroup_pids",
                "cgroup_cpu", "rlimits", "clean_environment", "pid_namespace",
                "mount_namespace", "network_isolation", "ipc_namespace", "uts_namespace",
                "kills_every_descendant"}


def test_protections_are_probed_and_all_hold_here(engine, sandbox):
    protections = sandbox.protections()
    assert set(protections) >= SHARED_NAMES and all(protections.values()), protections
    assert "name=seccomp,profile=default" in engine.info()["SecurityOptions"]


def test_a_protection_the_probe_does_not_see_is_reported_false(engine, settings_with):
    sandbox = Plugins(settings_with(LIVECODE_DOCKER_USER="65534:65534")).create_sandbox("docker")
    try:
        protections = sandbox.protections()
        assert protections["unprivileged_user"] is False
        assert protections["seccomp"] is True  # what holds is still said
    finally:
        sandbox.close()


def test_strict_mode_refuses_a_missing_protection(engine, settings_with):
    settings = settings_with(LIVECODE_DOCKER_USER="65534:65534", LIVECODE_SANDBOX_STRICT="1")
    with pytest.raises(SandboxError, match="WITHOUT unprivileged_user"):
        Plugins(settings).create_sandbox("docker")


# --- the warm pool ------------------------------------------------------------------------------

LIMITS_SEEN = """
import socket
print(socket.gethostname())
print([line.split()[-3] for line in open("/proc/self/limits")
       if line.startswith(("Max cpu", "Max file size", "Max open", "Max core"))])
print(open("/sys/fs/cgroup/memory/memory.limit_in_bytes").read().strip(),
      open("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes").read().strip(),
      open("/sys/fs/cgroup/pids/pids.max").read().strip())
"""


def idle_of(engine, sandbox) -> set[str]:
    return {c["Id"] for c in listed(engine, of_sandbox(sandbox), IDLE_PREFIX, running=True)}


def test_the_pool_keeps_containers_ready_and_uses_each_for_one_run(engine, sandbox, run):
    run("print(1)")
    assert sandbox.start_path() == "warm_pool"
    assert wait_until(lambda: len(idle_of(engine, sandbox)) == 2, 60)
    ready = idle_of(engine, sandbox)
    hosts = [run(LIMITS_SEEN).stdout.split(b"\n")[0] for _ in range(3)]
    assert len(set(hosts)) == 3  # a fresh container each time
    assert any(host.decode() in cid for host in hosts for cid in ready)  # taken from the pool
    assert wait_until(lambda: len(idle_of(engine, sandbox)) == 2, 60)  # and refilled


def test_per_run_limits_are_the_same_with_and_without_the_pool(engine, sandbox, run, tmp_path):
    cold_plugins = Plugins(make_settings(tmp_path, LIVECODE_DOCKER_POOL_SIZE="0", **LIMITS))
    cold = cold_plugins.create_sandbox("docker")
    try:
        run("print(1)")
        assert wait_until(lambda: len(idle_of(engine, sandbox)) == 2, 60)
        ready = idle_of(engine, sandbox)
        pooled = run(LIMITS_SEEN, cpu_time_limit=3, max_file_size=1 << 20, max_open_files=50)
        assert pooled.stdout.split(b"\n")[0].decode() in " ".join(ready)  # from the pool
        made = cold.run(cold_plugins.languages["python"].build(LIMITS_SEEN), b"",
                        replace(cold_plugins.settings.limits, cpu_time_limit=3,
                                max_file_size=1 << 20, max_open_files=50))
        assert pooled.stdout.split(b"\n")[1:] == made.stdout.split(b"\n")[1:]
        assert pooled.stdout.split(b"\n")[1:3] == [
            b"['3', '1048576', '0', '50']",
            b"%d %d 67" % (128 << 20, 128 << 20)]  # 64 processes + the holder's 3
    finally:
        cold.close()


def test_a_run_with_other_container_limits_gets_a_container_made_for_them(run):
    result = run(LIMITS_SEEN, memory_limit=64 * 1024, max_processes=10)
    assert result.stdout.split(b"\n")[2] == b"%d %d 13" % (64 << 20, 64 << 20)


def test_without_a_pool_runs_take_the_cold_path(engine, settings_with):
    sandbox = Plugins(settings_with(LIVECODE_DOCKER_POOL_SIZE="0")).create_sandbox("docker")
    try:
        assert sandbox.start_path() == "cold"
        program = Plugins(sandbox.settings).languages["python"].build("print('cold')")
        assert sandbox.run(program, b"", sandbox.settings.limits).stdout == b"cold\n"
        assert listed(engine, of_sandbox(sandbox), IDLE_PREFIX) == []
    finally:
        sandbox.close()


def test_pool_containers_that_died_are_passed_over(engine, sandbox, run):
    run("print(1)")
    assert wait_until(lambda: len(idle_of(engine, sandbox)) == 2, 60)
    for cid in idle_of(engine, sandbox):
        engine.api.kill(cid)
    assert wait_until(lambda: not idle_of(engine, sandbox), 10)
    assert run("print('still runs')").stdout == b"still runs\n"
    assert wait_until(lambda: len(idle_of(engine, sandbox)) == 2, 60)


# --- nothing outlives its worker ----------------------------------------------------------------

WORKER = """
import dataclasses, sys, threading
from livecode.core.config import Settings
from livecode.core.plugins import Plugins
plugins = Plugins(Settings.from_env({"LIVECODE_DATA_DIR": sys.argv[1],
                                     "LIVECODE_CONCURRENCY": "2"}))
sandbox = plugins.create_sandbox("docker")
program = plugins.languages["python"].build("while True: pass")
limits = dataclasses.replace(plugins.settings.limits, wall_time_limit=30, cpu_time_limit=20)
for _ in range(2):
    threading.Thread(target=sandbox.run, args=(program, b"", limits), daemon=True).start()
print(sandbox.owner, flush=True)
threading.Event().wait()
"""


def test_a_sigkilled_worker_takes_its_containers_with_it(engine, tmp_path):
    worker = subprocess.Popen([sys.executable, "-c", WORKER, str(tmp_path)],
                              stdout=subprocess.PIPE, text=True)
    try:
        owner = f"{OWNER_LABEL}={worker.stdout.readline().strip()}"
        assert wait_until(lambda: len(listed(engine, owner, RUN_PREFIX)) == 2, 60)
        assert wait_until(lambda: len(listed(engine, owner, IDLE_PREFIX)) == 2, 60)
        ids = [c["Id"] for c in listed(engine, owner)]
        assert processes_in(ids)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    assert wait_until(lambda: not processes_in(ids), 2), "processes outlived their worker"
    assert wait_until(lambda: not listed(engine, owner), 10)


# --- through a real `livecode serve` ------------------------------------------------------------


@pytest.fixture(scope="module")
def served(engine, tmp_path_factory):
    root = tmp_path_factory.mktemp("docker-serve")
    env = {"LIVECODE_DATA_DIR": str(root / "data"), "LIVECODE_SANDBOX": "docker",
           "LIVECODE_CONCURRENCY": "2", "LIVECODE_MEMORY_LIMIT": str(128 * 1024),
           "LIVECODE_WALL_TIME_LIMIT": "10", "LIVECODE_CPU_TIME_LIMIT": "1"}
    process = LivecodeProcess(["serve", "--port", "0"], env, root / "serve.log")
    try:
        yield process, ApiClient(process.url(timeout=120), timeout=30)
    finally:
        process.stop()


def submit(http, source: str, **limits) -> str:
    status, job = http.call("POST", "/submit-code", {"code": source, **limits})
    assert status == 202, job
    return job["jobId"]


def test_serve_reports_the_probed_protections_and_the_warm_pool(served):
    _, http = served
    status, health = http.call("GET", "/health")
    report = health["sandboxes"]["docker"]
    assert status == 200 and report["start_path"] == "warm_pool", health
    assert set(report["protections"]) >= SHARED_NAMES and all(report["protections"].values())


def test_serve_holds_cpu_time_for_the_whole_run(served):
    _, http = served
    result = http.wait(submit(http, SPIN_CHILDREN), timeout=90)
    assert (result["status"], result["reason"]) == ("TIMEOUT", "cpu_time_limit"), result
    assert result["cpu_time_ms"] >= 1000, result


def test_serve_holds_memory_for_the_whole_run(served):
    _, http = served
    result = http.wait(submit(http, EIGHT_TIMES_100_MIB), timeout=90)
    assert (result["status"], result["reason"]) == ("FAILED", "memory_limit"), result
    done = http.wait(submit(http, "print('next')"), timeout=90)
    assert done["stdout"] == "next\n" and done["max_rss_kb"] > 0 and done["cpu_time_ms"] > 0


def test_a_memory_limit_under_the_engine_s_minimum_is_memory_limit_not_a_sandbox_error(served):
    """Docker refuses to create a container under 6 MiB: that limit is the request's, so the run
    is a memory_limit failure (a sandbox_error would count against the sandbox)."""
    _, http = served
    result = http.wait(submit(http, "print(1)", memory_limit=1024), timeout=90)
    assert (result["status"], result["reason"]) == ("FAILED", "memory_limit"), result
    assert "memory_limit" in result["stderr"] and "Docker" not in result["stderr"], result


def test_serve_without_the_pool_says_so_and_runs(engine, serve):
    _, http = serve(LIVECODE_SANDBOX="docker", LIVECODE_DOCKER_POOL_SIZE="0")
    status, health = http.call("GET", "/health")
    assert health["sandboxes"]["docker"]["start_path"] == "cold", health
    assert http.wait(submit(http, "print('cold')"), timeout=90)["stdout"] == "cold\n"


def test_a_sigkilled_serve_takes_its_runs_containers_with_it(engine, serve):
    process, http = serve(LIVECODE_SANDBOX="docker", LIVECODE_CONCURRENCY="2")
    jobs = [submit(http, "while True: pass", wall_time_limit=30, cpu_time_limit=20)
            for _ in range(2)]

    def running() -> bool:
        return all(http.call("GET", f"/exec-result?jobId={j}")[1]["status"] == "RUNNING"
                   for j in jobs)

    assert wait_until(running, 60)
    group = _group_pids(process.proc.pid)

    def ours(prefix=""):
        return [c["Id"] for c in listed(engine, LABEL, prefix)
                if int(c["Labels"][OWNER_LABEL].rpartition(":")[2]) in group]

    assert wait_until(lambda: len(ours(RUN_PREFIX)) == 2, 10)  # named so once taken
    ids = ours()
    os.killpg(process.proc.pid, signal.SIGKILL)
    process.proc.wait()
    assert wait_until(lambda: not processes_in(ids), 2), "processes outlived their worker"
    assert wait_until(lambda: not set(ids) & {c["Id"] for c in listed(engine, LABEL)}, 10)


def _group_pids(pgid: int) -> set[int]:
    pids = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getpgid(int(entry.name)) == pgid:
                    pids.add(int(entry.name))
            except ProcessLookupError:
                pass
    return pids


def test_a_program_that_kills_its_bootstrap_still_ends_and_leaves_nothing(engine, sandbox, run):
    result = run("""
import os, time
os.kill(os.getppid(), 9)
if os.fork() == 0:
    os.setsid()
    time.sleep(60)
print("left a daemon")
""")
    assert result.stdout == b"left a daemon\n", result
    assert wait_until(lambda: not listed(engine, of_sandbox(sandbox), RUN_PREFIX), 10)


# --- a compile step's outputs -------------------------------------------------------------------

LEAVES_OUTPUTS = r"""
import io, os, sys, tarfile
open("artefact", "wb").write(b"\x7fELF built")
os.link("artefact", "hard")
os.symlink("/etc/passwd", "link")
os.mkdir("directory")
os.mkfifo("fifo")
forged = io.BytesIO()  # a tar of its own on its stdout, as if it were the bootstrap's
with tarfile.open(fileobj=forged, mode="w") as tar:
    info = tarfile.TarInfo("forged")
    info.size = 6
    tar.addfile(info, io.BytesIO(b"forged"))
sys.stdout.buffer.write(forged.getvalue())
print("compiled", file=sys.stderr)
"""


def test_outputs_come_back_as_regular_files_only_and_stdout_cannot_forge_them(plugins, sandbox):
    program = Program({"make.py": LEAVES_OUTPUTS.encode()}, ["python3", "make.py"],
                      language="python",
                      outputs=("artefact", "hard", "link", "directory", "fifo", "forged",
                               "never-made"))
    result = sandbox.run(program, b"", plugins.settings.compile_limits)
    assert result.exit_code == 0, result
    assert result.files == {"artefact": b"\x7fELF built", "hard": b"\x7fELF built"}
    assert result.stdout == b"" and result.stderr.endswith(b"compiled\n")  # said on stderr


def test_an_output_is_no_bigger_than_the_compile_file_size_limit(plugins, sandbox):
    program = Program({"make.py": b"open('artefact', 'wb').write(b'x' * 5000)"},
                      ["python3", "make.py"], language="python", outputs=("artefact",))
    result = sandbox.run(program, b"", replace(plugins.settings.compile_limits,
                                               max_file_size=4096))
    assert result.files.get("artefact", b"") != b"x" * 5000, result  # the rlimit stopped it
    assert len(result.files.get("artefact", b"")) <= 4096


def test_the_pool_keeps_containers_ready_for_compile_steps_too(engine, tmp_path):
    plugins = Plugins(make_settings(tmp_path, LIVECODE_CONCURRENCY="1", **LIMITS))
    sandbox = plugins.create_sandbox("docker")
    try:
        program = Program({"main.py": LIMITS_SEEN.encode()}, ["python3", "main.py"],
                          language="python", outputs=("main.py",))
        compile_limits = plugins.settings.compile_limits
        assert compile_limits != plugins.settings.limits
        first = sandbox.run(program, b"", compile_limits)
        assert first.files == {"main.py": LIMITS_SEEN.encode()}, first
        assert wait_until(lambda: len(idle_of(engine, sandbox)) == 1, 60)
        ready = idle_of(engine, sandbox)
        second = sandbox.run(program, b"", compile_limits)
        host = second.stderr.split(b"\n")[0].decode()  # a compile step's stdout is on stderr
        assert host != first.stderr.split(b"\n")[0].decode() and host in " ".join(ready)
        assert second.stderr.split(b"\n")[2] == b"%d %d %d" % (
            compile_limits.memory_limit << 10, compile_limits.memory_limit << 10,
            compile_limits.max_processes + 3)
    finally:
        sandbox.close()
