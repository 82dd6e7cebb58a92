"""The ``mongodb://`` store, for deployments that outgrow one host.

``mongodb://host:27017/livecode`` (the path names the database; default ``livecode``). Every
write that must not race is one document operation: the claim is a ``find_one_and_update``
filtered on status and attempt number, so of many workers exactly one wins. Executions carry a
``seq`` from a counter document, so listing and paging order is the same as in SQLite.

With ``LIVECODE_RETENTION_SECONDS`` set, a TTL index on ``finished_at_date`` lets MongoDB itself
delete finished executions that old (sessions are untouched).

The same store also serves as the results store of the ``split:`` store (metadata in SQLite,
results in MongoDB), through :class:`livecode.core.contracts.ResultStore`.
"""

import re
from datetime import timezone
from urllib.parse import urlsplit

from livecode.core.contracts import ResultStore, Store
from livecode.core.errors import InvalidInput
from livecode.core.execution_filter import ExecutionFilter
from livecode.core.execution_states import TERMINAL
from livecode.core.hookspecs import hookimpl
from livecode.core.models import CodeSession, Execution, WorkerInfo
from livecode.core.timestamps import parse_time

TERMINAL_NAMES = sorted(str(s) for s in TERMINAL)


def _execution_doc(execution: Execution) -> dict:
    doc = execution.to_dict()
    doc["_id"] = doc["execution_id"]
    return doc


def _session(doc: dict) -> CodeSession:
    return CodeSession(**{k: v for k, v in doc.items() if k != "_id"})


FIELD_OF = {"status": "status", "language": "language", "reason": "reason",
            "worker": "worker_id"}


def _filter_query(match: ExecutionFilter) -> dict:
    clauses = []
    created = {}
    if match.created_after:
        created["$gte"] = match.created_after
    if match.created_before:
        created["$lt"] = match.created_before
    if created:
        clauses.append({"created_at": created})
    for field, negate, values in match.groups():
        tests = []
        for value in values:
            if field == "text":
                pattern = {"$regex": re.escape(value)}
                tests += [{"stdout": pattern}, {"stderr": pattern}]
            elif field == "worker":
                tests.append({"worker_id": {"$regex": re.escape(value)}})
            else:
                tests.append({FIELD_OF[field]: value})
        clauses.append({"$nor": tests} if negate else {"$or": tests})
    return {"$and": clauses} if clauses else {}


