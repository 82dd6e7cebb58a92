"""Judge0 CE's API under /judge0, through a real ``livecode serve``: the official Python SDK
(PyPI ``judge0``), unchanged, pointed at it by its base URL; then every field and status over
plain HTTP as Judge0 defines them."""

import base64

import httpx
import judge0
import pytest
from judge0 import LanguageAlias, Status

pytestmark = pytest.mark.slow

UNLIMITED = ("runs_per_minute=0", "active_runs=0", "writes_per_second=0")
HELLO = {
    71: 'print("Hello World")',
    63: 'console.log("Hello World")',
    74: 'const greeting: string = "Hello World";\nconsole.log(greeting);',
    50: '#include <stdio.h>\nint main(void) { puts("Hello World"); return 0; }',
    54: '#include <iostream>\nint main() { std::cout << "Hello World" << std::endl; }',
    46: 'echo "Hello World"',
}
OUTPUT_LIMIT = 65536
C_SIGNAL = '#include <signal.h>\nint main(void) {{ raise({}); return 0; }}'


@pytest.fixture(scope="module")
def served(serve_for_module):
    process, url, create_key = serve_for_module(LIVECODE_CONCURRENCY="2",
                                                LIVECODE_OUTPUT_LIMIT=str(OUTPUT_LIMIT))
    return url, create_key, create_key("client", *UNLIMITED)


@pytest.fixture(scope="module")
def server(served):
    return served[0]


@pytest.fixture(scope="module")
def key(served):
    return served[2]


@pytest.fixture(scope="module")
def client(server, key):
    return judge0.Client(f"{server}/judge0", headers={"X-Auth-Token": key})


@pytest.fixture(scope="module")
def http(server, key):
    with httpx.Client(base_url=f"{server}/judge0", headers={"X-Auth-Token": key},
                      timeout=60) as session:
        yield session


def submit(http, body, **params) -> dict:
    """POST /submissions?wait=true with every field shown; the answer's JSON."""
    response = http.post("/submissions", json=body,
                         params={"wait": "true", "fields": "*", **params})
    assert response.status_code == 201, response.text
    return response.json()


def livecode_executions(http) -> list:
    """The caller's runs, as livecode's own API lists them."""
    answer = http.get(f"{http.base_url.copy_with(path='/executions')}", params={"limit": 200})
    return [e["execution_id"] for e in answer.json()["executions"]]


# --- The official SDK, unchanged -------------------------------------------------------------


def test_the_sdk_starts_against_the_judge0_base_url(client):
    assert {71, 63, 74, 50, 54, 46} <= {language.id for language in client.languages}
    assert client.version == "1.13.1"
    assert client.config.enable_batched_submissions and client.config.enable_wait_result
    assert client.get_language(71).source_file == "script.py"
    assert [s["id"] for s in client.get_statuses()] == list(range(1, 15))


@pytest.mark.parametrize("language_id", sorted(HELLO))
def test_hello_world_in_every_language_through_the_sdk(client, language_id):
    result = judge0.run(client=client, source_code=HELLO[language_id], language=language_id)
    assert (result.status, result.stdout, result.exit_code) == (
        Status.ACCEPTED, "Hello World\n", 0), result
    assert result.time is not None and result.wall_time is not None and result.memory > 0


def test_language_aliases_resolve_through_about_version(client):
    result = judge0.run(client=client, source_code=HELLO[54], language=LanguageAlias.CPP)
    assert (result.status, result.stdout) == (Status.ACCEPTED, "Hello World\n")


def test_test_cases_with_expected_output_are_accepted_or_wrong_answer(client):
    results = judge0.run(client=client, source_code="print(int(input()) * 2)",
                         language=LanguageAlias.PYTHON,
                         test_cases=[("2\n", "4"), ("3\n", "7\n"), ("5", "10  \n\n")])
    assert [r.status for r in results] == [Status.ACCEPTED, Status.WRONG_ANSWER, Status.ACCEPTED]
    assert [r.stdout for r in results] == ["4\n", "6\n", "10\n"]


