"""Prometheus metrics at ``GET /metrics`` (operator scope), from ``prometheus-client``.

Two kinds of numbers:

- *Events counted where they happen*: API request durations by route template, method and
  status (a middleware), and, from the ``livecode_execution_state_changed`` hook, runs ended by
  status, language and reason, wait and run durations, and sandbox failures. Under gunicorn every
  process writes these to files in a private ``PROMETHEUS_MULTIPROC_DIR`` that the server makes
  before forking (:func:`private_dir`); ``/metrics`` sums them across processes, a dead process's
  gauges are marked dead (``child_exit``) and the directory is removed when the server stops.
  Runs are counted in the process that ends them: ``livecode serve`` hosts its workers, so it
  counts them all; ``livecode worker`` processes elsewhere do not report here.
- *State read from the store at scrape time*: runs by state, queue depth and oldest wait, workers
  by state. The store is shared, so every API process tells the same.

prometheus-client picks its multiprocess mode when it is first imported, so it is imported here
only inside functions, which run after the server has set the directory.
"""

import os
import shutil
import tempfile
import time


from livecode.core.execution_states import TERMINAL, Status
from livecode.core.hookspecs import hookimpl
from livecode.core.timestamps import parse_time

from .operations import Answer, operation

ENV = "PROMETHEUS_MULTIPROC_DIR"
SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)


def private_dir() -> str:
    """A fresh directory for this server's metric files (in the gunicorn master, before fork)."""
    path = tempfile.mkdtemp(prefix="livecode-metrics-")
    os.environ[ENV] = path
    return path


def process_died(pid: int) -> None:
    """gunicorn's ``child_exit``: what prometheus-client documents for a dead process."""
    if os.environ.get(ENV):
        from prometheus_client import multiprocess
        multiprocess.mark_process_dead(pid)


def remove_dir(path: str) -> None:
    shutil.rmtree(path, ignore_errors=True)


class Metrics:
    """This process's metrics; a Falcon middleware and a ``livecode`` plugin."""

    def __init__(self, livecode, reporting):
        from prometheus_client import CollectorRegistry, Counter, Histogram
        self.reporting = reporting
        self.registry = CollectorRegistry()  # this app's own, so that tests may make many apps
        self.requests = Histogram(
            "livecode_api_request_duration_seconds", "API requests by route template",
            ["route", "method", "status"], buckets=SECONDS, registry=self.registry)
        self.runs = Counter("livecode_runs_ended_total", "runs that ended",
                            ["status", "language", "reason"], registry=self.registry)
        self.wait = Histogram("livecode_run_wait_seconds", "from queued to started",
                              ["language"], buckets=SECONDS, registry=self.registry)
        self.duration = Histogram("livecode_run_duration_seconds", "a program's own wall time",
                                  ["language", "status"], buckets=SECONDS,
                                  registry=self.registry)
        self.sandbox_failures = Counter("livecode_sandbox_failures_total",
                                        "runs the sandbox failed to run", ["sandbox"],
                                        registry=self.registry)
        livecode.plugins.pm.register(self, name=f"livecode-metrics-{id(self)}")

    # --- Falcon middleware ---

    def process_request(self, req, resp):
        req.context.started = time.perf_counter()

    def process_response(self, req, resp, resource, req_succeeded):
        started = req.context.get("started")
        if started is not None:
            self.requests.labels(req.uri_template or "unmatched", req.method,
                                 str(resp.status_code)).observe(time.perf_counter() - started)

    # --- the livecode hook ---

    @hookimpl
    def livecode_execution_state_changed(self, execution, previous):
        language = execution.language
        if execution.status is Status.RUNNING and execution.started_at:
            waited = parse_time(execution.started_at) - parse_time(execution.created_at)
            self.wait.labels(language).observe(max(0.0, waited.total_seconds()))
        if execution.status in TERMINAL:
            status = str(execution.status)
            self.runs.labels(status, language, execution.reason or "").inc()
            if execution.execution_time_ms is not None:
                self.duration.labels(language, status).observe(execution.execution_time_ms / 1000)
            if execution.reason == "sandbox_error":
                self.sandbox_failures.labels(execution.sandbox or "").inc()

    # --- exposition ---

    def exposition(self) -> bytes:
        from prometheus_client import CollectorRegistry, generate_latest, multiprocess
        if os.environ.get(ENV):
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
        else:
            registry = CollectorRegistry()
            registry.register(_Registered(self.registry))
        registry.register(StoreState(self.reporting))
        return generate_latest(registry)


class _Registered:
    """This process's own registry, as one collector (without multiprocess mode)."""

    def __init__(self, registry):
        self.registry = registry

    def collect(self):
        return self.registry.collect()


class StoreState:
    """Gauges read from the store and queue when scraped."""

    def __init__(self, reporting):
        self.reporting = reporting

    def collect(self):
        from prometheus_client.core import GaugeMetricFamily
        runs = GaugeMetricFamily("livecode_runs", "stored runs by state", labels=["status"])
        counts = self.reporting.store.count_executions()
        for status in Status:
            runs.add_metric([str(status)], counts.get(str(status), 0))
        yield runs
        depth = GaugeMetricFamily("livecode_queue_depth", "messages waiting in the queue",
                                  labels=["queue"])
        oldest = GaugeMetricFamily("livecode_queue_oldest_wait_seconds",
                                   "how long the oldest QUEUED run has waited", labels=["queue"])
        for queue in self.reporting.queue_stats():
            if queue["depth"] is not None:
                depth.add_metric([queue["name"]], queue["depth"])
            oldest.add_metric([queue["name"]], queue["oldest_waiting_seconds"] or 0)
        yield depth
        yield oldest
        workers = GaugeMetricFamily("livecode_workers", "workers by state (lost: silent)",
                                    labels=["state"])
        states = {state: 0 for state in ("idle", "busy", "draining", "stopped", "lost")}
        for worker in self.reporting.workers():
            states["lost" if worker["lost"] else worker["state"]] += 1
        for state, count in states.items():
            workers.add_metric([state], count)
        yield workers


class MetricsResource:
    scope = "operator"
    settings = None

    def __init__(self, metrics: Metrics):
        self.metrics = metrics

    @operation("Prometheus metrics (text exposition format)",
               {200: Answer("Metrics", "the metrics", media_type="text/plain")})
    def on_get(self, req, resp):
        from prometheus_client import CONTENT_TYPE_LATEST
        resp.content_type = CONTENT_TYPE_LATEST
        resp.data = self.metrics.exposition()
