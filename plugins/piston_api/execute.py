"""Piston v2's ``POST /execute`` and ``GET /runtimes``, answered by livecode's service.

``execute`` is synchronous in Piston: the request queues a livecode run like any other and waits
for its end (bounded by the run's limits). Piston's run limits translate to livecode's (each
within the server's caps, ``-1`` meaning the server's default); its compile limits name no
livecode setting a request may change, so they are checked as numbers and the compile step runs
under the operator's compile limits.

Piston runs the first of ``files`` and puts the others beside it: in livecode the first is the
entry. A file without a name is named as Piston names it (``file1.code``), but for the first,
which takes the language's main file name (``main.c``), so that its compiler knows it. A file
alone is the one-text shorthand whatever its name (clients name it ``main``, say, without an
extension; Piston's compile scripts add one). ``args`` are the run's ``args``.
"""

import base64
import binascii
import math
import signal

import falcon

from livecode.api.operations import operation
from livecode.api.resources import Resource, run_body_bytes
from livecode.api.validation import Body, check_fields
from livecode.core.errors import InvalidInput, Unavailable
from livecode.core.execution_states import TERMINAL
from livecode.plugins.synchronous import wait_for_end, waiting_slot

from .openapi import EXECUTED, RUNTIMES, TAG, fields_of
from .runtimes import pick, runtimes

NUMBER = (int, float)
FIELDS = {"language": str, "version": str, "files": list, "stdin": str, "args": list,
          "compile_timeout": NUMBER, "run_timeout": NUMBER, "compile_cpu_time": NUMBER,
          "run_cpu_time": NUMBER, "compile_memory_limit": NUMBER, "run_memory_limit": NUMBER}
EXECUTE_BODY = Body(fields_of(FIELDS), run_body_bytes,
                    required=("language", "version", "files"),
                    example={"language": "python", "version": "*",
                             "files": [{"content": "print('hi')"}]})
FILE_FIELDS = {"name": str, "content": str, "encoding": str}
DECODERS = {"utf8": lambda text: text.encode("utf-8"),
            "base64": lambda text: base64.b64decode(text, validate=True), "hex": bytes.fromhex}
# Piston field -> (livecode limit, factor from Piston's unit to livecode's)
RUN_LIMITS = {"run_timeout": ("wall_time_limit", 0.001), "run_cpu_time": ("cpu_time_limit", 0.001),
              "run_memory_limit": ("memory_limit", 1 / 1024)}


class Piston(Resource):
    """Acts for ``req.context.caller`` as livecode's own routes do: its key owns the run and its
    quotas apply."""

    tag = TAG

    @operation("List the runtimes (Piston's GET /runtimes)", {200: RUNTIMES})
    def on_get_runtimes(self, req, resp):
        resp.media = runtimes(self.livecode.plugins.languages)

    @operation("Run a program and answer its result (Piston's POST /execute)",
               {200: EXECUTED}, body=EXECUTE_BODY,
               errors={503: "the run did not end in time, or too many requests wait here"})
    def on_post_execute(self, req, resp):
        body = req.context.body
        language, piston_name, version = pick(self.livecode.plugins.languages,
                                              body["language"], body["version"])
        for name in ("compile_timeout", "compile_cpu_time", "compile_memory_limit"):
            if name in body and not (body[name] > 0 or body[name] == -1):
                raise InvalidInput(f"{name} must be positive, or -1", field=name)
        runner = self.livecode.plugins.languages[language]
        program, limits, caller = program_of(body["files"], runner), run_limits(body), \
            req.context.caller
        options = {"args": body.get("args")}
        try:  # everything checked before a waiting slot or a quota is taken
            session = self.livecode.new_session(language, program.get("code", ""),
                                                caller.key_id, program.get("files"),
                                                program.get("entry"))
            prepared = self.livecode.prepare(session, body.get("stdin", ""), limits,
                                             options=options)
        except InvalidInput as exc:
            raise in_piston_units(exc) from None
        with waiting_slot(self.settings):
            with self.quotas.reserve_runs(caller):
                queued = self.livecode.enqueue_all([(session, prepared)])[0]
            execution = wait_for_end(self.livecode, queued)
        if execution.status not in TERMINAL:
            raise Unavailable(f"the run did not end in time; it is still {execution.status} as "
                              f"execution {execution.execution_id}")
        resp.status = falcon.HTTP_200
        resp.media = result_json(execution, piston_name, version,
                                 compiles(self.livecode.plugins.languages[language]))