def test_a_c_compile_error_through_the_sdk(client):
    result = judge0.run(client=client, source_code="int main(void) { return nope; }",
                        language=LanguageAlias.C)
    assert result.status == Status.COMPILATION_ERROR, result
    assert "nope" in result.compile_output and result.stdout is None


def test_a_batch_through_the_sdk(client):
    submissions = [judge0.Submission(source_code=HELLO[number], language=number,
                                     stdin="ignored") for number in (71, 46, 50)]
    results = judge0.run(client=client, submissions=submissions)
    assert [(r.status, r.stdout) for r in results] == [(Status.ACCEPTED, "Hello World\n")] * 3
    assert len({r.token for r in results}) == 3


def test_arguments_stderr_and_additional_files_through_the_sdk(client):
    from judge0.filesystem import File, Filesystem

    files = Filesystem(content=[File(name="helper.py",
                                     content="def twice(x):\n    return 2 * x\n")])
    result = judge0.run(client=client, submissions=judge0.Submission(
        source_code="import sys\nfrom helper import twice\n"
                    "print(twice(int(sys.argv[1])), flush=True)\nprint('err', file=sys.stderr)",
        language=LanguageAlias.PYTHON, command_line_arguments="21",
        redirect_stderr_to_stdout=True, additional_files=files))
    assert (result.status, result.stdout, result.stderr) == (Status.ACCEPTED, "42\nerr\n",
                                                             None), result


def test_compiler_options_through_the_sdk(client):
    result = judge0.run(client=client, submissions=judge0.Submission(
        source_code='#include <stdio.h>\nint main(void) { printf("%d\\n", N); }',
        language=LanguageAlias.C, compiler_options="-DN=7"))
    assert (result.status, result.stdout) == (Status.ACCEPTED, "7\n"), result


# --- The contract, field by field -----------------------------------------------------------


def test_judge0_routes_want_a_key_sent_either_way(server, key):
    assert httpx.get(f"{server}/judge0/languages").status_code == 401
    assert httpx.get(f"{server}/judge0/languages",
                     headers={"X-Auth-Token": "lck_wrong_key"}).status_code == 401
    assert httpx.get(f"{server}/judge0/languages",
                     headers={"Authorization": f"Bearer {key}"}).status_code == 200


def test_submissions_belong_to_their_key_and_its_quotas_apply(served, http):
    server, create_key, _ = served
    token = http.post("/submissions", json={"source_code": "print(1)",
                                             "language_id": 71}).json()["token"]
    with httpx.Client(base_url=f"{server}/judge0", timeout=60,
                      headers={"X-Auth-Token": create_key("client", "runs_per_minute=1")}) as other:
        assert other.get(f"/submissions/{token}").status_code == 404
        shown = other.get("/submissions/batch", params={"tokens": token}).json()
        assert shown == {"submissions": [None]}
        assert other.post("/submissions", json={"source_code": "print(2)",
                                                "language_id": 71}).status_code == 201
        before = livecode_executions(other)
        over = other.post("/submissions", json={"source_code": "print(3)", "language_id": 71})
        assert over.status_code == 429 and over.json()["error"]["quota"] == "runs_per_minute"
        assert livecode_executions(other) == before


def test_livecodes_own_languages_route_is_unchanged(server, key):
    answer = httpx.get(f"{server}/languages", headers={"X-Auth-Token": key}).json()
    assert {entry["name"] for entry in answer["languages"]} >= {"python", "c", "cpp"}


def test_wait_false_answers_a_token_to_poll(http):
    response = http.post("/submissions", json={"source_code": "print(6*7)", "language_id": 71})
    assert response.status_code == 201 and set(response.json()) == {"token"}
    token = response.json()["token"]
    for _ in range(600):
        shown = http.get(f"/submissions/{token}").json()
        if shown["status"]["id"] > 2:
            break
    assert set(shown) == {"token", "stdout", "time", "memory", "stderr", "compile_output",
                          "message", "status"}  # Judge0's default fields
    assert shown["stdout"] == "42\n" and shown["status"] == {"id": 3, "description": "Accepted"}


