"""Testing against real livecode processes, for livecode's own tests and benches and for plugin
authors; also a pytest plugin (the ``pytest11`` entry point ``livecode``), so its fixtures are there
in any pytest run where livecode is installed.

- :class:`LivecodeProcess` starts ``livecode serve``, ``api`` or ``worker`` as a subprocess,
  learns where it listens and stops it the way an operator would.
- :class:`LivecodeServer` is a started ``livecode serve`` with a client: run a program, check the
  server is healthy, and that nothing of a run is left behind.
- Fixtures: ``livecode_server`` (one ``livecode serve`` per test module, on the sandbox named by the
  ``livecode_sandbox`` fixture and the settings of ``livecode_env``; override either in your
  conftest), ``livecode_serve`` (start more, each on its own settings) and ``chromium`` (a
  headless browser, for what a real browser's ``fetch`` sees).
- Suites to subclass: :class:`LanguageConformance` (a runner proves hello world, an exception,
  stdin, a timeout and a compile error) and :class:`HostileBattery` (a sandbox proves it holds
  against the hostile programs of livecode's own battery). See docs/plugins.md.
"""

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest


class LivecodeProcess:
    """A ``livecode`` CLI subprocess (serve, api or worker) with its output kept for failures.

    With ``user``, it runs as that user (by ``setpriv``, on a clean environment) on ``python``, an
    interpreter with livecode installed that this user can reach; ``wrapper`` is a command line
    to start it through (``unshare …``)."""

    def __init__(self, args: list[str], env: dict, log_path: Path, user: str | None = None,
                 python: str = sys.executable, wrapper: tuple[str, ...] = ()):
        self.log_path = log_path
        self.log = open(log_path, "w+")
        command = [*wrapper, python, "-m", "livecode.cli", *args]
        environ = {**os.environ, **env}
        if user:
            import pwd

            entry = pwd.getpwnam(user)
            command = ["setpriv", f"--reuid={entry.pw_uid}", f"--regid={entry.pw_gid}",
                       "--clear-groups", "--", *command]
            environ = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", **env}
        self.proc = subprocess.Popen(
            command, env=environ, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_for(self, pattern: str, timeout: float = 30) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = re.search(pattern, self.log_path.read_text())
            if match:
                return match
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"no {pattern!r} from livecode; its output:\n"
                             f"{self.log_path.read_text()}")

    def url(self, timeout: float = 30) -> str:
        """The address ``serve`` or ``api`` listens on, once it does."""
        return self.wait_for(r"listening on (http://\S+)", timeout).group(1)

    def terminate(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)

    def stop(self, timeout: float = 30) -> int:
        self.terminate()
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.log.close()
        return self.proc.returncode


def stop_all(processes) -> None:
    """Signal every process first, then wait: they drain in parallel, not one after another."""
    for process in processes:
        process.terminate()
    for process in processes:
        process.stop()


# --- a started server ---------------------------------------------------------------------------

# The limits the hostile battery's expectations are written for (1 MiB of output, 128 MiB of
# memory, 2 s of CPU, 4 s of wall time, 16 MiB of disk, 32 processes).
BATTERY_LIMITS = {"LIVECODE_WALL_TIME_LIMIT": "4", "LIVECODE_CPU_TIME_LIMIT": "2",
                  "LIVECODE_MEMORY_LIMIT": str(128 * 1024),
                  "LIVECODE_OUTPUT_LIMIT": str(1024 * 1024),
                  "LIVECODE_DISK_LIMIT": str(16 * 1024 * 1024), "LIVECODE_MAX_PROCESSES": "32"}
SANDBOX_UID_BASE = 2_000_000_000  # the subprocess sandbox's default uid range starts here


def sandbox_processes(uid_base: int = SANDBOX_UID_BASE) -> list[int]:
    """Pids of live processes running as a sandbox uid (at or above ``uid_base``): what runs of
    the subprocess sandbox left behind."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            uid = entry.stat().st_uid
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if uid >= uid_base and state != "Z":
            found.append(int(entry.name))
    return found


def descendants(pid: int) -> set[int]:
    """The pids of ``pid``'s children, their children and so on."""
    children = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, pending = set(), [pid]
    while pending:
        for child in children.get(pending.pop(), []):
            found.add(child)
            pending.append(child)
    return found


