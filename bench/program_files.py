"""What a program of many files costs against the same program as one text, through the
subprocess sandbox, measured in the same run.

    .venv/bin/python bench/program_files.py [--n 10] [--files 32]

For Python (each module imported by the entry) and C (each file compiled and linked): the
one-text program, and the same output from ``--files`` files (the entry and ``--files - 1``
modules of one function each), both through ``core.compile_and_run`` as the worker runs them.
Prints one JSON line per language with the medians in milliseconds and their ratio; only the
ratios compare between runs.
"""

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hello_world import medians_ms  # noqa: E402

from livecode.core.compile_and_run import run_program  # noqa: E402
from livecode.core.config import Settings  # noqa: E402
from livecode.core.contracts import Source  # noqa: E402
from livecode.core.execution_states import Status  # noqa: E402
from livecode.core.plugins import Plugins  # noqa: E402


def python_program(count: int) -> tuple[str, Source]:
    one = "".join(f"def f{i}():\n    return {i}\n" for i in range(count - 1))
    one += f"print(sum([{', '.join(f'f{i}()' for i in range(count - 1))}]))\n"
    files = {f"m{i}.py": f"def f():\n    return {i}\n".encode() for i in range(count - 1)}
    entry = "".join(f"import m{i}\n" for i in range(count - 1))
    entry += f"print(sum(m.f() for m in [{', '.join(f'm{i}' for i in range(count - 1))}]))\n"
    return one, Source({"main.py": entry.encode(), **files}, "main.py")


def c_program(count: int) -> tuple[str, Source]:
    calls = " + ".join(f"f{i}()" for i in range(count - 1))
    one = "#include <stdio.h>\n" + "".join(f"int f{i}(void) {{ return {i}; }}\n"
                                           for i in range(count - 1))
    one += f'int main(void) {{ printf("%d\\n", {calls}); return 0; }}\n'
    files = {f"f{i}.c": f"int f{i}(void) {{ return {i}; }}\n".encode() for i in range(count - 1)}
    entry = "#include <stdio.h>\n" + "".join(f"int f{i}(void);\n" for i in range(count - 1))
    entry += f'int main(void) {{ printf("%d\\n", {calls}); return 0; }}\n'
    return one, Source({"main.c": entry.encode(), **files}, "main.c")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=10)
    parser.add_argument("--files", type=int, default=32)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir:
        settings = Settings.from_env({"LIVECODE_DATA_DIR": data_dir})
        plugins = Plugins(settings)
        sandbox = plugins.create_sandbox("subprocess")
        expected = f"{sum(range(args.files - 1))}\n"
        try:
            for language, make in (("python", python_program), ("c", c_program)):
                runner = plugins.languages[language]
                one, many = make(args.files)

                def run(source, runner=runner):
                    def action():
                        status, result = run_program(runner, sandbox, source, "",
                                                     settings.limits, settings.compile_limits)
                        assert status is Status.COMPLETED and result["stdout"] == expected, result
                    return action

                medians = medians_ms({"one_text_ms": run(one), "files_ms": run(many)}, args.n)
                print(json.dumps({"language": language, "files": args.files, **medians,
                                  "ratio": round(medians["files_ms"] / medians["one_text_ms"],
                                                 2)}))
        finally:
            sandbox.close()


if __name__ == "__main__":
    main()
