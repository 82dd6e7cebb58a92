"""Judge0 CE's routes, answered by livecode's service: each resource reads Judge0's request,
asks the service for the caller (``req.context.caller``: its key owns what it submits, sees only
what it owns, and its quotas apply, as on livecode's own routes) and answers in Judge0's
shape."""

import falcon

from livecode.api import batch
from livecode.api.operations import operation
from livecode.api.resources import Resource
from livecode.api.validation import check_fields
from livecode.core.errors import InvalidInput, NotFound, PayloadTooLarge
from livecode.plugins.callbacks.agent import CallbackSettings
from livecode.plugins.synchronous import wait_for_end, waiting_slot

from . import languages, statuses
from .openapi import (ABOUT, BATCH, BATCH_BODY, CONFIG, CREATED, CREATED_BATCH, ENCODED, FIELDS,
                      LANGUAGES, ONE_LANGUAGE, STATUS_LIST, SUBMISSION_ANSWER,
                      SUBMISSION_BODY, TAG, TOKENS, WAIT)
from .submissions import REQUEST_FIELDS, requested_fields, run_request, submission_json

VERSION = "1.13.1"  # the Judge0 CE API this layer speaks (the SDK picks its language table by it)


class Judge0Resource(Resource):
    tag = TAG

    def language_ids(self) -> dict[int, str]:
        return languages.language_ids(self.livecode.plugins.languages)

    def shown(self, execution, fields, encoded: bool) -> dict:
        return submission_json(execution, fields, encoded, self.livecode.plugins.languages)

    def submit(self, caller, request: dict):
        """Queue one request for ``caller``, checked first, then within its quotas."""
        prepared = batch.prepare(self.livecode, caller, request)
        with self.quotas.reserve_runs(caller):
            return self.livecode.enqueue_all([prepared])[0]


def flag(req, name: str) -> bool:
    return req.get_param_as_bool(name, default=False)


class Submissions(Judge0Resource):
    """``/submissions``, ``/submissions/{token}`` and ``/submissions/batch``."""

    @operation("Submit a program (Judge0's POST /submissions)", {201: CREATED},
               body=SUBMISSION_BODY, query=(ENCODED, WAIT, FIELDS),
               errors={503: "wait=true while too many requests wait here"})
    def on_post(self, req, resp):
        encoded = flag(req, "base64_encoded")
        fields = requested_fields(req.get_param("fields"))
        body = req.context.body
        request = run_request(body, encoded, self.language_ids(), self.livecode)
        caller = req.context.caller
        resp.status = falcon.HTTP_201
        if flag(req, "wait"):
            with waiting_slot(self.settings):
                execution = wait_for_end(self.livecode, self.submit(caller, request))
            resp.media = self.shown(execution, fields, encoded)
        else:
            resp.media = {"token": self.submit(caller, request).execution_id}

    @operation("Read a submission", {200: SUBMISSION_ANSWER}, query=(ENCODED, FIELDS))
    def on_get_item(self, req, resp, token):
        fields = requested_fields(req.get_param("fields"))
        execution = self.livecode.get_execution(token, req.context.caller.owner)
        resp.media = self.shown(execution, fields, flag(req, "base64_encoded"))

    @operation("Submit several programs at once", {201: CREATED_BATCH}, body=BATCH_BODY,
               query=(ENCODED,))
    def on_post_batch(self, req, resp):
        """Onto livecode's own batch (``POST /executions/batch``): every submission checked,
        the quotas counted per run, then all queued or none."""
        encoded = flag(req, "base64_encoded")
        body = req.context.body
        cap = self.settings.max_batch
        items = body.get("submissions")
        if not items or len(items) > cap:
            raise InvalidInput(f"submissions must be an array of 1 to {cap} submissions",
                               field="submissions")
        requests = []
        for number, item in enumerate(items):
            if not isinstance(item, dict):
                raise InvalidInput(f"submissions[{number}] must be an object", field="submissions")
            fields = check_fields(item, REQUEST_FIELDS, where=f"submissions[{number}].")
            try:
                requests.append(run_request(fields, encoded, self.language_ids(), self.livecode))
            except (InvalidInput, PayloadTooLarge) as exc:
                raise type(exc)(f"submissions[{number}]: {exc.message}",
                                **{**exc.details, "index": number}) from None
        queued = batch.queue_batch(self.livecode, self.quotas, req.context.caller, requests,
                                   where="submissions")
        resp.status = falcon.HTTP_201
        resp.media = [{"token": execution.execution_id} for execution in queued]

    @operation("Read several submissions", {200: BATCH}, query=(TOKENS, ENCODED, FIELDS))
    def on_get_batch(self, req, resp):
        tokens = [t.strip() for t in req.get_param("tokens", required=True).split(",") if t.strip()]
        cap = self.settings.max_batch
        if not tokens or len(tokens) > cap:
            raise InvalidInput(f"tokens must name 1 to {cap} submissions", field="tokens")
        fields = requested_fields(req.get_param("fields"))
        encoded = flag(req, "base64_encoded")
        found = []
        for token in tokens:
            try:
                execution = self.livecode.get_execution(token, req.context.caller.owner)
                found.append(self.shown(execution, fields, encoded))
            except NotFound:
                found.append(None)
        resp.media = {"submissions": found}


