"""Compile once, run many: test cases through the API (real falcon app, real SQLite store, real
in-process queue, real worker and subprocess sandbox), and every malformed request refused with
nothing stored or queued."""

import falcon.testing
import pytest

from livecode.api.app import create_app
from livecode.core.worker import Worker
from livecode.plugins.subprocess_sandbox import SubprocessSandbox

ADD = ('#include <stdio.h>\nint main(void) { long a, b; if (scanf("%ld %ld", &a, &b) != 2) '
       'return 2; printf("%ld\\n", a + b); return 0; }')


class CountingSandbox(SubprocessSandbox):
    """The real subprocess sandbox, counting the programs it starts and their commands."""

    def __init__(self, settings):
        super().__init__(settings)
        self.commands = []

    def run(self, program, stdin, limits, live=None):
        self.commands.append(program.argv[0])
        return super().run(program, stdin, limits, live)


@pytest.fixture
def client(livecode):
    return falcon.testing.TestClient(create_app(livecode))


@pytest.fixture
def counting(livecode):
    sandbox = CountingSandbox(livecode.settings)
    yield Worker(livecode, 1, sandboxes={"subprocess": sandbox}), sandbox
    sandbox.close()


def submit(client, **body) -> dict:
    result = client.simulate_post("/submit-code", json=body)
    assert result.status_code == 202, result.json
    return result.json


def test_built_once_and_run_once_per_case_each_with_its_verdict(client, counting):
    worker, sandbox = counting
    job = submit(client, code=ADD, language="c", tests=[
        {"stdin": "1 2", "expected_output": "3\n"},
        {"stdin": "2 2", "expected_output": "5\n"},
        {"stdin": "40 2"},
    ])
    worker.execute(job["jobId"])
    body = client.simulate_get(f"/executions/{job['jobId']}").json
    assert sandbox.commands.count("./main") == 3 and len(sandbox.commands) == 4  # one compile
    assert body["status"] == "COMPLETED"
    assert [(r["status"], r["stdout"], r["verdict"]) for r in body["test_results"]] == [
        ("COMPLETED", "3\n", "accepted"), ("COMPLETED", "4\n", "wrong_answer"),
        ("COMPLETED", "42\n", None)]
    assert all(r["execution_time_ms"] > 0 and r["exit_code"] == 0 for r in body["test_results"])
    assert body["tests"] == {"comparison": "exact", "cases": [
        {"stdin": "1 2", "expected_output": "3\n"}, {"stdin": "2 2", "expected_output": "5\n"},
        {"stdin": "40 2", "expected_output": None}]}


def test_whitespace_comparison_ignores_spacing_and_line_breaks(client, counting):
    worker, _ = counting
    job = submit(client, code="print(' 1  2\\n3 ')", tests=[
        {"expected_output": "1 2 3"}, {"expected_output": "1 2 3 4"}], comparison="whitespace")
    worker.execute(job["jobId"])
    results = client.simulate_get(f"/executions/{job['jobId']}").json["test_results"]
    assert [r["verdict"] for r in results] == ["accepted", "wrong_answer"]
    exact = submit(client, code="print(' 1  2\\n3 ')", tests=[{"expected_output": "1 2 3"}])
    worker.execute(exact["jobId"])
    results = client.simulate_get(f"/executions/{exact['jobId']}").json["test_results"]
    assert [r["verdict"] for r in results] == ["wrong_answer"]


def test_lines_comparison_ignores_trailing_spaces_as_judge0_does(client, counting):
    worker, _ = counting
    job = submit(client, code="print('a  ')\nprint(' b')\nprint()", tests=[
        {"expected_output": "a\n b"}, {"expected_output": "a\nb"},
        {"expected_output": "a\n\n b"}], comparison="lines")
    worker.execute(job["jobId"])
    results = client.simulate_get(f"/executions/{job['jobId']}").json["test_results"]
    assert [r["verdict"] for r in results] == ["accepted", "wrong_answer", "wrong_answer"]


def test_a_failing_case_shows_as_the_execution_s_own_result(client, counting):
    worker, _ = counting
    job = submit(client, code=ADD, language="c", wall_time_limit=2, tests=[
        {"stdin": "1 1", "expected_output": "2\n"}, {"stdin": "nope"}, {"stdin": "2 2"}])
    worker.execute(job["jobId"])
    body = client.simulate_get(f"/executions/{job['jobId']}").json
    assert (body["status"], body["reason"], body["exit_code"]) == ("FAILED", "nonzero_exit", 2)
    assert [(r["status"], r["verdict"]) for r in body["test_results"]] == [
        ("COMPLETED", "accepted"), ("FAILED", None), ("COMPLETED", None)]


def test_a_compile_error_runs_no_case(client, counting):
    worker, sandbox = counting
    job = submit(client, code="int main(void) { return x; }", language="c",
                 tests=[{"stdin": "1"}, {"stdin": "2"}])
    worker.execute(job["jobId"])
    body = client.simulate_get(f"/executions/{job['jobId']}").json
    assert (body["status"], body["reason"]) == ("FAILED", "compilation_error")
    assert body["test_results"] == [] and len(sandbox.commands) == 1


def test_rerun_keeps_the_cases(client, counting, livecode):
    worker, _ = counting
    job = submit(client, code="print(input())", tests=[{"stdin": "a\n", "expected_output": "a\n"}])
    again = client.simulate_post(f"/executions/{job['jobId']}/rerun").json
    worker.execute(again["execution_id"])
    body = client.simulate_get(f"/executions/{again['execution_id']}").json
    assert [r["verdict"] for r in body["test_results"]] == ["accepted"]


@pytest.mark.parametrize("body, status, fragment", [
    ({"tests": []}, 422, "non-empty array"),
    ({"tests": "1 2"}, 422, "tests must be an array"),
    ({"tests": [{"stdin": "1"}] * 33}, 422, "at most 32"),
    ({"tests": [{"stdin": 1}]}, 422, "tests[0].stdin must be a string"),
    ({"tests": [{"stdin": "1", "expected": "2"}]}, 422, "stdin and expected_output only"),
    ({"tests": ["1"]}, 422, "tests[0] must be an object"),
    ({"tests": [{"stdin": "1"}], "stdin": "2"}, 422, "inside each test"),
    ({"tests": [{"stdin": "1"}], "comparison": "fuzzy"}, 422, "exact, lines, whitespace"),
    ({"comparison": "exact"}, 422, "this run has none"),
    ({"tests": [{"stdin": "x" * (64 * 1024 + 1)}]}, 413, "tests[0].stdin is 65537 bytes"),
    ({"tests": [{"expected_output": "x" * (64 * 1024 + 1)}]}, 413, "expected_output"),
])
def test_malformed_tests_are_refused_and_nothing_is_queued(client, livecode, body, status,
                                                           fragment):
    session = client.simulate_post("/code-sessions", json={"source_code": "print(1)"}).json
    for path, extra in ((f"/code-sessions/{session['session_id']}/run", {}),
                        ("/submit-code", {"code": "print(1)"})):
        before = livecode.store.list_executions(limit=10), livecode.queue.depth()
        result = client.simulate_post(path, json={**extra, **body})
        assert result.status_code == status, result.json
        assert fragment in result.json["error"]["message"]
        assert (livecode.store.list_executions(limit=10), livecode.queue.depth()) == before
