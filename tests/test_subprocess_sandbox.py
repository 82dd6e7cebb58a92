"""The Python runner inside the rlimit sandbox, with real processes: what each kind of program
ends as, and that nothing of a run stays behind."""

import json
import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from livecode.core.execution_states import Status
from livecode.core.limits import Limits
from livecode.core.plugins import Plugins
from livecode.core.worker import outcome

from conftest import sandbox_processes

QUICK = Limits(wall_time_limit=2.0, cpu_time_limit=2.0)


@pytest.fixture
def run(settings):
    plugins = Plugins(settings)
    runner = plugins.languages["python"]
    sandbox = plugins.create_sandbox("subprocess")

    def run(source: str, stdin: str = "", limits: Limits = QUICK):
        result = sandbox.run(runner.build(source), stdin.encode(), limits)
        return result, outcome(result)

    yield run
    sandbox.close()


@pytest.fixture
def work_root(settings):
    return Path(settings.option("WORK_ROOT"))


def test_hello_world_completes(run):
    result, (status, reason) = run('print("Hello World")')
    assert (status, reason) == (Status.COMPLETED, None)
    assert result.stdout == b"Hello World\n" and result.stderr == b""
    assert result.exit_code == 0 and result.wall_time_ms > 0 and result.cpu_time_ms > 0


def test_runtime_error_fails_with_the_traceback(run):
    result, (status, reason) = run('raise ValueError("x")')
    assert (status, reason) == (Status.FAILED, "nonzero_exit")
    assert result.exit_code == 1
    assert b"Traceback (most recent call last)" in result.stderr
    assert result.stderr.endswith(b"ValueError: x\n")


def test_syntax_error_fails(run):
    result, (status, _) = run("def broken(:\n")
    assert status is Status.FAILED
    assert b"SyntaxError" in result.stderr


def test_nonzero_exit_without_error_fails_with_its_code(run):
    result, (status, _) = run("import sys; sys.exit(3)")
    assert status is Status.FAILED and result.exit_code == 3


def test_stdin_reaches_the_program(run):
    result, (status, _) = run("import sys; print(sys.stdin.read()[::-1])", stdin="abc")
    assert status is Status.COMPLETED and result.stdout == b"cba\n"


def test_large_stdin_and_output_together_do_not_deadlock(run):
    data = "x" * 500_000
    result, (status, _) = run("import sys; sys.stdout.write(sys.stdin.read())", stdin=data,
                              limits=replace(QUICK, output_limit=1_000_000))
    assert status is Status.COMPLETED and result.stdout == data.encode()


def test_program_that_ignores_stdin_is_not_blocked_by_it(run):
    result, (status, _) = run("print('ok')", stdin="y\n" * 200_000)
    assert status is Status.COMPLETED and result.stdout == b"ok\n"


def test_endless_loop_times_out_within_the_wall_limit_and_leaves_nothing(run, work_root):
    started = time.monotonic()
    result, (status, reason) = run("while True: pass", limits=replace(QUICK, cpu_time_limit=10))
    assert (status, reason) == (Status.TIMEOUT, "wall_time_limit")
    assert time.monotonic() - started < QUICK.wall_time_limit + 1
    assert result.exit_code is None
    assert list(work_root.iterdir()) == []


def test_cpu_time_limit_ends_the_run_as_timeout(run):
    result, (status, reason) = run("while True: pass",
                                   limits=replace(QUICK, wall_time_limit=10, cpu_time_limit=1))
    assert (status, reason) == (Status.TIMEOUT, "cpu_time_limit")
    assert result.cpu_time_ms >= 1000


def test_sleeping_program_times_out(run):
    _, (status, reason) = run("import time; time.sleep(30)")
    assert (status, reason) == (Status.TIMEOUT, "wall_time_limit")


def test_output_over_the_cap_is_cut_and_flagged(run):
    limits = replace(QUICK, output_limit=1000)
    result, (status, reason) = run("while True: print('y' * 100)", limits=limits)
    assert (status, reason) == (Status.FAILED, "output_limit")
    assert result.truncated and len(result.stdout) == 1000
    assert result.stdout == (b"y" * 100 + b"\n") * 9 + b"y" * 91


def test_stderr_is_capped_separately(run):
    limits = replace(QUICK, output_limit=100)
    result, (status, reason) = run("import sys; print('out'); sys.stderr.write('e' * 5000)",
                                   limits=limits)
    assert reason == "output_limit" and result.truncated
    assert result.stdout == b"out\n" and result.stderr == b"e" * 100


