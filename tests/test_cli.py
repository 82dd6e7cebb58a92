"""``livecode`` as a new user meets it, run as a subprocess: clear refusals instead of
tracebacks or guesses, exit statuses that say whose failure it was, and the API's own error
shape even for requests the HTTP server refuses."""

import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest

from livecode import __version__

OWN_ERROR = 125


def livecode(*args, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "livecode.cli", *args], capture_output=True,
                          text=True, timeout=120, **kwargs)


def test_version_and_help_read_as_plain_text():
    assert livecode("--version").stdout.strip() == f"livecode {__version__}"
    for args in ((), ("run",), ("serve",), ("api",), ("worker",)):
        text = livecode(*args, "--help").stdout
        assert "usage: livecode" in text
        for markup in ("``", "[bold", ":class:", "%("):
            assert markup not in text, (args, markup)
    assert "125" in livecode("--help").stdout  # the exit statuses are documented
    console = subprocess.run([sys.executable, "-m", "livecode.console.cli", "--help"],
                             capture_output=True, text=True, timeout=60).stdout
    assert "usage: livecode-console" in console and "``" not in console


def test_a_usage_error_is_livecodes_own_not_a_programs():
    result = livecode("run")  # no file
    assert result.returncode == OWN_ERROR and "the following arguments are required" in \
        result.stderr


@pytest.mark.slow
def test_run_refuses_what_it_cannot_run_correctly(serve, tmp_path):
    _, http = serve()
    latin1 = tmp_path / "latin1.py"
    latin1.write_bytes(b"print('caf\xe9')\n")
    result = livecode("run", str(latin1), "--url", http.url)
    assert result.returncode == OWN_ERROR
    assert "latin1.py is not UTF-8 text (byte 0xe9 at offset 10)" in result.stderr
    assert "Traceback" not in result.stderr

    ruby = tmp_path / "a.rb"
    ruby.write_text("puts 1\n")
    result = livecode("run", str(ruby), "--url", http.url)
    assert result.returncode == OWN_ERROR
    assert "no language for files ending in .rb" in result.stderr
    assert "python (.py)" in result.stderr and "--language" in result.stderr
    result = livecode("run", str(ruby), "--url", http.url, "--language", "ruby")
    assert result.returncode == OWN_ERROR and "has no language 'ruby'" in result.stderr
    # Nothing was submitted for any of them.
    assert http.call("GET", "/executions")[1]["executions"] == []


@pytest.mark.slow
def test_run_passes_the_programs_exit_status_through(serve, tmp_path):
    _, http = serve()
    program = tmp_path / "two.py"
    program.write_text("import sys\nprint('out')\nsys.exit(2)\n")
    # A URL without a scheme is an http one.
    result = livecode("run", str(program), "--url", http.url.removeprefix("http://"))
    assert result.returncode == 2 and result.stdout == "out\n"
    # Standard input has no extension: with several languages served, it names its own.
    piped = livecode("run", "-", "--url", http.url, "--language", "python",
                     input="print('from stdin')\n")
    assert piped.returncode == 0 and piped.stdout == "from stdin\n"


@pytest.mark.slow
def test_run_sends_the_other_files_of_a_program_and_its_arguments(serve, tmp_path):
    _, http = serve()
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "greet.py").write_text("def greet(a): return 'hi ' + ' '.join(a)\n")
    (tmp_path / "main.py").write_text("import sys\nfrom lib.greet import greet\n"
                                      "print(greet(sys.argv[1:]))\n")
    result = livecode("run", str(tmp_path / "main.py"), "--with",
                      str(tmp_path / "lib" / "greet.py"), "--arg", "a", "--arg", "b c",
                      "--url", http.url)
    assert (result.returncode, result.stdout) == (0, "hi a b c\n"), result.stderr
    outside = livecode("run", str(tmp_path / "main.py"), "--with", "/etc/hostname",
                       "--url", http.url)
    assert outside.returncode == OWN_ERROR and "is not under" in outside.stderr


@pytest.mark.slow
def test_a_wrong_url_says_it_is_not_a_livecode_api(serve, tmp_path):
    program = tmp_path / "p.py"
    program.write_text("print(1)\n")
    _, http = serve()
    result = livecode("run", str(program), "--url", http.url + "/api/v1")
    assert result.returncode == OWN_ERROR
    assert "should be the server's root" in result.stderr and "no route" in result.stderr

    class NotLivecode(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_error(404)  # an HTML page, as most web servers answer

        def log_message(self, *args):
            pass

    other = ThreadingHTTPServer(("127.0.0.1", 0), NotLivecode)
    threading.Thread(target=other.serve_forever, daemon=True).start()
    try:
        result = livecode("run", str(program), "--url", f"127.0.0.1:{other.server_port}")
    finally:
        other.shutdown()
    assert result.returncode == OWN_ERROR
    assert "not a livecode API" in result.stderr and "404" in result.stderr


@pytest.mark.parametrize("command", ["api", "worker"])
def test_api_and_worker_refuse_a_queue_that_cannot_leave_their_process(command, tmp_path):
    result = livecode(command, *(["--port", "0"] if command == "api" else []),
                      env={"PATH": "/usr/bin:/bin", "LIVECODE_DATA_DIR": str(tmp_path)})
    assert result.returncode == OWN_ERROR
    message = result.stderr
    assert "memory://" in message and "LIVECODE_QUEUE" in message
    assert "redis://" in message and "amqp://" in message and "livecode serve" in message
    assert "listening" not in result.stdout


def test_an_unexpected_failure_at_start_is_livecodes_own_status(tmp_path):
    """A store file written by a newer livecode: not a LivecodeError, still not a 1 that
    ``livecode run``'s programs use."""
    import sqlite3

    db = tmp_path / "newer.db"
    sqlite3.connect(db).execute("PRAGMA user_version = 999").connection.commit()
    result = livecode("serve", "--port", "0", "--store", f"sqlite:////{db}",
                      env={"PATH": "/usr/bin:/bin", "LIVECODE_DATA_DIR": str(tmp_path)})
    assert result.returncode == OWN_ERROR
    assert "schema version 999" in result.stderr and "unexpected error" in result.stderr


def test_a_port_in_use_is_one_clear_line(tmp_path):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    try:
        result = livecode("serve", "--port", str(port),
                          env={"PATH": "/usr/bin:/bin", "LIVECODE_DATA_DIR": str(tmp_path)})
    finally:
        taken.close()
    assert result.returncode == OWN_ERROR
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == [f"livecode: port {port} on 127.0.0.1 is already in use; choose another "
                     f"with --port or LIVECODE_PORT (or stop what listens there)"], result.stderr


@pytest.mark.slow
def test_a_malformed_request_line_gets_the_json_error(serve):
    import json

    _, http = serve()
    for raw in (b"GARBAGE\r\n\r\n", b"GET /health HTTP/9.9\r\n\r\n"):
        address = urlsplit(http.url)
        with socket.create_connection((address.hostname, address.port), timeout=10) as conn:
            conn.sendall(raw)
            answer = b""
            while chunk := conn.recv(65536):
                answer += chunk
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 400 ") and b"application/json" in head, answer
        error = json.loads(body)["error"]
        assert error["status"] == 400 and error["code"] == "bad_request" and error["message"]
    assert http.call("GET", "/health")[0] == 200  # and the server is fine
