"""Test cases as a run request asks for them (``tests: [{stdin, expected_output?}]`` and a
``comparison``), checked before anything is stored; README's "Test cases" has the rules, and
the worker (``worker.compile_and_run``) judges each case's output."""

from .errors import InvalidInput, PayloadTooLarge
from .models import text_bytes


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
            if (size := text_bytes(value)) > max_bytes:
                raise PayloadTooLarge(f"{where}.{name} is {size} bytes; the limit is "
                                      f"{max_bytes}", field="tests", limit=max_bytes)
        cases.append({"stdin": stdin, "expected_output": expected})
    return {"comparison": comparison, "cases": cases}
