"""Where a hello-world run's milliseconds go inside the subprocess sandbox, per start path.

    .venv/bin/python bench/run_breakdown.py [--n 30]

Times each stage of ``SubprocessSandbox.run`` (in this process, every protection on) by wrapping
the real methods with a clock, and the jail's own report of when the program started
(``exec <monotonic ns>``, the same clock in every process): the run's cgroup made,
the jail's start (a fork-server round trip, or a spawned interpreter), the jail until the program
starts (namespaces, the init, the minimal root, the files, limits, uid, seccomp), the program
(start to exit: for ``in-process`` the program alone, for the others an interpreter start too),
and the end (reaping the jail, killing and removing the run's cgroup, the slot). Prints one JSON
line of medians per path next to a bare ``python3 -I -B -S`` spawn of the same file measured in
the same rounds.

``in-process`` and ``fork-server`` take jails forked ahead of demand (the default): a pooled
jail's cgroup, fork, namespaces, init and root were made in the pool's thread before the run,
and are in no stage of the run nor its total (only what the run's own thread spends is timed);
``pooled_runs`` says how many of the timed runs took one (the paths run one after another, so
the pool refills between two runs of a path). ``in-process-no-prefork`` is ``in-process`` with
``LIVECODE_SANDBOX_PREFORK=0``: every jail started for its run, as before the pool.
"""

import argparse
import json
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from livecode.core.config import Settings
from livecode.core.limits import Limits
from livecode.core.plugins import Plugins
from livecode.plugins.subprocess_sandbox import fork_server, jail_process, prefork
from livecode.plugins.subprocess_sandbox.cgroups import find_tree

HELLO = 'print("Hello World")'
PATHS = {"in-process": {}, "in-process-no-prefork": {"LIVECODE_SANDBOX_PREFORK": "0"},
         "fork-server": {"LIVECODE_SANDBOX_IN_PROCESS": "0"},
         "spawn": {"LIVECODE_SANDBOX_FORK_SERVER": "0"}}


class Clock:
    """Wall time spent in wrapped callables, by stage, for the current run: in the run's own
    thread only (the pool's thread prepares jails meanwhile)."""

    def __init__(self):
        self.spent: dict[str, float] = {}
        self.thread = threading.get_ident()

    def wrap(self, owner, name: str, stage: str) -> None:
        original = getattr(owner, name)

        def timed(*args, **kwargs):
            if threading.get_ident() != self.thread:
                return original(*args, **kwargs)
            started = time.monotonic()
            try:
                return original(*args, **kwargs)
            finally:
                self.spent[stage] = self.spent.get(stage, 0.0) + time.monotonic() - started

        setattr(owner, name, timed)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=30)
    n = parser.parse_args().n
    clock = Clock()
    cgroup_class = type(find_tree("livecode")[0].cgroup("probe"))
    clock.wrap(cgroup_class, "create", "cgroup_create_ms")
    clock.wrap(cgroup_class, "remove", "end_ms")
    clock.wrap(cgroup_class, "kill", "end_ms")
    clock.wrap(fork_server.ForkServer, "start_jail", "jail_start_ms")
    clock.wrap(jail_process.SpawnedJail, "__init__", "jail_start_ms")
    clock.wrap(fork_server.ForkedJail, "reap", "end_ms")
    clock.wrap(jail_process.SpawnedJail, "reap", "end_ms")
    clock.wrap(prefork.Pool, "take", "pool_take_ms")
    limits = Limits(wall_time_limit=10.0, cpu_time_limit=5.0)
    with tempfile.TemporaryDirectory() as tmp:
        ways = {}
        for path, env in PATHS.items():
            settings = Settings.from_env({"LIVECODE_DATA_DIR": f"{tmp}/{path}", **env})
            plugins = Plugins(settings)
            runner = plugins.languages["python"]
            ways[path] = (plugins.create_sandbox("subprocess"), runner.build(HELLO))
        main_py = Path(tmp, "main.py")
        main_py.write_text(HELLO)
        bare = [runner.interpreter, *runner.flags, str(main_py)]
        for path, (sandbox, program) in ways.items():
            deadline = time.monotonic() + 30
            while (sandbox.start_path() != path.removesuffix("-no-prefork")
                   and time.monotonic() < deadline):
                sandbox.run(program, b"", limits)
                time.sleep(0.1)
            for _ in range(3):  # the pool, where there is one, holds this kind of run
                sandbox.run(program, b"", limits)
        taken = {path: sandbox.pool.taken if sandbox.pool else 0
                 for path, (sandbox, _) in ways.items()}
        samples = {path: {} for path in ways}
        bare_ms = []
        for _ in range(n):
            started = time.monotonic()
            subprocess.run(bare, capture_output=True, check=True)
            bare_ms.append((time.monotonic() - started) * 1000)
            for path, (sandbox, program) in ways.items():
                clock.spent.clear()
                started = time.monotonic()
                result = sandbox.run(program, b"", limits)
                total = (time.monotonic() - started) * 1000
                assert result.stdout == b"Hello World\n", result
                stages = {stage: seconds * 1000 for stage, seconds in clock.spent.items()}
                stages["program_ms"] = result.wall_time_ms
                stages["jail_until_program_ms"] = (
                    total - sum(stages.values()))  # the rest: the jail's own steps, pumping
                stages["total_ms"] = total
                for stage, ms in stages.items():
                    samples[path].setdefault(stage, []).append(ms)
        figures = {"bare_python3_I_B_S_ms": round(statistics.median(bare_ms), 2)}
        for path, stages in samples.items():
            figures[path] = {stage: round(statistics.median(ms), 2) for stage, ms in stages.items()}
            figures[path]["runs_in_process"] = ways[path][0].runs_in_process
            pool = ways[path][0].pool
            figures[path]["pooled_runs"] = pool.taken - taken[path] if pool else 0
        for sandbox, _ in ways.values():
            sandbox.close()
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