class Languages(Judge0Resource):
    @operation("List the languages by Judge0 id", {200: LANGUAGES})
    def on_get(self, req, resp):
        runners = self.livecode.plugins.languages
        resp.media = [{"id": number, "name": languages.describe(number, runners[name])["name"]}
                      for number, name in sorted(self.language_ids().items())]

    @operation("Read a language", {200: ONE_LANGUAGE})
    def on_get_item(self, req, resp, language_id):
        ids = self.language_ids()
        try:
            number = int(language_id)
            name = ids[number]
        except (ValueError, KeyError):
            raise NotFound(f"no language {language_id!r}; GET /languages lists them") from None
        resp.media = languages.describe(number, self.livecode.plugins.languages[name])


class Statuses(Judge0Resource):
    @operation("List Judge0's statuses", {200: STATUS_LIST})
    def on_get(self, req, resp):
        resp.media = [statuses.status_json(number) for number in statuses.STATUSES]


class About(Judge0Resource):
    @operation("What this layer is (Judge0's /about)", {200: ABOUT})
    def on_get(self, req, resp):
        resp.media = {"version": VERSION, "homepage": "https://github.com/judge0/judge0",
                      "source_code": "https://github.com/judge0/judge0",
                      "maintainer": "livecode, speaking Judge0 CE's API"}

    def languages_taking_options(self) -> list[str]:
        """Judge0's names of the languages whose compiler takes a run's options."""
        runners = self.livecode.plugins.languages
        return sorted(languages.describe(languages.language_id_of(name), runner)["name"]
                      for name, runner in runners.items() if name in languages.LANGUAGES
                      and runner.check_compiler_options(["-O2"]) is None)

    @operation("Judge0's /config_info", {200: CONFIG})
    def on_get_config(self, req, resp):
        """What Judge0's ``/config_info`` tells, from livecode's own limits and caps."""
        limits, caps = self.settings.limits, self.settings.limit_caps
        callbacks = self.livecode.plugins.pm.has_plugin("callbacks")
        delivery = CallbackSettings.of(self.settings)
        resp.media = {
            "maintenance_mode": False, "enable_wait_result": True,
            "enable_compiler_options": True,
            "allowed_languages_for_compile_options": self.languages_taking_options(),
            "enable_command_line_arguments": True, "enable_submission_delete": False,
            "enable_callbacks": callbacks,
            "callbacks_max_tries": delivery.max_attempts if callbacks else 0,
            "callbacks_timeout": delivery.timeout if callbacks else 0,
            "enable_additional_files": True, "max_queue_size": 0,
            "cpu_time_limit": limits.cpu_time_limit, "max_cpu_time_limit": caps.cpu_time_limit,
            "cpu_extra_time": 0, "max_cpu_extra_time": 0,
            "wall_time_limit": limits.wall_time_limit,
            "max_wall_time_limit": caps.wall_time_limit,
            "memory_limit": limits.memory_limit, "max_memory_limit": caps.memory_limit,
            "stack_limit": limits.memory_limit, "max_stack_limit": caps.memory_limit,
            "max_processes_and_or_threads": limits.max_processes,
            "max_max_processes_and_or_threads": caps.max_processes,
            "enable_per_process_and_thread_time_limit": False,
            "allow_enable_per_process_and_thread_time_limit": False,
            "enable_per_process_and_thread_memory_limit": False,
            "allow_enable_per_process_and_thread_memory_limit": False,
            "max_file_size": limits.max_file_size // 1024,
            "max_max_file_size": caps.max_file_size // 1024,
            "number_of_runs": 1, "max_number_of_runs": 1,
            "redirect_stderr_to_stdout": False,
            "max_extract_size": self.settings.max_files_bytes // 1024,
            "enable_batched_submissions": True,
            "max_submission_batch_size": self.settings.max_batch,
            "submission_cache_duration": 0, "use_docs_as_homepage": False,
            "enable_network": False, "allow_enable_network": False,
        }
