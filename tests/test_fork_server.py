"""The subprocess sandbox's three ways of starting a run, through a real ``livecode serve``: a
Python program run in the warm interpreter of its own fork-server, the others' jails forked by
the jail's (the default, ``in-process``); every jail forked, every program exec'd (``fork-server``,
``LIVECODE_SANDBOX_IN_PROCESS=0``); and every jail spawned as a fresh interpreter (the fallback,
and what ``LIVECODE_SANDBOX_FORK_SERVER=0`` chooses). Representative hostile cases run all three
ways; the whole battery (tests/test_hostile_battery.py) runs with the default. Then what only the
fork-servers have: their own cleanliness, their death mid-run and their return, their death with
``serve``. (That a program cannot tell the warm interpreter from a fresh one is
tests/test_conformance.py's.)
"""

import json
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from livecode.client import ApiClient
from test_hostile_battery import DAEMONISING, Deployment, alive, descendants, start_server

pytestmark = pytest.mark.slow

STARTS = {"in-process": {}, "fork-server": {"LIVECODE_SANDBOX_IN_PROCESS": "0"},
          "spawn": {"LIVECODE_SANDBOX_FORK_SERVER": "0"}}
ZYGOTES = {"in-process": 2, "fork-server": 1, "spawn": 0}  # the Python one, the jail's
PROGRAM_ENVIRONMENT = b"PATH=/usr/local/bin:/usr/bin:/bin\0LANG=C.UTF-8\0HOME=/tmp/box\0"


@pytest.fixture(scope="module", params=sorted(STARTS))
def deployment(request, tmp_path_factory):
    root = tmp_path_factory.mktemp(f"fork-server-{request.param}")
    # A wall time limit well above the CPU one: the machine may be busy with other work too.
    process = start_server("subprocess", root, None, sys.executable, LIVECODE_SANDBOX_STRICT="1",
                           LIVECODE_WALL_TIME_LIMIT="10", **STARTS[request.param])
    try:
        deployment = Deployment("subprocess", process, ApiClient(process.url(timeout=60),
                                                                 timeout=30), root)
        deployment.start = request.param
        yield deployment
    finally:
        process.stop()


def is_zygote(pid: int) -> bool:
    """Started as zygote.py (as the jails it forks seem to be: a fork keeps the command line)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return any(part.endswith(b"/zygote.py") for part in cmdline) and alive(pid)


def parent(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError):
        return 0


def zygotes(server_pid: int) -> list[int]:
    """The fork-servers among a server's descendants (not the jails they forked)."""
    return [pid for pid in descendants(server_pid)
            if is_zygote(pid) and not is_zygote(parent(pid))]


def descriptors_and_jails(zygote: int) -> tuple[dict[str, str], int]:
    """A zygote's descriptors and how many jails it has, read while that number held still (the
    pool may be forking one)."""
    while True:
        jails = {pid for pid in descendants(zygote) if parent(pid) == zygote}
        fds = {fd: os.readlink(f"/proc/{zygote}/fd/{fd}")
               for fd in os.listdir(f"/proc/{zygote}/fd")}
        if jails == {pid for pid in descendants(zygote) if parent(pid) == zygote}:
            return fds, len(jails)
        time.sleep(0.05)


def start_of(deployment) -> str:
    status, health = deployment.http.call("GET", "/health")
    assert status == 200, health
    return health["sandboxes"]["subprocess"]["start_path"]


def warm_up(deployment) -> None:
    """Run programs until the first runs' fork-servers serve (those before spawn their jails)."""
    deadline = time.monotonic() + 30
    while True:
        result = deployment.run('print("Hello World")')
        assert result["stdout"] == "Hello World\n", result
        if start_of(deployment) == deployment.start:
            return
        assert time.monotonic() < deadline, "the fork-server did not start"
        time.sleep(0.1)


def test_health_says_how_jails_start(deployment):
    assert start_of(deployment) == "spawn"  # nothing ran yet: no fork-server started
    warm_up(deployment)
    assert start_of(deployment) == deployment.start
    deadline = time.monotonic() + 10  # the jail's fork-server may come up a moment later
    while len(zygotes(deployment.process.proc.pid)) != ZYGOTES[deployment.start]:
        assert time.monotonic() < deadline, zygotes(deployment.process.proc.pid)
        deployment.run("pass")
        time.sleep(0.1)


@pytest.mark.parametrize("source, expected", [
    ("import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n",
     ("TIMEOUT", None)),
    ("while True: pass", ("TIMEOUT", "cpu_time_limit")),
    ("blocks = []\nwhile True:\n    blocks.append(bytearray(8 << 20))\n",
     ("FAILED", "memory_limit")),
    ("import sys\nfor _ in range(200):\n    sys.stdout.buffer.write(b'x' * 1_000_000)\n",
     ("FAILED", "output_limit")),
    ("import os, signal\nos.kill(-1, signal.SIGKILL)\nprint('alive')", (None, None)),
    (DAEMONISING.replace("time.sleep(3)", "time.sleep(0.5)"), ("COMPLETED", None)),
], ids=["fork_bomb", "cpu_spin", "memory_bomb", "output_flood", "kill_everything", "daemons"])
def test_hostile_programs_end_the_same_either_way(deployment, source, expected):
    result = deployment.run(source, **({"cpu_time_limit": 1} if source[-4:] == "pass" else {}))
    status, reason = expected
    if status:
        assert result["status"] == status, result
    else:
        assert result["status"] in ("COMPLETED", "FAILED"), result
    if reason:
        assert result["reason"] == reason, result
    deployment.finish()


