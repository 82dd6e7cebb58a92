"""The Judge0 and Piston layers' translations on their own, from real livecode models: what
each execution outcome is in Judge0's statuses (including those a live run cannot produce on
every sandbox), and how Piston's runtimes and versions are picked."""

import pytest

from livecode.core.contracts import LanguageRunner, Program
from livecode.core.errors import InvalidInput
from livecode.core.execution_states import Status
from livecode.core.limits import Limits
from livecode.core.models import CodeSession, Execution
from livecode.plugins.judge0_api.statuses import STATUSES, status_of
from livecode.plugins.judge0_api.submissions import run_request
from livecode.plugins.piston_api.runtimes import pick


def execution(status, **fields) -> Execution:
    session = CodeSession.new("c", "int main(void) { return 0; }")
    return Execution.snapshot(session, "", Limits()).evolve(status=Status(status), **fields)


@pytest.mark.parametrize("status,fields,expected", [
    ("QUEUED", {}, 1),
    ("RUNNING", {}, 2),
    ("COMPLETED", {}, 3),
    ("COMPLETED", {"test_results": [{"verdict": "wrong_answer"}]}, 4),
    ("TIMEOUT", {"reason": "cpu_time_limit"}, 5),
    ("FAILED", {"reason": "compilation_error"}, 6),
    ("FAILED", {"reason": "signal_11"}, 7),
    ("FAILED", {"reason": "signal_25"}, 8),
    ("FAILED", {"reason": "output_limit"}, 8),
    ("FAILED", {"reason": "signal_8"}, 9),
    ("FAILED", {"reason": "signal_6"}, 10),
    ("FAILED", {"reason": "nonzero_exit", "exit_code": 2}, 11),
    ("FAILED", {"reason": "signal_10"}, 12),
    ("FAILED", {"reason": "memory_limit"}, 12),
    ("FAILED", {"reason": "sandbox_error"}, 13),
    ("FAILED", {"reason": "worker_lost"}, 13),
    ("CANCELLED", {}, 13),
])
def test_each_outcome_is_one_judge0_status(status, fields, expected):
    number, message = status_of(execution(status, **fields))
    assert number == expected and number in STATUSES
    if expected in (11, 12, 13) and "reason" in fields:
        assert message


def test_run_request_translates_units_and_expected_output(livecode):
    request = run_request({"source_code": "x", "language_id": 50, "memory_limit": 1000.5,
                           "max_file_size": 2, "max_processes_and_or_threads": 4,
                           "stdin": "in", "expected_output": "out"}, False, {50: "c"}, livecode)
    assert request == {"code": "x", "language": "c",
                       "limits": {"memory_limit": 1001, "max_file_size": 2048,
                                  "max_processes": 4},
                       "tests": [{"stdin": "in", "expected_output": "out"}],
                       "comparison": "lines",
                       "options": {"args": [], "compiler_options": [],
                                   "redirect_stderr_to_stdout": False}}


def test_run_request_splits_arguments_and_options_and_reads_additional_files(livecode):
    import base64
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("lib/a.h", "int a;")
        archive.writestr("lib/", "")  # a directory entry holds no file
    request = run_request({"source_code": "int main(){}", "language_id": 54,
                           "command_line_arguments": "1 '2 3' \\$x",
                           "compiler_options": "-O0 '-DX=1'",
                           "redirect_stderr_to_stdout": True,
                           "additional_files": base64.b64encode(buffer.getvalue()).decode()},
                          False, {54: "cpp"}, livecode)
    assert request["options"] == {"args": ["1", "2 3", "$x"],
                                  "compiler_options": ["-O0", "-DX=1"],
                                  "redirect_stderr_to_stdout": True}
    assert request["files"] == [{"name": "main.cpp", "content": "int main(){}"},
                                {"name": "lib/a.h", "content": "int a;"}]
    assert request["entry"] == "main.cpp" and "code" not in request


class FixedVersionRunner(LanguageRunner):
    """A language runner whose toolchain says a given version, as a third-party one could."""

    def __init__(self, name, version):
        self.name, self._version = name, version

    def build(self, source_code, artefact=None, limits=None):
        return Program(files={}, argv=["true"])

    def version(self):
        return self._version


def test_piston_runtimes_by_name_alias_and_semver_range():
    runners = {"cpp": FixedVersionRunner("cpp", "12.2.0"),
               "typescript": FixedVersionRunner("typescript", "esbuild 0.28.2, node 20")}
    assert pick(runners, "c++", "*") == ("cpp", "c++", "12.2.0")
    assert pick(runners, "cpp", "12.x") == ("cpp", "c++", "12.2.0")
    assert pick(runners, "g++", ">=10 <13") == ("cpp", "c++", "12.2.0")
    assert pick(runners, "ts", "0.28.2") == ("typescript", "typescript", "0.28.2")
    for language, version in (("c++", "11.1.0"), ("c++", "not a range"), ("rust", "*")):
        with pytest.raises(InvalidInput, match="runtime is unknown"):
            pick(runners, language, version)
