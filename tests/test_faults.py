"""Faults with real processes: workers killed with SIGKILL or drained with SIGTERM, a Redis that
restarts empty, a RabbitMQ that restarts, a store that is locked for longer than its timeout, a
PostgreSQL store that crashes and comes back.

Each test runs ``livecode api`` and several ``livecode worker`` processes against a shared SQLite
file (or a PostgreSQL server of the test's own) and a real broker (its own ``redis-server`` on a
spare port, so that it can be killed). A
plugin installed the ordinary way (a distribution on ``PYTHONPATH`` with a ``livecode`` entry
point) writes every stored state change to a log; from it each test checks that every run went
QUEUED → RUNNING (→ QUEUED → RUNNING …) → one end, with attempts counting up and never two
attempts at once.
"""

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import textwrap
import time
from collections import defaultdict
from pathlib import Path

import pytest

from conftest import sandbox_processes
from livecode.client import ApiClient
from livecode.testing import LivecodeProcess, stop_all

pytestmark = pytest.mark.slow

FAST_HOUSEKEEPING = {
    "LIVECODE_HEARTBEAT_INTERVAL": "0.3",
    "LIVECODE_WORKER_LOST_AFTER": "2",
    "LIVECODE_MAINTENANCE_INTERVAL": "0.5",
    "LIVECODE_REQUEUE_AFTER": "2",
    "LIVECODE_MAX_ATTEMPTS": "10",
}
TERMINAL = {"COMPLETED", "FAILED", "TIMEOUT", "CANCELLED"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class OwnRedis:
    """A redis-server of the test's own, keeping nothing on disk, that can be restarted."""

    def __init__(self, directory: Path):
        self.port, self.directory = free_port(), directory
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc = None
        self.start()

    def start(self):
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self):
        self.proc.kill()
        self.proc.wait()


