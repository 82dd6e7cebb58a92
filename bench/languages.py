"""What a hello-world run costs in each language, against its bare toolchain measured in the same run.

    .venv/bin/python bench/languages.py [--n 10]

For each language, as medians over ``--n`` interleaved rounds: the bare toolchain (the runner's
own compile command, if any, then its run command, spawned directly in a temporary directory
with no sandbox but the same clean environment a run gets: ``node main.js``, ``esbuild`` then
``node``, ``gcc`` then ``./main``, ``bash main.sh``), the same through the subprocess sandbox (``core.compile_and_run``: one
sandbox run per step), and the HTTP round trip through ``livecode serve`` (submit, poll every
millisecond until it ends). Prints one JSON line per language with each figure and its ratio to
the bare toolchain; only the ratios compare between runs.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hello_world import medians_ms  # noqa: E402

from livecode.client import ApiClient  # noqa: E402
from livecode.core.compile_and_run import run_program  # noqa: E402
from livecode.core.config import Settings  # noqa: E402
from livecode.core.execution_states import Status  # noqa: E402
from livecode.core.plugins import Plugins  # noqa: E402
from livecode.testing import LivecodeProcess  # noqa: E402

# What a run's environment holds (and no more: NODE_EXTRA_CA_CERTS alone costs Node 100 ms).
CLEAN_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}
HELLO = {
    "python": 'print("Hello World")',
    "javascript": 'console.log("Hello World")',
    "typescript": 'const greeting: string = "Hello World";\nconsole.log(greeting)',
    "c": '#include <stdio.h>\nint main(void) { puts("Hello World"); return 0; }',
    "cpp": '#include <iostream>\nint main() { std::cout << "Hello World" << std::endl; }',
    "bash": 'echo "Hello World"',
}


def bare(runner, source: str, limits, workdir: str):
    """The runner's own commands, spawned directly: compile (if any), then run."""
    def action():
        with tempfile.TemporaryDirectory(dir=workdir) as box:
            step = runner.compile(source)
            artefact = None
            if step is not None:
                for name, content in step.files.items():
                    Path(box, name).write_bytes(content)
                subprocess.run(list(step.argv), cwd=box, check=True, capture_output=True,
                               env={**CLEAN_ENV, "HOME": box})
                artefact = {name: Path(box, name).read_bytes() for name in step.outputs}
            program = runner.build(source, artefact, limits)
            for name, content in program.files.items():
                Path(box, name).write_bytes(content)
                if name in program.executable:
                    os.chmod(Path(box, name), 0o755)
            out = subprocess.run(list(program.argv), cwd=box, capture_output=True, check=True,
                                 env={**CLEAN_ENV, "HOME": box})
            assert out.stdout == b"Hello World\n", out
    return action


def sandboxed(runner, sandbox, source: str, settings):
    def action():
        status, result = run_program(runner, sandbox, source, "", settings.limits,
                                     settings.compile_limits)
        assert status is Status.COMPLETED and result["stdout"] == "Hello World\n", result
    return action


def round_trip(http: ApiClient, language: str, source: str):
    def action():
        job = http.post("/submit-code", {"code": source, "language": language})
        done = http.wait(job["jobId"])
        assert done["stdout"] == "Hello World\n", done
    return action


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=10)
    n = parser.parse_args().n
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.from_env({"LIVECODE_DATA_DIR": tmp})
        plugins = Plugins(settings)
        sandbox = plugins.create_sandbox("subprocess")
        server = LivecodeProcess(["serve", "--port", "0"],
                                 {"LIVECODE_DATA_DIR": tmp, "LIVECODE_CONCURRENCY": "2"},
                                 Path(tmp, "serve.log"))
        try:
            http = ApiClient(server.url(), timeout=30)
            actions = {}
            for language, source in HELLO.items():
                runner = plugins.languages[language]
                actions[(language, "bare_toolchain_ms")] = bare(runner, source, settings.limits,
                                                                tmp)
                actions[(language, "sandbox_ms")] = sandboxed(runner, sandbox, source, settings)
                actions[(language, "http_round_trip_ms")] = round_trip(http, language, source)
            figures = medians_ms(actions, n)
        finally:
            server.stop()
            sandbox.close()
    for language in HELLO:
        row = {name: figures[(lang, name)] for lang, name in figures if lang == language}
        base = row["bare_toolchain_ms"]
        print(json.dumps({"language": language, "version": plugins.languages[language].version(),
                          **row, **{f"{name.removesuffix('_ms')}_ratio": round(value / base, 2)
                                    for name, value in row.items() if name != "bare_toolchain_ms"},
                          "n": n}))


if __name__ == "__main__":
    main()
