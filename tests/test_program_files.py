"""Programs of several files and a run's own options (args, compiler options, stderr merged into
stdout) through the REST API (falcon.testing) on a real SQLite file, Kombu's in-process queue and
the real subprocess sandbox. Every refused request is checked to leave the store and the queue
as they were."""

import falcon.testing
import pytest

from livecode.api.app import create_app

from test_api import assert_error, client, snapshot, worker  # noqa: F401 (fixtures)

PYTHON_FILES = [
    {"name": "main.py", "content": "import sys\nfrom pkg.greet import hello\n"
                                   "print(hello(sys.argv[1:]))\n"},
    {"name": "pkg/__init__.py", "content": ""},
    {"name": "pkg/greet.py", "content": "def hello(args):\n    return 'hi ' + ' '.join(args)\n"},
]


def run(client, worker, session_id, **body):
    queued = client.simulate_post(f"/code-sessions/{session_id}/run", json=body)
    assert queued.status_code == 202, queued.json
    return worker.execute(queued.json["execution_id"])


def test_a_session_of_several_files_runs_its_entry_which_imports_the_others(client, worker):
    created = client.simulate_post("/code-sessions", json={"language": "python",
                                                           "files": PYTHON_FILES})
    assert created.status_code == 201, created.json
    session = created.json
    assert (session["entry"], session["files"]) == ("main.py", PYTHON_FILES)
    assert session["source_code"] == PYTHON_FILES[0]["content"]  # the entry's text
    done = run(client, worker, session["session_id"], args=["a", "b c"])
    assert (str(done.status), done.stdout) == ("COMPLETED", "hi a b c\n")
    assert done.files == PYTHON_FILES and done.args == ["a", "b c"]


def test_autosave_replaces_files_changes_the_entry_and_checks_the_revision(client, worker,
                                                                           livecode):
    sid = client.simulate_post("/code-sessions", json={"language": "python",
                                                       "files": PYTHON_FILES}).json["session_id"]
    files = [*PYTHON_FILES, {"name": "other.py", "content": "print('other')\n"}]
    saved = client.simulate_patch(f"/code-sessions/{sid}", json={"files": files, "revision": 1})
    assert saved.status_code == 200 and saved.json["revision"] == 2
    stale = client.simulate_patch(f"/code-sessions/{sid}", json={"entry": "other.py",
                                                                 "revision": 1})
    assert_error(stale, 409)
    moved = client.simulate_patch(f"/code-sessions/{sid}", json={"entry": "other.py",
                                                                 "revision": 2}).json
    assert (moved["entry"], moved["source_code"], moved["files"]) == (
        "other.py", "print('other')\n", files)
    # In a session of several files, source_code is the entry's new text.
    edited = client.simulate_patch(f"/code-sessions/{sid}",
                                   json={"source_code": "print('edited')\n"}).json
    assert edited["files"][-1] == {"name": "other.py", "content": "print('edited')\n"}
    assert edited["files"][:-1] == PYTHON_FILES
    assert run(client, worker, sid).stdout == "edited\n"


def test_a_run_snapshots_the_files_and_a_rerun_runs_the_same_ones(client, worker, livecode):
    sid = client.simulate_post("/code-sessions", json={"language": "python",
                                                       "files": PYTHON_FILES}).json["session_id"]
    queued = client.simulate_post(f"/code-sessions/{sid}/run", json={"args": ["x"]}).json
    client.simulate_patch(f"/code-sessions/{sid}",
                          json={"files": [{"name": "main.py", "content": "print('new')"}]})
    first = worker.execute(queued["execution_id"])
    assert first.stdout == "hi x\n"
    again = client.simulate_post(f"/executions/{first.execution_id}/rerun")
    assert again.status_code == 202
    second = worker.execute(again.json["execution_id"])
    assert (second.stdout, second.files, second.args) == ("hi x\n", PYTHON_FILES, ["x"])


def test_submit_code_takes_files_and_listings_give_sizes_not_texts(client, worker):
    job = client.simulate_post("/submit-code", json={"language": "python",
                                                     "files": PYTHON_FILES, "args": ["z"]})
    assert job.status_code == 202, job.json
    done = worker.execute(job.json["jobId"])
    assert done.stdout == "hi z\n"
    total = sum(len(f["content"].encode()) for f in PYTHON_FILES)
    summary = client.simulate_get("/executions").json["executions"][0]
    assert summary["source_bytes"] == total and "files" not in summary
    assert summary["entry"] == "main.py" and summary["args"] == ["z"]
    full = client.simulate_get("/executions", params={"fields": "files"}).json["executions"][0]
    assert full["files"] == PYTHON_FILES and "source_code" not in full


def test_stderr_redirected_to_stdout_keeps_the_order_written(client, worker):
    source = ("import sys\nprint('one', flush=True)\nprint('two', file=sys.stderr, flush=True)\n"
              "print('three', flush=True)\n")
    sid = client.simulate_post("/code-sessions", json={"source_code": source}).json["session_id"]
    merged = run(client, worker, sid, redirect_stderr_to_stdout=True)
    assert (merged.stdout, merged.stderr) == ("one\ntwo\nthree\n", "")
    apart = run(client, worker, sid)
    assert (apart.stdout, apart.stderr) == ("one\nthree\n", "two\n")


