"""A run's ``outputs`` leave the subprocess sandbox (how a compile step's artefact travels), and
only as what they claim to be: regular files within the size limit, never what a link points
to, never a FIFO that would block the jail. Real jailed processes, no worker."""

import pytest

from livecode.core.contracts import Program
from livecode.core.limits import Limits

QUICK = Limits(wall_time_limit=5.0, cpu_time_limit=5.0, max_file_size=4096)


@pytest.fixture
def sandbox(settings):
    from livecode.core.plugins import Plugins

    sandbox = Plugins(settings).create_sandbox("subprocess")
    yield sandbox
    sandbox.close()


def shell(script: str, outputs=(), **program) -> Program:
    return Program({}, ["sh", "-c", script], outputs=outputs, **program)


def test_named_files_come_back_and_others_do_not(sandbox):
    result = sandbox.run(shell("printf built > a; printf other > b", outputs=("a", "missing")),
                         b"", QUICK)
    assert result.exit_code == 0
    assert result.files == {"a": b"built"}


def test_links_fifos_and_directories_are_left_behind(sandbox):
    script = "ln -s /etc/passwd link; mkfifo fifo; mkdir dir; printf ok > ok"
    result = sandbox.run(shell(script, outputs=("link", "fifo", "dir", "ok")), b"", QUICK)
    assert result.files == {"ok": b"ok"}


def test_no_output_is_larger_than_the_file_size_limit(sandbox):
    result = sandbox.run(shell("head -c 5000 /dev/zero > big", outputs=("big",)), b"", QUICK)
    assert result.exit_code != 0  # the write past max_file_size failed
    assert result.files == {"big": bytes(QUICK.max_file_size)}


def test_a_box_swapped_for_a_link_gives_nothing_back(sandbox):
    script = "printf x > a; cd /tmp; mv box elsewhere; ln -s /etc box"
    result = sandbox.run(shell(script, outputs=("a", "passwd")), b"", QUICK)
    assert result.files == {}


def test_outputs_come_back_from_a_run_that_failed_too(sandbox):
    result = sandbox.run(shell("printf half > a; exit 3", outputs=("a",)), b"", QUICK)
    assert (result.exit_code, result.files) == (3, {"a": b"half"})


def test_executable_files_are_written_executable(sandbox):
    program = Program({"tool": b"#!/bin/sh\necho from tool\n"}, ["./tool"],
                      executable=frozenset({"tool"}))
    result = sandbox.run(program, b"", QUICK)
    assert (result.exit_code, result.stdout) == (0, b"from tool\n")


def test_reserved_address_space_lets_v8_start_under_a_small_memory_limit(sandbox):
    node = ["/usr/bin/node", "-e", "console.log('up')"]
    tight = Limits(wall_time_limit=10.0, memory_limit=128 * 1024)
    with_reserve = sandbox.run(Program({}, node, reserved_address_space_kb=1024 * 1024), b"",
                               tight)
    assert (with_reserve.exit_code, with_reserve.stdout) == (0, b"up\n")
    if not sandbox.protections().get("cgroup_memory"):  # memory bounded by RLIMIT_AS
        without = sandbox.run(Program({}, node), b"", tight)
        assert without.exit_code != 0  # V8 cannot map its code range


def test_outputs_come_back_from_a_jail_the_fork_server_forked(sandbox, monkeypatch):
    """A compile step's jail is forked too: its outputs file is the seventh descriptor the
    zygote gets (a spy on the real ``start_jail`` records which jails were forked)."""
    import time

    from livecode.plugins.subprocess_sandbox.fork_server import ForkServer

    forked = []
    start_jail = ForkServer.start_jail

    def spy(self, outputs_fd=-1):
        jail = start_jail(self, outputs_fd)
        forked.append((outputs_fd >= 0, jail is not None))
        return jail

    monkeypatch.setattr(ForkServer, "start_jail", spy)
    deadline = time.monotonic() + 30
    while sandbox.start_path() == "spawn":  # the first run starts the fork-server
        assert time.monotonic() < deadline
        sandbox.run(shell("true"), b"", QUICK)
        time.sleep(0.1)
    forked.clear()
    result = sandbox.run(shell("printf built > a.out", outputs=("a.out",)), b"", QUICK)
    assert result.exit_code == 0 and result.files == {"a.out": b"built"}
    assert forked == [(True, True)]