def test_background_child_is_killed_when_the_program_exits(run, work_root):
    source = ("import subprocess, sys\n"
              "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
              "print('parent done')")
    result, (status, _) = run(source)
    assert status is Status.COMPLETED and result.stdout == b"parent done\n"
    assert result.wall_time_ms < 2000  # the child holding the pipes did not keep the run open
    assert sandbox_processes() == []


def test_environment_is_cleared(run, monkeypatch):
    monkeypatch.setenv("LIVECODE_SECRET_TOKEN", "s3cret")
    result, _ = run("import os; print(sorted(os.environ))")
    assert result.stdout == b"['HOME', 'LANG', 'PATH']\n"


def test_each_run_gets_a_fresh_private_directory_that_is_removed(run, work_root):
    source = "import os; print(os.getcwd()); print(os.listdir()); open('left.txt', 'w').write('x')"
    first, _ = run(source)
    second, _ = run(source)
    cwd1, listing1 = first.stdout.decode().splitlines()
    cwd2, listing2 = second.stdout.decode().splitlines()
    assert cwd1 == cwd2 == "/tmp/box"  # a private tmpfs per run, at the same place
    assert listing1 == listing2 == "['main.py']"
    assert list(work_root.iterdir()) == []


def test_symlinks_planted_in_the_work_directory_do_not_lead_cleanup_outside(run, tmp_path):
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep.txt").write_text("precious")
    source = (f"import os; os.symlink({str(victim)!r}, 'link'); "
              f"os.symlink({str(victim / 'keep.txt')!r}, 'file-link'); print('planted')")
    result, (status, _) = run(source)
    assert status is Status.COMPLETED
    assert (victim / "keep.txt").read_text() == "precious"


def test_file_size_limit_stops_a_disk_filler(run, work_root):
    limits = replace(QUICK, max_file_size=1024 * 1024)
    source = "f = open('big', 'wb')\nwhile True: f.write(b'x' * 65536)"
    result, (status, _) = run(source, limits=limits)
    assert status is Status.FAILED
    assert b"File too large" in result.stderr
    assert list(work_root.iterdir()) == []


def test_memory_limit_stops_a_memory_bomb(run):
    limits = replace(QUICK, memory_limit=128 * 1024)
    _, (status, reason) = run("x = bytearray(512 * 1024 * 1024)", limits=limits)
    # A MemoryError under RLIMIT_AS, or an OOM kill in the run's cgroup: the same reason.
    assert (status, reason) == (Status.FAILED, "memory_limit")


def test_protections_are_reported_honestly(settings):
    sandbox = Plugins(settings).create_sandbox("subprocess")
    protections = sandbox.protections()
    assert protections["rlimits"] and protections["clean_environment"]
    root = os.geteuid() == 0
    for name in ("unprivileged_user", "process_limit", "network_isolation", "pid_namespace",
                 "mount_namespace", "private_tmp", "kills_every_descendant"):
        assert protections[name] is root, name  # these machines allow all of them to root


FALLBACK_PROBE = """
import json, os, sys
from livecode.core.config import Settings
from livecode.core.plugins import Plugins
settings = Settings.from_env({**os.environ, "LIVECODE_DATA_DIR": sys.argv[1],
                              "LIVECODE_WORK_ROOT": sys.argv[1]})
plugins = Plugins(settings)
sandbox = plugins.create_sandbox("subprocess")
result = sandbox.run(plugins.languages["python"].build("print('still runs')"), b"",
                     settings.limits)
print(json.dumps({"protections": sandbox.protections(), "stdout": result.stdout.decode()}))
"""


def _in_a_user_namespace(tmp_path, **env):
    """Run the probe as root of a new user namespace: a real host on which setgroups and the
    switch to an unmapped uid are refused, as on a machine where livecode is not root."""
    return subprocess.run(
        ["unshare", "--user", "--map-root-user", sys.executable, "-c", FALLBACK_PROBE,
         str(tmp_path)], capture_output=True, text=True, timeout=60, env={**os.environ, **env})


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to make the restricted host")
def test_where_the_host_refuses_a_protection_the_sandbox_says_which_and_still_runs(tmp_path):
    result = _in_a_user_namespace(tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["stdout"] == "still runs\n"
    assert report["protections"]["unprivileged_user"] is False
    assert report["protections"]["pid_namespace"] is True  # what still works is kept
    assert "running WITHOUT unprivileged_user, process_limit" in result.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to make the restricted host")
def test_strict_mode_refuses_to_run_without_every_protection(tmp_path):
    result = _in_a_user_namespace(tmp_path, LIVECODE_SANDBOX_STRICT="1")
    assert result.returncode != 0
    assert "LIVECODE_SANDBOX_STRICT=1 forbids that" in result.stderr
    assert "unprivileged_user" in result.stderr
