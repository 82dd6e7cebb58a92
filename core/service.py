"""The operations livecode offers, shared by the API, the worker, the CLI and the console.

Every rule about sessions and executions lives here (what is valid, which transition is legal,
what a rejected request must leave untouched), so no front door can bypass one.
"""

import logging
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit, urlunsplit

from .config import Settings
from .contracts import Queue, ResultStore, Store
from .errors import Conflict, InvalidInput, NotFound, PayloadTooLarge, Unavailable
from .execution_filter import ExecutionFilter, Term
from .execution_states import Status, check_transition
from .limits import Limits
from .models import CodeSession, Execution, WorkerInfo, parse_time, utcnow
from .plugins import Plugins
from .split_store import SplitStore

log = logging.getLogger(__name__)

DEFAULT_LANGUAGE = "python"
MAX_PAGE = 200
STATS_SAMPLE = 5000  # runs a statistics window reads at most
WORKER_RECORD_SECONDS = 24 * 3600  # how long /workers remembers a worker that went silent


class Livecode:
    def __init__(self, settings: Settings, plugins: Plugins, store: Store, queue: Queue):
        self.settings = settings
        self.plugins = plugins
        self.store = store
        self.queue = queue
        self._sandbox_report: dict | None = None

    @classmethod
    def open(cls, settings: Settings, plugins: Plugins | None = None) -> "Livecode":
        plugins = plugins or Plugins(settings)
        store = plugins.open_store(settings.store)
        if settings.result_store:
            results = plugins.open_store(settings.result_store)
            if not isinstance(results, ResultStore):
                store.close()
                results.close()
                raise InvalidInput(f"{settings.result_store!r} cannot hold results apart "
                                   "(LIVECODE_RESULT_STORE); use a mongodb:// URL")
            store = SplitStore(store, results)
        try:
            queue = plugins.open_queue(settings.queue)
        except Exception:
            store.close()
            raise
        return cls(settings, plugins, store, queue)

    def close(self) -> None:
        self.queue.close()
        self.store.close()

    # --- Sessions ---------------------------------------------------------------------------

    def create_session(self, language: str | None = None, source_code: str = "") -> CodeSession:
        language = self._check_language(language or DEFAULT_LANGUAGE)
        self._check_size("source_code", source_code, self.settings.max_source_bytes)
        session = CodeSession.new(language, source_code)
        self.store.create_session(session)
        return session

    def get_session(self, session_id: str) -> CodeSession:
        session = self.store.get_session(session_id)
        if session is None:
            raise NotFound(f"no code session {session_id!r}", session_id=session_id)
        return session

    def autosave(
        self,
        session_id: str,
        source_code: str | None = None,
        language: str | None = None,
        base_revision: int | None = None,
    ) -> CodeSession:
        """Save the editor's state. Never starts a run. With ``base_revision``, refuse (409) to
        overwrite a newer save made elsewhere (another tab, another device)."""
        changes = {}
        if language is not None:
            changes["language"] = self._check_language(language)
        if source_code is not None:
            self._check_size("source_code", source_code, self.settings.max_source_bytes)
            changes["source_code"] = source_code
        changes["updated_at"] = utcnow()
        session = self.store.update_session(session_id, changes, base_revision)
        if session is None:
            current = self.get_session(session_id)  # raises NotFound
            raise Conflict(
                f"code session {session_id!r} is at revision {current.revision}, "
                f"not {base_revision}; reload it before saving",
                revision=current.revision,
            )
        return session

    # --- Executions -------------------------------------------------------------------------

    def run(self, session_id: str, stdin: str = "", limits: dict | None = None) -> Execution:
        """Queue a run of the session as it is now. ``limits`` may lower or raise any default
        limit within the server's caps."""
        self._check_size("stdin", stdin, self.settings.max_stdin_bytes)
        run_limits = self.limits(limits)
        session = self.get_session(session_id)
        return self._enqueue(Execution.snapshot(session, stdin, run_limits))

    def submit_code(self, code: str, language: str | None = None, stdin: str = "",
                    limits: dict | None = None) -> Execution:
        """Seed 000's one-shot flow: a session made for this code alone, run at once."""
        self._check_size("stdin", stdin, self.settings.max_stdin_bytes)
        run_limits = self.limits(limits)
        session = self.create_session(language, code)
        try:
            return self._enqueue(Execution.snapshot(session, stdin, run_limits))
        except Unavailable:
            self.store.delete_session(session.session_id)  # the session existed only for this run
            raise

    def limits(self, requested: dict | None = None) -> Limits:
        return self.settings.limits.within(self.settings.limit_caps, requested or {})

    def sandbox_name(self, language: str) -> str:
        """The sandbox that runs ``language``: ``LIVECODE_SANDBOX_<LANGUAGE>``, else the
        deployment's ``LIVECODE_SANDBOX``."""
        return self.settings.option(f"SANDBOX_{language.upper()}") or self.settings.sandbox

    def sandbox_names(self) -> set[str]:
        return {self.sandbox_name(language) for language in self.plugins.languages}

    def sandbox_report(self) -> dict:
        """Each sandbox in use and the protections it has on this host (or why it cannot run).
        Sandboxes are probed once per process."""
        if self._sandbox_report is None:
            report = {}
            for name in sorted(self.sandbox_names()):
                try:
                    sandbox = self.plugins.create_sandbox(name)
                    report[name] = {"ok": True, "protections": sandbox.protections()}
                    sandbox.close()
                except Exception as exc:
                    report[name] = {"ok": False, "error": str(exc)}
            self._sandbox_report = report
        return self._sandbox_report

    def _enqueue(self, execution: Execution) -> Execution:
        self.store.create_execution(execution)
        try:
            self.queue.publish(execution.execution_id)
        except Exception as exc:
            # Nothing was queued, so nothing may stay behind that claims it was.
            self.store.delete_execution(execution.execution_id)
            log.warning("queue unavailable, run refused: %s", exc)
            raise Unavailable(f"the run queue cannot be reached: {exc}") from exc
        self._notify(execution, None)
        return execution

    def get_execution(self, execution_id: str) -> Execution:
        execution = self.store.get_execution(execution_id)
        if execution is None:
            raise NotFound(f"no execution {execution_id!r}", execution_id=execution_id)
        return execution

    def list_executions(
        self,
        session_id: str | None = None,
        status: str | None = None,
        limit: int = 50,
        before: str | None = None,
        match: ExecutionFilter | None = None,
    ) -> list[Execution]:
        if status is not None:
            try:
                status = Status(status.upper())
            except ValueError:
                raise InvalidInput(
                    f"unknown status {status!r}; one of {', '.join(s.value for s in Status)}"
                ) from None
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}")
        if before is not None:
            self.get_execution(before)
        return self.store.list_executions(session_id, status, limit, before, match=match)

    def stats(self, window: float, until: str | None = None, buckets: int = 30) -> dict:
        """What the last ``window`` seconds (up to ``until``, default now) looked like: counts
        by state, throughput, wait and run time percentiles, failure rates, and runs per bucket
        for a sparkline. Percentiles come from the newest ``STATS_SAMPLE`` runs of the window."""
        end = parse_time(until) if until else datetime.now(timezone.utc)
        start = end - timedelta(seconds=window)
        bounds = (_iso(start), _iso(end))
        counts = self.store.count_executions(*bounds)
        sample = self.store.list_executions(
            limit=STATS_SAMPLE, match=ExecutionFilter(created_after=bounds[0],
                                                      created_before=bounds[1]))
        waits = sorted((parse_time(e.started_at) - parse_time(e.created_at)).total_seconds()
                       * 1000 for e in sample if e.started_at)
        runs = sorted(e.execution_time_ms for e in sample if e.execution_time_ms is not None)
        ended = sum(counts.get(s, 0) for s in ("COMPLETED", "FAILED", "TIMEOUT"))
        spark = [0] * buckets
        for e in sample:
            if e.finished_at:
                offset = (parse_time(e.finished_at) - start).total_seconds()
                if 0 <= offset < window:
                    spark[int(offset / window * buckets)] += 1
        return {
            "window_seconds": window, "until": bounds[1], "counts": counts,
            "runs_per_second": round(ended / window, 3),
            "wait_ms": {"p50": _percentile(waits, 50), "p95": _percentile(waits, 95)},
            "run_ms": {"p50": _percentile(runs, 50), "p95": _percentile(runs, 95)},
            "failed_rate": round(counts.get("FAILED", 0) / ended, 4) if ended else 0.0,
            "timeout_rate": round(counts.get("TIMEOUT", 0) / ended, 4) if ended else 0.0,
            "sparkline": spark, "sampled": len(sample),
        }

    def failures(self, window: float, until: str | None = None) -> list[dict]:
        """FAILED and TIMEOUT runs of the window grouped by signature: the status and the last
        line of stderr (or the reason), most frequent first."""
        end = parse_time(until) if until else datetime.now(timezone.utc)
        match = ExecutionFilter(
            (Term("status", "FAILED"), Term("status", "TIMEOUT")),
            created_after=_iso(end - timedelta(seconds=window)), created_before=_iso(end))
        groups: dict[tuple, dict] = {}
        for e in self.store.list_executions(limit=STATS_SAMPLE, match=match):
            last_line = (e.stderr.strip().splitlines() or [e.reason or ""])[-1][:200]
            key = (str(e.status), last_line)
            group = groups.setdefault(key, {
                "status": key[0], "signature": last_line, "count": 0, "first_seen": e.created_at,
                "last_seen": e.created_at, "example": e.execution_id, "reason": e.reason})
            group["count"] += 1
            group["first_seen"] = min(group["first_seen"], e.created_at)
            if e.created_at >= group["last_seen"]:
                group["last_seen"], group["example"] = e.created_at, e.execution_id
        return sorted(groups.values(), key=lambda g: (-g["count"], g["signature"]))

    def rerun(self, execution_id: str) -> Execution:
        """A new run of exactly what an earlier one ran (code, stdin, limits), linked to it."""
        old = self.get_execution(execution_id)
        session = self.get_session(old.session_id)
        fresh = Execution.snapshot(session, old.stdin, old.limits).evolve(
            language=old.language, source_code=old.source_code,
            session_revision=old.session_revision, extra={"rerun_of": old.execution_id})
        return self._enqueue(fresh)

    def cancel(self, execution_id: str) -> Execution:
        """Cancel a run that has not started. One that runs or has ended cannot be (409)."""
        execution = self.get_execution(execution_id)
        if execution.status is not Status.QUEUED:
            raise Conflict(
                f"execution {execution_id!r} is {execution.status}; only a QUEUED run can be cancelled",
                execution_status=str(execution.status),
            )
        cancelled = self.transition(execution, Status.CANCELLED, finished_at=utcnow())
        if cancelled is None:
            now = self.get_execution(execution_id)
            raise Conflict(f"execution {execution_id!r} is {now.status} and can no longer be "
                           "cancelled", execution_status=str(now.status))
        return cancelled

    def transition(self, execution: Execution, new: Status, **changes) -> Execution | None:
        """Move ``execution`` from the status it has to ``new``, if no one else moved it first.

        Returns the stored result, or ``None`` when another process won the race."""
        check_transition(execution.status, new)
        updated = self.store.transition(
            execution.execution_id, frozenset({execution.status}), execution.attempts,
            {"status": new, **changes},
        )
        if updated is not None:
            self._notify(updated, execution.status)
        return updated

    def _notify(self, execution: Execution, previous: Status | None) -> None:
        try:
            self.plugins.pm.hook.livecode_execution_state_changed(
                execution=execution, previous=previous
            )
        except Exception:
            log.exception("a livecode_execution_state_changed observer failed")

    # --- Workers, recovery and housekeeping ---------------------------------------------------

    def heartbeat(self, worker: WorkerInfo) -> None:
        self.store.save_worker(worker)

    def workers(self) -> list[dict]:
        """Every worker that reported, with the age of its last heartbeat and whether it is lost
        (silent for longer than ``worker_lost_after``) — a lost worker's runs are recovered."""
        rows = []
        for worker in self.store.list_workers():
            age = _age_seconds(worker.last_heartbeat)
            lost = worker.state != "stopped" and age > self.settings.worker_lost_after
            rows.append({**worker.to_dict(), "heartbeat_age_seconds": round(age, 3),
                         "lost": lost})
        return rows

    def recover_lost_runs(self) -> list[Execution]:
        """Give the runs of lost workers another attempt, or, after ``max_attempts``, end them
        FAILED with reason ``worker_lost``. A run is lost when its worker is silent, stopped, or
        alive but no longer running it."""
        workers = {w.worker_id: w for w in self.store.list_workers()}
        lost_after = self.settings.worker_lost_after
        recovered = []
        for execution in self.store.list_executions(status=Status.RUNNING, limit=MAX_PAGE):
            worker = workers.get(execution.worker_id)
            if worker is not None and worker.state != "stopped" and (
                    _age_seconds(worker.last_heartbeat) <= lost_after
                    and (execution.execution_id in worker.current
                         or _age_seconds(execution.started_at) <= lost_after)):
                continue
            if execution.attempts >= self.settings.max_attempts:
                ended = self.transition(
                    execution, Status.FAILED, finished_at=utcnow(), reason="worker_lost",
                    stderr=f"livecode: the worker running this was lost {execution.attempts} "
                           "times; not trying again\n")
            else:
                ended = self.transition(execution, Status.QUEUED, started_at=None)
                if ended is not None:
                    self._publish_quietly(ended)
            if ended is not None:
                log.warning("recovered execution %s from lost worker %s: now %s",
                            execution.execution_id, execution.worker_id, ended.status)
                recovered.append(ended)
        return recovered

    def republish_lost_messages(self) -> int:
        """Re-send the messages of QUEUED executions that the broker no longer holds (it restarted
        without persistence, or a publish failed after the insert). Duplicates are harmless: the
        claim lets one delivery run the code."""
        oldest = self.store.oldest_queued_at()
        if oldest is None or _age_seconds(oldest) < self.settings.requeue_after:
            return 0
        missing = self.store.count_executions().get("QUEUED", 0) - (self.queue.depth() or 0)
        if missing <= 0:
            return 0
        waiting = [e for e in self.store.list_executions(status=Status.QUEUED, limit=MAX_PAGE,
                                                         oldest_first=True)
                   if _age_seconds(e.created_at) >= self.settings.requeue_after][:missing]
        for execution in waiting:
            self._publish_quietly(execution)
        if waiting:
            log.warning("re-sent %d queued executions whose messages were lost", len(waiting))
        return len(waiting)

    def apply_retention(self) -> int:
        if not self.settings.retention_seconds:
            return 0
        cutoff = datetime.now(timezone.utc) - timedelta(seconds=self.settings.retention_seconds)
        return self.store.delete_finished_before(_iso(cutoff))

    def forget_old_workers(self) -> int:
        """Drop the records of workers silent for a day: stopped or lost long ago."""
        old = [w.worker_id for w in self.store.list_workers()
               if _age_seconds(w.last_heartbeat) > WORKER_RECORD_SECONDS]
        for worker_id in old:
            self.store.delete_worker(worker_id)
        return len(old)

    def maintain(self) -> None:
        """The periodic housekeeping every worker runs; safe to run in many at once."""
        for task in (self.recover_lost_runs, self.republish_lost_messages, self.apply_retention,
                     self.forget_old_workers):
            try:
                task()
            except Exception:
                log.exception("housekeeping step %s failed; will try again", task.__name__)

    def _publish_quietly(self, execution: Execution) -> None:
        try:
            self.queue.publish(execution.execution_id)
        except Exception as exc:  # the sweeper re-sends it once the queue is back
            log.warning("could not publish %s: %s", execution.execution_id, exc)

    def queue_stats(self) -> list[dict]:
        counts = self.store.count_executions()
        oldest = self.store.oldest_queued_at()
        live = [w for w in self.workers() if not w["lost"] and w["state"] != "stopped"
                and w["queue"] == self.settings.queue_name]
        try:
            depth = self.queue.depth()
        except Exception:
            depth = None
        return [{
            "name": self.settings.queue_name,
            "url": _redact(self.settings.queue),
            "depth": depth,
            "consumers": len(live),
            "capacity": sum(w["concurrency"] for w in live),
            "queued": counts.get("QUEUED", 0),
            "running": counts.get("RUNNING", 0),
            "oldest_waiting_seconds": round(_age_seconds(oldest), 3) if oldest else None,
            "oldest_waiting_since": oldest,
        }]

    # --- Introspection ----------------------------------------------------------------------

    def languages(self) -> list[dict]:
        sandboxes = self.sandbox_report()
        return [
            {
                "name": runner.name,
                "display_name": runner.display_name or runner.name,
                "file_extension": runner.file_extension,
                "version": runner.version(),
                "sandbox": self.sandbox_name(runner.name),
                "protections": sandboxes[self.sandbox_name(runner.name)].get("protections"),
            }
            for runner in sorted(self.plugins.languages.values(), key=lambda r: r.name)
        ]

    def limits_report(self) -> dict:
        return {"defaults": self.settings.limits.to_dict(),
                "caps": self.settings.limit_caps.to_dict()}

    def health(self) -> dict:
        checks = {}
        for name, part in (("store", self.store), ("queue", self.queue)):
            try:
                part.ping()
                checks[name] = {"ok": True}
            except Exception as exc:
                checks[name] = {"ok": False, "error": str(exc)}
        try:
            checks["queue"]["depth"] = self.queue.depth()
        except Exception:
            pass
        ok = all(c["ok"] for c in checks.values())
        return {"ok": ok, "checks": checks, "sandboxes": self.sandbox_report()}

    # --- Validation -------------------------------------------------------------------------

    def _check_language(self, language: str) -> str:
        if language not in self.plugins.languages:
            known = ", ".join(sorted(self.plugins.languages)) or "none"
            raise InvalidInput(f"unknown language {language!r}; available: {known}",
                               field="language")
        return language

    @staticmethod
    def _check_size(field: str, value: str, cap: int) -> None:
        size = len(value.encode("utf-8", "surrogatepass"))
        if size > cap:
            raise PayloadTooLarge(f"{field} is {size} bytes; the limit is {cap}",
                                  field=field, limit=cap)


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z")


def _percentile(ordered: list[float], p: int) -> float | None:
    if not ordered:
        return None
    return round(ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))], 3)


def _age_seconds(timestamp: str) -> float:
    return (datetime.now(timezone.utc) - parse_time(timestamp)).total_seconds()


def _redact(url: str) -> str:
    """A URL without its password, fit to show operators."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))
