"""Programs of several files in every language, end to end through a real ``livecode serve`` on
each sandbox (the server of :mod:`test_languages`): the entry uses a function from another file
in a subdirectory, reads a data file of the program, and prints its command-line arguments; C
and C++ compile every source file, with the run's own compiler options; stderr merged into
stdout keeps the order written."""

import pytest

from test_languages import server  # noqa: F401 (a fixture)

pytestmark = pytest.mark.slow

DATA = {"name": "data/input.txt", "content": "DATA\n"}
PROGRAMS = {
    "python": ("main.py", [
        {"name": "main.py", "content": "import sys\nfrom lib.greet import greet\n"
                                       "print(greet(sys.argv[1:]))\n"
                                       "print(open('data/input.txt').read(), end='')\n"},
        {"name": "lib/greet.py", "content": "def greet(args):\n"
                                            "    return 'hi ' + ' '.join(args)\n"}]),
    "javascript": ("main.js", [
        {"name": "main.js", "content": 'const { greet } = require("./lib/greet");\n'
                                       "console.log(greet(process.argv.slice(2)));\n"
                                       'process.stdout.write(require("fs").readFileSync('
                                       '"data/input.txt", "utf8"));\n'},
        {"name": "lib/greet.js", "content": 'exports.greet = (args) => "hi " + args.join(" ");\n'}
    ]),
    "typescript": ("main.ts", [
        {"name": "main.ts", "content": 'import { readFileSync } from "fs";\n'
                                       'import { greet } from "./lib/greet";\n'
                                       "console.log(greet(process.argv.slice(2)));\n"
                                       'process.stdout.write(readFileSync("data/input.txt", '
                                       '"utf8"));\n'},
        {"name": "lib/greet.ts", "content": "export function greet(args: string[]): string {\n"
                                            '  return "hi " + args.join(" ");\n}\n'}]),
    "c": ("main.c", [
        {"name": "main.c", "content": '#include <stdio.h>\n#include "lib/greet.h"\n'
                                      "int main(int argc, char **argv) {\n"
                                      "  greet(argc - 1, argv + 1);\n"
                                      '  FILE *f = fopen("data/input.txt", "r"); char b[16];\n'
                                      "  fputs(fgets(b, sizeof b, f), stdout); return 0; }\n"},
        {"name": "lib/greet.h", "content": "void greet(int n, char **args);\n"},
        {"name": "lib/greet.c", "content": "#include <stdio.h>\n"
                                           "void greet(int n, char **args) {\n"
                                           '  printf("hi");\n'
                                           '  for (int i = 0; i < n; i++) printf(" %s", args[i]);\n'
                                           '  printf("\\n"); }\n'}]),
    "cpp": ("main.cpp", [
        {"name": "main.cpp", "content": '#include <fstream>\n#include <iostream>\n'
                                        '#include "lib/greet.hpp"\n'
                                        "int main(int argc, char **argv) {\n"
                                        "  std::cout << greet(argc - 1, argv + 1) << '\\n';\n"
                                        '  std::ifstream f("data/input.txt");\n'
                                        "  std::cout << f.rdbuf(); }\n"},
        {"name": "lib/greet.hpp", "content": "#include <string>\n"
                                             "std::string greet(int n, char **args);\n"},
        {"name": "lib/greet.cpp", "content": '#include "greet.hpp"\n'
                                             "std::string greet(int n, char **args) {\n"
                                             '  std::string s = "hi";\n'
                                             '  for (int i = 0; i < n; i++) s += std::string(" ") '
                                             "+ args[i];\n  return s; }\n"}]),
    "bash": ("main.sh", [
        {"name": "main.sh", "content": ". ./lib/greet.sh\ngreet \"$@\"\ncat data/input.txt\n"},
        {"name": "lib/greet.sh", "content": 'greet() { echo "hi $*"; }\n'}]),
}


def submit(server, **body) -> dict:
    status, job = server.http.call("POST", "/submit-code", body)
    assert status == 202, job
    return server.http.wait(job["jobId"], timeout=90)


@pytest.mark.parametrize("language", sorted(PROGRAMS))
def test_a_program_of_several_files_runs_with_its_arguments(server, language):
    entry, files = PROGRAMS[language]
    done = submit(server, language=language, files=[*files, DATA], entry=entry,
                  args=["a", "b c"])
    assert (done["status"], done["stdout"]) == ("COMPLETED", "hi a b c\nDATA\n"), done


@pytest.mark.parametrize("language", ["c", "cpp"])
def test_the_run_s_compiler_options_reach_the_compiler(server, language):
    source = ("#include <stdio.h>\nint main(void) { printf(\"%d\\n\", TIMES * 7); "
              "return 0; }\n")
    done = submit(server, language=language, code=source,
                  compiler_options=["-DTIMES=6", "-Wall", "-O0"])
    assert (done["status"], done["stdout"]) == ("COMPLETED", "42\n"), done
    warned = submit(server, language=language, code=source.replace("TIMES * 7", "x"),
                    compiler_options=["-Dx=1", "-Werror=unused-variable"])
    assert warned["status"] == "COMPLETED"
    broken = submit(server, language=language, code="int main(void) { int unused; return 0; }",
                    compiler_options=["-Wall", "-Werror"])
    assert (broken["status"], broken["reason"]) == ("FAILED", "compilation_error"), broken
    assert "unused" in broken["compile_output"]


@pytest.mark.parametrize("language, source", [
    ("python", "import sys\nprint('one', flush=True)\nprint('two', file=sys.stderr, flush=True)\n"
               "print('three', flush=True)"),
    ("bash", "echo one\necho two >&2\necho three"),
])
def test_stderr_redirected_to_stdout_in_the_order_written(server, language, source):
    done = submit(server, language=language, code=source, redirect_stderr_to_stdout=True)
    assert (done["stdout"], done["stderr"]) == ("one\ntwo\nthree\n", ""), done
