"""What the Piston layer's operations declare for livecode's OpenAPI document (tag ``piston``):
what each field of ``POST /execute`` means, and the shapes the routes answer."""

from livecode.api.operations import Answer, Tag
from livecode.api.validation import Field

TAG = Tag("piston", "Piston v2's API under /api/v2: runtimes and synchronous execute "
                    "(README, \"Moving from Judge0 or Piston\").")

MEANINGS = {
    "language": "a Piston language name or alias (GET /api/v2/runtimes)",
    "version": "a semver range of the runtime's version, or *",
    "files": "{name?, content, encoding? (utf8, base64, hex)}: the program's files, the first "
             "of which runs; their texts must be UTF-8",
    "stdin": "the program's standard input",
    "args": "the program's command-line arguments (no NUL or newline)",
    "compile_timeout": "ms, positive or -1; the compile step runs under the server's limits",
    "run_timeout": "ms of wall time, within the server's cap (-1: the server's default)",
    "compile_cpu_time": "ms, positive or -1; the compile step runs under the server's limits",
    "run_cpu_time": "ms of CPU, within the server's cap (-1: the server's default)",
    "compile_memory_limit": "bytes, positive or -1; the compile step runs under the server's "
                            "limits",
    "run_memory_limit": "bytes, within the server's cap (-1: the server's default)",
}


def fields_of(kinds: dict) -> dict[str, Field]:
    """The body's fields, from the types the route checks."""
    return {name: Field(kind, MEANINGS.get(name, f"Piston's {name}"))
            for name, kind in kinds.items()}


STAGE = {"type": "object", "properties": {
    "stdout": {"type": "string"}, "stderr": {"type": "string"},
    "output": {"type": "string", "description": "stdout then stderr"},
    "code": {"type": ["integer", "null"]}, "signal": {"type": ["string", "null"]},
    "message": {"type": ["string", "null"]}}}
EXECUTED = Answer({"type": "object", "properties": {
    "language": {"type": "string"}, "version": {"type": "string"},
    "run": STAGE, "compile": STAGE}, "required": ["language", "version", "run"]},
    "the run's result (compile too, for a compiled language)")
RUNTIMES = Answer({"type": "array", "items": {"type": "object", "properties": {
    "language": {"type": "string"}, "version": {"type": "string"},
    "aliases": {"type": "array", "items": {"type": "string"}},
    "runtime": {"type": "string"}}, "required": ["language", "version", "aliases"]}},
    "every language livecode has, as Piston runtimes")
