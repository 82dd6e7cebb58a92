"""Lua end to end through a real ``livecode serve`` on each sandbox (see conftest), tested the way
any third-party runner can be: livecode's conformance checks (``livecode.testing``, a pytest
plugin livecode installs) and a few of Lua's own."""

import json
import subprocess
import sys

import pytest

from livecode.testing import LanguageConformance

pytestmark = pytest.mark.slow

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

