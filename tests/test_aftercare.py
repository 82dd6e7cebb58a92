"""What a run leaves to tidy (plugins/subprocess_sandbox/aftercare.py): its cgroup removed and its
uid slot released after its result is returned, in order, never lost; with the real sandbox
and the host's cgroups where the test runs as root."""

import os
import threading
from contextlib import ExitStack

import pytest

from livecode.core.limits import Limits
from livecode.core.plugins import Plugins
from livecode.plugins.subprocess_sandbox.aftercare import Aftercare


def test_stacks_are_closed_in_the_order_handed_over_and_wait_says_when():
    aftercare = Aftercare()
    closed, gate = [], threading.Event()
    first = ExitStack()  # its callbacks run last first: the wait, then the note
    first.callback(closed.append, "first")
    first.callback(gate.wait, 5)
    second = ExitStack()
    second.callback(closed.append, "second")
    aftercare.later(first)
    aftercare.later(second)
    assert not aftercare.wait(0.05)  # the first is held up: neither is done
    assert closed == []
    gate.set()
    assert aftercare.wait(5)
    assert closed == ["first", "second"]


def test_a_failing_stack_does_not_stop_the_ones_after_it(caplog):
    aftercare = Aftercare()
    broken, closed = ExitStack(), []
    broken.callback(lambda: 1 / 0)
    fine = ExitStack()
    fine.callback(closed.append, "fine")
    aftercare.later(broken)
    aftercare.later(fine)
    assert aftercare.wait(5)
    assert closed == ["fine"]
    assert "could not tidy up after a run" in caplog.text


def test_a_forked_child_tidies_at_once_having_no_such_thread():
    aftercare = Aftercare()
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover (the child's own exit status says)
        stack = ExitStack()
        stack.callback(os.write, write, b"closed")
        aftercare.later(stack)  # no thread here to do it: done before later() returns
        os._exit(0 if os.read(read, 6) == b"closed" else 1)
    os.close(write)
    assert os.waitpid(child, 0)[1] == 0
    os.close(read)


@pytest.mark.skipif(os.geteuid() != 0, reason="run cgroups and uid slots are root's")
def test_a_run_s_cgroup_is_gone_and_its_slot_free_once_tidied_and_at_close(settings_with):
    sandbox = Plugins(settings_with(LIVECODE_SANDBOX_PREFORK="0")).create_sandbox("subprocess")
    if not sandbox.cgroups:
        sandbox.close()
        pytest.skip("no usable cgroup tree on this host")
    program = Plugins(settings_with()).languages["python"].build("import os; print(os.getuid())")
    try:
        for _ in range(3):
            result = sandbox.run(program, b"", Limits(wall_time_limit=5.0))
            uid = int(result.stdout)
            assert sandbox.aftercare.wait(10)
            assert str(uid) not in sandbox.cgroups.children()
            with sandbox.uids.hold_if_free(uid) as free:
                assert free, f"slot {uid} still held after its run was tidied"
        last = int(sandbox.run(program, b"", Limits(wall_time_limit=5.0)).stdout)
    finally:
        sandbox.close()  # waits for the last run's tidying
    # (other sandboxes of this test process may hold cgroups of their own meanwhile)
    assert str(last) not in sandbox.cgroups.children()


LEAVES_A_DAEMON = """
import os, sys, time
print(os.getuid(), flush=True)
if os.fork() == 0:
    os.setsid()
    for fd in (0, 1, 2):
        os.close(fd)  # holds none of the run's streams: nothing waits for it but the kill
    time.sleep(60)
"""


def processes_of(uid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/status") as status:
                fields = dict(line.split(":", 1) for line in status if ":" in line)
        except (OSError, ValueError):
            continue
        if int(fields["Uid"].split()[0]) == uid and fields["State"].split()[0] != "Z":
            found.append(int(entry))
    return found


@pytest.mark.skipif(os.geteuid() != 0, reason="run cgroups and uid slots are root's")
@pytest.mark.parametrize("prefork", ["1", "0"])
def test_the_result_comes_before_the_jail_s_exit_yet_after_every_process_of_the_run(
        settings_with, prefork):
    """The init's word ends the run (its jail is reaped by the aftercare), but what the program
    left running is killed before the result, as when the result waited for the jail."""
    settings = settings_with(LIVECODE_SANDBOX_PREFORK=prefork)
    sandbox = Plugins(settings).create_sandbox("subprocess")
    if not sandbox.cgroups:
        sandbox.close()
        pytest.skip("no usable cgroup tree on this host")
    program = Plugins(settings).languages["python"].build(LEAVES_A_DAEMON)
    try:
        for _ in range(10):
            result = sandbox.run(program, b"", Limits(wall_time_limit=10.0))
            assert result.exit_code == 0 and result.wall_time_ms < 5000
            assert processes_of(int(result.stdout)) == []
    finally:
        sandbox.close()
