"""The run cgroups against the real cgroup filesystem of this host, on each version it mounts.

Every test makes its own parent cgroup (``livecode-test-…``) and removes it. Processes join a
cgroup the way the jail's child does: by writing "0" to its ``cgroup.procs`` files.

On a hybrid host (cgroup v1 controllers, cgroup2 mounted at /sys/fs/cgroup/unified) the v2
hierarchy offers no memory or pids controller, because a controller belongs to one hierarchy and
these are bound to v1; so the v2 cases that need them skip here, saying so, and run on a pure v2
host. What v2 has without any controller (joining, cpu.stat, cgroup.kill, cgroup.freeze,
removal) is tested here for real, and so is handing controllers down the levels, with the one
controller such a host offers on v2 (hugetlb).
"""

import os
import signal
import subprocess
import sys
import time
import uuid

import pytest

from livecode.plugins.subprocess_sandbox.cgroups import (
    V1_CONTROLLERS, Cgroup, CgroupV1Tree, CgroupV2Tree, cgroup_mounts, find_tree)

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="run cgroups are made by root")

V2_MOUNT, V1_MOUNTS = cgroup_mounts()
MiB = 1 << 20


def _tree(version: str, parent: str):
    if version == "v1":
        if not set(V1_CONTROLLERS) <= set(V1_MOUNTS):
            pytest.skip("this host mounts no cgroup v1 hierarchy for "
                        + ", ".join(c for c in V1_CONTROLLERS if c not in V1_MOUNTS))
        return CgroupV1Tree(V1_MOUNTS, parent)
    if not V2_MOUNT:
        pytest.skip("this host mounts no cgroup2 hierarchy")
    return CgroupV2Tree(V2_MOUNT, parent)


@pytest.fixture(params=["v1", "v2"])
def tree(request):
    parent = f"livecode-test-{uuid.uuid4().hex[:8]}"
    tree = _tree(request.param, parent)
    yield tree
    for name in tree.children():
        tree.cgroup(name).remove()
    for path in tree.parents:
        os.rmdir(path)


def needs(tree, controller):
    if controller not in tree.controllers:
        pytest.skip(f"cgroup v{tree.version} here offers no {controller} controller (a hybrid "
                    f"host binds it to v1); this case runs on a pure v2 host")


def joined(cgroup: Cgroup, *argv: str, **popen) -> subprocess.Popen:
    """``argv`` started inside ``cgroup``, joined as the jail's child joins: "0" to cgroup.procs."""
    def join():
        for path in cgroup.procs_files:
            with open(path, "w") as file:
                file.write("0")
    return subprocess.Popen(argv, preexec_fn=join, **popen)


PYTHON = sys.executable


def test_a_process_joins_every_hierarchy_of_its_cgroup(tree):
    cgroup = tree.cgroup("run")
    cgroup.create(64 * MiB, 8)
    sleeper = joined(cgroup, "sleep", "60")
    try:
        assert cgroup.pids() == {sleeper.pid}
        for path in cgroup.procs_files:
            assert open(path).read().split() == [str(sleeper.pid)]
    finally:
        cgroup.remove()
    assert sleeper.wait(5) == -signal.SIGKILL
    assert not cgroup.exists()


def test_cpu_time_of_every_process_is_counted_together(tree):
    cgroup = tree.cgroup("run")
    cgroup.create(256 * MiB, 16)
    spin = ("import os, time\nchildren = 0\nfor _ in range(3):\n    if os.fork() == 0:\n"
            "        break\n    children += 1\n"
            "end = time.process_time() + 0.2\nwhile time.process_time() < end: pass\n"
            "for _ in range(children):\n    os.wait()\n")
    joined(cgroup, PYTHON, "-c", spin).wait(30)
    assert cgroup.cpu_ns() >= 4 * 0.2e9  # the parent and its three children
    cgroup.remove()


def test_the_process_limit_holds_for_the_whole_cgroup(tree):
    needs(tree, "pids")
    cgroup = tree.cgroup("run")
    cgroup.create(256 * MiB, 5)
    forker = ("import os, time\nmade = 0\nfor _ in range(20):\n    try:\n"
              "        if os.fork() == 0:\n            time.sleep(30)\n            os._exit(0)\n"
              "        made += 1\n    except OSError:\n        pass\nprint(made)\n")
    proc = joined(cgroup, PYTHON, "-S", "-c", forker, stdout=subprocess.PIPE)
    assert int(proc.stdout.readline()) == 4  # the first process and four children make five
    cgroup.remove()
    proc.wait(5)
    proc.stdout.close()


def test_memory_of_all_processes_is_bounded_and_the_oom_kill_counted(tree):
    needs(tree, "memory")
    cgroup = tree.cgroup("run")
    cgroup.create(64 * MiB, 16)
    hog = ("import os, time\nfor _ in range(4):\n    if os.fork() == 0:\n"
           "        x = b'x' * (30 << 20)\n        time.sleep(30)\nos.wait()\n")
    proc = joined(cgroup, PYTHON, "-S", "-c", hog)
    deadline = time.monotonic() + 30
    while not cgroup.oom_kills():
        assert time.monotonic() < deadline, "four processes of 30 MiB fit in 64 MiB"
        time.sleep(0.01)
    assert cgroup.peak_bytes() <= 64 * MiB
    cgroup.remove()
    proc.wait(5)


