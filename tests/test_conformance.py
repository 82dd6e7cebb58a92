"""The conformance corpus (tests/conformance/): a Python program run in the fork-server's warm
interpreter must be indistinguishable from the same program exec'd as ``python3 -I -B -S main.py``.

Each program runs both ways through the real subprocess sandbox (every protection on): once with
``LIVECODE_SANDBOX_IN_PROCESS=0`` (the jail forked, the program exec'd) and once by default (the
program run in the warm interpreter, which the sandbox counts); stdout, stderr, exit status and
signal must be the same, byte for byte, but for memory addresses, which differ between two fresh
interpreters too. A program's first line may be ``# stdin: <Python string literal>``.
"""

import ast
import re
import time
from pathlib import Path

import pytest

from livecode.core.limits import Limits
from livecode.core.plugins import Plugins
from livecode.plugins.subprocess_sandbox.fork_server import python_program

from conftest import make_settings

pytestmark = pytest.mark.slow

CORPUS = sorted(Path(__file__).with_name("conformance").glob("*.py"))
LIMITS = Limits(wall_time_limit=10.0, cpu_time_limit=5.0)
ADDRESS = re.compile(rb"0x[0-9a-f]+")


class Way:
    def __init__(self, root: Path, **env):
        root.mkdir()
        self.plugins = Plugins(make_settings(root, **env))
        self.runner = self.plugins.languages["python"]
        self.sandbox = self.plugins.create_sandbox("subprocess")

    def run(self, source: str, stdin: bytes = b""):
        """The result, and whether the program ran in the warm interpreter."""
        before = self.sandbox.runs_in_process
        result = self.sandbox.run(self.runner.build(source), stdin, LIMITS)
        return result, self.sandbox.runs_in_process == before + 1


@pytest.fixture(scope="module")
def ways(tmp_path_factory):
    root = tmp_path_factory.mktemp("conformance")
    exec_way, warm_way = Way(root / "exec", LIVECODE_SANDBOX_IN_PROCESS="0"), Way(root / "warm")
    deadline = time.monotonic() + 30
    while warm_way.sandbox.start_path() != "in-process":  # the first runs start the zygote
        assert time.monotonic() < deadline, "the warm interpreter did not start"
        warm_way.run("pass")
        time.sleep(0.1)
    yield exec_way, warm_way
    exec_way.sandbox.close()
    warm_way.sandbox.close()


def observed(result):
    return (result.exit_code, result.signal, ADDRESS.sub(b"0x?", result.stdout),
            ADDRESS.sub(b"0x?", result.stderr))


def test_the_corpus_is_large_enough():
    assert len(CORPUS) >= 40


@pytest.mark.parametrize("program", CORPUS, ids=[path.stem for path in CORPUS])
def test_a_program_cannot_tell_the_warm_interpreter_from_a_fresh_one(ways, program):
    exec_way, warm_way = ways
    source = program.read_text()
    first = source.splitlines()[0]
    stdin = (ast.literal_eval(first.split(":", 1)[1].strip()).encode()
             if first.startswith("# stdin:") else b"")
    fresh, exec_in_process = exec_way.run(source, stdin)
    warm, in_process = warm_way.run(source, stdin)
    assert not exec_in_process
    assert in_process, "the program was exec'd, so this compared nothing"
    assert observed(warm) == observed(fresh)


def test_each_run_draws_fresh_randomness(ways):
    _, warm_way = ways
    source = ("import os, random, tempfile, uuid\n"
              "print(random.random(), tempfile.mktemp(), os.urandom(8).hex(), uuid.uuid4())\n")
    outputs = set()
    for _ in range(3):
        result, in_process = warm_way.run(source)
        assert in_process and result.exit_code == 0, result
        outputs.add(result.stdout)
    assert len(outputs) == 3


def test_runs_forked_from_one_zygote_share_its_hash_seed_as_documented(ways):
    """The accepted difference (README, "Fast path"): a fresh interpreter draws a hash seed per
    run, the forks of one zygote share the zygote's, so ``hash()`` of a string repeats across
    runs (never within one run is anything different)."""
    _, warm_way = ways
    hashes = {warm_way.run("print(hash('livecode'))")[0].stdout for _ in range(2)}
    assert len(hashes) == 1


@pytest.mark.parametrize("source", [
    "import sys\nprint(sys._getframe().f_back)\n",
    "import traceback\ntraceback.print_stack()\n",
    "import inspect\nprint(len(inspect.stack()))\n",
    "import gc\nprint(len(gc.get_objects()) > 0)\n",
    "print(open('/proc/self/maps').read().count('_ctypes'))\n",
    "import warnings\nwarnings.warn('up', stacklevel=3)\n",
    # an audit hook sees the events of the exit (gc.get_objects, the teardown's own)
    "import sys\nsys.addaudithook(lambda event, args: print(event))\nprint('hooked')\n",
])
def test_a_program_that_could_tell_is_exec_d_and_still_sees_a_fresh_interpreter(ways, source):
    exec_way, warm_way = ways
    fresh, _ = exec_way.run(source)
    warm, in_process = warm_way.run(source)
    assert not in_process
    assert observed(warm) == observed(fresh)


def test_only_plain_isolated_python_programs_are_candidates():
    files = {"main.py": b"print(1)"}
    assert python_program(["/usr/bin/python3", "-I", "-B", "-S", "main.py"], files) == (
        "/usr/bin/python3", ("-I", "-B", "-S"))
    assert python_program(["/usr/bin/python3", "-B", "-S", "main.py"], files) is None  # no -I
    assert python_program(["/usr/bin/python3", "-I", "main.py", "arg"], files) is None
    assert python_program(["/usr/bin/python3", "-I", "-X", "dev", "main.py"], files) is None
    assert python_program(["/usr/bin/node", "-I", "main.py"], files) is None
    assert python_program(["/usr/bin/python3", "-I", "other.py"], files) is None


def test_turned_off_every_program_is_exec_d(ways):
    exec_way, _ = ways
    for _ in range(3):
        assert exec_way.run("print('hi')")[0].stdout == b"hi\n"
        time.sleep(0.1)
    assert exec_way.sandbox.start_path() == "fork-server"
    assert exec_way.sandbox.runs_in_process == 0