class OwnPostgres:
    """A PostgreSQL server of the test's own, in a temporary directory on a spare port, that can
    be crashed and started again; the machine's shared server is never touched. It runs as the
    ``postgres`` user when the tests run as root (``initdb`` refuses root)."""

    def __init__(self, bin_dir: Path):
        self.bin_dir, self.port = bin_dir, free_port()
        self.directory = Path(tempfile.mkdtemp(prefix="livecode-pg-"))
        self.as_user = []
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres", "postgres")
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self.data = self.directory / "data"
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                  "--no-sync")
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self.running = False
        self.start()

    def _run(self, program, *args):
        subprocess.run([*self.as_user, str(self.bin_dir / program), *args], check=True,
                       capture_output=True, timeout=120)

    def start(self):
        # fsync off: a crash of the server (not of the machine) still keeps every commit.
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.directory / "server.log"),
                  "-w", "-o", f"-p {self.port} -k {self.directory} "
                  "-c listen_addresses=127.0.0.1 -c fsync=off", "start")
        self.running = True

    def crash(self):
        """Stop at once, as a crash would: no checkpoint, every connection cut."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        self.running = False

    def remove(self):
        if self.running:
            self.crash()
        shutil.rmtree(self.directory, ignore_errors=True)


@pytest.fixture
def own_postgres():
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not found:
        pytest.skip("PostgreSQL's server programs are not installed (scripts/ensure-postgres)")
    server = OwnPostgres(found[-1].parent)
    yield server
    server.remove()


@pytest.fixture
def own_redis(tmp_path):
    if not shutil.which("redis-server"):
        pytest.skip("redis-server is not installed")
    redis = OwnRedis(tmp_path)
    yield redis
    redis.stop()


@pytest.fixture
def transition_log(tmp_path):
    """A third-party plugin, installed the ordinary way, that logs every stored state change."""
    site = tmp_path / "site"
    dist = site / "lc_transition_log-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: lc-transition-log\n"
                                   "Version: 1.0\n")
    (dist / "entry_points.txt").write_text("[livecode]\ntransition_log = lc_transition_log\n")
    (site / "lc_transition_log.py").write_text(textwrap.dedent("""
        import json, os, time
        from livecode.core.hookspecs import hookimpl

        @hookimpl
        def livecode_execution_state_changed(execution, previous):
            line = json.dumps({"id": execution.execution_id, "from": previous and str(previous),
                               "to": str(execution.status), "attempts": execution.attempts,
                               "worker": execution.worker_id, "t": time.time()})
            fd = os.open(os.environ["LIVECODE_TEST_TRANSITION_LOG"],
                         os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            os.write(fd, (line + "\\n").encode())
            os.close(fd)
    """))
    return site, tmp_path / "transitions.jsonl"


class Cluster:
    def __init__(self, tmp_path, queue_url, transition_log, **env):
        site, self.log_path = transition_log
        (tmp_path / "runs").mkdir(exist_ok=True)
        self.tmp_path = tmp_path
        self.store_path = tmp_path / "shared.db"
        self.env = {
            "LIVECODE_STORE": f"sqlite:///{self.store_path}",
            "LIVECODE_QUEUE": queue_url,
            "LIVECODE_QUEUE_NAME": f"faults-{os.getpid()}-{time.monotonic_ns()}",
            "LIVECODE_WORK_ROOT": str(tmp_path / "runs"),
            "LIVECODE_DATA_DIR": str(tmp_path / "data"),
            "LIVECODE_TEST_TRANSITION_LOG": str(self.log_path),
            "PYTHONPATH": str(site),
            **FAST_HOUSEKEEPING, **env,
        }
        self.processes: list[LivecodeProcess] = []
        self.api = self._start("api", "--port", "0", "--processes", "2")
        self.http = ApiClient(self.api.url(), timeout=30)
        self.workers: list[LivecodeProcess] = []

    def _start(self, *args) -> LivecodeProcess:
        process = LivecodeProcess(list(args), self.env,
                                  self.tmp_path / f"{args[0]}-{len(self.processes)}.log")
        self.processes.append(process)
        return process

    def start_worker(self, concurrency=2) -> LivecodeProcess:
        worker = self._start("worker", "--concurrency", str(concurrency))
        worker.wait_for("consuming")
        self.workers.append(worker)
        return worker

    def submit(self, sources) -> list[str]:
        ids = []
        for source in sources:
            status, body = self.http.call("POST", "/submit-code", {"code": source})
            assert status == 202, body
            ids.append(body["jobId"])
        return ids

    def wait_all(self, ids, timeout) -> dict[str, dict]:
        """Wait until no run is QUEUED or RUNNING (watched in the store, cheaply), then read
        every result through the API."""
        deadline = time.monotonic() + timeout
        while self.unfinished():
            if time.monotonic() > deadline:
                counts = self._query("SELECT status, count(*) FROM executions GROUP BY status")
                raise AssertionError(f"runs did not end in {timeout}s: {counts}")
            time.sleep(0.25)
        results, before = {}, None
        while True:
            query = "/executions?limit=200&fields=stdout" + (f"&before={before}" if before else "")
            status, page = self.http.call("GET", query)
            assert status == 200, page
            results.update({e["execution_id"]: e for e in page["executions"]})
            before = page["next_before"]
            if before is None:
                break
        missing = set(ids) - set(results)
        assert not missing, f"{len(missing)} runs are gone"
        return results

    def _query(self, sql, *params) -> list:
        if self.env["LIVECODE_STORE"].startswith("postgresql://"):
            import psycopg

            with psycopg.connect(self.env["LIVECODE_STORE"]) as db:
                return db.execute(sql.replace("?", "%s"), params).fetchall()
        db = sqlite3.connect(self.store_path, timeout=30)
        try:
            return db.execute(sql, params).fetchall()
        finally:
            db.close()

    def running_on(self, worker: LivecodeProcess) -> list[str]:
        return [r[0] for r in self._query(
            "SELECT execution_id FROM executions WHERE status = 'RUNNING' AND worker_id LIKE ?",
            f"%:{worker.proc.pid}:%")]

    def unfinished(self) -> int:
        return self._query("SELECT count(*) FROM executions "
                           "WHERE status IN ('QUEUED', 'RUNNING')")[0][0]

    def histories(self) -> dict[str, list[dict]]:
        found = defaultdict(list)
        for line in self.log_path.read_text().splitlines():
            entry = json.loads(line)
            found[entry["id"]].append(entry)
        return found

    def stop(self):
        stop_all(self.processes)


def assert_clean_histories(cluster: Cluster, ids: list[str]) -> dict[str, list[dict]]:
    """Every run: created QUEUED, then RUNNING/QUEUED alternating with attempts counting up,
    then exactly one end; so no run was lost, ran twice at once, or ended twice."""
    histories = cluster.histories()
    for execution_id in ids:
        history = sorted(histories[execution_id], key=lambda e: (e["attempts"], e["t"]))
        steps = [(e["from"], e["to"]) for e in history]
        assert steps[0] == (None, "QUEUED"), (execution_id, steps)
        assert steps[-1][1] in TERMINAL and steps[-1][0] == "RUNNING", (execution_id, steps)
        assert sum(to in TERMINAL for _, to in steps) == 1, (execution_id, steps)
        attempt = 0
        for (frm, to), entry in zip(steps[1:], history[1:]):
            if to == "RUNNING":
                assert frm == "QUEUED" and entry["attempts"] == attempt + 1, (execution_id, steps)
                attempt = entry["attempts"]
            else:
                assert frm == "RUNNING" and entry["attempts"] == attempt, (execution_id, steps)
    return histories


@pytest.fixture
def cluster_factory(tmp_path, transition_log):
    made = []

    def make(queue_url, **env) -> Cluster:
        cluster = Cluster(tmp_path, queue_url, transition_log, **env)
        made.append(cluster)
        return cluster

    yield make
    for cluster in made:
        cluster.stop()


def test_kill_9_workers_mid_run_twenty_times(cluster_factory, own_redis):
    cluster = cluster_factory(own_redis.url)
    workers = [cluster.start_worker(), cluster.start_worker()]
    ids = cluster.submit([f"import time; time.sleep(0.4); print({i})" for i in range(40)])
    kills = 0
    deadline = time.monotonic() + 120
    while kills < 20:
        assert time.monotonic() < deadline, f"only {kills} kills"
        busy = [w for w in workers if cluster.running_on(w)]
        if not busy:
            if not cluster.unfinished():
                ids += cluster.submit([f"import time; time.sleep(0.4); print('more {kills}')"
                                       for _ in range(4)])
            time.sleep(0.05)
            continue
        victim = busy[0]
        os.kill(victim.proc.pid, signal.SIGKILL)
        victim.proc.wait()
        kills += 1
        workers.remove(victim)
        workers.append(cluster.start_worker())
    results = cluster.wait_all(ids, timeout=180)
    assert set(results) == set(ids)
    histories = assert_clean_histories(cluster, ids)
    assert sum(any(e["to"] == "QUEUED" and e["from"] == "RUNNING" for e in h)
               for h in histories.values()) >= 1  # recovery really happened
    assert all(r["status"] in ("COMPLETED", "FAILED") for r in results.values())
    assert sum(r["status"] == "COMPLETED" for r in results.values()) >= len(ids) - 2
    time.sleep(1)
    assert sandbox_processes() == []  # killed workers' programs died with them


def test_redis_restarting_empty_in_a_burst_of_500_runs(cluster_factory, own_redis):
    cluster = cluster_factory(own_redis.url)
    for _ in range(4):
        cluster.start_worker(concurrency=1)
    ids = cluster.submit([f"print({i})" for i in range(500)])
    time.sleep(2)
    own_redis.stop()  # every message still in Redis is gone with it
    time.sleep(1)
    own_redis.start()
    results = cluster.wait_all(ids, timeout=300)
    assert [results[i]["stdout"] for i in ids] == [f"{i}\n" for i in range(500)]
    assert_clean_histories(cluster, ids)


def test_rabbitmq_restarting_in_a_burst_of_500_runs(cluster_factory):
    if subprocess.run(["rabbitmqctl", "-q", "status"], capture_output=True).returncode != 0:
        pytest.skip("no RabbitMQ node to restart here")
    cluster = cluster_factory("amqp://guest:guest@127.0.0.1:5672//")
    for _ in range(4):
        cluster.start_worker(concurrency=1)
    ids = cluster.submit([f"print({i})" for i in range(500)])
    time.sleep(2)
    subprocess.run(["rabbitmqctl", "-q", "stop_app"], check=True, capture_output=True)
    time.sleep(1)
    subprocess.run(["rabbitmqctl", "-q", "start_app"], check=True, capture_output=True)
    results = cluster.wait_all(ids, timeout=300)
    assert [results[i]["stdout"] for i in ids] == [f"{i}\n" for i in range(500)]
    assert_clean_histories(cluster, ids)


def test_postgresql_crashing_in_a_burst_of_300_runs(own_redis, own_postgres, cluster_factory):
    cluster = cluster_factory(own_redis.url, LIVECODE_STORE=own_postgres.url)
    for _ in range(4):
        cluster.start_worker(concurrency=1)
    ids = cluster.submit([f"print({i})" for i in range(300)])
    deadline = time.monotonic() + 60
    while cluster.unfinished() > 250:  # mid-burst: some runs ended, most have not
        assert time.monotonic() < deadline
        time.sleep(0.05)
    own_postgres.crash()
    time.sleep(3)
    own_postgres.start()
    came_back = time.time()
    results = cluster.wait_all(ids, timeout=300)
    assert [results[i]["stdout"] for i in ids] == [f"{i}\n" for i in range(300)]
    histories = assert_clean_histories(cluster, ids)
    # No worker died, so no run was taken from one and run again.
    assert [i for i in ids if results[i]["attempts"] != 1] == []
    # The pools reconnected: the workers stored results after the restart, the API read them.
    ended_after = [e for h in histories.values() for e in h
                   if e["to"] in TERMINAL and e["t"] > came_back]
    assert len(ended_after) > 0
    assert all(w.proc.poll() is None for w in cluster.workers)


def test_sigterm_drains_a_worker_without_cutting_a_run(cluster_factory, own_redis):
    cluster = cluster_factory(own_redis.url)
    first, second = cluster.start_worker(), cluster.start_worker()
    ids = cluster.submit([f"import time; time.sleep(0.5); print({i})" for i in range(16)])
    deadline = time.monotonic() + 30
    while not cluster.running_on(first):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    held = cluster.running_on(first)
    assert first.stop() == 0  # SIGTERM: it finished what it ran, then exited cleanly
    results = cluster.wait_all(ids, timeout=120)
    assert all(r["status"] == "COMPLETED" and r["attempts"] == 1 for r in results.values())
    assert {results[i]["worker_id"].split(":")[1] for i in held} == {str(first.proc.pid)}
    assert any(r["worker_id"].split(":")[1] == str(second.proc.pid) for r in results.values())
    assert_clean_histories(cluster, ids)


def test_a_store_locked_for_longer_than_its_timeout(cluster_factory, own_redis):
    cluster = cluster_factory(own_redis.url)
    cluster.start_worker()
    ids = cluster.submit([f"import time; time.sleep(0.2); print({i})" for i in range(10)])
    lock = sqlite3.connect(cluster.store_path, isolation_level=None)
    lock.execute("BEGIN EXCLUSIVE")  # no one else may read or write until it ends
    time.sleep(13)  # longer than the store's 10 s busy timeout
    lock.execute("ROLLBACK")
    lock.close()
    results = cluster.wait_all(ids, timeout=120)
    assert [results[i]["status"] for i in ids] == ["COMPLETED"] * 10
    assert [results[i]["stdout"] for i in ids] == [f"{i}\n" for i in range(10)]
    assert_clean_histories(cluster, ids)


def test_a_second_sigint_forces_a_worker_down_and_its_run_is_recovered(cluster_factory,
                                                                        own_redis):
    cluster = cluster_factory(own_redis.url)
    stubborn = cluster.start_worker()
    [execution_id] = cluster.submit(["import time; time.sleep(3); print('late')"])
    deadline = time.monotonic() + 30
    while not cluster.running_on(stubborn):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    stubborn.proc.send_signal(signal.SIGINT)
    stubborn.wait_for("draining")
    started = time.monotonic()
    stubborn.proc.send_signal(signal.SIGINT)
    assert stubborn.proc.wait(10) == 130 and time.monotonic() - started < 5
    cluster.start_worker()
    result = cluster.wait_all([execution_id], timeout=90)[execution_id]
    assert result["status"] == "COMPLETED" and result["attempts"] == 2
    assert_clean_histories(cluster, [execution_id])