def test_peak_memory_is_the_run_s_own(tree):
    needs(tree, "memory")
    cgroup = tree.cgroup("run")
    cgroup.create(256 * MiB, 16)
    joined(cgroup, PYTHON, "-S", "-c", "x = b'x' * (50 << 20)").wait(30)
    assert 50 * MiB <= cgroup.peak_bytes() < 100 * MiB
    assert cgroup.oom_kills() == 0
    cgroup.remove()


def test_tmpfs_pages_are_charged_to_the_writer(tree, tmp_path):
    needs(tree, "memory")
    mount = tmp_path / "tmpfs"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256m", "tmpfs", str(mount)], check=True)
    try:
        cgroup = tree.cgroup("run")
        cgroup.create(64 * MiB, 16)
        writer = joined(cgroup, "dd", "if=/dev/zero", f"of={mount}/fill", "bs=1M", "count=128",
                        stderr=subprocess.DEVNULL)
        assert writer.wait(30) != 0  # OOM-killed, or its writes refused
        assert (mount / "fill").stat().st_size <= 64 * MiB
        cgroup.remove()
    finally:
        subprocess.run(["umount", str(mount)], check=True)


@pytest.mark.parametrize("way", ["native", "freezing"])
def test_kill_leaves_nothing_of_a_forking_tree(tree, way):
    cgroup = tree.cgroup("run")
    cgroup.create(256 * MiB, 128)
    storm = ("import os, time\nfor _ in range(6):\n    os.fork()\n    try:\n"
             "        os.setsid()\n    except OSError:\n        pass\ntime.sleep(60)\n")
    root = joined(cgroup, PYTHON, "-S", "-c", storm)
    deadline = time.monotonic() + 20
    while len(cgroup.pids()) < 64 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(cgroup.pids()) > 32
    if way == "freezing":
        Cgroup.kill(cgroup)  # the freezer loop, which v2 uses where cgroup.kill is missing
    else:
        cgroup.kill()
    assert cgroup.pids() == set()
    root.wait(5)
    cgroup.remove()
    assert not cgroup.exists()


def test_joining_from_a_new_pid_namespace_with_zero(tree):
    """The jail's child is PID 1 of its namespace: "0" still names it, on the host."""
    cgroup = tree.cgroup("run")
    cgroup.create(64 * MiB, 8)
    script = 'for p; do echo 0 > "$p" || exit 1; done; exec sleep 60'
    proc = subprocess.Popen(["unshare", "--pid", "--fork", "/bin/sh", "-c", script, "sh",
                             *cgroup.procs_files])
    deadline = time.monotonic() + 10
    while not cgroup.pids():
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.01)
    assert all(pid > 1 for pid in cgroup.pids())  # host pids, not the namespace's own
    cgroup.remove()
    proc.wait(5)


def test_v2_hands_its_controllers_down_to_the_run_cgroups():
    """The walk that enables controllers level by level, on the real v2 hierarchy, with a
    controller this host does offer there when memory and pids are bound to v1."""
    if not V2_MOUNT:
        pytest.skip("this host mounts no cgroup2 hierarchy")
    offered = open(f"{V2_MOUNT}/cgroup.controllers").read().split()
    if not offered:
        pytest.skip(f"cgroup v2 at {V2_MOUNT} offers no controller at all")
    controller = "memory" if "memory" in offered else offered[0]
    root_control = f"{V2_MOUNT}/cgroup.subtree_control"
    enabled_before = controller in open(root_control).read().split()
    parent = f"livecode-test-{uuid.uuid4().hex[:8]}/runs"
    tree = CgroupV2Tree(V2_MOUNT, parent, wanted=(controller,))
    try:
        assert tree.controllers == {controller}
        cgroup = tree.cgroup("run")
        cgroup.create(64 * MiB, 8)
        assert controller in open(f"{cgroup.paths[0]}/cgroup.controllers").read().split()
        cgroup.remove()
    finally:
        os.rmdir(tree.path)
        os.rmdir(os.path.dirname(tree.path))
        if not enabled_before:  # leave the host's root as it was
            with open(root_control, "w") as file:
                file.write(f"-{controller}")


def test_probe_finds_a_usable_tree_on_this_host():
    parent = f"livecode-test-{uuid.uuid4().hex[:8]}"
    tree, problem = find_tree(parent)
    try:
        assert tree is not None, problem
        assert tree.protections() == {"cgroup_memory": True, "cgroup_pids": True,
                                      "cgroup_cpu": True}
        assert tree.children() == set()  # the probe's own cgroup is gone
    finally:
        if tree:
            for path in tree.parents:
                os.rmdir(path)