class LivecodeServer:
    """A running ``livecode serve``: its process, a client, its sandbox and directories.

    :meth:`leftovers` looks for what a run may leave: files in the work root, processes of
    the sandbox's uids (:meth:`run_processes`) and the docker sandbox's containers
    (:meth:`run_containers`). A sandbox that runs programs otherwise (its own uids, containers,
    VMs) subclasses this and overrides those, and returns its class from a
    ``livecode_server_class`` fixture."""

    def __init__(self, sandbox: str, process: LivecodeProcess, root: Path, http=None):
        from livecode.client import ApiClient

        self.sandbox, self.process, self.root = sandbox, process, root
        self.http = http or ApiClient(process.url(timeout=60), timeout=30)
        self.work_root = root / "runs"
        self.store_file = root / "data" / "livecode.db"

    def run(self, source: str, stdin: str = "", language: str | None = None,
            **limits) -> dict:
        """Submit ``source`` and wait for its result (the ``/exec-result`` view of it)."""
        body = {"code": source, "stdin": stdin, **limits}
        if language:
            body["language"] = language
        status, job = self.http.call("POST", "/submit-code", body)
        assert status == 202, job
        return self.http.wait(job["jobId"], timeout=90)

    def healthy(self) -> None:
        assert self.process.proc.poll() is None, "the server died"
        status, health = self.http.call("GET", "/health")
        assert status == 200 and health["ok"], health

    def run_processes(self) -> list[int]:
        return sandbox_processes()

    def run_containers(self) -> list[str]:
        """On the docker sandbox, the containers that ran a program for this server (its warm
        pool's idle ones are named ``livecode-idle-``), by the owner label naming its worker;
        not those of other servers on the host."""
        if self.sandbox != "docker":
            return []
        ours = {self.process.proc.pid} | descendants(self.process.proc.pid)
        out = subprocess.run(["docker", "ps", "-a", "--filter", "label=livecode.sandbox",
                              "--filter", "name=livecode-run-",
                              "--format", '{{.ID}} {{.Label "livecode.owner"}}'],
                             capture_output=True, text=True, check=True)
        return [line.split()[0] for line in out.stdout.splitlines()
                if line.rpartition(":")[2].isdigit() and int(line.rpartition(":")[2]) in ours]

    def leftovers(self) -> dict:
        return {"processes": self.run_processes(), "containers": self.run_containers(),
                "files": sorted(str(p) for p in self.work_root.rglob("*"))}

    def finish(self, hello_world: str = 'print("Hello World")', language: str | None = None,
               within: float = 10) -> None:
        """The API answers, the next normal run is right, and within ``within`` seconds nothing
        of the runs before is left."""
        self.healthy()
        normal = self.run(hello_world, language=language)
        assert normal["status"] == "COMPLETED" and normal["stdout"] == "Hello World\n", normal
        deadline = time.monotonic() + within
        while any((left := self.leftovers()).values()):
            assert time.monotonic() < deadline, f"left behind: {left}"
            time.sleep(0.2)