def test_base64_both_ways_and_chosen_fields(http):
    encode = lambda text: base64.b64encode(text.encode()).decode()  # noqa: E731
    shown = submit(http, {"source_code": encode("print(input()[::-1])"), "language_id": 71,
                          "stdin": encode("héllo")},
                   base64_encoded="true", fields="stdout,stdin,source_code,status_id")
    assert set(shown) == {"stdout", "stdin", "source_code", "status_id"}
    assert base64.b64decode(shown["stdout"]).decode() == "olléh\n"
    assert base64.b64decode(shown["stdin"]).decode() == "héllo"
    assert base64.b64decode(shown["source_code"]).decode() == "print(input()[::-1])"
    bad = http.post("/submissions", params={"base64_encoded": "true"},
                    json={"source_code": "not base64!", "language_id": 71})
    assert bad.status_code == 422 and "base64" in bad.text


def test_every_result_field_and_the_limits_echoed(http):
    shown = submit(http, {"source_code": "import sys; print('out'); print('err', file=sys.stderr)",
                          "language_id": 71, "cpu_time_limit": 2, "wall_time_limit": 3.5,
                          "memory_limit": 200000, "max_processes_and_or_threads": 16,
                          "max_file_size": 1024})
    assert (shown["stdout"], shown["stderr"], shown["exit_code"], shown["exit_signal"]) == (
        "out\n", "err\n", 0, None)
    assert shown["compile_output"] is None and shown["message"] is None
    assert float(shown["time"]) >= 0 and float(shown["wall_time"]) > 0 and shown["memory"] > 0
    assert (shown["cpu_time_limit"], shown["wall_time_limit"], shown["memory_limit"],
            shown["max_processes_and_or_threads"], shown["max_file_size"]) == (
        2, 3.5, 200000, 16, 1024)
    assert shown["language_id"] == 71 and shown["created_at"].endswith("Z")
    assert shown["language"]["id"] == 71 and shown["language"]["name"].startswith("Python (3.")
    assert shown["finished_at"] >= shown["created_at"]


STATUS_PROGRAMS = [
    pytest.param(71, "while True: pass", {"wall_time_limit": 1, "cpu_time_limit": 1}, 5, None,
                 id="5"),
    pytest.param(50, "int main(void) { return nope; }", {}, 6, None, id="6"),
    pytest.param(50, "int main(void) { volatile int *p = 0; return *p; }", {}, 7, 11, id="7"),
    pytest.param(50, C_SIGNAL.format("SIGXFSZ"), {}, 8, 25, id="8-signal"),
    pytest.param(71, f"print('x' * {OUTPUT_LIMIT * 2})", {}, 8, None, id="8-output"),
    pytest.param(50, "int main(void) { volatile int a = 7, z = 0; return a / z; }", {}, 9, 8,
                 id="9"),
    pytest.param(50, C_SIGNAL.format("SIGABRT"), {}, 10, 6, id="10"),
    pytest.param(71, "raise SystemExit(3)", {}, 11, None, id="11"),
    pytest.param(50, C_SIGNAL.format("SIGUSR1"), {}, 12, 10, id="12-signal"),
    pytest.param(71, "x = bytearray(400 * 1024 * 1024)", {"memory_limit": 65536}, 12, None,
                 id="12-memory"),
]


@pytest.mark.parametrize("language_id,source,limits,status,signal", STATUS_PROGRAMS)
def test_statuses_as_judge0_defines_them(http, language_id, source, limits, status, signal):
    shown = submit(http, {"source_code": source, "language_id": language_id, **limits})
    assert shown["status"]["id"] == status, shown
    assert shown["status_id"] == status and shown["exit_signal"] == signal
    if status == 11:
        assert shown["exit_code"] == 3 and shown["message"] == "Exited with error status 3"
    if signal is not None:
        assert shown["message"].startswith(f"Killed by signal {signal} ")
    if status in (5, 8, 12) and signal is None:
        assert shown["message"] in ("Time limit exceeded", "Output limit exceeded",
                                    "Memory limit exceeded"), shown


