"""A program's files and arguments as requests send them, checked before anything is stored:
each name a relative path that stays in the box and that no toolchain reads as an option (the
README's "Several files" has the rule), so every sandbox can write the files as named."""

from .errors import InvalidInput, PayloadTooLarge
from .models import text_bytes

MAX_NAME_BYTES = 255
MAX_ARG_BYTES = 4096


def check_name(name) -> str:
    if not isinstance(name, str) or not name:
        raise InvalidInput("a file's name must be a non-empty string", field="files")
    parts = name.split("/")
    if (text_bytes(name) > MAX_NAME_BYTES or name.startswith("/") or "\\" in name
            or any(part in ("", ".", "..") or part.startswith("-") for part in parts)
            or any(ord(c) < 32 or ord(c) == 127 for c in name)):
        raise InvalidInput(f"file name {name!r} is not a relative path inside the box (no "
                           "leading /, no . or .. or empty parts, none starting with -, no "
                           f"backslash or control character, at most {MAX_NAME_BYTES} bytes)",
                           field="files")
    return name


def check_files(files: list, entry: str | None, max_files: int, max_bytes: int
                ) -> tuple[list[dict], str, str]:
    """The files as stored, the entry's name (the first file's by default) and its text."""
    if not 1 <= len(files) <= max_files:
        raise InvalidInput(f"files must hold 1 to {max_files} files, not {len(files)}",
                           field="files", limit=max_files)
    checked, total = [], 0
    for number, item in enumerate(files):
        if (not isinstance(item, dict) or set(item) != {"name", "content"}
                or not isinstance(item["content"], str)):
            raise InvalidInput(f"files[{number}] must be {{name, content}} with content a "
                               "string", field="files")
        checked.append({"name": check_name(item["name"]), "content": item["content"]})
        total += text_bytes(item["content"])
    if total > max_bytes:
        raise PayloadTooLarge(f"files are {total} bytes in all; the limit is {max_bytes}",
                              field="files", limit=max_bytes)
    names = [item["name"] for item in checked]
    if len(set(names)) != len(names):
        raise InvalidInput("two files have the same name", field="files")
    directories = {"/".join(n.split("/")[:i]) for n in names for i in range(1, n.count("/") + 1)}
    if clash := sorted(directories & set(names)):
        raise InvalidInput(f"{clash[0]!r} is both a file and a directory", field="files")
    entry = names[0] if entry is None else entry
    if entry not in names:
        raise InvalidInput(f"entry {entry!r} is none of the files", field="entry")
    return checked, entry, checked[names.index(entry)]["content"]


def check_args(args: list | None, max_args: int) -> list[str]:
    """No NUL (no ``exec`` carries one) and no newline (a sandbox may pass them one a line)."""
    args = list(args or ())
    if len(args) > max_args:
        raise InvalidInput(f"args holds {len(args)} arguments; the limit is {max_args}",
                           field="args", limit=max_args)
    for arg in args:
        if not isinstance(arg, str) or "\0" in arg or "\n" in arg \
                or text_bytes(arg) > MAX_ARG_BYTES:
            raise InvalidInput(f"each argument must be a string of at most {MAX_ARG_BYTES} "
                               "bytes without NUL or newline", field="args")
    return args

