"""Judge0 submissions as livecode executions: a submission's fields become a run request (its
limits, its ``expected_output`` a test case judged by Judge0's rule) and an execution is shown
with Judge0's field names, units and statuses. A submission's token is the execution's id.

``command_line_arguments`` and ``compiler_options`` are strings Judge0 puts on a shell's
command line; livecode splits them into words as a shell would (quotes, backslashes) but
expands nothing, and passes the words as ``args`` and ``compiler_options``.
``additional_files`` (a base64 zip) become the program's other files, beside the source file
under Judge0's name for it (``script.py``, ``main.c``), which is the entry.
"""

import base64
import binascii
import math
import shlex

from livecode.core.errors import InvalidInput
from livecode.core.sources import check_args, check_files

from .additional_files import read_additional_files, zip_files
from .languages import LANGUAGES, describe, language_id_of
from .statuses import exit_signal, status_json, status_of

NUMBER = (int, float)
REQUEST_FIELDS = {
    "source_code": str, "language_id": int, "stdin": str, "expected_output": str,
    "cpu_time_limit": NUMBER, "cpu_extra_time": NUMBER, "wall_time_limit": NUMBER,
    "memory_limit": NUMBER, "stack_limit": int, "max_processes_and_or_threads": int,
    "enable_per_process_and_thread_time_limit": bool,
    "enable_per_process_and_thread_memory_limit": bool, "max_file_size": int,
    "redirect_stderr_to_stdout": bool, "enable_network": bool, "number_of_runs": int,
    "callback_url": str, "compiler_options": str, "command_line_arguments": str,
    "additional_files": str,
}
ENCODED = ("source_code", "stdin", "expected_output")  # additional_files: base64 always
# Judge0 field -> livecode limit, and the factor from Judge0's unit to livecode's.
LIMITS = {"cpu_time_limit": ("cpu_time_limit", 1), "wall_time_limit": ("wall_time_limit", 1),
          "memory_limit": ("memory_limit", 1), "max_file_size": ("max_file_size", 1024),
          "max_processes_and_or_threads": ("max_processes", 1)}
INTEGER_LIMITS = {"memory_limit", "max_processes", "max_file_size"}
# What livecode does not do, and what a request asking for it is told (422). A value that asks
# for what livecode does anyway (null, false, 0, "") is accepted.
UNSUPPORTED = {
    "enable_network": "livecode never gives a run a network",
    "enable_per_process_and_thread_time_limit": "livecode's limits are per run",
    "enable_per_process_and_thread_memory_limit": "livecode's limits are per run",
    "cpu_extra_time": "livecode's CPU time limit has no extra time",
    "stack_limit": "livecode's stack lives within memory_limit",
}

DEFAULT_FIELDS = ("token", "stdout", "time", "memory", "stderr", "compile_output", "message",
                  "status")
ALL_FIELDS = (
    "source_code", "language_id", "stdin", "expected_output", "stdout", "status_id",
    "created_at", "finished_at", "time", "memory", "stderr", "token", "number_of_runs",
    "cpu_time_limit", "cpu_extra_time", "wall_time_limit", "memory_limit", "stack_limit",
    "max_processes_and_or_threads", "enable_per_process_and_thread_time_limit",
    "enable_per_process_and_thread_memory_limit", "max_file_size", "compile_output",
    "exit_code", "exit_signal", "message", "wall_time", "compiler_options",
    "command_line_arguments", "redirect_stderr_to_stdout", "callback_url", "additional_files",
    "enable_network", "status", "language",
)
ENCODED_OUT = ("source_code", "stdin", "expected_output", "stdout", "stderr", "compile_output")


def run_request(fields: dict, encoded: bool, languages: dict[int, str], livecode) -> dict:
    """The arguments of ``Livecode.submit_code`` for a submission's (type-checked) fields, each
    checked as the service will check it, so that a batch is refused before any of it runs."""
    for name, why in UNSUPPORTED.items():
        if not harmless(fields.get(name)):
            raise InvalidInput(f"{name} is not supported: {why}", field=name)
    if fields.get("number_of_runs", 1) != 1:
        raise InvalidInput("number_of_runs is not supported: livecode runs a program once per "
                           "submission", field="number_of_runs")
    for name in ("source_code", "language_id"):
        if name not in fields:
            raise InvalidInput(f"{name} is required", field=name)
    if fields["language_id"] not in languages:
        raise InvalidInput(f"language_id {fields['language_id']} is not one this server runs; "
                           f"GET /languages lists them", field="language_id")
    texts = {name: decode(name, fields.get(name), encoded) for name in ENCODED}
    limits = {}
    for name, (limit, factor) in LIMITS.items():
        if name in fields:
            value = fields[name] * factor
            limits[limit] = math.ceil(value) if limit in INTEGER_LIMITS else value
    language = languages[fields["language_id"]]
    request = {"code": texts["source_code"], "language": language, "limits": limits,
               "options": run_options(fields, livecode, language)}
    if fields.get("additional_files"):
        settings = livecode.settings
        entry = LANGUAGES[language].source_file
        files = [{"name": entry, "content": request.pop("code")},
                 *read_additional_files(fields["additional_files"], settings.max_files,
                                        settings.max_files_bytes)]
        check_files(files, entry, settings.max_files, settings.max_files_bytes)
        request.update(files=files, entry=entry)
    if fields.get("callback_url"):  # Judge0 PUTs the submission there (see callbacks.py)
        request.update(callback_url=fields["callback_url"], callback_format="judge0")
    if texts["expected_output"] is not None:
        request["tests"] = [{"stdin": texts["stdin"] or "",
                             "expected_output": texts["expected_output"]}]
        request["comparison"] = "lines"
    else:
        request["stdin"] = texts["stdin"] or ""
    return request