def test_wrong_answer_uses_judge0s_comparison(http):
    shown = submit(http, {"source_code": "print('a ')\nprint('b')", "language_id": 71,
                          "expected_output": "a\nb\n\n"})
    assert shown["status"]["id"] == 3
    shown = submit(http, {"source_code": "print(' a')", "language_id": 71,
                          "expected_output": "a"})
    assert shown["status"]["id"] == 4 and shown["expected_output"] == "a"


@pytest.mark.parametrize("field,value", [
    ("callback_url", "http://127.0.0.1/"), ("command_line_arguments", "'unclosed"),
    ("command_line_arguments", "'a\nb'"), ("compiler_options", "-O3"),
    ("additional_files", "not base64!"), ("additional_files", "aGVsbG8="),
    ("enable_network", True), ("number_of_runs", 3), ("cpu_extra_time", 1), ("language_id", 9999),
    ("memory_limit", 10 ** 9), ("wall_time_limit", 0), ("surprise", 1), ("stdin", 5),
])
def test_what_livecode_cannot_honour_is_a_422_that_queues_nothing(server, http, field, value):
    before = livecode_executions(http)
    response = http.post("/submissions", json={"source_code": "print(1)", "language_id": 71,
                                                field: value})
    assert response.status_code == 422, response.text
    assert field in response.json()["error"]["message"]
    assert livecode_executions(http) == before


def zipped(*entries, symlink=None) -> str:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries:
            archive.writestr(name, content)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = (0o120777 << 16)
            archive.writestr(info, "/etc/passwd")
    return base64.b64encode(buffer.getvalue()).decode()


def test_command_line_arguments_are_split_as_a_shell_would_and_expand_nothing(http):
    shown = submit(http, {"source_code": "import sys\nprint(sys.argv[1:])", "language_id": 71,
                          "command_line_arguments": "-v 'two words' \"$HOME\" a\\ b"})
    assert shown["stdout"] == "['-v', 'two words', '$HOME', 'a b']\n", shown
    assert shown["command_line_arguments"] == "-v 'two words' '$HOME' 'a b'"


def test_compiler_options_reach_gcc_and_a_refused_one_queues_nothing(http):
    shown = submit(http, {"source_code": "#include <stdio.h>\nint main(void) { "
                                         "printf(\"%d\\n\", N); return 0; }",
                          "language_id": 50, "compiler_options": "-DN=42 -Wall"})
    assert (shown["status"]["id"], shown["stdout"]) == (3, "42\n"), shown
    assert shown["compiler_options"] == "-DN=42 -Wall"
    before = livecode_executions(http)
    response = http.post("/submissions", json={"source_code": "int main(){}", "language_id": 50,
                                                "compiler_options": "-fplugin=/tmp/x.so"})
    assert response.status_code == 422 and "refused" in response.text
    assert livecode_executions(http) == before


def test_redirect_stderr_to_stdout(http):
    shown = submit(http, {"source_code": "echo one; echo two >&2; echo three",
                          "language_id": 46, "redirect_stderr_to_stdout": True})
    assert (shown["stdout"], shown["stderr"]) == ("one\ntwo\nthree\n", ""), shown
    assert shown["redirect_stderr_to_stdout"] is True


def test_additional_files_sit_beside_the_source_file(http):
    files = zipped(("helper.py", "def twice(x):\n    return 2 * x\n"),
                   ("data/n.txt", "21\n"))
    shown = submit(http, {"source_code": "from helper import twice\n"
                                         "print(twice(int(open('data/n.txt').read())))",
                          "language_id": 71, "additional_files": files})
    assert (shown["status"]["id"], shown["stdout"]) == (3, "42\n"), shown
    import io
    import zipfile

    back = zipfile.ZipFile(io.BytesIO(base64.b64decode(shown["additional_files"])))
    assert sorted(back.namelist()) == ["data/n.txt", "helper.py"]
    encoded = submit(http, {"source_code": base64.b64encode(b"print(open('data/n.txt')"
                                                            b".read(), end='')").decode(),
                            "language_id": 71, "additional_files": files},
                     base64_encoded="true")
    assert base64.b64decode(encoded["stdout"]) == b"21\n"


