"""Judge0's submission statuses, and the one mapping from a livecode execution to them.

Judge0 decides from isolate's verdict: a time limit is 5, a signal picks among 7–10 (SIGSEGV,
SIGXFSZ, SIGFPE, SIGABRT) or 12 (any other), a non-zero exit is 11 (NZEC), a box error 13, and a
finished run is 3 or 4 by comparing its stdout with ``expected_output`` (livecode's ``lines``
comparison is Judge0's rule). 14 (Exec Format Error) is never given: livecode builds every
program it runs.
"""

import signal

STATUSES = {
    1: "In Queue", 2: "Processing", 3: "Accepted", 4: "Wrong Answer",
    5: "Time Limit Exceeded", 6: "Compilation Error",
    7: "Runtime Error (SIGSEGV)", 8: "Runtime Error (SIGXFSZ)", 9: "Runtime Error (SIGFPE)",
    10: "Runtime Error (SIGABRT)", 11: "Runtime Error (NZEC)", 12: "Runtime Error (Other)",
    13: "Internal Error", 14: "Exec Format Error",
}
BY_SIGNAL = {signal.SIGSEGV: 7, signal.SIGXFSZ: 8, signal.SIGFPE: 9, signal.SIGABRT: 10}
BY_REASON = {
    "wall_time_limit": (5, "Time limit exceeded"),
    "cpu_time_limit": (5, "Time limit exceeded"),
    "compilation_error": (6, None),
    # Judge0 writes stdout to a file capped by max_file_size: more is SIGXFSZ there too.
    "output_limit": (8, "Output limit exceeded"),
    "memory_limit": (12, "Memory limit exceeded"),
}


def exit_signal(execution) -> int | None:
    reason = execution.reason or ""
    return int(reason[len("signal_"):]) if reason.startswith("signal_") else None


def status_of(execution) -> tuple[int, str | None]:
    """Judge0's status id for ``execution``, and its ``message``."""
    state = str(execution.status)
    if state == "QUEUED":
        return 1, None
    if state == "RUNNING":
        return 2, None
    if state == "COMPLETED":
        verdicts = [case.get("verdict") for case in execution.test_results]
        return (4, None) if "wrong_answer" in verdicts else (3, None)
    if state == "CANCELLED":
        return 13, "cancelled before it ran"
    if execution.reason in BY_REASON:
        return BY_REASON[execution.reason]
    number = exit_signal(execution)
    if number is not None:
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = "unknown signal"
        return BY_SIGNAL.get(number, 12), f"Killed by signal {number} ({name})"
    if execution.reason == "nonzero_exit":
        return 11, f"Exited with error status {execution.exit_code}"
    return 13, execution.reason or "internal error"


def status_json(number: int) -> dict:
    return {"id": number, "description": STATUSES[number]}
