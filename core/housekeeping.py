"""What workers do for each other, periodically: recover lost workers' runs, re-send lost
messages, apply retention, forget silent workers. Safe in many workers at once, because every
change goes through the service's compare-and-set, like a claim."""

import logging
from datetime import timedelta

from .execution_states import Status
from .models import Execution
from .service import Livecode
from .timestamps import age_seconds, iso, now, utcnow

log = logging.getLogger(__name__)

RECOVERY_PAGE = 200  # runs one sweep looks at
WORKER_RECORD_SECONDS = 24 * 3600  # how long /workers remembers a worker that went silent


class Housekeeping:
    """Sweeps over the store of ``livecode``, changing runs only through its ``transition``."""

    def __init__(self, livecode: Livecode):
        self.livecode = livecode
        self.settings, self.store, self.queue = livecode.settings, livecode.store, livecode.queue

    def recover_lost_runs(self) -> list[Execution]:
        """Another attempt, or after ``max_attempts`` FAILED ``worker_lost``, for each run whose
        worker is silent, stopped, or alive but no longer running it."""
        workers = {w.worker_id: w for w in self.store.list_workers()}
        lost_after = self.settings.worker_lost_after
        recovered = []
        for execution in self.store.list_executions(status=Status.RUNNING, limit=RECOVERY_PAGE):
            worker = workers.get(execution.worker_id)
            if worker is not None and worker.is_live(lost_after) and (
                    execution.execution_id in worker.current
                    or age_seconds(execution.started_at) <= lost_after):
                continue
            if execution.attempts >= self.settings.max_attempts:
                ended = self.livecode.transition(
                    execution, Status.FAILED, finished_at=utcnow(), reason="worker_lost",
                    stderr=f"livecode: the worker running this was lost {execution.attempts} "
                           "times; not trying again\n")
            else:
                ended = self.livecode.transition(execution, Status.QUEUED, started_at=None)
                if ended is not None:
                    self._publish_quietly(ended)
            if ended is not None:
                log.warning("recovered execution %s from lost worker %s: now %s",
                            execution.execution_id, execution.worker_id, ended.status)
                recovered.append(ended)
        return recovered

    def republish_lost_messages(self) -> int:
        """Re-send what the broker lost (a restart, a failed publish); duplicates are harmless,
        the claim lets one delivery run the code."""
        oldest = self.store.oldest_queued_at()
        if oldest is None or age_seconds(oldest) < self.settings.requeue_after:
            return 0
        missing = self.store.count_executions().get("QUEUED", 0) - (self.queue.depth() or 0)
        if missing <= 0:
            return 0
        waiting = [e for e in self.store.list_executions(status=Status.QUEUED, limit=RECOVERY_PAGE,
                                                         oldest_first=True)
                   if age_seconds(e.created_at) >= self.settings.requeue_after][:missing]
        for execution in waiting:
            self._publish_quietly(execution)
        if waiting:
            log.warning("re-sent %d queued executions whose messages were lost", len(waiting))
        return len(waiting)

    def apply_retention(self) -> int:
        if not self.settings.retention_seconds:
            return 0
        cutoff = now() - timedelta(seconds=self.settings.retention_seconds)
        return self.store.delete_finished_before(iso(cutoff))

    def forget_old_workers(self) -> int:
        """Drop the records of workers silent for a day: stopped or lost long ago."""
        old = [w.worker_id for w in self.store.list_workers()
               if age_seconds(w.last_heartbeat) > WORKER_RECORD_SECONDS]
        for worker_id in old:
            self.store.delete_worker(worker_id)
        return len(old)

    def run(self) -> None:
        """One sweep of every task; a task that fails is logged and tried again next time."""
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
