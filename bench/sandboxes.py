"""The per-run cost of each sandbox for a hello-world program, against bare spawns, in one run.

    .venv/bin/python bench/sandboxes.py [--n 20] [--no-docker] [--compare /work/main]

Measures, as medians over ``--n`` interleaved rounds: a bare spawn of the interpreter the runner
uses with its flags (``python3 -I -B -S -c``), the subprocess sandbox's ``run`` (its jails forked
by the warm fork-server, the program run in the warm interpreter), the same with the fork-server off (each jail spawned, the fallback), and
that ``run`` with its per-run cgroup turned off (the same jail, limits per process only), for what
the cgroup costs; a bare ``docker run --rm --network none IMAGE python3 -c 'print(1)'`` of the
sandbox image, and the docker sandbox's ``run`` twice: taking a container from its warm pool, and
with the pool off (``cold``: a container made for the run). Before each action the bench waits,
untimed, until the engine has finished the previous one's background work (the pool refilled,
used containers removed), so that neither the refill nor a removal lands in another action's
time. Prints one JSON line with the figures and each sandbox's ratio to its bare baseline. The
docker figures are left out when no engine answers; the cgroup ones where the host has no usable
cgroup.

``--compare CHECKOUT`` also times the subprocess sandbox of another checkout of livecode (its own
``.venv``), in the same rounds: a helper process there runs one hello world per request, so the
old and the new jail are measured side by side on the same load.
"""

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from hello_world import HELLO, hello_parts, medians_ms  # bench/ is the script's directory

from livecode.core.config import Settings
from livecode.core.plugins import Plugins

OTHER_CHECKOUT = """
import sys, tempfile
from livecode.core.config import Settings
from livecode.core.plugins import Plugins
settings = Settings.from_env({"LIVECODE_DATA_DIR": tempfile.mkdtemp()})
plugins = Plugins(settings)
sandbox = plugins.create_sandbox("subprocess")
program = plugins.languages["python"].build(sys.argv[1])
for _ in sys.stdin:
    result = sandbox.run(program, b"", settings.limits)
    print(result.stdout == b"Hello World\\n", flush=True)
"""


def docker_settled(sandboxes, pool_size: int, timeout: float = 60):
    """A ``settle`` that waits until each docker sandbox's engine work is done: ``pool_size``
    ready containers waiting for the pooled one, none for the other, nothing else of theirs."""
    from livecode.plugins.docker_sandbox.container import IDLE_PREFIX

    def settle() -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            listed = [(sandbox, sandbox.containers.listed(sandbox.containers.label))
                      for sandbox in sandboxes]
            if all(len(containers) == (pool_size if sandbox.pool else 0) and all(
                    c["Names"][0].lstrip("/").startswith(IDLE_PREFIX) and c["State"] == "running"
                    for c in containers) for sandbox, containers in listed):
                return
            time.sleep(0.02)

    return settle


def warm_up_fork_server(sandbox, program, settings) -> None:
    """The first run starts the fork-servers (and spawns its own jail): wait until they serve
    (``in-process``: the warm Python interpreter is up too)."""
    deadline = time.monotonic() + 30
    while sandbox.start_path() not in ("fork-server", "in-process"):
        sandbox.run(program, b"", settings.limits)
        if time.monotonic() > deadline:
            sys.exit("the fork-server did not start")
        time.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=20)
    parser.add_argument("--no-docker", action="store_true")
    parser.add_argument("--compare", help="another checkout whose subprocess sandbox to time too")
    args = parser.parse_args()
    n = args.n
    with tempfile.TemporaryDirectory() as tmp:
        settings, plugins, runner, program = hello_parts(tmp)
        subprocess_sandbox = plugins.create_sandbox("subprocess")
        warm_up_fork_server(subprocess_sandbox, program, settings)
        spawning = plugins.create_sandbox("subprocess")
        spawning.fork_server = None  # LIVECODE_SANDBOX_FORK_SERVER=0
        actions = {
            "bare_python_ms": lambda: subprocess.run(
                [runner.interpreter, *runner.flags, "-c", HELLO], capture_output=True),
            "subprocess_sandbox_ms": lambda: subprocess_sandbox.run(
                program, b"", settings.limits),
            "subprocess_sandbox_spawning_ms": lambda: spawning.run(
                program, b"", settings.limits),
        }
        if subprocess_sandbox.cgroups:
            without_cgroups = plugins.create_sandbox("subprocess")
            without_cgroups.cgroups = None
            actions["subprocess_sandbox_without_cgroups_ms"] = lambda: without_cgroups.run(
                program, b"", settings.limits)
        if args.compare:
            other = subprocess.Popen(
                [str(Path(args.compare, ".venv/bin/python")), "-c", OTHER_CHECKOUT, HELLO],
                cwd=args.compare, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

            def other_run():
                other.stdin.write("run\n")
                other.stdin.flush()
                assert other.stdout.readline() == "True\n"

            actions["compared_subprocess_sandbox_ms"] = other_run
        settle = None
        try:
            if args.no_docker:
                raise RuntimeError("--no-docker")
            pooled = plugins.create_sandbox("docker")
            cold = Plugins(Settings.from_env(
                {**settings.environ, "LIVECODE_DOCKER_POOL_SIZE": "0"})).create_sandbox("docker")
            image = pooled.images["python"]
            docker = shutil.which("docker")
            actions["bare_docker_run_ms"] = lambda: subprocess.run(
                [docker, "run", "--rm", "--network", "none", image, "python3", "-c",
                 "print(1)"], capture_output=True, check=True)
            actions["docker_sandbox_pool_ms"] = lambda: pooled.run(program, b"", settings.limits)
            actions["docker_sandbox_cold_ms"] = lambda: cold.run(program, b"", settings.limits)
            settle = docker_settled([pooled, cold], pooled.pool.size)
        except Exception as exc:  # no engine: report the rest
            print(f"docker left out: {exc}", file=sys.stderr)
        figures = medians_ms(actions, n, settle)
    ratios = {
        "subprocess_sandbox_over_bare_python": round(
            figures["subprocess_sandbox_ms"] / figures["bare_python_ms"], 3),
        "subprocess_sandbox_spawning_over_bare_python": round(
            figures["subprocess_sandbox_spawning_ms"] / figures["bare_python_ms"], 3),
        "subprocess_sandbox_over_spawning": round(
            figures["subprocess_sandbox_ms"] / figures["subprocess_sandbox_spawning_ms"], 3),
    }
    if "subprocess_sandbox_without_cgroups_ms" in figures:
        ratios["subprocess_sandbox_over_without_cgroups"] = round(
            figures["subprocess_sandbox_ms"] / figures["subprocess_sandbox_without_cgroups_ms"], 3)
    if args.compare:
        ratios["compared_subprocess_sandbox_over_bare_python"] = round(
            figures["compared_subprocess_sandbox_ms"] / figures["bare_python_ms"], 3)
    if "docker_sandbox_pool_ms" in figures:
        bare = figures["bare_docker_run_ms"]
        ratios["docker_pool_over_bare_docker_run"] = round(
            figures["docker_sandbox_pool_ms"] / bare, 3)
        ratios["docker_cold_over_bare_docker_run"] = round(
            figures["docker_sandbox_cold_ms"] / bare, 3)
        ratios["docker_pool_over_cold"] = round(
            figures["docker_sandbox_pool_ms"] / figures["docker_sandbox_cold_ms"], 3)
    print(json.dumps({"n": n, **figures, **ratios}))


if __name__ == "__main__":
    main()
