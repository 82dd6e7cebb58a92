"""Piston v2's API under /api/v2, through a real ``livecode serve``: a Piston client from PyPI
(``ultra-piston``), unchanged, pointed at it by its base URL, in every language livecode has;
then the request and result fields over plain HTTP."""

import base64

import httpx
import pytest
from ultra_piston import File, PistonClient

pytestmark = pytest.mark.slow

UNLIMITED = ("runs_per_minute=0", "active_runs=0", "writes_per_second=0")
HELLO = {
    "python": 'print("Hello World")',
    "javascript": 'console.log("Hello World")',
    "typescript": 'const greeting: string = "Hello World";\nconsole.log(greeting);',
    "c": '#include <stdio.h>\nint main(void) { puts("Hello World"); return 0; }',
    "c++": '#include <iostream>\nint main() { std::cout << "Hello World" << std::endl; }',
    "bash": 'echo "Hello World"',
}
COMPILED = {"typescript", "c", "c++"}


@pytest.fixture(scope="module")
def served(serve_for_module):
    process, url, create_key = serve_for_module(LIVECODE_CONCURRENCY="2")
    return url, create_key("client", *UNLIMITED)


@pytest.fixture(scope="module")
def server(served):
    return served[0]


@pytest.fixture(scope="module")
def client(served):
    server, key = served
    # Piston's own servers take the key as the whole Authorization header.
    return PistonClient(base_url=f"{server}/api/v2/", api_key=f"Bearer {key}", rate_limit=0)


@pytest.fixture(scope="module")
def http(served):
    server, key = served
    with httpx.Client(base_url=f"{server}/api/v2",
                      headers={"Authorization": f"Bearer {key}"}, timeout=60) as session:
        yield session


def execute(http, status=200, **body) -> dict:
    response = http.post("/execute", json={"version": "*", **body})
    assert response.status_code == status, response.text
    return response.json()


def test_runtimes_through_the_client(client):
    runtimes = {runtime.language: runtime for runtime in client.get_runtimes()}
    assert set(runtimes) == set(HELLO)
    assert "cpp" in runtimes["c++"].aliases and "py" in runtimes["python"].aliases
    assert all(runtime.version.count(".") == 2 for runtime in runtimes.values())


@pytest.mark.parametrize("language", sorted(HELLO))
def test_hello_world_in_every_language_through_the_client(client, language):
    result = client.post_execute(language=language, version="*",
                                 file=File(name="main", content=HELLO[language]))
    assert (result.run.stdout, result.run.stderr, result.run.code, result.run.signal) == (
        "Hello World\n", "", 0, None), result
    assert result.run.output == "Hello World\n" and result.language == language
    assert (result.compile is not None) == (language in COMPILED)
    if result.compile is not None:
        assert result.compile.code == 0


def test_aliases_stdin_and_a_version_range(http):
    result = execute(http, language="py", version="3.x", stdin="4 5\n",
                     files=[{"content": "print(sum(map(int, input().split())))"}])
    assert result["language"] == "python" and result["run"]["stdout"] == "9\n"
    assert execute(http, 422, language="py", version="2.7.18",
                   files=[{"content": "print(1)"}])["error"]["field"] == "language"


def test_output_is_stdout_then_stderr_and_the_exit_code(http):
    result = execute(http, language="bash",
                     files=[{"content": "echo out; echo err >&2; exit 3"}])
    run = result["run"]
    assert (run["stdout"], run["stderr"], run["output"], run["code"], run["signal"]) == (
        "out\n", "err\n", "out\nerr\n", 3, None)


def test_run_timeout_and_memory_limit_translate(http):
    result = execute(http, language="python", run_timeout=1000, run_cpu_time=1000,
                     files=[{"content": "while True: pass"}])
    assert result["run"]["signal"] == "SIGKILL" and result["run"]["code"] is None
    assert result["run"]["message"] in ("wall_time_limit", "cpu_time_limit")
    result = execute(http, language="python", run_memory_limit=64 * 1024 * 1024,
                     files=[{"content": "x = bytearray(400 * 1024 * 1024)"}])
    assert result["run"]["message"] == "memory_limit" and result["run"]["code"] != 0
    # -1 is Piston's "no limit of my own": the server's default
    assert execute(http, language="python", run_memory_limit=-1, run_timeout=-1,
                   compile_memory_limit=-1, files=[{"content": "print(1)"}])["run"]["code"] == 0


def test_a_compile_error(http):
    result = execute(http, language="c", files=[{"content": "int main(void) { return nope; }"}])
    assert result["compile"]["code"] == 1 and "nope" in result["compile"]["stderr"]
    assert result["compile"]["output"] == result["compile"]["stderr"]
    assert result["run"]["code"] is None and result["run"]["stdout"] == ""