def test_a_run_sees_no_descriptor_and_no_environment_but_its_own(deployment):
    source = ("import json, os\n"
              "def target(fd):\n"
              "    try:\n"
              "        return os.readlink(f'/proc/self/fd/{fd}')\n"
              "    except OSError:\n"
              "        return None\n"
              "fds = {fd: target(fd) for fd in os.listdir('/proc/self/fd')}\n"
              "environ = open('/proc/self/environ', 'rb').read().split(b'\\0')\n"
              "print(json.dumps({'fds': fds, 'environ': sorted(e.decode() for e in environ if e)}))\n")
    result = deployment.run(source, stdin="x")
    assert result["status"] == "COMPLETED", result
    seen = json.loads(result["stdout"])
    # 0-2 are the run's pipes, 3 the directory listdir had open (gone); nothing of the worker
    assert seen["fds"] == {"0": seen["fds"]["0"], "1": seen["fds"]["1"], "2": seen["fds"]["2"],
                           "3": None}, seen
    assert all(seen["fds"][fd].startswith("pipe:") for fd in "012"), seen
    assert seen["environ"] == ["HOME=/tmp/box", "LANG=C.UTF-8",
                               "PATH=/usr/local/bin:/usr/bin:/bin"], seen
    deployment.finish()


def test_the_fork_servers_hold_nothing_of_the_worker(deployment):
    if deployment.start == "spawn":
        pytest.skip("only a fork-server has a process of its own")
    warm_up(deployment)
    found = zygotes(deployment.process.proc.pid)
    assert len(found) == ZYGOTES[deployment.start], found
    environments = []
    for zygote in found:
        # the jail's starts from nothing, the Python one from what every program gets
        environments.append(Path(f"/proc/{zygote}/environ").read_bytes())
        assert os.readlink(f"/proc/{zygote}/cwd") == "/"
        fds, jails = descriptors_and_jails(zygote)
        # its standard streams are pipes with nothing at their other end; beyond them only its
        # control socket, and a pidfd and a reply socket for each jail it forked that lives (those
        # forked ahead of demand wait)
        assert all(fds[fd].startswith("pipe:") for fd in ("0", "1", "2")), fds
        others = [target for fd, target in fds.items() if fd not in ("0", "1", "2")]
        assert sorted(target.split(":")[0] for target in others) == sorted(
            ["socket"] + ["socket", "anon_inode"] * jails), fds
    assert sorted(environments) == [b"", PROGRAM_ENVIRONMENT][:len(found)]


def test_the_fork_server_dying_mid_run_ends_the_run_and_jails_are_spawned_until_it_returns(
        deployment):
    if deployment.start == "spawn":
        pytest.skip("only a fork-server can die")
    warm_up(deployment)
    server = deployment.process.proc.pid
    first = zygotes(server)
    status, job = deployment.http.call("POST", "/submit-code", {
        "code": "import time\nprint('started', flush=True)\ntime.sleep(30)\n"})
    assert status == 202, job
    deadline = time.monotonic() + 30
    while deployment.http.call("GET", f"/executions/{job['jobId']}")[1]["status"] != "RUNNING":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(0.5)
    for zygote in first:
        os.kill(zygote, signal.SIGKILL)
    result = deployment.http.wait(job["jobId"], timeout=20)  # not its 30 s: the run is gone
    assert (result["status"], result["reason"]) == ("FAILED", "sandbox_error"), result
    assert start_of(deployment) == "spawn"
    deployment.finish()  # a spawned jail runs the next program right, nothing is left
    time.sleep(1.5)  # past the first retry delay, the next run has the fork-server started
    deployment.finish()
    deadline = time.monotonic() + 20
    while start_of(deployment) != deployment.start:
        assert time.monotonic() < deadline, "the fork-server did not come back"
        deployment.run("pass")
        time.sleep(0.1)
    assert zygotes(server) and not set(zygotes(server)) & set(first)
    deployment.finish()


def test_sigkill_of_serve_takes_the_fork_server_and_every_run_with_it(tmp_path):
    process = start_server("subprocess", tmp_path, None, sys.executable, LIVECODE_SANDBOX_STRICT="1",
                           LIVECODE_WALL_TIME_LIMIT="60")
    try:
        http = ApiClient(process.url(timeout=60), timeout=30)
        deployment = Deployment("subprocess", process, http, tmp_path)
        deployment.start = "in-process"
        warm_up(deployment)
        for _ in range(2):
            assert http.call("POST", "/submit-code", {"code": DAEMONISING})[0] == 202
        found = set(zygotes(process.proc.pid))
        deadline = time.monotonic() + 60

        def under_zygotes():
            return set().union(*(descendants(zygote) for zygote in found))

        while len(runs := set(deployment.run_processes()) & under_zygotes()) < 6:
            assert time.monotonic() < deadline, f"only {len(runs)} run processes"
            time.sleep(0.1)
        jails = under_zygotes() - runs
        os.kill(process.proc.pid, signal.SIGKILL)
        time.sleep(1)
        assert [pid for pid in found | jails | runs if alive(pid)] == []
    finally:
        process.stop()
