"""How one execution becomes sandbox runs: the language's compile step, if it has one, then the
program; and what status and reason each result maps to.

A compile step is an ordinary sandbox run of the compiler, under the operator's compile limits
(``LIVECODE_COMPILE_<LIMIT>``), whose ``outputs`` are the artefact. The sandbox hands the artefact
back as bytes; the worker only carries them into a fresh sandbox for the run step and never opens,
checks or runs them itself. The compiler therefore runs as untrusted as the program it builds, and
a compile and the run that follows share nothing but those named files: the same path serves one
run and, built once, many.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from livecode.core.contracts import LanguageRunner, Sandbox, SandboxResult, Source
from livecode.core.execution_states import Status
from livecode.core.limits import Limits
from livecode.core.test_cases import COMPARISONS

TIMEOUT_LIMITS = frozenset({"wall_time_limit", "cpu_time_limit"})


def outcome(result: SandboxResult, runner=None) -> tuple[Status, str | None]:
    """The status and reason a sandbox result maps to: the one place that decides it."""
    if result.limit_hit in TIMEOUT_LIMITS:
        return Status.TIMEOUT, result.limit_hit
    if result.limit_hit:
        return Status.FAILED, result.limit_hit
    if result.exit_code == 0:
        return Status.COMPLETED, None
    language_reason = runner.failure_reason(result) if runner is not None else None
    if language_reason:
        return Status.FAILED, language_reason
    if result.signal is not None:
        return Status.FAILED, f"signal_{result.signal}"
    return Status.FAILED, "nonzero_exit"


@dataclass(frozen=True)
class Compiled:
    """What a compile step left: the artefact when it succeeded, and the compiler's messages
    (stdout then stderr, as Judge0's ``compile_output``)."""

    artefact: Mapping[str, bytes] | None
    output: str | None


def compile_source(runner: LanguageRunner, sandbox: Sandbox, source: Source | str,
                   limits: Limits) -> Compiled | None:
    """Run the language's compile step; ``None`` for a language that has none."""
    step = runner.compile(source)
    if step is None:
        return None
    result = sandbox.run(step, b"", limits)
    output = (result.stdout + result.stderr).decode("utf-8", "replace")
    missing = [name for name in step.outputs if name not in result.files]
    if result.limit_hit:
        return Compiled(None, output + f"livecode: compilation stopped: {result.limit_hit}\n")
    if result.exit_code != 0:
        return Compiled(None, output)
    if missing:
        return Compiled(None, output + f"livecode: the compiler left no {', '.join(missing)} "
                                       f"(or it is larger than {limits.max_file_size} bytes)\n")
    return Compiled(dict(result.files), output or None)


def run_program(runner: LanguageRunner, sandbox: Sandbox, source: Source | str, stdin: str,
                limits: Limits, compile_limits: Limits, tests: dict | None = None, live=None,
                args: Sequence[str] = (), stderr_to_stdout: bool = False
                ) -> tuple[Status, dict]:
    """Compile (if the language does), run once (or once per test case, each in a fresh
    sandbox), and say how the execution ends and what it stores. ``args`` follow the
    language's own command line, whatever it is.

    With test cases, the execution's own status, output and times are those of the first case
    that did not complete, else of the last one; each case has its own in ``test_results``.
    """
    compiled = compile_source(runner, sandbox, source, compile_limits)
    if compiled is not None and compiled.artefact is None:
        return Status.FAILED, {"reason": "compilation_error",
                               "compile_output": compiled.output}
    program = runner.build(source, compiled and compiled.artefact, limits)
    program = replace(program, argv=[*program.argv, *args], stderr_to_stdout=stderr_to_stdout)
    compile_output = {"compile_output": compiled.output if compiled is not None else None}
    if tests is None:
        live = {"live": live} if live is not None and sandbox.live_io else {}
        status, fields = _run_once(runner, sandbox, program, stdin, limits, **live)
        return status, {**fields, **compile_output}
    results = []
    for case in tests["cases"]:
        status, fields = _run_once(runner, sandbox, program, case["stdin"], limits)
        judged = verdict(fields["stdout"], case["expected_output"], tests["comparison"])
        results.append({"status": str(status), **fields,
                        "verdict": judged if status is Status.COMPLETED else None})
    shown = next((r for r in results if r["status"] != str(Status.COMPLETED)), results[-1])
    fields = {k: v for k, v in shown.items() if k not in ("status", "verdict")}
    return Status(shown["status"]), {**fields, **compile_output, "test_results": results}


def _run_once(runner, sandbox, program, stdin: str, limits, **live) -> tuple[Status, dict]:
    result = sandbox.run(program, stdin.encode("utf-8"), limits, **live)
    status, reason = outcome(result, runner)
    return status, {
        "reason": reason,
        "exit_code": result.exit_code,
        "stdout": result.stdout.decode("utf-8", "replace"),
        "stderr": result.stderr.decode("utf-8", "replace"),
        "truncated": result.truncated,
        "execution_time_ms": round(result.wall_time_ms, 3),
        "cpu_time_ms": result.cpu_time_ms,
        "max_rss_kb": result.max_rss_kb,
    }


def program_source(runner: LanguageRunner, execution) -> Source:
    """What ``runner`` builds the execution from: its files, or its one text."""
    if not execution.files:
        source = runner.source_of(execution.source_code)
    else:
        source = Source({f["name"]: f["content"].encode("utf-8", "surrogatepass")
                         for f in execution.files}, execution.entry)
    return Source(source.files, source.entry, tuple(getattr(execution, "compiler_options", ())))


def verdict(output: str, expected: str | None, comparison: str) -> str | None:
    if expected is None:
        return None
    return "accepted" if COMPARISONS[comparison](output, expected) else "wrong_answer"
