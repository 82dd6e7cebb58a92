"""What the subprocess sandbox's protections cost this host's kernel per run, with no Python,
no HTTP and no program: the ceiling any implementation of them could reach here.

    sudo .venv/bin/python bench/protection_floor.py [--rounds 300]

Compiles ``protection_floor.c`` (gcc) and runs it one at a time and two at a time (this
machine's two cores): per round a cgroup in each of livecode's run hierarchies, fresh mount,
PID, network, IPC, UTS and cgroup namespaces, a minimal root, an unprivileged program process
that exits at once. Beside it, in the same run, the load driver's baseline (bare ``python3 -I``
spawns two at a time, ``spawn_per_s_2way``) with the interpreter runs use and with the
``python3`` on PATH (the one issue 12's own table was measured with), and what issue 12's
throughput target (4× ``spawn_per_s_2way``) asks of each. Prints one JSON line. Needs root
(namespaces, cgroups), as the sandbox's root mode does.
"""

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from livecode.plugins.python_runner import default_interpreter
from livecode.plugins.subprocess_sandbox.cgroups import find_tree

HERE = Path(__file__).parent
DRIVER = HERE.parent.parent / "shared/tools/e2e_load.py"


def floor(binary: Path, rounds: int, ways: int, parents: list[str]) -> dict:
    """Rounds per second of ``ways`` copies at once, and the median copy's milliseconds per
    round."""
    found = [None] * ways

    def one(index):
        out = subprocess.run([str(binary), str(rounds), f"{index}", *parents],
                             capture_output=True, text=True, check=True)
        found[index] = [float(value) for value in out.stdout.split()]

    threads = [threading.Thread(target=one, args=(i,)) for i in range(ways)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"ms_per_run": round(sorted(ms for ms, _ in found)[ways // 2], 3),
            "runs_per_s": round(sum(rate for _, rate in found), 1)}


def baseline(interpreter: str, n: int) -> dict:
    out = subprocess.run([interpreter, str(DRIVER), "baseline", "--n", str(n)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--baseline-n", type=int, default=60)
    args = parser.parse_args()
    if not shutil.which("gcc"):
        sys.exit("gcc is needed to build protection_floor.c")
    tree, problem = find_tree("livecode")
    if tree is None:
        sys.exit(f"no usable cgroup tree: {problem}")
    with tempfile.TemporaryDirectory() as tmp:
        binary = Path(tmp, "protection_floor")
        subprocess.run(["gcc", "-O2", "-Wno-format-truncation", "-o", str(binary),
                        str(HERE / "protection_floor.c")], check=True)
        figures = {"floor_1way": floor(binary, args.rounds, 1, tree.parents),
                   "floor_2way": floor(binary, args.rounds, 2, tree.parents),
                   "floor_2way_no_cgroup": floor(binary, args.rounds, 2, [])}
    figures["baselines"] = {}
    on_path = subprocess.run(["python3", "-c", "import sys; print(sys.executable)"],
                             capture_output=True, text=True, check=True).stdout.strip()
    for name, interpreter in (("runs_interpreter", default_interpreter()),
                              ("python3_on_path", on_path)):  # past any pyenv shim
        found = baseline(interpreter, args.baseline_n)
        target = 4 * found["spawn_per_s_2way"]
        figures["baselines"][name] = {
            "interpreter": interpreter, "spawn_per_s_2way": found["spawn_per_s_2way"],
            "spawn_nosite_p50_ms": found["spawn_nosite_p50_ms"],
            "throughput_target_runs_per_s": round(target, 1),
            "floor_2way_vs_target": round(figures["floor_2way"]["runs_per_s"] / target, 3)}
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
