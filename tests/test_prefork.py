"""Jails forked ahead of demand (plugins/subprocess_sandbox/prefork.py), with real processes: each
serves one run; a run through one sees nothing of an earlier run; the run's limits, not the
pool's, hold; the pool of a killed fork-server is discarded and the run still succeeds; a crashed
worker's pooled cgroups are swept; ``LIVECODE_SANDBOX_PREFORK=0`` starts every jail for its run.
"""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from livecode.core.limits import Limits
from livecode.core.plugins import Plugins

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the pooled cgroups are root's")

QUICK = Limits(wall_time_limit=5.0, cpu_time_limit=3.0)
HELLO = 'print("Hello World")'
# "/proc/" keeps a program out of the warm interpreter (fork_server.TELLING): its jail is the
# jail fork-server's, and its kind of run (its pool key) the same as every such program's.
EXEC = "# /proc/\n"


@pytest.fixture
def pooled(settings_with):
    plugins = Plugins(settings_with())
    sandbox = plugins.create_sandbox("subprocess")
    assert sandbox.pool, "the pool is on by default"
    yield sandbox, plugins.languages["python"]
    sandbox.close()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def wait_for(condition, what: str, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while not (found := condition()):
        assert time.monotonic() < deadline, what
        time.sleep(0.02)
    return found


def run_pooled(sandbox, program, limits=QUICK):
    """Run ``program`` in a pooled jail: the first run of a kind registers it (and may start the
    fork-servers), later ones find it refilled."""
    for _ in range(20):
        taken = sandbox.pool.taken
        result = sandbox.run(program, b"", limits)
        if sandbox.pool.taken > taken:
            return result
        time.sleep(0.2)
    pytest.fail("no run took a pooled jail")


def full(sandbox):
    """The jails waiting once the pool is full (each test uses one kind of run)."""
    return wait_for(lambda: len(waiting := sandbox.pool.waiting()) >= sandbox.pool.size
                    and waiting, "the pool did not refill")


def test_a_pooled_jail_serves_one_run_and_is_gone_after_it(pooled):
    sandbox, runner = pooled
    program = runner.build(HELLO)
    run_pooled(sandbox, program)
    used = []
    for _ in range(4):
        before = {jail.jail.pid for jail in full(sandbox)}
        taken = sandbox.pool.taken
        assert sandbox.run(program, b"", QUICK).stdout == b"Hello World\n"
        assert sandbox.pool.taken == taken + 1
        gone = before - {jail.jail.pid for jail in sandbox.pool.waiting()}
        assert len(gone) == 1, (before, gone)
        used.extend(gone)
        # reaped once its run ended (by the aftercare, after the result), never handed out again
        assert sandbox.aftercare.wait(5) and not alive(used[-1])
    assert len(set(used)) == 4


def test_a_run_in_a_pooled_jail_sees_nothing_of_the_run_before(pooled):
    sandbox, runner = pooled
    run_pooled(sandbox, runner.build(EXEC + HELLO))
    full(sandbox)  # the second of these jails waited while the first run ran
    first = runner.build(EXEC + (
        "import os, subprocess\n"
        "open('/tmp/secret', 'w').write('first')\n"
        "open('left-behind', 'w').write('first')\n"
        "subprocess.Popen(['/bin/sleep', '30'], start_new_session=True)\n"
        "print(os.getuid())\n"))
    second = runner.build(EXEC + (
        "import os\n"
        "print(sorted(os.listdir('/tmp')), sorted(os.listdir('.')))\n"
        "print(sorted(int(p) for p in os.listdir('/proc') if p.isdigit()), os.getpid())\n"))
    taken = sandbox.pool.taken
    assert sandbox.run(first, b"", QUICK).exit_code == 0
    result = sandbox.run(second, b"", QUICK)
    assert sandbox.pool.taken == taken + 2, "both runs took a pooled jail"
    tmp, box = result.stdout.decode().splitlines()[0].split("] [")
    assert tmp == "['box'" and "left-behind" not in box, result.stdout
    pids, own = result.stdout.decode().splitlines()[1].rsplit(" ", 1)
    assert pids == f"[1, {own}]", result.stdout  # its init and itself: no sleep of the first run


@pytest.mark.parametrize("memory_kb, processes, disk", [
    (48 * 1024, 4, 1 << 20),  # below the pool's defaults (Limits())
    (768 * 1024, 200, 160 << 20),  # above them
    (256 * 1024, 64, 64 << 20),  # the same: the pooled cgroup's are left as they are
], ids=["lower", "higher", "same"])
def test_the_taking_run_s_limits_hold_not_the_pool_s(pooled, memory_kb, processes, disk):
    sandbox, runner = pooled
    limits = Limits(wall_time_limit=10.0, cpu_time_limit=5.0, memory_limit=memory_kb,
                    max_processes=processes, disk_limit=disk, max_file_size=disk * 2)
    run_pooled(sandbox, runner.build(HELLO), limits)
    before = full(sandbox)
    seen = {}

    def look():
        """While the next run lives: its cgroup's limits, as the kernel holds them."""
        jail = wait_for(lambda: next((j for j in before if j not in sandbox.pool.waiting()),
                                     None), "no pooled jail was taken")
        memory = ("memory.limit_in_bytes" if sandbox.cgroups.version == 1 else "memory.max")
        seen["memory"] = int(Path(jail.cgroup.file(
            "memory" if sandbox.cgroups.version == 1 else "", memory)).read_text())
        seen["pids"] = int(Path(jail.cgroup.file(
            "pids" if sandbox.cgroups.version == 1 else "", "pids.max")).read_text())

    watcher = threading.Thread(target=look)
    watcher.start()
    # Fill /tmp to just past the disk limit, then hold memory well past the lower limit.
    source = (f"import time\n"
              f"try:\n"
              f"    with open('/tmp/fill', 'wb') as f:\n"
              f"        f.write(b'x' * {disk * 3 // 4})\n"
              f"        f.flush()\n"
              f"        f.write(b'x' * {disk // 2})\n"
              f"    print('disk not full', flush=True)\n"
              f"except OSError as exc:\n"
              f"    print('disk full', exc.errno, flush=True)\n"
              f"import os\n"
              f"os.remove('/tmp/fill')\n"
              f"time.sleep(1)\n"
              f"held = bytearray(100 << 20)\n"
              f"print('held 100 MiB')\n")
    result = sandbox.run(runner.build(source), b"", limits)
    watcher.join()
    assert seen == {"memory": memory_kb * 1024, "pids": processes + 1}
    assert result.stdout.startswith(b"disk full 28\n"), result  # ENOSPC at the run's size
    if memory_kb < 100 * 1024:
        assert result.limit_hit == "memory_limit", result
    else:
        assert result.stdout.endswith(b"held 100 MiB\n"), result


def zygotes() -> list[int]:
    """This process's fork-servers."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(stat[1]) == os.getpid() and b"/zygote.py" in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


def test_the_pool_of_a_killed_fork_server_is_discarded_and_the_run_still_succeeds(pooled):
    sandbox, runner = pooled
    program = runner.build(HELLO)
    run_pooled(sandbox, program)
    waiting = full(sandbox)
    taken = sandbox.pool.taken
    for zygote in zygotes():
        os.kill(zygote, signal.SIGKILL)
    wait_for(lambda: not any(alive(jail.jail.pid) for jail in waiting), "the jails lived on")
    result = sandbox.run(program, b"", QUICK)
    assert result.stdout == b"Hello World\n", result
    assert sandbox.pool.taken == taken, "a dead jail was handed out"
    assert not set(sandbox.pool.waiting()) & set(waiting)
    # The fork-servers come back (for the tests that follow) and the pool with them.
    run_pooled(sandbox, program)


CRASHING_WORKER = """
import os, signal, sys, time
from livecode.core.config import Settings
from livecode.core.limits import Limits
from livecode.core.plugins import Plugins
plugins = Plugins(Settings.from_env({"LIVECODE_DATA_DIR": sys.argv[1],
                                     "LIVECODE_CONCURRENCY": "2"}))
sandbox = plugins.create_sandbox("subprocess")
program = plugins.languages["python"].build("pass")
limits = Limits(wall_time_limit=5.0, cpu_time_limit=3.0)
deadline = time.monotonic() + 30
while len(sandbox.pool.waiting()) < 2 and time.monotonic() < deadline:
    sandbox.run(program, b"", limits)
    time.sleep(0.2)
print(" ".join(path for jail in sandbox.pool.waiting() for path in jail.cgroup.paths), flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_crashed_worker_s_pooled_jails_die_and_their_cgroups_are_swept(pooled, tmp_path):
    sandbox, _ = pooled
    crashed = subprocess.run([sys.executable, "-c", CRASHING_WORKER, str(tmp_path / "data")],
                             capture_output=True, timeout=60)
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr[-2000:]
    paths = crashed.stdout.decode().split()
    assert len(paths) >= 2, crashed
    assert all(os.path.isdir(path) for path in paths)  # nobody removed them
    # Their jails died with the worker's fork-server, so the cgroups empty, and the slots
    # are free: a new sandbox's sweep clears them.
    wait_for(lambda: not any(Path(path, "cgroup.procs").read_text().split() for path in paths),
             "a pooled jail outlived its worker")
    fresh = type(sandbox)(sandbox.settings)
    try:
        assert not any(os.path.isdir(path) for path in paths)
    finally:
        fresh.close()


def test_prefork_0_starts_every_jail_for_its_run(settings_with):
    plugins = Plugins(settings_with(LIVECODE_SANDBOX_PREFORK="0"))
    sandbox = plugins.create_sandbox("subprocess")
    try:
        assert sandbox.pool is None
        program = plugins.languages["python"].build(HELLO)
        for _ in range(5):
            assert sandbox.run(program, b"", QUICK).stdout == b"Hello World\n"
        deadline = time.monotonic() + 15
        while sandbox.start_path() != "in-process":  # the jails are forked now, not spawned
            assert time.monotonic() < deadline, "the fork-servers did not start"
            time.sleep(0.1)
            assert sandbox.run(program, b"", QUICK).stdout == b"Hello World\n"
    finally:
        sandbox.close()