def test_file_encodings(http):
    source = 'print("encoded")'
    for encoding, content in (("base64", base64.b64encode(source.encode()).decode()),
                              ("hex", source.encode().hex()), ("utf8", source)):
        result = execute(http, language="python",
                         files=[{"name": "x.py", "content": content, "encoding": encoding}])
        assert result["run"]["stdout"] == "encoded\n", encoding


def livecode_executions(http) -> list:
    """The caller's runs, as livecode's own API lists them."""
    answer = http.get(f"{http.base_url.copy_with(path='/executions')}", params={"limit": 200})
    return [e["execution_id"] for e in answer.json()["executions"]]


@pytest.mark.parametrize("body", [
    {"language": "python", "files": [{"content": "print(1)"}], "args": ["a\u0000b"]},
    {"language": "python", "files": [{"content": "print(1)"}], "args": "-v"},
    {"language": "python", "files": [{"content": "a"}, {"name": "../b.py", "content": "b"}]},
    {"language": "python", "files": [{"name": "a.py", "content": "a"},
                                     {"name": "a.py", "content": "b"}]},
    {"language": "python", "files": [{"content": "a"}, {"content": "\xff", "encoding": "hex"}]},
    {"language": "python", "files": [{"content": "a"}, "b"]},
    {"language": "python", "files": []},
    {"language": "python", "files": [{"content": "x", "encoding": "utf16"}]},
    {"language": "python", "files": [{"content": "!!", "encoding": "base64"}]},
    {"language": "python", "files": [{"content": "print(1)"}], "run_timeout": 10 ** 9},
    {"language": "python", "files": [{"content": "print(1)"}], "compile_timeout": 0},
    {"language": "python", "files": [{"content": "print(1)"}], "surprise": 1},
    {"language": "python"},
    {"language": "brainfuck", "files": [{"content": "+"}]},
])
def test_what_livecode_cannot_honour_is_a_422_that_queues_nothing(server, http, body):
    before = livecode_executions(http)
    execute(http, 422, **body)
    assert livecode_executions(http) == before


def test_args_reach_the_program(http):
    result = execute(http, language="python", args=["-v", "two words", ""],
                     files=[{"content": "import sys; print(sys.argv[1:])"}])
    assert result["run"]["stdout"] == "['-v', 'two words', '']\n", result


@pytest.mark.parametrize("language, files", [
    ("python", [{"name": "app.py", "content": "from lib import twice\nprint(twice(21))"},
                {"name": "lib.py", "content": "def twice(x):\n    return 2 * x"}]),
    ("javascript", [{"content": "console.log(require('./lib.js').twice(21))"},
                    {"name": "lib.js", "content": "exports.twice = (x) => 2 * x"}]),
    ("c", [{"name": "main.c", "content": '#include <stdio.h>\nint twice(int);\n'
                                         'int main(void) { printf("%d\\n", twice(21)); }'},
           {"name": "lib.c", "content": "int twice(int x) { return 2 * x; }"}]),
])
def test_the_first_of_several_files_runs_with_the_others_beside_it(http, language, files):
    result = execute(http, language=language, files=files)
    assert (result["run"]["stdout"], result["run"]["code"]) == ("42\n", 0), result


@pytest.mark.parametrize("limit, value, cap", [
    ("run_timeout", 10 ** 9, 30000), ("run_timeout", -5, None),
    ("run_cpu_time", 10 ** 9, 20000), ("run_memory_limit", 10 ** 12, 1024 ** 3),
    ("run_memory_limit", -2, None), ("run_memory_limit", 0, None),
])
def test_a_limit_refused_is_named_as_piston_names_it_in_its_units(http, limit, value, cap):
    answer = execute(http, 422, language="python", files=[{"content": "print(1)"}],
                     **{limit: value})["error"]
    assert answer["field"] == limit and answer.get("cap") == cap, answer


def test_without_a_key_piston_routes_are_401(server):
    assert httpx.get(f"{server}/api/v2/runtimes").status_code == 401


def test_at_most_half_the_threads_wait_and_the_rest_is_refused_before_queueing(serve):
    import concurrent.futures

    process, api = serve(LIVECODE_API_THREADS="2")  # one waiting slot
    url = f"{api.url}/api/v2/execute"
    body = {"language": "python", "version": "*",
            "files": [{"content": "import time; time.sleep(2); print('slept')"}]}
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        # Whichever comes first holds the slot for the two seconds its run sleeps.
        answers = list(pool.map(lambda _: httpx.post(url, json=body, timeout=60), range(2)))
    answers.sort(key=lambda answer: answer.status_code)
    assert [answer.status_code for answer in answers] == [200, 503]
    assert answers[0].json()["run"]["stdout"] == "slept\n" and "waiting" in answers[1].text
    assert len(api.get("/executions")["executions"]) == 1  # the refused one queued nothing
    assert httpx.post(url, json=body, timeout=60).status_code == 200  # the slot is free again
