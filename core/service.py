"""The operations livecode offers, shared by the API, the worker and the CLI: every rule about
sessions and executions lives here (what is valid, which transition is legal, what a rejected
request leaves untouched, who may see what), so no front door can bypass one.

Records carry the id of the key that made them; methods take ``owner``, a key id (any other
owner's record is "not found", so ids cannot be probed) or ``None`` (operators, workers).
"""

import logging
from dataclasses import replace

from .config import Settings
from .contracts import EventChannel, Queue, Store
from .errors import Conflict, InvalidInput, NotFound, PayloadTooLarge, Unavailable
from .execution_filter import ExecutionFilter
from .execution_states import Status, check_transition
from .limits import Limits
from .models import CodeSession, Execution, text_bytes, with_derived
from .plugins import Plugins
from .sources import check_args, check_files
from .test_cases import check_tests
from .timestamps import utcnow

log = logging.getLogger(__name__)

DEFAULT_LANGUAGE = "python"
MAX_PAGE = 200


class Livecode:
    """The service: every operation on sessions and executions, over one store and one queue."""

    def __init__(self, settings: Settings, plugins: Plugins, store: Store, queue: Queue,
                 events: EventChannel):
        self.settings = settings
        self.plugins = plugins
        self.store = store
        self.queue = queue
        self.events = events

    @classmethod
    def open(cls, settings: Settings, plugins: Plugins | None = None) -> "Livecode":
        plugins = plugins or Plugins(settings)
        store = plugins.open_store(settings.store)
        try:
            queue = plugins.open_queue(settings.queue)
            events = plugins.open_events(settings.events or settings.queue)
        except Exception:
            store.close()
            raise
        return cls(settings, plugins, store, queue, events)

    def close(self) -> None:
        self.events.close()
        self.queue.close()
        self.store.close()

    # --- Sessions ---------------------------------------------------------------------------

    def create_session(self, language: str | None = None, source_code: str = "",
                       owner: str = "", files: list | None = None,
                       entry: str | None = None) -> CodeSession:
        session = self.new_session(language, source_code, owner, files, entry)
        self.store.create_session(session)
        return session

    def new_session(self, language: str | None = None, source_code: str = "",
                    owner: str = "", files: list | None = None,
                    entry: str | None = None) -> CodeSession:
        """A checked session, not stored yet (a batch stores nothing until every item passes):
        of one text (``source_code``) or of several ``files`` run from ``entry``."""
        language = self._check_language(language or DEFAULT_LANGUAGE)
        program = self._program(source_code, files, entry)
        return CodeSession.new(language, program["source_code"], owner,
                               program.get("files", ()), program.get("entry", ""))

    def get_session(self, session_id: str, owner: str | None = None) -> CodeSession:
        session = self.store.get_session(session_id)
        if session is None or (owner is not None and session.owner != owner):
            raise NotFound(f"no code session {session_id!r}", session_id=session_id)
        return session

    def autosave(self, session_id: str, source_code: str | None = None,
                 language: str | None = None, base_revision: int | None = None,
                 owner: str | None = None, files: list | None = None,
                 entry: str | None = None) -> CodeSession:
        """Never starts a run; ``base_revision`` refuses (409) to overwrite a newer save.
        ``files`` replace all of a session's; in a session of several, ``source_code`` is the
        entry's new text and ``entry`` may name another of its files."""
        current = self.get_session(session_id, owner)
        changes = {}
        if language is not None:
            changes["language"] = self._check_language(language)
        if files is None and current.files and (source_code is not None or entry is not None):
            entry = current.entry if entry is None else entry
            files = [dict(f, content=source_code) if source_code is not None
                     and f["name"] == entry else f for f in current.files]
            source_code = None
        if source_code is not None or files is not None or entry is not None:
            changes.update({"files": [], "entry": "",
                            **self._program(source_code or "", files, entry)})
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

    def run(self, session_id: str, stdin: str = "", limits: dict | None = None,
            tests: list | None = None, comparison: str | None = None,
            owner: str | None = None, extra: dict | None = None,
            options: dict | None = None) -> Execution:
        """Queue a run of the session as it is now, ``limits`` within the server's caps;
        ``extra`` is kept with the run for plugins (a callback, say) and the worker (an
        ``interactive`` run's stdin stays open for what a client sends while it runs);
        ``options``: ``args``, ``compiler_options``, ``redirect_stderr_to_stdout``."""
        execution = self.prepare(self.get_session(session_id, owner), stdin, limits, tests,
                                 comparison, extra, options)
        return self.enqueue_all([(None, execution)])[0]

    def submit_code(self, code: str = "", language: str | None = None, stdin: str = "",
                    limits: dict | None = None, tests: list | None = None,
                    comparison: str | None = None, owner: str = "",
                    extra: dict | None = None, files: list | None = None,
                    entry: str | None = None, options: dict | None = None) -> Execution:
        """The one-shot ``/submit-code`` flow: a session made for this code alone, run at once."""
        session = self.new_session(language, code, owner, files, entry)
        execution = self.prepare(session, stdin, limits, tests, comparison, extra, options)
        return self.enqueue_all([(session, execution)])[0]

    def prepare(self, session: CodeSession, stdin: str = "", limits: dict | None = None,
                tests: list | None = None, comparison: str | None = None,
                extra: dict | None = None, options: dict | None = None) -> Execution:
        """A checked run of ``session``, not stored or queued yet."""
        self._check_size("stdin", stdin, self.settings.max_stdin_bytes)
        run_limits = self.limits(limits)
        extra = dict(extra or {})
        cases = self._check_tests(stdin, tests, comparison, bool(extra.get("interactive")))
        return Execution.snapshot(session, stdin, run_limits).evolve(
            tests=cases, extra=extra, **self._run_options(session.language, options))

    def enqueue_all(self, runs: list[tuple[CodeSession | None, Execution]]) -> list[Execution]:
        """Store and queue prepared runs (each with the session made for it alone, or None), all
        or nothing: when the queue fails, nothing stays behind that claims to be queued."""
        done = []
        try:
            for session, execution in runs:
                done.append((session, execution))
                if session is not None:
                    self.store.create_session(session)
                self.store.create_execution(execution)
                try:
                    self.queue.publish(execution.execution_id)
                except Exception as exc:
                    log.warning("queue unavailable, run refused: %s", exc)
                    raise Unavailable(f"the run queue cannot be reached: {exc}") from exc
        except Exception:
            for session, execution in done:
                self.store.delete_execution(execution.execution_id)
                if session is not None:
                    self.store.delete_session(session.session_id)
            raise
        for _, execution in runs:
            self._notify(execution, None)
        return [execution for _, execution in runs]

    def limits(self, requested: dict | None = None) -> Limits:
        return self.settings.limits.within(self.settings.limit_caps, requested or {})

    def sandbox_name(self, language: str) -> str:
        """``LIVECODE_SANDBOX_<LANGUAGE>``, else the deployment's ``LIVECODE_SANDBOX``."""
        return self.settings.option(f"SANDBOX_{language.upper()}") or self.settings.sandbox

    def sandbox_names(self) -> set[str]:
        return {self.sandbox_name(language) for language in self.plugins.languages}

    def get_execution(self, execution_id: str, owner: str | None = None) -> Execution:
        execution = self.store.get_execution(execution_id)
        if execution is None or (owner is not None and execution.owner != owner):
            raise NotFound(f"no execution {execution_id!r}", execution_id=execution_id)
        return execution

    def list_executions(self, session_id: str | None = None, limit: int = 50,
                        before: str | None = None, match: ExecutionFilter | None = None,
                        owner: str | None = None,
                        texts: tuple[str, ...] | None = None) -> list[Execution]:
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}")
        if before is not None:
            self.get_execution(before, owner)
        match = replace(match or ExecutionFilter(), owner=owner)
        return self.store.list_executions(session_id, None, limit, before, match=match,
                                          texts=texts)

    def rerun(self, execution_id: str, owner: str | None = None) -> Execution:
        """Exactly what an earlier run ran, its limits checked against today's caps."""
        old = self.get_execution(execution_id, owner)
        session = self.get_session(old.session_id)
        limits = self.limits(old.limits.to_dict())
        fresh = Execution.snapshot(session, old.stdin, limits).evolve(
            language=old.language, source_code=old.source_code,
            files=old.files, entry=old.entry, source_bytes=old.source_bytes,
            session_revision=old.session_revision, tests=old.tests,
            args=old.args, compiler_options=old.compiler_options,
            redirect_stderr_to_stdout=old.redirect_stderr_to_stdout,
            extra={"rerun_of": old.execution_id})
        return self.enqueue_all([(None, fresh)])[0]

    def cancel(self, execution_id: str, owner: str | None = None) -> Execution:
        execution = self.get_execution(execution_id, owner)
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
        """The stored result, or ``None`` when another process moved it first."""
        check_transition(execution.status, new)
        updated = self.store.transition(
            execution.execution_id, frozenset({execution.status}), execution.attempts,
            {"status": new, **with_derived(changes, new)},
        )
        if updated is not None:
            self._notify(updated, execution.status)
        return updated

    def _notify(self, execution: Execution, previous: Status | None) -> None:
        # Observers first: they are this process's own, the channel is a round trip away.
        try:
            self.plugins.pm.hook.livecode_execution_state_changed(
                execution=execution, previous=previous, livecode=self)
        except Exception:
            log.exception("a livecode_execution_state_changed observer failed")
        try:
            self.events.publish(f"run:{execution.execution_id}",
                                {"type": "state", "status": str(execution.status)})
        except Exception as exc:  # the store has the change; followers read it there
            log.warning("state of %s not published: %s", execution.execution_id, exc)

    # --- Validation -------------------------------------------------------------------------

    def _check_language(self, language: str) -> str:
        if language not in self.plugins.languages:
            known = ", ".join(sorted(self.plugins.languages)) or "none"
            raise InvalidInput(f"unknown language {language!r}; available: {known}",
                               field="language")
        return language

    def _program(self, source_code: str, files: list | None, entry: str | None) -> dict:
        """A session's code fields from one text or from several files."""
        if files is None:
            if entry is not None:
                raise InvalidInput("entry names one of files; send files too", field="entry")
            self._check_size("source_code", source_code, self.settings.max_source_bytes)
            return {"source_code": source_code}
        if source_code:
            raise InvalidInput("send source_code (one file) or files, not both", field="files")
        files, entry, text = check_files(files, entry, self.settings.max_files,
                                         self.settings.max_files_bytes)
        return {"source_code": text, "files": files, "entry": entry}

    def _run_options(self, language: str, options: dict | None) -> dict:
        options = dict(options or {})
        compiler_options = list(options.get("compiler_options") or ())
        problem = self.plugins.languages[language].check_compiler_options(compiler_options)
        if problem:
            raise InvalidInput(problem, field="compiler_options")
        return {"args": check_args(options.get("args"), self.settings.max_args),
                "compiler_options": compiler_options,
                "redirect_stderr_to_stdout": bool(options.get("redirect_stderr_to_stdout"))}

    def _check_tests(self, stdin: str, tests, comparison, interactive=False) -> dict | None:
        if tests is not None and stdin:
            raise InvalidInput("send stdin inside each test, not beside tests", field="stdin")
        if tests is not None and interactive:
            raise InvalidInput("a run with tests is not interactive", field="interactive")
        return check_tests(tests, comparison, self.settings.max_tests,
                           self.settings.max_stdin_bytes)

    @staticmethod
    def _check_size(field: str, value: str, cap: int) -> None:
        if (size := text_bytes(value)) > cap:
            raise PayloadTooLarge(f"{field} is {size} bytes; the limit is {cap}",
                                  field=field, limit=cap)
