"""What a hello-world run costs in each language, on each sandbox, against its bare toolchain
measured in the same run.

    .venv/bin/python bench/languages.py [--n 10] [--no-docker]

For each language (the built-in ones, and Lua when the example package is installed), as medians
over ``--n`` interleaved rounds: the bare toolchain (the runner's own compile command, if any,
then its run command, spawned directly in a temporary directory with no sandbox but the same
clean environment a run gets: ``node main.js``, ``esbuild`` then ``node``, ``gcc`` then
``./main``, ``bash main.sh``), the same through the subprocess sandbox and through the docker
sandbox with its warm pool (``core.compile_and_run``: one sandbox run per step), a bare
``docker run --rm --network none`` of each step in the language's image (the docker sandbox's
own baseline), and the HTTP round trip through a ``livecode serve`` on each sandbox (submit,
poll every millisecond until it ends). Before each action the bench waits, untimed, until the
engine has finished refilling the warm pools and removing used containers, so that this work
does not land in another action's time. Prints one JSON line per language with each figure and
its ratio to the bare toolchain (and the docker sandbox's to the bare ``docker run``); only the
ratios compare between runs. The docker figures are left out when no engine answers.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hello_world import medians_ms  # noqa: E402

from livecode.client import ApiClient  # noqa: E402
from livecode.core.compile_and_run import run_program  # noqa: E402
from livecode.core.config import Settings  # noqa: E402
from livecode.core.execution_states import Status  # noqa: E402
from livecode.core.plugins import Plugins  # noqa: E402
from livecode.testing import LivecodeProcess, descendants  # noqa: E402

# What a run's environment holds (and no more: NODE_EXTRA_CA_CERTS alone costs Node 100 ms).
CLEAN_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}
HELLO = {
    "python": 'print("Hello World")',
    "javascript": 'console.log("Hello World")',
    "typescript": 'const greeting: string = "Hello World";\nconsole.log(greeting)',
    "c": '#include <stdio.h>\nint main(void) { puts("Hello World"); return 0; }',
    "cpp": '#include <iostream>\nint main() { std::cout << "Hello World" << std::endl; }',
    "bash": 'echo "Hello World"',
    "lua": 'print("Hello World")',  # the example package, when it is installed
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


def bare_docker(runner, source: str, limits, workdir: str, image: str):
    """Each of the runner's steps in a bare ``docker run`` of the language's image, the box a
    host directory mounted into it."""
    docker = shutil.which("docker")

    def in_container(argv, box):
        command = [os.path.basename(argv[0]) if os.path.isabs(argv[0]) else argv[0], *argv[1:]]
        return subprocess.run([docker, "run", "--rm", "--network", "none", "-v", f"{box}:/box",
                               "-w", "/box", image, *command],
                              check=True, capture_output=True)

    def action():
        with tempfile.TemporaryDirectory(dir=workdir) as box:
            os.chmod(box, 0o777)
            step = runner.compile(source)
            artefact = None
            if step is not None:
                for name, content in step.files.items():
                    Path(box, name).write_bytes(content)
                in_container(step.argv, box)
                artefact = {name: Path(box, name).read_bytes() for name in step.outputs}
                for name in step.outputs:
                    os.unlink(Path(box, name))
            program = runner.build(source, artefact, limits)
            for name, content in program.files.items():
                Path(box, name).write_bytes(content)
                if name in program.executable:
                    os.chmod(Path(box, name), 0o755)
            out = in_container(program.argv, box)
            assert out.stdout == b"Hello World\n", out
    return action


def round_trip(http: ApiClient, language: str, source: str):
    def action():
        job = http.post("/submit-code", {"code": source, "language": language})
        done = http.wait(job["jobId"])
        assert done["stdout"] == "Hello World\n", done
    return action


def docker_settled(sandbox, server_pid: int, timeout: float = 60):
    """A ``settle`` that waits until the engine's work for the docker sandbox in this process
    and for the docker ``serve`` is done: no container that ran a program is left, and each warm
    pool holds its full ``size`` for every set of limits it serves (the serve's, read from the
    engine, holds a whole multiple of it)."""
    from livecode.plugins.docker_sandbox.container import IDLE_PREFIX, OWNER_LABEL

    size = sandbox.pool.size

    def settle() -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            serving = {server_pid} | descendants(server_pid)
            mine, served = [], []
            for container in sandbox.containers.listed():
                pid = container["Labels"].get(OWNER_LABEL, ":").rpartition(":")[2]
                owner = mine if container["Labels"].get("livecode.sandbox") == \
                    sandbox.containers.instance else served if pid.isdigit() and \
                    int(pid) in serving else None
                if owner is not None:
                    owner.append(container)
            idle = all(c["Names"][0].lstrip("/").startswith(IDLE_PREFIX)
                       and c["State"] == "running" for c in mine + served)
            if idle and len(mine) == len(sandbox.pool.ready) * size and len(served) % size == 0:
                return
            time.sleep(0.02)

    return settle


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=10)
    parser.add_argument("--no-docker", action="store_true")
    args = parser.parse_args()
    n = args.n
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.from_env({"LIVECODE_DATA_DIR": tmp})
        plugins = Plugins(settings)
        languages = [language for language in HELLO if language in plugins.languages]
        sandbox = plugins.create_sandbox("subprocess")
        servers, docker_sandbox, settle = [], None, None
        try:
            servers.append(LivecodeProcess(
                ["serve", "--port", "0"], {"LIVECODE_DATA_DIR": tmp, "LIVECODE_CONCURRENCY": "2"},
                Path(tmp, "serve.log")))
            http = {"subprocess": ApiClient(servers[0].url(), timeout=30)}
            if not args.no_docker:
                try:
                    docker_sandbox = plugins.create_sandbox("docker")
                    Path(tmp, "docker").mkdir()
                    servers.append(LivecodeProcess(
                        ["serve", "--port", "0"],
                        {"LIVECODE_DATA_DIR": str(Path(tmp, "docker")),
                         "LIVECODE_CONCURRENCY": "2", "LIVECODE_SANDBOX": "docker"},
                        Path(tmp, "serve-docker.log")))
                    http["docker"] = ApiClient(servers[1].url(timeout=60), timeout=30)
                    settle = docker_settled(docker_sandbox, servers[1].proc.pid)
                except Exception as exc:  # no engine: report the rest
                    print(f"docker left out: {exc}", file=sys.stderr)
            actions = {}
            for language in languages:
                runner, source = plugins.languages[language], HELLO[language]
                actions[(language, "bare_toolchain_ms")] = bare(runner, source, settings.limits,
                                                                tmp)
                actions[(language, "subprocess_sandbox_ms")] = sandboxed(runner, sandbox, source,
                                                                         settings)
                actions[(language, "subprocess_http_round_trip_ms")] = round_trip(
                    http["subprocess"], language, source)
                if "docker" in http:
                    image = docker_sandbox.images.get(language) or runner.build(
                        source, {name: b"" for name in getattr(runner.compile(source),
                                                                "outputs", ())}).image
                    actions[(language, "bare_docker_run_ms")] = bare_docker(
                        runner, source, settings.limits, tmp, image)
                    actions[(language, "docker_sandbox_ms")] = sandboxed(
                        runner, docker_sandbox, source, settings)
                    actions[(language, "docker_http_round_trip_ms")] = round_trip(
                        http["docker"], language, source)
            figures = medians_ms(actions, n, settle)
        finally:
            for server in servers:
                server.stop()
            sandbox.close()
            if docker_sandbox is not None:
                docker_sandbox.close()
    for language in languages:
        row = {name: figures[(lang, name)] for lang, name in figures if lang == language}
        base = row["bare_toolchain_ms"]
        ratios = {f"{name.removesuffix('_ms')}_ratio": round(value / base, 2)
                  for name, value in row.items() if name != "bare_toolchain_ms"}
        if "docker_sandbox_ms" in row:
            ratios["docker_sandbox_over_bare_docker_run"] = round(
                row["docker_sandbox_ms"] / row["bare_docker_run_ms"], 2)
        print(json.dumps({"language": language, "version": plugins.languages[language].version(),
                          **row, **ratios, "n": n}))


if __name__ == "__main__":
    main()