@pytest.mark.parametrize("files, fragment", [
    ([{"name": "/etc/passwd", "content": ""}], "relative path"),
    ([{"name": "../up.py", "content": ""}], "relative path"),
    ([{"name": "a/../../b.py", "content": ""}], "relative path"),
    ([{"name": "a//b.py", "content": ""}], "relative path"),
    ([{"name": "./a.py", "content": ""}], "relative path"),
    ([{"name": "dir/", "content": ""}], "relative path"),
    ([{"name": "a\\b.py", "content": ""}], "relative path"),
    ([{"name": "a\nb.py", "content": ""}], "relative path"),
    ([{"name": "-rf", "content": ""}], "relative path"),
    ([{"name": "x" * 300, "content": ""}], "relative path"),
    ([{"name": "", "content": ""}], "non-empty"),
    ([{"name": "a.py", "content": ""}, {"name": "a.py", "content": ""}], "same name"),
    ([{"name": "a", "content": ""}, {"name": "a/b.py", "content": ""}], "both a file"),
    ([{"name": "a.py"}], "{name, content}"),
    ([{"name": "a.py", "content": 1}], "{name, content}"),
    ([{"name": "a.py", "content": "", "mode": "755"}], "{name, content}"),
    (["a.py"], "{name, content}"),
    ([], "1 to"),
])
def test_bad_file_lists_are_refused_and_change_nothing(client, livecode, files, fragment):
    before = snapshot(livecode)
    assert_error(client.simulate_post("/code-sessions", json={"files": files}), 422,
                 fragment=fragment)
    assert_error(client.simulate_post("/submit-code", json={"files": files}), 422)
    assert snapshot(livecode) == before


def test_caps_on_the_number_and_size_of_files(client, livecode, settings_with):
    from livecode.core.service import Livecode

    small = Livecode.open(settings_with(LIVECODE_MAX_FILES="2", LIVECODE_MAX_FILES_BYTES="10"))
    try:
        capped = falcon.testing.TestClient(create_app(small))
        three = [{"name": f"{n}.py", "content": ""} for n in "abc"]
        assert_error(capped.simulate_post("/code-sessions", json={"files": three}), 422,
                     fragment="1 to 2")
        big = [{"name": "a.py", "content": "x" * 6}, {"name": "b.py", "content": "y" * 6}]
        assert_error(capped.simulate_post("/code-sessions", json={"files": big}), 413)
        assert small.store.list_executions() == []
    finally:
        small.close()


def test_entry_and_source_code_are_checked_against_files(client, livecode):
    before = snapshot(livecode)
    assert_error(client.simulate_post("/code-sessions", json={"files": PYTHON_FILES,
                                                              "entry": "nope.py"}), 422,
                 fragment="none of the files")
    assert_error(client.simulate_post("/code-sessions", json={"files": PYTHON_FILES,
                                                              "source_code": "x"}), 422,
                 fragment="not both")
    assert_error(client.simulate_post("/code-sessions", json={"entry": "main.py"}), 422)
    assert_error(client.simulate_post("/submit-code", json={"language": "python"}), 422,
                 fragment="code (or files) is required")
    one = client.simulate_post("/code-sessions", json={"source_code": "1"}).json["session_id"]
    assert_error(client.simulate_patch(f"/code-sessions/{one}", json={"entry": "a.py"}), 422)
    assert snapshot(livecode) == before


@pytest.mark.parametrize("body, fragment", [
    ({"args": ["a\0b"]}, "without NUL"),
    ({"args": ["a\nb"]}, "without NUL"),
    ({"args": ["x" * 5000]}, "at most 4096"),
    ({"args": ["a"] * 65}, "the limit is 64"),
    ({"args": "a b"}, "must be an array"),
    ({"compiler_options": ["-O2"]}, "python has no compiler to take compiler_options"),
    ({"redirect_stderr_to_stdout": "yes"}, "true or false"),
])
def test_bad_run_options_are_refused_and_enqueue_nothing(client, livecode, body, fragment):
    sid = client.simulate_post("/code-sessions", json={"source_code": "1"}).json["session_id"]
    before = snapshot(livecode)
    assert_error(client.simulate_post(f"/code-sessions/{sid}/run", json=body), 422,
                 fragment=fragment)
    assert_error(client.simulate_post("/submit-code", json={"code": "1", **body}), 422)
    assert snapshot(livecode) == before


@pytest.mark.parametrize("option", ["-o/tmp/x", "-oevil", "-B/tmp", "-fplugin=x.so",
                                    "-wrapper", "-specs=x", "--specs=x", "-Wl,-T,x",
                                    "-Xlinker", "-I/etc", "two words", "O2", "@file", "-D$(x)"])
def test_compiler_options_that_would_defeat_the_compile_step_are_refused(client, livecode,
                                                                         option):
    before = snapshot(livecode)
    assert_error(client.simulate_post("/submit-code", json={
        "code": "int main(void){return 0;}", "language": "c", "compiler_options": [option]}),
        422, fragment="is refused")
    assert snapshot(livecode) == before