def test_a_worker_sweeps_the_cgroups_of_slots_no_one_holds(tmp_path):
    from conftest import make_settings
    from livecode.core.plugins import Plugins

    parent = f"livecode-test-{uuid.uuid4().hex[:8]}"
    base = 1_900_000_000 + os.getpid() % 1000 * 100  # a range of our own
    settings = make_settings(tmp_path, LIVECODE_CGROUP_PARENT=parent,
                             LIVECODE_SANDBOX_UID_BASE=str(base),
                             LIVECODE_SANDBOX_UID_COUNT="4")
    tree, problem = find_tree(parent)
    assert tree is not None, problem
    try:
        abandoned, held = tree.cgroup(str(base)), tree.cgroup(str(base + 1))
        abandoned.create(64 * MiB, 8)
        held.create(64 * MiB, 8)
        orphan = joined(abandoned, "setsid", "sleep", "60")
        running = joined(held, "sleep", "60")
        from livecode.plugins.subprocess_sandbox.uid_slots import UidSlots
        slots = UidSlots("/run/livecode-sandbox", base, 4)
        with slots.hold_if_free(base + 1) as mine:  # a live worker's run
            assert mine
            sandbox = Plugins(settings).create_sandbox("subprocess")
            assert not abandoned.exists() and orphan.wait(5) == -signal.SIGKILL
            assert held.exists() and running.poll() is None
        sandbox.close()
        held.remove()
        assert running.wait(5) == -signal.SIGKILL
    finally:
        for name in tree.children():
            tree.cgroup(name).remove()
        for path in tree.parents:
            os.rmdir(path)


STEP_DOWN_PROBE = """
import json, os, sys
from livecode.core.config import Settings
from livecode.core.limits import Limits
from livecode.core.plugins import Plugins
from livecode.worker.compile_and_run import outcome
settings = Settings.from_env({**os.environ, "LIVECODE_DATA_DIR": sys.argv[1],
                              "LIVECODE_WORK_ROOT": sys.argv[1]})
plugins = Plugins(settings)
runner, sandbox = plugins.languages["python"], plugins.create_sandbox("subprocess")
hello = sandbox.run(runner.build("print('still runs')"), b"", settings.limits)
bomb = sandbox.run(runner.build("x = b'x' * (512 << 20)"), b"", Limits(memory_limit=128 * 1024))
print(json.dumps({"protections": sandbox.protections(), "stdout": hello.stdout.decode(),
                  "max_rss_kb": hello.max_rss_kb, "bomb": outcome(bomb, runner)[1]}))
"""


def _with_read_only_cgroups(tmp_path, **env):
    """The probe on a real host whose cgroup hierarchies livecode may not write (as in a
    container that mounts them read-only): a private mount namespace with them remounted so."""
    remounts = " && ".join(f"mount -o remount,bind,ro {path}"
                           for path in sorted({*V1_MOUNTS.values(), *filter(None, [V2_MOUNT])}))
    return subprocess.run(
        ["unshare", "--mount", "/bin/sh", "-c", f'{remounts} && exec "$@"', "sh",
         PYTHON, "-c", STEP_DOWN_PROBE, str(tmp_path)],
        capture_output=True, text=True, timeout=120, env={**os.environ, **env})


def test_without_a_usable_cgroup_the_sandbox_says_so_and_limits_per_process(tmp_path):
    result = _with_read_only_cgroups(tmp_path)
    assert result.returncode == 0, result.stderr
    report = __import__("json").loads(result.stdout)
    assert report["stdout"] == "still runs\n"
    assert {name: report["protections"][name] for name in
            ("cgroup_memory", "cgroup_pids", "cgroup_cpu")} == dict.fromkeys(
        ("cgroup_memory", "cgroup_pids", "cgroup_cpu"), False)
    assert report["protections"]["pid_namespace"] and report["protections"]["process_limit"]
    assert report["max_rss_kb"] is None  # not the worker's memory passed off as the program's
    assert report["bomb"] == "memory_limit"  # RLIMIT_AS is back: a MemoryError
    assert "running WITHOUT cgroup_memory, cgroup_pids, cgroup_cpu" in result.stderr


def test_strict_mode_refuses_to_run_without_a_cgroup(tmp_path):
    result = _with_read_only_cgroups(tmp_path, LIVECODE_SANDBOX_STRICT="1")
    assert result.returncode != 0
    assert "LIVECODE_SANDBOX_STRICT=1 forbids that" in result.stderr
    assert "cgroup_memory" in result.stderr


def test_without_cgroup_or_pid_namespace_a_slot_is_cleared_by_its_uid():
    """The step-down: a slot's earlier run is found by its uid, wherever it went."""
    from livecode.plugins.subprocess_sandbox.uid_slots import kill_processes_of

    uid = 2_000_990_500  # in the sandbox range, used by no other test
    def become():
        os.setsid()
        os.setgid(uid)
        os.setuid(uid)
    daemons = [subprocess.Popen(["sleep", "60"], preexec_fn=become) for _ in range(3)]
    assert kill_processes_of(uid)
    assert [d.wait(5) for d in daemons] == [-signal.SIGKILL] * 3