def run_options(fields: dict, livecode, language: str) -> dict:
    options = {"args": words("command_line_arguments", fields),
               "compiler_options": words("compiler_options", fields),
               "redirect_stderr_to_stdout": bool(fields.get("redirect_stderr_to_stdout"))}
    try:
        check_args(options["args"], livecode.settings.max_args)
    except InvalidInput as exc:
        raise InvalidInput(f"command_line_arguments: {exc.message}",
                           field="command_line_arguments") from None
    problem = livecode.plugins.languages[language].check_compiler_options(
        options["compiler_options"])
    if problem:
        raise InvalidInput(problem, field="compiler_options")
    return options


def words(name: str, fields: dict) -> list[str]:
    try:
        return shlex.split(fields.get(name) or "")
    except ValueError as exc:
        raise InvalidInput(f"{name} cannot be split into words: {exc}", field=name) from None


def harmless(value) -> bool:
    return value is None or value is False or value == "" or (
        type(value) in (int, float) and value == 0)


def decode(name: str, value: str | None, encoded: bool) -> str | None:
    if value is None or not encoded:
        return value
    try:
        raw = base64.b64decode(value.replace("\n", "").replace("\r", ""), validate=True)
        return raw.decode("utf-8")
    except (binascii.Error, ValueError):
        raise InvalidInput(f"{name} is not base64 of UTF-8 text (base64_encoded=true)",
                           field=name) from None


def requested_fields(raw: str | None) -> tuple[str, ...]:
    """``?fields=``: a comma-separated list, ``*`` for all, Judge0's default set if absent."""
    if raw is None:
        return DEFAULT_FIELDS
    if raw.strip() == "*":
        return ALL_FIELDS
    names = tuple(name.strip() for name in raw.split(",") if name.strip())
    unknown = [name for name in names if name not in ALL_FIELDS]
    if unknown:
        raise InvalidInput(f"unknown field(s) {', '.join(unknown)}; available: "
                           f"{', '.join(ALL_FIELDS)}", field="fields")
    return names


def seconds(milliseconds: float | None) -> str | None:
    """Judge0 sends times as decimal strings of seconds."""
    return None if milliseconds is None else f"{milliseconds / 1000:.3f}"


def submission_json(execution, fields: tuple[str, ...], encoded: bool, runners: dict) -> dict:
    """``execution`` as a Judge0 submission with only ``fields``; ``runners`` are the loaded
    language runners, for the language's name."""
    status, message = status_of(execution)
    case = (execution.tests or {}).get("cases", [{}])[0] if execution.tests else {}
    limits = execution.limits
    language_id = language_id_of(execution.language)
    others = [f for f in execution.files if f["name"] != execution.entry]
    values = {
        "token": execution.execution_id,
        "source_code": execution.source_code,
        "language_id": language_id,
        "language": ({"id": language_id,
                      "name": describe(language_id, runners[execution.language])["name"]}
                     if execution.language in runners else None),
        "stdin": case.get("stdin", execution.stdin),
        "expected_output": case.get("expected_output"),
        "stdout": execution.stdout if status > 2 else None,
        "stderr": execution.stderr if status > 2 else None,
        "compile_output": execution.compile_output,
        "message": message,
        "status": status_json(status),
        "status_id": status,
        "created_at": execution.created_at,
        "finished_at": execution.finished_at,
        "time": seconds(execution.cpu_time_ms),
        "wall_time": seconds(execution.execution_time_ms),
        "memory": execution.max_rss_kb,
        "exit_code": execution.exit_code,
        "exit_signal": exit_signal(execution),
        "number_of_runs": 1,
        "cpu_time_limit": limits.cpu_time_limit,
        "cpu_extra_time": 0,
        "wall_time_limit": limits.wall_time_limit,
        "memory_limit": limits.memory_limit,
        "stack_limit": limits.memory_limit,
        "max_processes_and_or_threads": limits.max_processes,
        "enable_per_process_and_thread_time_limit": False,
        "enable_per_process_and_thread_memory_limit": False,
        "max_file_size": limits.max_file_size // 1024,
        "compiler_options": " ".join(execution.compiler_options) or None,
        "command_line_arguments": shlex.join(execution.args) or None,
        "redirect_stderr_to_stdout": execution.redirect_stderr_to_stdout,
        "callback_url": ((execution.extra or {}).get("callback") or {}).get("url"),
        "additional_files": zip_files(others) if others else None,
        "enable_network": False,
    }
    shown = {name: values[name] for name in fields}
    if encoded:
        for name in ENCODED_OUT:
            if shown.get(name) is not None:
                shown[name] = base64.b64encode(shown[name].encode("utf-8")).decode("ascii")
    return shown
