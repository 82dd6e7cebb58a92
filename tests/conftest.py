"""Fixtures that build livecode from real parts: a SQLite file in a temporary directory, Kombu's
in-process transport or the real Redis, the real subprocess sandbox, real HTTP servers."""

import functools
import os
import subprocess
import sys
import uuid
from collections import Counter
from pathlib import Path

import pytest

from livecode.client import ApiClient
from livecode.core.config import Settings
from livecode.core.limits import Limits
from livecode.core.models import CodeSession, Execution
from livecode.core.service import Livecode
from livecode.plugins.kombu_queue.memory_transport import reset as reset_memory_queues
from livecode.testing import LivecodeProcess, sandbox_processes, stop_all  # noqa: F401

REDIS_URL = os.environ.get("LIVECODE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
IN_CI = os.environ.get("CI", "") not in ("", "0", "false")
DOCKER_IMAGE = "livecode-python:bookworm"


def queued(store, source="print(1)") -> Execution:
    """A new session and a QUEUED execution of it, straight into ``store``."""
    session = CodeSession.new("python", source)
    store.create_session(session)
    execution = Execution.snapshot(session, "in", Limits(wall_time_limit=2.0))
    store.create_execution(execution)
    return execution


def make_settings(tmp_path: Path, **env) -> Settings:
    work_root = tmp_path / "runs"
    work_root.mkdir(exist_ok=True)
    base = {
        "LIVECODE_DATA_DIR": str(tmp_path / "data"),
        "LIVECODE_WORK_ROOT": str(work_root),
        "LIVECODE_QUEUE": "memory://",
        "LIVECODE_QUEUE_NAME": f"test-{uuid.uuid4().hex[:8]}",
        "LIVECODE_CONCURRENCY": "2",
    }
    base.update(env)
    return Settings.from_env(base)


@pytest.fixture
def settings(tmp_path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def settings_with(tmp_path):
    """Settings with extra ``LIVECODE_*`` environment variables."""
    return lambda **env: make_settings(tmp_path, **env)


@pytest.fixture
def livecode(settings):
    reset_memory_queues()
    service = Livecode.open(settings)
    yield service
    service.close()
    reset_memory_queues()


@pytest.fixture
def redis_url():
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        message = f"Redis is not reachable at {REDIS_URL}: {exc}"
        if IN_CI:
            pytest.fail(message + " (.ci/run should have started it)")
        pytest.skip(message)
    yield REDIS_URL
    # Kombu remembers each queue's binding in a set; forget the test queues'.
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter("_kombu.binding.*"):
        stale = [m for m in client.smembers(key) if b"test-" in m]
        if stale:
            client.srem(key, *stale)


def docker_problem() -> str | None:
    try:
        import docker

        client = docker.from_env(timeout=10)
        client.ping()
    except Exception as exc:
        return f"no Docker engine answers: {exc}"
    try:
        client.images.get(DOCKER_IMAGE)
    except Exception:
        return f"the image {DOCKER_IMAGE} is missing: run scripts/build-docker-image"
    return None


TEST_USER = "livecode-test"  # the project's own ordinary user (scripts/ensure-test-user)


@functools.cache
def _ensure_test_user() -> tuple[str | None, str]:
    if os.geteuid() != 0:
        return None, "making the test user needs root"
    script = Path(__file__).resolve().parents[1] / "scripts" / "ensure-test-user"
    out = subprocess.run([str(script)], capture_output=True, text=True, timeout=900)
    if out.returncode != 0:
        return None, f"scripts/ensure-test-user failed: {out.stderr[-2000:]}"
    return out.stdout.strip().splitlines()[-1], ""


def unprivileged_python() -> str:
    """The interpreter, with this checkout installed, that ``TEST_USER`` can run: made by the
    project's script (idempotent). Outside CI a host where that is impossible skips; CI fails."""
    python, problem = _ensure_test_user()
    if python is None:
        if IN_CI:
            pytest.fail(f"CI must run the tests as an ordinary user, but {problem}")
        pytest.skip(problem)
    return python


def run_processes_of(uid: int) -> list[int]:
    """Pids of live processes of ``uid`` inside another PID namespace than ours: what runs of a
    livecode that is not root (each run in a user and PID namespace of its own) left behind. Not
    counted: the init of a jail forked ahead of demand, waiting for its run, which is alone in its
    namespace (as root, such an init is root's, so never counted either)."""
    ours = os.readlink("/proc/self/ns/pid")
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            namespace = os.readlink(entry / "ns" / "pid")
            if entry.stat().st_uid == uid and state != "Z" and namespace != ours:
                init = (entry / "status").read_text().split("NSpid:")[1].split("\n")[0]
                found[int(entry.name)] = (namespace, init.split()[-1] == "1")
        except (OSError, IndexError):
            continue
    shared = Counter(namespace for namespace, _ in found.values())
    return [pid for pid, (namespace, init) in found.items() if not init or shared[namespace] > 1]


@pytest.fixture
def start_livecode(tmp_path):
    started = []

    def start(*args, **env) -> LivecodeProcess:
        # Never the user's own ~/.local/share/livecode: each test has its data directory.
        env = {"LIVECODE_DATA_DIR": str(tmp_path / "data"), **env}
        process = LivecodeProcess(list(args), env, tmp_path / f"livecode-{len(started)}.log")
        started.append(process)
        return process

    yield start
    stop_all(started)


@pytest.fixture
def serve(start_livecode, tmp_path):
    """``livecode serve`` on a free port, on the embedded defaults; returns (process, client)."""

    def start(**env):
        env = {"LIVECODE_DATA_DIR": str(tmp_path / "data"),
               "LIVECODE_WORK_ROOT": str(_work_root(tmp_path)), **env}
        process = start_livecode("serve", "--port", "0", **env)
        return process, ApiClient(process.url(), timeout=30)

    return start


@pytest.fixture(scope="module")
def serve_for_module(tmp_path_factory):
    """One ``livecode serve`` shared by a module's tests (as ``serve`` starts it, with ``env``
    added), and a way to create API keys in its store; returns (process, url, create_key) where
    ``create_key(scope, *quotas)`` runs ``livecode keys create`` and gives the key."""
    started = []

    def start(**env):
        root = tmp_path_factory.mktemp("serve")
        env = {"LIVECODE_DATA_DIR": str(root / "data"),
               "LIVECODE_WORK_ROOT": str(_work_root(root)), **env}

        def create_key(scope="client", *quotas):
            done = subprocess.run(
                [sys.executable, "-m", "livecode.cli", "keys", "create", "--name", scope,
                 "--scope", scope, *(f"--quota={quota}" for quota in quotas)],
                env={**os.environ, **env}, capture_output=True, text=True, check=True)
            return done.stdout.strip()

        process = LivecodeProcess(["serve", "--port", "0"], env, root / "serve.log")
        started.append(process)
        return process, process.url(timeout=60), create_key

    yield start
    stop_all(started)


def _work_root(tmp_path: Path) -> Path:
    root = tmp_path / "runs"
    root.mkdir(exist_ok=True)
    return root


MONGO_URL = os.environ.get("LIVECODE_TEST_MONGO_URL")
# What the MongoDB tests run against, for their ids: a real MongoDB, or SecantusDB.
MONGO_KIND = "mongodb" if MONGO_URL else "secantusdb"


@pytest.fixture(scope="session")
def mongo_server():
    """A MongoDB to test against: ``LIVECODE_TEST_MONGO_URL`` when set (a real MongoDB), else
    SecantusDB started here: a MongoDB-compatible server speaking the real wire protocol (not
    MongoDB itself, and named so in test ids and the README)."""
    if MONGO_URL:
        print(f"\nstore tests: MongoDB at {MONGO_URL}")
        yield "mongodb", MONGO_URL
        return
    from secantus import SecantusDBServer

    with SecantusDBServer(host="127.0.0.1", port=0, storage_path=":memory:",
                          ttl_sweep_seconds=1) as server:
        print("\nstore tests: over the MongoDB wire protocol against SecantusDB")
        yield "secantusdb", server.uri.rstrip("/")


@pytest.fixture
def mongo_url(mongo_server):
    """A fresh database on the test MongoDB server, dropped afterwards."""
    import pymongo

    _, base = mongo_server
    name = f"livecode_test_{uuid.uuid4().hex[:10]}"
    yield f"{base}/{name}"
    client = pymongo.MongoClient(base)
    client.drop_database(name)
    client.close()


POSTGRES_URL = os.environ.get(
    "LIVECODE_TEST_POSTGRES_URL",
    "postgresql://livecode_test:livecode_test@127.0.0.1:5432/livecode_test")


def in_schema(url: str, schema: str) -> str:
    """``url`` with libpq's ``options`` setting the search path: tables made through it land
    in ``schema``."""
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{schema}"


@pytest.fixture
def postgres_url():
    """A fresh schema in the test database (``LIVECODE_TEST_POSTGRES_URL``; made by
    scripts/ensure-postgres), dropped afterwards, so parallel runs never meet."""
    import psycopg

    try:
        admin = psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        message = f"PostgreSQL is not reachable at {POSTGRES_URL}: {exc}"
        if IN_CI:
            pytest.fail(message + " (.ci/run should have run scripts/ensure-postgres)")
        pytest.skip(message)
    schema = f"livecode_test_{uuid.uuid4().hex[:10]}"
    admin.execute(f'CREATE SCHEMA "{schema}"')
    yield in_schema(POSTGRES_URL, schema)
    admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
    admin.close()


@pytest.fixture(params=["sqlite", "postgres"])
def store_env(request):
    """The store settings of a test that runs once per store: the default SQLite file, then
    PostgreSQL in a fresh schema. A module opts in by building its settings on it
    (see tests/test_worker.py)."""
    if request.param == "sqlite":
        return {}
    return {"LIVECODE_STORE": request.getfixturevalue("postgres_url")}
