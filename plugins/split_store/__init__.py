"""The ``split:`` store: run metadata in one store, run results (output, exit code) in
another, e.g. metadata in SQLite on one host and results in MongoDB.

``split:<metadata store URL>;<results store URL>`` (``;`` as in Kombu's failover URLs), or, the
same thing, ``LIVECODE_STORE=<metadata URL>`` with ``LIVECODE_RESULT_STORE=<results URL>``. The
results store must be a :class:`~livecode.core.contracts.ResultStore` (``mongodb://``).

The metadata store decides every status change (its compare-and-set is the only one); results
are written first, under the execution and attempt, so by the time a status says a run has ended
its results are there, and a stale attempt's results are never read as the current one's.
Sizes, failure signatures, run times, keys and quota counters live with the metadata, so
listings, reports and requests' checks are decided there without reading a result.
"""

from collections.abc import Callable
from dataclasses import replace

from livecode.core.contracts import ResultStore, Store
from livecode.core.errors import InvalidInput
from livecode.core.execution_filter import ExecutionFilter, Term
from livecode.core.execution_states import TERMINAL
from livecode.core.hookspecs import hookimpl
from livecode.core.models import Execution

SCHEME = "split"
TEXT_SCAN_PAGE, TEXT_SCAN_LIMIT = 200, 20_000  # how far a text search looks back in split mode
RETENTION_PAGE = 1000  # metadata rows one retention query reads
# The run time stays with the metadata: statistics read it there, without results.
RESULT_FIELDS = ("stdout", "stderr", "exit_code", "cpu_time_ms", "max_rss_kb", "truncated",
                 "compile_output", "test_results")




def open_split(url: str, open_store: Callable[[str], Store]) -> "SplitStore":
    meta_url, _, results_url = url.removeprefix(SCHEME + ":").partition(";")
    if not meta_url or not results_url:
        raise InvalidInput(f"{url!r} is not split:<metadata store URL>;<results store URL>")
    meta = open_store(meta_url)
    try:
        results = open_store(results_url)
    except Exception:
        meta.close()
        raise
    if not isinstance(results, ResultStore):
        meta.close()
        results.close()
        raise InvalidInput(f"{results_url!r} cannot hold results apart "
                           "(LIVECODE_RESULT_STORE); use a mongodb:// URL")
    return SplitStore(meta, results)


