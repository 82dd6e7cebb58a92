"""Limits that hold for a whole run, not for each of its processes, against every sandbox, through
a real ``livecode serve`` (as the hostile battery does, whose ``Deployment`` these cases use).

Each case is a program that splits its appetite over several processes, or hides it where a
per-process limit does not look (a tmpfs), and checks the status and reason the run ends with and
the figures it reports; then ``finish()`` checks that the server still serves and nothing of the
run is left.

The subprocess sandbox's deployment has a single uid slot (in a range of its own), so that every
run reuses the slot, and the cgroup, of the one before.
"""

import time
from pathlib import Path

import pytest

from conftest import IN_CI, docker_problem
from livecode.client import ApiClient
from livecode.testing import LivecodeProcess
from test_hostile_battery import Deployment

pytestmark = pytest.mark.slow

MiB_KB = 1024  # max_rss_kb and memory_limit are in KiB
LIMITS = {"LIVECODE_WALL_TIME_LIMIT": "8", "LIVECODE_CPU_TIME_LIMIT": "4",
          "LIVECODE_MEMORY_LIMIT": str(128 * MiB_KB), "LIVECODE_MAX_PROCESSES": "16",
          "LIVECODE_DISK_LIMIT": str(16 << 20)}
UID_BASE = 2_000_990_000  # counted by conftest.sandbox_processes, used by no other test


@pytest.fixture(scope="module", params=["subprocess", "docker"])
def deployment(request, tmp_path_factory):
    sandbox = request.param
    if sandbox == "docker" and (problem := docker_problem()):
        if IN_CI:
            pytest.fail(f"CI must run the Docker cases, but {problem}")
        pytest.skip(problem)
    root = tmp_path_factory.mktemp(f"limits-{sandbox}")
    (root / "runs").mkdir()
    env = {"LIVECODE_DATA_DIR": str(root / "data"), "LIVECODE_WORK_ROOT": str(root / "runs"),
           "LIVECODE_SANDBOX": sandbox, "LIVECODE_CONCURRENCY": "2",
           "LIVECODE_SANDBOX_STRICT": "1", "LIVECODE_SANDBOX_UID_BASE": str(UID_BASE),
           "LIVECODE_SANDBOX_UID_COUNT": "1", **LIMITS}
    process = LivecodeProcess(["serve", "--port", "0"], env, root / "serve.log")
    try:
        url = process.url(timeout=60)
        yield Deployment(sandbox, process, ApiClient(url, timeout=30), root)
    finally:
        process.stop()


def test_eight_processes_of_100_mib_under_a_128_mib_limit(deployment):
    source = ("import os, time\n"
              "for _ in range(8):\n"
              "    if os.fork() == 0:\n"
              "        block = b'x' * (100 << 20)\n"
              "        time.sleep(1)\n"
              "        os._exit(0)\n"
              "held = sum(os.waitstatus_to_exitcode(os.wait()[1]) == 0 for _ in range(8))\n"
              "print(held)\n")
    result = deployment.run(source)
    assert (result["status"], result["reason"]) == ("FAILED", "memory_limit"), result
    # The run may be ended at the first OOM kill, or its parent may count the survivors.
    assert result["stdout"] in ("", "0\n", "1\n"), result
    deployment.finish()


def test_a_tmpfs_write_past_the_memory_limit(deployment):
    source = ("for i in range(20):\n"
              "    with open(f'/tmp/fill{i}', 'wb') as f:\n"
              "        for _ in range(16):\n"
              "            f.write(b'x' * (1 << 20))\n"
              "print('wrote 320 MiB into RAM')\n")
    result = deployment.run(source, disk_limit=512 << 20, max_file_size=64 << 20)
    assert (result["status"], result["reason"]) == ("FAILED", "memory_limit"), result
    assert "wrote" not in result["stdout"]
    deployment.finish()


def test_four_spinning_children_share_one_cpu_time_limit(deployment):
    source = ("import os\n"
              "for _ in range(4):\n"
              "    if os.fork() == 0:\n"
              "        while True:\n"
              "            pass\n"
              "for _ in range(4):\n"
              "    os.wait()\n")
    started = time.monotonic()
    result = deployment.run(source, cpu_time_limit=1, wall_time_limit=20)
    # Per-process limits would let each child spin its own second: 4 s of CPU, then COMPLETED.
    assert (result["status"], result["reason"]) == ("TIMEOUT", "cpu_time_limit"), result
    assert 1000 <= result["cpu_time_ms"] < 2000, result
    assert time.monotonic() - started < 20 / 2  # ended by CPU, long before the wall limit
    deployment.finish()


def test_a_fork_bomb_gets_max_processes_and_no_more(deployment):
    source = ("import os, time\n"
              "made = 0\n"
              "for _ in range(1000):\n"
              "    try:\n"
              "        if os.fork() == 0:\n"
              "            time.sleep(60)\n"
              "            os._exit(0)\n"
              "        made += 1\n"
              "    except OSError:\n"
              "        break\n"
              "print(made)\n")
    result = deployment.run(source, max_processes=16)
    assert result["status"] == "COMPLETED", result
    # The program itself, its children and the sandbox's own process: 16 at most.
    assert 12 <= int(result["stdout"]) <= 15, result
    deployment.finish()


def test_max_rss_is_the_program_s_memory(deployment):
    hello = deployment.run("print('small')")
    big = deployment.run("block = b'x' * (50 << 20)\nprint(len(block))")
    assert big["status"] == "COMPLETED" and hello["status"] == "COMPLETED", (hello, big)
    assert 50 * MiB_KB <= big["max_rss_kb"] < 80 * MiB_KB, big
    worker_rss_kb = max(_rss_kb(pid) for pid in _tree(deployment.process.proc.pid))
    assert hello["max_rss_kb"] < min(20 * MiB_KB, worker_rss_kb / 2), (hello, worker_rss_kb)
    deployment.finish()


def test_a_slot_is_reused_only_once_nothing_of_its_last_run_is_left(deployment):
    leave_daemons = ("import os\n"
                     "for _ in range(5):\n"
                     "    if os.fork() == 0:\n"
                     "        os.setsid()\n"
                     "        if os.fork() == 0:\n"
                     "            while True:\n"
                     "                pass\n"
                     "        os._exit(0)\n"
                     "print('left five spinning daemons')\n")
    first = deployment.run(leave_daemons)
    assert first["status"] == "COMPLETED", first
    count_room = ("import os, time\n"
                  "made = 0\n"
                  "for _ in range(13):\n"
                  "    try:\n"
                  "        if os.fork() == 0:\n"
                  "            time.sleep(0.5)\n"
                  "            os._exit(0)\n"
                  "        made += 1\n"
                  "    except OSError:\n"
                  "        break\n"
                  "time.sleep(0.5)\n"
                  "print(made)\n")
    second = deployment.run(count_room, max_processes=16)
    # Five daemons alive in the slot would take five of its sixteen processes, and their CPU would
    # count in this run's cgroup.
    assert second["status"] == "COMPLETED" and second["stdout"] == "13\n", second
    if second["cpu_time_ms"] is not None:
        assert second["cpu_time_ms"] < 1000, second
    deployment.finish()


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants (the serving process and the worker it runs)."""
    found = [pid]
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            found += _tree(int(child))
    return found


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0