def start_server(root: Path, sandbox: str = "subprocess", server_class=LivecodeServer,
                 **env) -> LivecodeServer:
    """``livecode serve`` on a free port with its data and work root under ``root``, the sandbox
    named, and ``env`` (``LIVECODE_*`` settings) on top. The caller stops ``.process``."""
    for sub in ("runs", "data"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    env = {"LIVECODE_DATA_DIR": str(root / "data"), "LIVECODE_WORK_ROOT": str(root / "runs"),
           "LIVECODE_SANDBOX": sandbox, "LIVECODE_CONCURRENCY": "2", **env}
    process = LivecodeProcess(["serve", "--port", "0"], env, root / "serve.log")
    try:
        return server_class(sandbox, process, root)
    except BaseException:
        process.stop()
        raise


# --- fixtures (pytest11 entry point) ----------------------------------------------------------


@pytest.fixture(scope="module")
def livecode_sandbox() -> str:
    """The sandbox ``livecode_server`` uses; override it (parametrise it) in your conftest."""
    return "subprocess"


@pytest.fixture(scope="module")
def livecode_env() -> dict:
    """Extra ``LIVECODE_*`` settings for ``livecode_server``, on top of :data:`BATTERY_LIMITS`."""
    return {}


@pytest.fixture(scope="module")
def livecode_server_class() -> type[LivecodeServer]:
    return LivecodeServer


@pytest.fixture(scope="module")
def livecode_server(livecode_sandbox, livecode_env, livecode_server_class, tmp_path_factory):
    """One ``livecode serve`` for the test module, stopped after its last test."""
    root = tmp_path_factory.mktemp(f"livecode-{livecode_sandbox}")
    server = start_server(root, livecode_sandbox, livecode_server_class,
                          **{**BATTERY_LIMITS, **livecode_env})
    try:
        yield server
    finally:
        server.process.stop()


@pytest.fixture
def livecode_serve(tmp_path):
    """Start ``livecode serve`` (``livecode_serve(sandbox="subprocess", **env)``) as often as a
    test needs; each is stopped after the test."""
    started = []

    def start(sandbox: str = "subprocess", **env) -> LivecodeServer:
        server = start_server(tmp_path / f"serve-{len(started)}", sandbox, **env)
        started.append(server.process)
        return server

    yield start
    stop_all(started)


def in_ci() -> bool:
    """CI sets ``CI``; there a missing part is a failure, not a skip."""
    return os.environ.get("CI", "") not in ("", "0", "false")


def chromium_paths() -> tuple[str, str] | None:
    """Debian's ``chromium`` and ``chromedriver`` (``scripts/ensure-browser``), if both are here."""
    import shutil

    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


def start_chromium(user_data_dir: Path):
    """A headless Chromium driven by Selenium. The driver's path goes to ``Service`` so Selenium
    Manager never runs: nothing may download a browser or a driver at run time."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser, driver = chromium_paths()
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for argument in ("--headless=new", "--disable-gpu", "--disable-dev-shm-usage",
                     "--no-first-run", "--disable-extensions", f"--user-data-dir={user_data_dir}"):
        options.add_argument(argument)
    if os.geteuid() == 0:
        options.add_argument("--no-sandbox")  # Chromium's own sandbox refuses to run as root
    return webdriver.Chrome(service=Service(executable_path=driver), options=options)


@pytest.fixture(scope="module")
def chromium(tmp_path_factory):
    """A headless Chromium (a Selenium ``WebDriver``), one per test module since starting one
    costs about a second. Skips when Chromium is not installed, except in CI, which fails:
    ``scripts/ensure-browser`` installs it there."""
    if chromium_paths() is None:
        reason = "chromium and chromedriver are not installed (run scripts/ensure-browser)"
        if in_ci():
            pytest.fail(reason)
        pytest.skip(reason)
    driver = start_chromium(tmp_path_factory.mktemp("chromium"))
    try:
        yield driver
    finally:
        driver.quit()


# --- suites to subclass -------------------------------------------------------------------------


class LanguageConformance:
    """What every language runner must do, through a real ``livecode serve``. Subclass it in a
    ``Test…`` class, set the attributes, and the tests run against the ``livecode_server``
    fixture (on the sandbox ``livecode_sandbox`` names)::

        class TestLua(LanguageConformance):
            language = "lua"
            hello_world = 'print("Hello World")'
            runtime_error = ('error("boom")', "boom")
            sum_stdin = "local s = 0 for n in io.read('a'):gmatch('%S+') do s = s + n end print(s)"
            endless_loop = "while true do end"
    """

    language: str
    hello_world: str  # prints "Hello World" and a newline
    runtime_error: tuple[str, str]  # a program that fails, and a text its stderr shows
    sum_stdin: str  # prints the sum of the whitespace-separated integers on stdin
    endless_loop: str  # never ends, burning CPU
    # where the runner compiles: a program that does not compile, and a text of the messages
    compile_error: tuple[str, str] | None = None
    # a program of several files that prints "Hello World" from a function of another file:
    # its entry's name and its files ([{name, content}])
    several_files: tuple[str, list[dict]] | None = None
    print_args: str | None = None  # prints each of its command-line arguments on a line

    def test_hello_world(self, livecode_server):
        result = livecode_server.run(self.hello_world, language=self.language)
        assert (result["status"], result["stdout"], result["exit_code"]) == (
            "COMPLETED", "Hello World\n", 0), result
        assert result["language"] == self.language

    def test_a_runtime_error_fails_with_its_message(self, livecode_server):
        source, message = self.runtime_error
        result = livecode_server.run(source, language=self.language)
        assert result["status"] == "FAILED", result
        assert message in result["stderr"], result

    def test_reading_stdin(self, livecode_server):
        result = livecode_server.run(self.sum_stdin, stdin="1 2 3\n4\n5\n",
                                     language=self.language)
        assert (result["status"], result["stdout"]) == ("COMPLETED", "15\n"), result

    def test_a_loop_that_never_ends_times_out(self, livecode_server):
        result = livecode_server.run(self.endless_loop, language=self.language,
                                     wall_time_limit=1.5)
        assert result["status"] == "TIMEOUT", result
        assert result["reason"] in ("wall_time_limit", "cpu_time_limit"), result
        livecode_server.healthy()

    def test_a_compile_error_fails_with_the_compiler_s_messages(self, livecode_server):
        if self.compile_error is None:
            pytest.skip(f"{self.language} has no compile step")
        source, message = self.compile_error
        result = livecode_server.run(source, language=self.language)
        assert (result["status"], result["reason"]) == ("FAILED", "compilation_error"), result
        assert message in result["compile_output"], result
        assert result["stdout"] == "" and result["exit_code"] is None  # nothing ran

    def test_a_program_of_several_files_runs_its_entry(self, livecode_server):
        if self.several_files is None:
            pytest.skip("no program of several files given")
        entry, files = self.several_files
        result = livecode_server.run("", language=self.language, files=files, entry=entry)
        assert (result["status"], result["stdout"]) == ("COMPLETED", "Hello World\n"), result

    def test_arguments_reach_the_program(self, livecode_server):
        if self.print_args is None:
            pytest.skip("no program printing its arguments given")
        result = livecode_server.run(self.print_args, language=self.language,
                                     args=["one", "two words", ""])
        assert (result["status"], result["stdout"]) == ("COMPLETED", "one\ntwo words\n\n"), \
            result

    def test_the_language_is_listed_with_its_version(self, livecode_server):
        languages = livecode_server.http.get("/languages")["languages"]
        mine = [lang for lang in languages if lang["name"] == self.language]
        assert len(mine) == 1 and mine[0]["version"], languages
        assert mine[0]["sandbox"] == livecode_server.sandbox


class HostileBattery:
    """The part of livecode's hostile battery that any sandbox must pass, as Python programs
    (the built-in runner) through a real ``livecode serve`` under :data:`BATTERY_LIMITS`: the
    limits hold and are reported by name, nothing outlives its run, nothing outside the run's
    directory is written, no privilege is gained, the network is out of reach, and the server
    serves on. After each, :meth:`LivecodeServer.finish` checks the server and the leftovers.

    Subclass it in a ``Test…`` class next to a ``livecode_sandbox`` fixture naming yours::

        @pytest.fixture(scope="module")
        def livecode_sandbox():
            return "nsjail"

        class TestNsjail(HostileBattery):
            pass
    """

    # --- resource exhaustion

    def test_fork_bomb(self, livecode_server):
        result = livecode_server.run("import os\nwhile True:\n    try:\n        os.fork()\n"
                                     "    except OSError:\n        pass\n")
        assert result["status"] == "TIMEOUT", result
        livecode_server.finish()

    def test_memory_bomb_is_reported_as_memory_limit(self, livecode_server):
        result = livecode_server.run(
            "blocks = []\nwhile True:\n    blocks.append(bytearray(8 << 20))\n")
        assert (result["status"], result["reason"]) == ("FAILED", "memory_limit"), result
        livecode_server.finish()

    def test_cpu_spin_is_a_cpu_time_timeout(self, livecode_server):
        # A wall limit far above the CPU limit, so that on a busy host (where a spinning run gets
        # a fraction of a core) the CPU limit is still the one that ends it.
        result = livecode_server.run("while True: pass", cpu_time_limit=1, wall_time_limit=20)
        assert (result["status"], result["reason"]) == ("TIMEOUT", "cpu_time_limit"), result
        livecode_server.finish()

    def test_sleep_past_the_wall_limit(self, livecode_server):
        started = time.monotonic()
        result = livecode_server.run("import time; time.sleep(60)", wall_time_limit=1)
        assert (result["status"], result["reason"]) == ("TIMEOUT", "wall_time_limit"), result
        assert time.monotonic() - started < 1 + 3
        livecode_server.finish()

    def test_two_hundred_megabytes_to_stdout(self, livecode_server):
        started = time.monotonic()
        result = livecode_server.run("import sys\nfor _ in range(200):\n"
                                     "    sys.stdout.buffer.write(b'x' * 1_000_000)\n")
        assert (result["status"], result["reason"]) == ("FAILED", "output_limit"), result
        assert result["truncated"] and len(result["stdout"]) == 1024 * 1024
        assert time.monotonic() - started < 10
        livecode_server.finish()

    def test_filling_the_disk_stops_at_the_run_s_own_limit(self, livecode_server):
        before = os.statvfs("/tmp").f_bavail
        result = livecode_server.run(
            "f = open('fill', 'wb')\nwhile True:\n    f.write(b'x' * 65536)\n    f.flush()\n")
        assert result["status"] == "FAILED", result
        assert ("No space left on device" in result["stderr"]
                or "File too large" in result["stderr"]), result
        assert abs(os.statvfs("/tmp").f_bavail - before) * os.statvfs("/tmp").f_frsize < 8 << 20
        livecode_server.finish()

    # --- escaping the run's lifetime

    def test_double_forked_daemon_does_not_outlive_the_run(self, livecode_server):
        source = ("import os, time\n"
                  "if os.fork() == 0:\n"
                  "    os.setsid()\n"
                  "    if os.fork() == 0:\n"
                  "        time.sleep(120)\n"
                  "    os._exit(0)\n"
                  "print('parent leaves')\n")
        result = livecode_server.run(source)
        assert result["status"] == "COMPLETED" and result["stdout"] == "parent leaves\n", result
        livecode_server.finish()

    def test_setsid_and_setpgid_do_not_escape(self, livecode_server):
        source = ("import os, time\n"
                  "for escape in (os.setsid, lambda: os.setpgid(0, 0)):\n"
                  "    if os.fork() == 0:\n"
                  "        escape()\n"
                  "        time.sleep(120)\n"
                  "print('spawned')\n")
        result = livecode_server.run(source)
        assert result["status"] == "COMPLETED", result
        livecode_server.finish()

    def test_kill_every_process_it_can(self, livecode_server):
        result = livecode_server.run(
            "import os, signal\nos.kill(-1, signal.SIGKILL)\nprint('alive')")
        assert result["status"] in ("COMPLETED", "FAILED"), result
        livecode_server.finish()  # the worker and the API survived

    # --- reaching what is not the run's

    def test_no_network_to_the_broker_the_api_or_another_host(self, livecode_server):
        api_port = int(livecode_server.http.url.rsplit(":", 1)[1])
        own_address = next((a for a in socket.gethostbyname_ex(socket.gethostname())[2]
                            if not a.startswith("127.")), "192.0.2.2")
        source = (
            "import socket\n"
            f"for host, port in [('127.0.0.1', 6379), ('127.0.0.1', {api_port}), "
            f"({own_address!r}, {api_port})]:\n"
            "    try:\n"
            "        socket.create_connection((host, port), timeout=2).close()\n"
            "        print('REACHED', host, port)\n"
            "    except OSError as exc:\n"
            "        print('blocked', host, port, type(exc).__name__)\n"
        )
        result = livecode_server.run(source)
        assert result["status"] == "COMPLETED", result
        assert "REACHED" not in result["stdout"] and result["stdout"].count("blocked") == 3
        livecode_server.finish()

    def test_writing_outside_the_working_directory(self, livecode_server):
        targets = ["/etc/livecode-pwned", "/usr/lib/livecode-pwned", "/root/livecode-pwned",
                   str(livecode_server.root / "livecode-pwned"), "/livecode-pwned"]
        source = (
            f"for path in {targets!r}:\n"
            "    try:\n"
            "        open(path, 'w').write('x')\n"
            "        print('WROTE', path)\n"
            "    except OSError as exc:\n"
            "        print('denied', path)\n"
        )
        result = livecode_server.run(source)
        assert result["status"] == "COMPLETED" and "WROTE" not in result["stdout"], result
        assert not any(os.path.exists(p) for p in targets)
        livecode_server.finish()

    def test_files_left_for_a_later_run_are_gone(self, livecode_server):
        plant = ("import os, shutil, sys\n"
                 "for d in ('/tmp', '/var/tmp', '/dev/shm', '.'):\n"
                 "    try:\n"
                 "        open(os.path.join(d, 'left-behind'), 'w').write('x')\n"
                 "    except OSError:\n"
                 "        pass\n"
                 "try:\n"
                 "    shutil.copy(sys.executable, '/tmp/suid-python')\n"
                 "    os.chmod('/tmp/suid-python', 0o4755)\n"
                 "except OSError:\n"
                 "    pass\n"
                 "print('planted')\n")
        assert livecode_server.run(plant)["status"] == "COMPLETED"
        look = ("import os\n"
                "for p in ('/tmp/left-behind', '/var/tmp/left-behind', '/dev/shm/left-behind',\n"
                "          'left-behind', '/tmp/suid-python'):\n"
                "    print(p, os.path.exists(p))\n")
        result = livecode_server.run(look)
        assert result["status"] == "COMPLETED" and "True" not in result["stdout"], result
        for path in ("/tmp/left-behind", "/var/tmp/left-behind", "/dev/shm/left-behind",
                     "/tmp/suid-python"):
            assert not os.path.exists(path)
        livecode_server.finish()

    def test_no_privilege_to_gain(self, livecode_server):
        source = ("import os\n"
                  "print(os.getuid() != 0, os.geteuid() != 0)\n"
                  "status = open('/proc/self/status').read()\n"
                  "print([l for l in status.splitlines() if l.startswith(('CapEff', "
                  "'NoNewPrivs'))])\n")
        result = livecode_server.run(source)
        assert result["status"] == "COMPLETED", result
        lines = result["stdout"].splitlines()
        assert lines[0] == "True True"
        assert "CapEff:\\t0000000000000000" in lines[1] and "NoNewPrivs:\\t1" in lines[1]
        livecode_server.finish()

    # --- what users send

    def test_quotes_newlines_and_shell_syntax_pass_through_untouched(self, livecode_server):
        tricky = "a'b\"c\n$(touch /tmp/pwned) `id` ; rm -rf / #\\n\x00end"
        source = ("import sys\n"
                  "data = sys.stdin.read()\n"
                  f"print(data == {tricky!r}, repr(data))\n"
                  "# '; rm -rf / # $(reboot)\n")
        result = livecode_server.run(source, stdin=tricky)
        assert result["status"] == "COMPLETED", result
        assert result["stdout"].startswith("True ")
        assert not os.path.exists("/tmp/pwned")
        livecode_server.finish()

    def test_input_it_never_reads(self, livecode_server):
        result = livecode_server.run("import time; time.sleep(60)", stdin="y" * 65536,
                                     wall_time_limit=1)
        assert (result["status"], result["reason"]) == ("TIMEOUT", "wall_time_limit"), result
        livecode_server.finish()

    def test_output_that_is_not_utf8(self, livecode_server):
        result = livecode_server.run("import sys; sys.stdout.buffer.write(b'ok \\xff\\xfe\\n')")
        assert result["status"] == "COMPLETED" and result["stdout"] == "ok \ufffd\ufffd\n", result
        livecode_server.finish()

    def test_closing_its_output_and_lingering(self, livecode_server):
        result = livecode_server.run("import os, time\nos.close(1)\nos.close(2)\ntime.sleep(60)",
                                     wall_time_limit=1)
        assert (result["status"], result["reason"]) == ("TIMEOUT", "wall_time_limit"), result
        livecode_server.finish()
