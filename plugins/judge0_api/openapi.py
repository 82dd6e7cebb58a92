"""What the Judge0 layer's operations declare for livecode's OpenAPI document (tag ``judge0``):
the bodies the routes read (built from the fields the translation accepts, so the document and
the checks cannot drift) and the shapes they answer."""

from livecode.api.operations import Answer, Tag
from livecode.api.resources import run_body_bytes
from livecode.api.validation import Body, Field, Param

from .statuses import STATUSES
from .submissions import ALL_FIELDS, REQUEST_FIELDS, UNSUPPORTED

TAG = Tag("judge0", "Judge0 CE's API under /judge0: submissions, batches, languages, statuses "
                    "(README, \"Moving from Judge0 or Piston\").")

MEANINGS = {
    "source_code": "the program (base64 with base64_encoded=true)",
    "language_id": "Judge0 CE 1.13's language id (GET /judge0/languages)",
    "stdin": "the program's standard input",
    "expected_output": "judged against stdout: Accepted (3) or Wrong Answer (4)",
    "cpu_time_limit": "seconds of CPU, within the server's cap",
    "wall_time_limit": "seconds of wall time, within the server's cap",
    "memory_limit": "KiB, within the server's cap",
    "max_processes_and_or_threads": "processes and threads at once, within the server's cap",
    "max_file_size": "KiB a file the program writes may hold",
    "number_of_runs": "always 1",
    "command_line_arguments": "the program's arguments, split into words as a shell would "
                              "(nothing expanded)",
    "compiler_options": "options for GCC/G++, split into words; each one flag livecode's rule "
                        "accepts (README, Run options)",
    "redirect_stderr_to_stdout": "the program's stderr goes to its stdout",
    "additional_files": "a base64 zip of text files put beside the source file (always base64)",
}


def meaning(name: str) -> str:
    if name in MEANINGS:
        return MEANINGS[name]
    if name in UNSUPPORTED:
        return f"only its neutral value (null, false, 0, \"\"): {UNSUPPORTED[name]}"
    return f"Judge0's {name}"


SUBMISSION_BODY = Body({name: Field(kind, meaning(name)) for name, kind in REQUEST_FIELDS.items()},
                       run_body_bytes,
                       example={"source_code": "print('hi')", "language_id": 71})


def batch_bytes(settings) -> int:
    # Sized by one-text programs: a batch of programs of many files each would let one
    # request hold more than any other body may.
    return (settings.max_source_bytes + 2 * settings.max_stdin_bytes) * settings.max_batch


BATCH_BODY = Body({"submissions": Field(list, "1 to LIVECODE_MAX_BATCH submissions (20 by "
                                              "default, as Judge0's), each an object "
                                              "of POST /judge0/submissions's fields")},
                  batch_bytes)

ENCODED = Param("base64_encoded", "boolean", "texts in and out are base64", default=False)
WAIT = Param("wait", "boolean", "answer once the run has ended, with its result",
             default=False)
FIELDS = Param("fields", "string", "comma-separated fields to answer, or *; one or more of "
                                   + ", ".join(ALL_FIELDS))
TOKENS = Param("tokens", "string", "1 to LIVECODE_MAX_BATCH comma-separated tokens",
               required=True)

STATUS = {"type": "object", "properties": {
    "id": {"type": "integer", "enum": sorted(STATUSES)},
    "description": {"type": "string"}}}
SUBMISSION = {"type": "object", "description": "a submission with the fields asked for",
              "properties": {"token": {"type": "string"}, "status": STATUS,
                             **{name: {} for name in ALL_FIELDS
                                if name not in ("token", "status")}}}
TOKEN = {"type": "object", "properties": {"token": {"type": "string"}}, "required": ["token"]}
LANGUAGE = {"type": "object", "properties": {
    "id": {"type": "integer"}, "name": {"type": "string"}, "is_archived": {"type": "boolean"},
    "source_file": {"type": "string"}, "compile_cmd": {"type": ["string", "null"]},
    "run_cmd": {"type": "string"}}, "required": ["id", "name"]}
OBJECT = {"type": "object"}

CREATED = Answer(TOKEN, "queued: its token (with wait=true: the finished submission)")
SUBMISSION_ANSWER = Answer(SUBMISSION, "the submission")
CREATED_BATCH = Answer({"type": "array", "items": TOKEN}, "queued: a token per submission")
BATCH = Answer({"type": "object", "properties": {"submissions": {
    "type": "array", "items": {"anyOf": [SUBMISSION, {"type": "null"}]}}}},
    "the submissions, null for a token that names none of the key's")
LANGUAGES = Answer({"type": "array", "items": LANGUAGE}, "every language, by Judge0 id")
ONE_LANGUAGE = Answer(LANGUAGE, "the language")
STATUS_LIST = Answer({"type": "array", "items": STATUS}, "Judge0's statuses 1 to 14")
ABOUT = Answer(OBJECT, "the Judge0 version this layer speaks")
CONFIG = Answer(OBJECT, "Judge0's configuration keys, from livecode's limits and caps")