def compiles(runner) -> bool:
    """Whether the language has a compile step (Piston then answers a ``compile`` stage): its
    runner gives one for any source, and none for a language that runs its source as it is."""
    return runner.compile("") is not None


def program_of(files: list, runner) -> dict:
    """``submit_code``'s program arguments: ``code`` for one file, else ``files`` and their
    ``entry``, the first."""
    if not files:
        raise InvalidInput("files must hold at least one {name?, content, encoding?}",
                           field="files")
    decoded = [decode_file(number, item) for number, item in enumerate(files)]
    if len(files) == 1:
        return {"code": decoded[0]}
    named = [{"name": files[0].get("name") or runner.source_of("").entry,
              "content": decoded[0]},
             *({"name": item.get("name") or f"file{number}.code", "content": text}
               for number, (item, text) in enumerate(zip(files, decoded)) if number)]
    return {"files": named, "entry": named[0]["name"]}


def decode_file(number: int, item) -> str:
    where = f"files[{number}]"
    if not isinstance(item, dict):
        raise InvalidInput(f"{where} must be an object {{name?, content, encoding?}}",
                           field="files")
    file = check_fields(item, FILE_FIELDS, where=f"{where}.")
    encoding = file.get("encoding", "utf8")
    if "content" not in file or encoding not in DECODERS:
        raise InvalidInput(f"{where} needs content, and encoding one of {', '.join(DECODERS)}",
                           field="files")
    try:
        return DECODERS[encoding](file["content"]).decode("utf-8")
    except (binascii.Error, ValueError):
        raise InvalidInput(f"{where}.content is not {encoding} of UTF-8 text; livecode keeps a "
                           "program's files as text", field="files") from None


def run_limits(body: dict) -> dict:
    limits = {}
    for name, (limit, factor) in RUN_LIMITS.items():
        value = body.get(name)
        if value is None or value == -1:
            continue  # Piston's "no limit of my own": the server's default
        if not value > 0:
            raise InvalidInput(f"{name} must be positive, or -1", field=name)
        scaled = value * factor
        limits[limit] = math.ceil(scaled) if limit == "memory_limit" else scaled
    return limits


def in_piston_units(exc: InvalidInput) -> InvalidInput:
    """A limit over its cap, said with the Piston field and unit the client sent."""
    for name, (limit, factor) in RUN_LIMITS.items():
        if exc.details.get("field") == limit and "cap" in exc.details:
            cap = exc.details["cap"] / factor
            return InvalidInput(f"{name} is over this server's cap of {cap:g}", field=name,
                                cap=cap)
    return exc


def signal_name(reason: str | None) -> str | None:
    if reason and reason.startswith("signal_"):
        try:
            return signal.Signals(int(reason[len("signal_"):])).name
        except ValueError:
            return None
    if reason in ("wall_time_limit", "cpu_time_limit", "output_limit", "memory_limit"):
        return "SIGKILL"  # the sandbox ended it, as Piston kills a run over its limits
    return None


def stage(stdout: str, stderr: str, code, signal_, message=None) -> dict:
    return {"stdout": stdout, "stderr": stderr, "output": stdout + stderr, "code": code,
            "signal": signal_, "message": message}


def result_json(execution, language: str, version: str, compiled: bool) -> dict:
    """Piston's answer: ``run`` (and ``compile`` for a compiled language), each with stdout,
    stderr, output (stdout then stderr: livecode keeps them apart, so they are not
    interleaved), code and signal."""
    answer = {"language": language, "version": version}
    if execution.reason == "compilation_error":
        answer["compile"] = stage("", execution.compile_output or "", 1, None,
                                  "compilation failed")
        answer["run"] = stage("", "", None, None, "not run: compilation failed")
        return answer
    if compiled:
        answer["compile"] = stage("", execution.compile_output or "", 0, None)
    message = execution.reason if str(execution.status) != "COMPLETED" else None
    answer["run"] = stage(execution.stdout, execution.stderr, execution.exit_code,
                          signal_name(execution.reason), message)
    return answer
