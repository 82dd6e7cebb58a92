"""Lua end to end through a real ``livecode serve`` on each sandbox, tested the way any
third-party runner can be: livecode's conformance checks (``livecode.testing``, a pytest plugin
livecode installs) and a few of Lua's own.

livecode.testing's ``livecode_server`` starts a serve on the one ``livecode_sandbox`` names. On
Docker the tests need an engine and the image of this package's recipe (``docker-images/lua``);
they skip saying why when either is missing, and fail instead in CI, which builds the image.
The fixture lives here rather than in a conftest.py: livecode's own suite collects these tests
in the same run, and two rootdir conftest modules would shadow each other's names."""

import json
import os
import subprocess
import sys

import pytest

from livecode.testing import LanguageConformance
from livecode_lua import IMAGE

IN_CI = os.environ.get("CI", "") not in ("", "0", "false")

pytestmark = pytest.mark.slow



def docker_problem() -> str | None:
    try:
        import docker

        docker.from_env(timeout=10).images.get(IMAGE)
    except Exception as exc:
        return (f"no Docker engine with the image {IMAGE} ({exc}); livecode's "
                "scripts/build-docker-image examples/livecode-lua/docker-images builds it")
    return None


@pytest.fixture(scope="module", params=["subprocess", "docker"])
def livecode_sandbox(request):
    if request.param == "docker" and (problem := docker_problem()):
        if IN_CI:
            pytest.fail(f"CI must run the Lua tests on Docker, but {problem}")
        pytest.skip(problem)
    return request.param


ADD = "local a, b = io.read('n', 'n')\nprint(a + b)"


class TestLuaConformance(LanguageConformance):
    language = "lua"
    hello_world = 'print("Hello World")'
    runtime_error = ('error("boom")', "main.lua:1: boom")
    sum_stdin = ("local s = 0\nfor n in io.read('a'):gmatch('%S+') do s = s + tonumber(n) end\n"
                 "print(s)")
    endless_loop = "while true do end"
    compile_error = ('print("Hello World"', "main.lua:1: ')' expected")
    several_files = ("app.lua", [
        {"name": "app.lua", "content": 'print(require("lib.greet").hello("World"))'},
        {"name": "lib/greet.lua", "content": "return { hello = function(s) "
                                             "return 'Hello ' .. s end }"}])
    print_args = "for _, a in ipairs(arg) do print(a) end"


def test_the_plugin_is_listed_as_this_package_s(livecode_server):
    out = subprocess.run([sys.executable, "-m", "livecode.cli", "plugins", "--json"],
                         capture_output=True, text=True, timeout=60, check=True)
    rows = {row["name"]: row for row in json.loads(out.stdout)}
    assert rows["lua"]["package"] == "livecode-lua" and rows["lua"]["status"] == "loaded"
    assert rows["lua"]["hooks"] == ["livecode_register_languages"]


def test_compiled_once_and_run_for_each_test_case(livecode_server):
    status, job = livecode_server.http.call("POST", "/submit-code", {
        "code": ADD, "language": "lua",
        "tests": [{"stdin": "1 2", "expected_output": "3\n"}, {"stdin": "2 2",
                                                               "expected_output": "5\n"}]})
    assert status == 202, job
    result = livecode_server.http.wait(job["jobId"], timeout=90)
    assert [(case["stdout"], case["verdict"]) for case in result["test_results"]] == [
        ("3\n", "accepted"), ("4\n", "wrong_answer")], result


def test_livecode_run_picks_lua_by_the_file_s_extension(livecode_server, tmp_path):
    program = tmp_path / "hello.lua"
    program.write_text('io.write("from a .lua file\\n")')
    out = subprocess.run([sys.executable, "-m", "livecode.cli", "run", str(program),
                          "--url", livecode_server.http.url],
                         capture_output=True, text=True, timeout=120)
    assert (out.returncode, out.stdout) == (0, "from a .lua file\n"), out.stderr


def test_a_hostile_lua_program_is_held_like_any_other(livecode_server):
    """Lua's own ways out (a shell, files outside its box, a process left behind) get nowhere."""
    source = ("for _, path in ipairs({'/etc/lua-pwned', '/usr/lib/lua-pwned'}) do\n"
              "  print(path, io.open(path, 'w') and 'WROTE' or 'denied')\n"
              "end\n"
              "os.execute('sleep 120 &')\n"
              "print('done')")
    result = livecode_server.run(source, language="lua")
    assert result["status"] == "COMPLETED" and "WROTE" not in result["stdout"], result
    assert result["stdout"].endswith("done\n"), result
    livecode_server.finish('print("Hello World")', language="lua")