class SplitStore(Store):
    def __init__(self, meta: Store, results: ResultStore, retention_page: int = RETENTION_PAGE):
        self.meta, self.results, self.retention_page = meta, results, retention_page

    def _merge(self, executions: list[Execution]) -> list[Execution]:
        found = self.results.get_results([(e.execution_id, e.attempts) for e in executions])
        return [e.evolve(**found[(e.execution_id, e.attempts)])
                if (e.execution_id, e.attempts) in found else e for e in executions]

    # Sessions, workers and counts live with the metadata.
    def create_session(self, session):
        self.meta.create_session(session)

    def get_session(self, session_id):
        return self.meta.get_session(session_id)

    def update_session(self, session_id, changes, expected_revision=None):
        return self.meta.update_session(session_id, changes, expected_revision)

    def delete_session(self, session_id):
        self.meta.delete_session(session_id)

    def create_execution(self, execution):
        self.meta.create_execution(execution)

    def get_execution(self, execution_id):
        execution = self.meta.get_execution(execution_id)
        return self._merge([execution])[0] if execution else None

    def delete_execution(self, execution_id):
        self.meta.delete_execution(execution_id)
        self.results.delete_results(execution_id)

    def list_executions(self, session_id=None, status=None, limit=50, before=None,
                        oldest_first=False, match=None, texts=None):
        wants_results = texts is None or {"stdout", "stderr"} & set(texts)
        text_terms = tuple(t for t in match.terms if t.field == "text") if match else ()
        if not text_terms:
            found = self.meta.list_executions(session_id, status, limit, before, oldest_first,
                                              match, texts)
            return self._merge(found) if wants_results else found
        # The text lives with the results: page through the metadata without texts, let the
        # results store say which runs match (it answers keys, not outputs), and read results
        # only for the runs that are kept, as the listing asks.
        found, scanned = [], 0
        while len(found) < limit and scanned < TEXT_SCAN_LIMIT:
            page = self.meta.list_executions(
                session_id, status, TEXT_SCAN_PAGE, before, oldest_first,
                replace(match, terms=tuple(t for t in match.terms if t.field != "text")),
                texts=())
            matching = self.results.matching_results(
                [(e.execution_id, e.attempts) for e in page], ExecutionFilter(text_terms))
            found += [e for e in page if (e.execution_id, e.attempts) in matching]
            scanned += len(page)
            if len(page) < TEXT_SCAN_PAGE:
                break
            before = page[-1].execution_id
        found = found[:limit]
        if texts is None or {"source_code", "stdin"} & set(texts):  # a few runs, read whole
            found = [self.meta.get_execution(e.execution_id) or e for e in found]
        return self._merge(found) if wants_results else found

    def transition(self, execution_id, expected, expected_attempts, changes):
        changes = dict(changes)
        results = {k: changes.pop(k) for k in RESULT_FIELDS if k in changes}
        if results:
            attempt = changes.get("attempts", expected_attempts)
            self.results.put_results(execution_id, attempt, results)
        updated = self.meta.transition(execution_id, expected, expected_attempts, changes)
        return self._merge([updated])[0] if updated else None

    def count_executions(self, created_after=None, created_before=None, owner=None):
        return self.meta.count_executions(created_after, created_before, owner)

    def execution_timings(self, created_after, created_before, limit):
        return self.meta.execution_timings(created_after, created_before, limit)

    def failure_groups(self, created_after, created_before):
        return self.meta.failure_groups(created_after, created_before)

    def oldest_queued_at(self):
        return self.meta.oldest_queued_at()

    def delete_finished_before(self, timestamp):
        # Page through the oldest finished runs until a page has nothing left to delete, and
        # delete each run's results before its metadata: a sweep cut short leaves metadata that
        # the next one finds, never results that nothing points to. A run that waited long may
        # have finished after the cutoff; it stays at the front until it is old enough.
        finished = ExecutionFilter(tuple(Term("status", str(s)) for s in TERMINAL))
        deleted = 0
        while True:
            page = self.meta.list_executions(limit=self.retention_page, oldest_first=True,
                                             match=finished)
            doomed = [e.execution_id for e in page
                      if e.finished_at and e.finished_at < timestamp]
            for execution_id in doomed:
                self.results.delete_results(execution_id)
                self.meta.delete_execution(execution_id)
            deleted += len(doomed)
            if not doomed or len(page) < self.retention_page:
                return deleted

    def save_worker(self, worker):
        self.meta.save_worker(worker)

    def list_workers(self):
        return self.meta.list_workers()

    def delete_worker(self, worker_id):
        self.meta.delete_worker(worker_id)

    def create_key(self, key):
        self.meta.create_key(key)

    def get_key(self, key_id):
        return self.meta.get_key(key_id)

    def list_keys(self):
        return self.meta.list_keys()

    def revoke_key(self, key_id, revoked_at):
        return self.meta.revoke_key(key_id, revoked_at)

    def has_keys(self):
        return self.meta.has_keys()

    def hit_counter(self, key, expiry, amount=1):
        return self.meta.hit_counter(key, expiry, amount)

    def get_counter(self, key):
        return self.meta.get_counter(key)

    def ping(self):
        self.meta.ping()
        if isinstance(self.results, Store):
            self.results.ping()

    def close(self):
        self.meta.close()
        if isinstance(self.results, Store):
            self.results.close()


@hookimpl
def livecode_register_stores(register, open_store):
    register(SCHEME, lambda url, settings: open_split(url, open_store))
