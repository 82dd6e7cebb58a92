"""Test cases: one program, built once, run once per input in a fresh sandbox, each run judged
against its expected output.

A run request may carry ``tests: [{stdin, expected_output?}]`` (at most ``LIVECODE_MAX_TESTS``)
and ``comparison``: ``exact`` (the default: byte for byte), ``lines`` (the same lines, ignoring
the spaces that end each and the blank space after them all: Judge0's rule) or
``whitespace`` (the same words in the same order, however spaced or broken into lines). The
execution keeps the cases as asked (``tests``) and one result per case (``test_results``):
status, reason, output, times and ``verdict``, ``accepted`` or ``wrong_answer`` for a case that
completed and had an expected output, ``None`` otherwise (its status says why it did not).
"""

from .errors import InvalidInput, PayloadTooLarge

def _lines(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.split("\n")).rstrip()


COMPARISONS = {
    "exact": lambda output, expected: output == expected,
    "lines": lambda output, expected: _lines(output) == _lines(expected),
    "whitespace": lambda output, expected: output.split() == expected.split(),
}
CASE_FIELDS = {"stdin", "expected_output"}


def check_tests(tests, comparison: str | None, max_tests: int, max_bytes: int) -> dict | None:
    """The test cases of a run request, checked; ``None`` when it has none."""
    if tests is None:
        if comparison is not None:
            raise InvalidInput("comparison applies to tests; this run has none",
                               field="comparison")
        return None
    comparison = comparison or "exact"
    if comparison not in COMPARISONS:
        raise InvalidInput(f"comparison must be one of {', '.join(COMPARISONS)}, not "
                           f"{comparison!r}", field="comparison")
    if not isinstance(tests, list) or not tests:
        raise InvalidInput("tests must be a non-empty array of {stdin, expected_output?}",
                           field="tests")
    if len(tests) > max_tests:
        raise InvalidInput(f"{len(tests)} tests; this server allows at most {max_tests}",
                           field="tests", cap=max_tests)
    cases = []
    for number, case in enumerate(tests):
        where = f"tests[{number}]"
        if not isinstance(case, dict) or set(case) - CASE_FIELDS:
            raise InvalidInput(f"{where} must be an object with stdin and expected_output only",
                               field="tests")
        stdin, expected = case.get("stdin", ""), case.get("expected_output")
        for name, value in (("stdin", stdin), ("expected_output", expected)):
            if value is None and name == "expected_output":
                continue
            if not isinstance(value, str):
                raise InvalidInput(f"{where}.{name} must be a string", field="tests")
            size = len(value.encode("utf-8", "surrogatepass"))
            if size > max_bytes:
                raise PayloadTooLarge(f"{where}.{name} is {size} bytes; the limit is "
                                      f"{max_bytes}", field="tests", limit=max_bytes)
        cases.append({"stdin": stdin, "expected_output": expected})
    return {"comparison": comparison, "cases": cases}


def verdict(output: str, expected: str | None, comparison: str) -> str | None:
    if expected is None:
        return None
    return "accepted" if COMPARISONS[comparison](output, expected) else "wrong_answer"
