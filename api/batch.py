"""Many runs in one request, all or nothing: every item is checked (fields, sizes, language,
limits within caps, tests, its callback, the session it names) before anything is stored, the
caller's quotas are counted once per run, and only then are they stored and queued together
(:meth:`Livecode.enqueue_all`), so one bad item leaves nothing behind.

An item is ``/submit-code``'s body (``code``, a one-shot session made for it) or names a saved
session (``session_id``, a run of what it holds now, as ``POST /code-sessions/{id}/run``).
Judge0's ``POST /submissions/batch`` translates onto the same path.
"""

from livecode.core.errors import InvalidInput, LivecodeError

from . import callback_field


def prepare(livecode, caller, request: dict):
    """A checked, unstored run for one item: ``(new session or None, execution)``."""
    request = dict(request)
    extra = callback_field.extra(livecode, caller, request.pop("callback_url", None),
                                 request.pop("callback_format", "livecode"))
    session_id = request.pop("session_id", None)
    if session_id is not None:
        if {"code", "files", "entry", "language"} & request.keys():
            raise InvalidInput("send session_id, or code (or files) and language, not both",
                               field="session_id")
        session = livecode.get_session(session_id, caller.owner)
        return None, livecode.prepare(session, extra=extra, **request)
    if "code" not in request and "files" not in request:
        raise InvalidInput("code (or files, or session_id) is required", field="code")
    session = livecode.new_session(request.pop("language", None), request.pop("code", ""),
                                   caller.key_id, request.pop("files", None),
                                   request.pop("entry", None))
    return session, livecode.prepare(session, extra=extra, **request)


def queue_batch(livecode, quotas, caller, requests: list[dict], where: str = "runs") -> list:
    """Check every request, then the caller's quotas for all of them, then queue them all.
    An item's error names its index (``runs[3]: …`` and ``index``)."""
    if not 1 <= len(requests) <= livecode.settings.max_batch:
        raise InvalidInput(f"{where} must hold 1 to {livecode.settings.max_batch} runs "
                           f"(LIVECODE_MAX_BATCH), not {len(requests)}", field=where)
    prepared = []
    for index, request in enumerate(requests):
        try:
            prepared.append(prepare(livecode, caller, request))
        except LivecodeError as exc:
            raise type(exc)(f"{where}[{index}]: {exc.message}",
                            **{**exc.details, "index": index}) from None
    with quotas.reserve_runs(caller, len(prepared)):
        return livecode.enqueue_all(prepared)
