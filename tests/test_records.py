"""The records' one codec (core/models.py): ``to_dict`` gives what ``dataclasses.asdict`` gave,
fresh copies included, for every record."""

import dataclasses

from livecode.core.limits import Limits
from livecode.core.models import CodeSession, Execution, WorkerInfo


def full_execution() -> Execution:
    session = CodeSession.new("python", "print(1)", files=[{"name": "a.py", "content": "x"}],
                              entry="a.py")
    return Execution.snapshot(session, "in", Limits(memory_limit=1024)).evolve(
        tests={"comparison": "exact", "cases": [{"stdin": "1", "expected_output": "2"}]},
        test_results=[{"passed": True, "stdout": "2", "nested": [1, [2, {"three": 3}]]}],
        extra={"k": {"z": [1]}}, args=["--x"], compiler_options=["-O2"])


def test_to_dict_is_asdict_with_the_status_a_string():
    execution = full_execution()
    expected = dataclasses.asdict(execution)
    expected["status"] = "QUEUED"
    assert execution.to_dict() == expected
    assert type(execution.to_dict()["status"]) is str
    assert type(execution.to_dict()["limits"]) is dict
    session = CodeSession.new("python", "x", files=[{"name": "m.py", "content": "y"}])
    assert session.to_dict() == dataclasses.asdict(session)
    info = WorkerInfo("w", "h", 1, "q", 2, ["subprocess"], "t", "t", current=["e"])
    assert info.to_dict() == dataclasses.asdict(info)


def test_what_to_dict_gives_can_be_changed_without_changing_the_record():
    execution = full_execution()
    data = execution.to_dict()
    data["files"][0]["name"] = "changed"
    data["tests"]["cases"].append({})
    data["test_results"][0]["nested"][1][1]["three"] = 4
    data["extra"]["k"]["z"].append(2)
    data["args"].append("more")
    assert execution == full_execution().evolve(
        execution_id=execution.execution_id, created_at=execution.created_at,
        session_id=execution.session_id)
