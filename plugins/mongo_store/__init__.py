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
import time
from datetime import timezone
from urllib.parse import urlsplit

from livecode.core.contracts import ResultStore, Store, Timing
from livecode.core.errors import InvalidInput
from livecode.core.execution_filter import ExecutionFilter
from livecode.core.execution_states import TERMINAL
from livecode.core.hookspecs import hookimpl
from livecode.core.keys import ApiKey
from livecode.core.models import TEXT_FIELDS, CodeSession, Execution, WorkerInfo
from livecode.core.timestamps import parse_time

TERMINAL_NAMES = sorted(str(s) for s in TERMINAL)


def _execution_doc(execution: Execution) -> dict:
    doc = execution.to_dict()
    doc["_id"] = doc["execution_id"]
    return doc


def _session(doc: dict) -> CodeSession:
    return CodeSession(**{k: v for k, v in doc.items() if k != "_id"})


def passes_without_output(terms) -> bool:
    """Whether text terms pass a run with no output: only an empty text is found in it."""
    wanted = [t for t in terms if not t.negate]
    return ((not wanted or any(t.value == "" for t in wanted))
            and not any(t.value == "" for t in terms if t.negate))


FIELD_OF = {"status": "status", "language": "language", "reason": "reason",
            "worker": "worker_id"}


def _filter_query(match: ExecutionFilter) -> dict:
    clauses = []
    if match.owner is not None:
        clauses.append({"owner": match.owner})
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
        self.keys = self.db["api_keys"]
        self.quota_counters = self.db["quota_counters"]
        self._ensure_indexes(settings.retention_seconds)

    def _ensure_indexes(self, retention_seconds: float) -> None:
        asc, desc = self._pymongo.ASCENDING, self._pymongo.DESCENDING
        self.executions.create_index([("seq", asc)], unique=True, name="by_seq")
        self.executions.create_index([("session_id", asc), ("seq", desc)], name="by_session")
        self.executions.create_index([("status", asc), ("seq", asc)], name="by_status")
        self.executions.create_index([("finished_at", asc)], name="by_finish")
        self.executions.create_index([("owner", asc), ("status", asc)], name="by_owner")
        self.executions.create_index([("created_at", asc)], name="by_creation")
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
                        oldest_first=False, match=None, texts=None):
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
        unread = None if texts is None else {t: 0 for t in TEXT_FIELDS if t not in texts}
        found = self.executions.find(query, unread or None).sort("seq", order).limit(limit)
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

    def count_executions(self, created_after=None, created_before=None, owner=None):
        window = _filter_query(ExecutionFilter(created_after=created_after,
                                               created_before=created_before, owner=owner))
        return {row["_id"]: row["n"] for row in self.executions.aggregate(
            [{"$match": window}, {"$group": {"_id": "$status", "n": {"$sum": 1}}}])}

    def execution_timings(self, created_after, created_before, limit):
        fields = ("created_at", "started_at", "finished_at", "execution_time_ms")
        docs = self.executions.find(
            {"created_at": {"$gte": created_after, "$lt": created_before}},
            {"_id": 0, **{f: 1 for f in fields}}).sort("seq", self._pymongo.DESCENDING).limit(limit)
        return [Timing(*(d.get(f) for f in fields)) for d in docs]

    def failure_groups(self, created_after, created_before):
        pipeline = [
            {"$match": {"status": {"$in": ["FAILED", "TIMEOUT"]},
                        "created_at": {"$gte": created_after, "$lt": created_before}}},
            {"$sort": {"seq": 1}},
            {"$group": {"_id": {"status": "$status", "reason": "$reason",
                                "signature": {"$ifNull": ["$signature", "$reason", ""]}},
                        "count": {"$sum": 1}, "first_seen": {"$min": "$created_at"},
                        "last_seen": {"$max": "$created_at"}, "example": {"$last": "$_id"}}},
        ]
        return [{**g["_id"], "reason": g["_id"].get("reason"),
                 **{k: g[k] for k in ("count", "first_seen", "last_seen", "example")}}
                for g in self.executions.aggregate(pipeline)]

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

    # --- API keys ---

    def create_key(self, key):
        self.keys.insert_one({"_id": key.key_id, **key.to_dict()})

    def get_key(self, key_id):
        doc = self.keys.find_one({"_id": key_id})
        return _key(doc) if doc else None

    def list_keys(self):
        return [_key(d) for d in self.keys.find().sort([("created_at", 1), ("_id", 1)])]

    def revoke_key(self, key_id, revoked_at):
        self.keys.update_one({"_id": key_id, "revoked_at": None},
                             {"$set": {"revoked_at": revoked_at}})
        return self.get_key(key_id)

    def has_keys(self):
        return self.keys.find_one({"revoked_at": None}, {"_id": 1}) is not None

    # --- quota counters ---

    def hit_counter(self, key, expiry, amount=1):
        now = time.time()
        # Restart an expired counter; the upsert races are settled by the unique _id.
        self.quota_counters.delete_one({"_id": key, "expires_at": {"$lte": now}})
        try:
            doc = self.quota_counters.find_one_and_update(
                {"_id": key}, {"$inc": {"value": amount},
                               "$setOnInsert": {"expires_at": now + expiry}},
                upsert=True, return_document=self._pymongo.ReturnDocument.AFTER)
        except self._pymongo.errors.DuplicateKeyError:
            return self.hit_counter(key, expiry, amount)
        return doc["value"]

    def get_counter(self, key):
        now = time.time()
        doc = self.quota_counters.find_one({"_id": key, "expires_at": {"$gt": now}})
        return (doc["value"], doc["expires_at"]) if doc else (0, now)

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

    def matching_results(self, keys, match):
        text = tuple(t for t in match.terms if t.field == "text")  # results hold no other field
        ids = {f"{execution_id}#{attempt}": (execution_id, attempt)
               for execution_id, attempt in keys}

        def found(query: dict) -> set:
            wanted = {"_id": {"$in": list(ids)}}
            return {ids[doc["_id"]] for doc in self.results.find(
                {"$and": [wanted, query]} if query else wanted, {"_id": 1})}

        matching = found(_filter_query(ExecutionFilter(text)))
        if passes_without_output(text):  # "!MemoryError" keeps runs with no results
            matching |= set(keys) - found({})
        return matching

    def ping(self):
        self.client.admin.command("ping")

    def close(self):
        self.client.close()


def _key(doc: dict) -> ApiKey:
    return ApiKey(**{k: v for k, v in doc.items() if k != "_id"})


@hookimpl
def livecode_register_stores(register):
    for scheme in ("mongodb", "mongodb+srv"):
        register(scheme, MongoStore)