def test_additional_files_in_c_are_compiled_and_linked(http):
    files = zipped(("lib.h", "int answer(void);\n"), ("lib.c", "int answer(void) { return 42; }\n"))
    shown = submit(http, {"source_code": '#include <stdio.h>\n#include "lib.h"\n'
                                         'int main(void) { printf("%d\\n", answer()); }',
                          "language_id": 50, "additional_files": files})
    assert (shown["status"]["id"], shown["stdout"]) == (3, "42\n"), shown


@pytest.mark.parametrize("archive, status, fragment", [
    (zipped(("../escape.py", "")), 422, "relative path"),
    (zipped(("/abs.py", "")), 422, "relative path"),
    (zipped(("script.py", "")), 422, "same name"),
    (zipped(("bin.dat", b"\xff\xfe")), 422, "UTF-8"),
    (zipped(symlink="link"), 422, "link"),
    (zipped(*[(f"f{n}.txt", "") for n in range(40)]), 422, "the limit is 31"),
    (zipped(("bomb.txt", b"0" * (20 << 20))), 413, "more than"),
])
def test_hostile_additional_files_are_refused_and_queue_nothing(http, archive, status, fragment):
    before = livecode_executions(http)
    response = http.post("/submissions", json={"source_code": "print(1)", "language_id": 71,
                                                "additional_files": archive})
    assert response.status_code == status, response.text
    assert fragment in response.json()["error"]["message"]
    assert livecode_executions(http) == before


def test_harmless_values_of_unsupported_fields_are_accepted(http):
    shown = submit(http, {"source_code": "print(1)", "language_id": 71, "callback_url": None,
                          "redirect_stderr_to_stdout": False, "number_of_runs": 1,
                          "command_line_arguments": ""})
    assert shown["status"]["id"] == 3


def test_required_fields(http):
    for body in ({"language_id": 71}, {"source_code": "print(1)"}):
        assert http.post("/submissions", json=body).status_code == 422


def test_batch_post_and_get_with_an_unknown_token(server, http):
    created = http.post("/submissions/batch", json={"submissions": [
        {"source_code": "print(1)", "language_id": 71},
        {"source_code": "echo 2", "language_id": 46}]})
    assert created.status_code == 201
    tokens = [item["token"] for item in created.json()]
    for _ in range(600):
        shown = http.get("/submissions/batch",
                         params={"tokens": ",".join([*tokens, "no-such-token"]),
                                 "fields": "token,stdout,status"}).json()["submissions"]
        if all(item["status"]["id"] > 2 for item in shown[:2]):
            break
    assert [item["stdout"] for item in shown[:2]] == ["1\n", "2\n"] and shown[2] is None
    before = livecode_executions(http)
    refused = http.post("/submissions/batch", json={"submissions": [
        {"source_code": "print(1)", "language_id": 71}, {"source_code": "x", "language_id": 1}]})
    assert refused.status_code == 422 and "submissions[1]: language_id 1" in refused.text
    assert livecode_executions(http) == before
    assert http.post("/submissions/batch", json={"submissions": []}).status_code == 422


def test_unknown_token_language_and_field_names(http):
    assert http.get("/submissions/00000000-0000-4000-8000-000000000000").status_code == 404
    assert http.get("/languages/9999").status_code == 404
    assert http.get("/languages/python").status_code == 404
    assert http.get("/submissions/x", params={"fields": "stdout,nope"}).status_code == 422


def test_languages_about_config_info(http):
    listing = http.get("/languages").json()
    assert all(set(entry) == {"id", "name"} for entry in listing)
    assert {entry["id"] for entry in listing} == {46, 48, 49, 50, 52, 53, 54, 63, 71, 74, 75}
    c = http.get("/languages/50").json()
    assert set(c) == {"id", "name", "is_archived", "source_file", "compile_cmd", "run_cmd"}
    assert c["name"].startswith("C (GCC ") and c["source_file"] == "main.c"
    about = http.get("/about").json()
    assert about["version"] == "1.13.1"
    config = http.get("/config_info").json()
    assert config["enable_callbacks"] is True and config["max_submission_batch_size"] == 20
    assert config["callbacks_max_tries"] == 6
    assert config["memory_limit"] == 262144 and config["max_memory_limit"] == 1024 * 1024