class MongoStore(Store, ResultStore):
    def __init__(self, url: str, settings):
        try:
            import pymongo
        except ImportError:
            raise InvalidInput(f"{url!r} needs the pymongo package "
                               "(pip install 'livecode[mongodb]')") from None

        self._pymongo = pymongo
        self.client = pymongo.MongoClient(url, serverSelectionTimeoutMS=5000,
                                          connectTimeoutMS=5000, tz_aware=True)
        name = urlsplit(url).path.strip("/") or "livecode"
        self.db = self.client[name]
        self.sessions = self.db["code_sessions"]
        self.executions = self.db["executions"]
        self.workers = self.db["workers"]
        self.counters = self.db["counters"]
        self.results = self.db["results"]
        self._ensure_indexes(settings.retention_seconds)

    def _ensure_indexes(self, retention_seconds: float) -> None:
        asc, desc = self._pymongo.ASCENDING, self._pymongo.DESCENDING
        self.executions.create_index([("seq", asc)], unique=True, name="by_seq")
        self.executions.create_index([("session_id", asc), ("seq", desc)], name="by_session")
        self.executions.create_index([("status", asc), ("seq", asc)], name="by_status")
        self.executions.create_index([("finished_at", asc)], name="by_finish")
        self.results.create_index([("execution_id", asc)], name="by_execution")
        if retention_seconds:
            self.executions.create_index([("finished_at_date", asc)], name="retention",
                                         expireAfterSeconds=int(retention_seconds))

    # --- sessions ---

    def create_session(self, session: CodeSession) -> None:
        self.sessions.insert_one({"_id": session.session_id, **session.to_dict()})

    def get_session(self, session_id):
        doc = self.sessions.find_one({"_id": session_id})
        return _session(doc) if doc else None

    def update_session(self, session_id, changes, expected_revision=None):
        query = {"_id": session_id}
        if expected_revision is not None:
            query["revision"] = expected_revision
        doc = self.sessions.find_one_and_update(
            query, {"$set": changes, "$inc": {"revision": 1}},
            return_document=self._pymongo.ReturnDocument.AFTER)
        return _session(doc) if doc else None

    def delete_session(self, session_id):
        self.sessions.delete_one({"_id": session_id})

    # --- executions ---

    def create_execution(self, execution: Execution) -> None:
        counter = self.counters.find_one_and_update(
            {"_id": "executions"}, {"$inc": {"seq": 1}}, upsert=True,
            return_document=self._pymongo.ReturnDocument.AFTER)
        self.executions.insert_one({**_execution_doc(execution), "seq": counter["seq"]})

    def get_execution(self, execution_id):
        doc = self.executions.find_one({"_id": execution_id})
        return Execution.from_dict(doc) if doc else None

    def delete_execution(self, execution_id):
        self.executions.delete_one({"_id": execution_id})
        self.results.delete_many({"execution_id": execution_id})

    def list_executions(self, session_id=None, status=None, limit=50, before=None,
                        oldest_first=False, match=None):
        query = _filter_query(match) if match is not None else {}
        extra = []
        if session_id is not None:
            extra.append({"session_id": session_id})
        if status is not None:
            extra.append({"status": str(status)})
        if before is not None:
            anchor = self.executions.find_one({"_id": before}, {"seq": 1})
            if anchor is None:
                return []
            extra.append({"seq": {"$lt": anchor["seq"]}})
        if extra:
            query = {"$and": [query, *extra]} if query else {"$and": extra}
        order = self._pymongo.ASCENDING if oldest_first else self._pymongo.DESCENDING
        found = self.executions.find(query).sort("seq", order).limit(limit)
        return [Execution.from_dict(doc) for doc in found]

    def transition(self, execution_id, expected, expected_attempts, changes):
        changes = dict(changes)
        changes["status"] = str(changes["status"])
        if changes.get("finished_at"):
            changes["finished_at_date"] = parse_time(changes["finished_at"]).astimezone(
                timezone.utc)
        doc = self.executions.find_one_and_update(
            {"_id": execution_id, "status": {"$in": [str(s) for s in expected]},
             "attempts": expected_attempts},
            {"$set": changes}, return_document=self._pymongo.ReturnDocument.AFTER)
        return Execution.from_dict(doc) if doc else None

    def count_executions(self, created_after=None, created_before=None):
        window = _filter_query(ExecutionFilter(created_after=created_after,
                                               created_before=created_before))
        return {row["_id"]: row["n"] for row in self.executions.aggregate(
            [{"$match": window}, {"$group": {"_id": "$status", "n": {"$sum": 1}}}])}

    def oldest_queued_at(self):
        doc = self.executions.find_one({"status": "QUEUED"}, {"created_at": 1},
                                       sort=[("seq", self._pymongo.ASCENDING)])
        return doc["created_at"] if doc else None

    def delete_finished_before(self, timestamp):
        query = {"status": {"$in": TERMINAL_NAMES}, "finished_at": {"$lt": timestamp}}
        ids = [d["_id"] for d in self.executions.find(query, {"_id": 1})]
        if not ids:
            return 0
        self.results.delete_many({"execution_id": {"$in": ids}})
        return self.executions.delete_many({"_id": {"$in": ids}}).deleted_count

    # --- workers ---

    def save_worker(self, worker: WorkerInfo) -> None:
        self.workers.replace_one({"_id": worker.worker_id},
                                 {"_id": worker.worker_id, **worker.to_dict()}, upsert=True)

    def list_workers(self):
        return [WorkerInfo(**{k: v for k, v in d.items() if k != "_id"})
                for d in self.workers.find().sort("_id", self._pymongo.ASCENDING)]

    def delete_worker(self, worker_id):
        self.workers.delete_one({"_id": worker_id})

    # --- results (split mode) ---

    def put_results(self, execution_id, attempt, results):
        key = f"{execution_id}#{attempt}"
        self.results.replace_one({"_id": key}, {"_id": key, "execution_id": execution_id,
                                                "attempt": attempt, **results}, upsert=True)

    def get_results(self, keys):
        wanted = [f"{execution_id}#{attempt}" for execution_id, attempt in keys]
        found = {}
        for doc in self.results.find({"_id": {"$in": wanted}}):
            found[(doc["execution_id"], doc["attempt"])] = {
                k: v for k, v in doc.items() if k not in ("_id", "execution_id", "attempt")}
        return found

    def delete_results(self, execution_id):
        self.results.delete_many({"execution_id": execution_id})

    def ping(self):
        self.client.admin.command("ping")

    def close(self):
        self.client.close()


@hookimpl
def livecode_register_stores(register):
    for scheme in ("mongodb", "mongodb+srv"):
        register(scheme, MongoStore)
