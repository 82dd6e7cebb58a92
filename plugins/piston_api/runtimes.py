"""Piston's runtime names and aliases for the languages livecode has (as Piston's packages name
them), and picking one by name or alias and a semver range, as Piston does."""

import re

import nodesemver

from livecode.core.errors import InvalidInput

# livecode language -> (Piston's language name, its aliases, Piston's runtime field)
RUNTIMES = {
    "python": ("python", ("py", "py3", "python3"), None),
    "javascript": ("javascript", ("node-javascript", "node-js", "js"), "node"),
    "typescript": ("typescript", ("ts", "node-ts", "tsc"), "node"),
    "c": ("c", ("gcc",), "gcc"),
    "cpp": ("c++", ("cpp", "g++"), "gcc"),
    "bash": ("bash", ("sh",), None),
}
UNKNOWN_VERSION = "0.0.0"
NUMBERS = re.compile(r"\d+(?:\.\d+)*")


def runtimes(runners: dict) -> list[dict]:
    """``GET /api/v2/runtimes``: one per loaded language, its version livecode's toolchain's."""
    found = []
    for name, (language, aliases, runtime) in RUNTIMES.items():
        if name in runners:
            entry = {"language": language, "version": version_of(runners[name]),
                     "aliases": list(aliases)}
            if runtime:
                entry["runtime"] = runtime
            found.append(entry)
    return found


def version_of(runner) -> str:
    """The toolchain's version as semver (``3.11`` is ``3.11.0``; TypeScript's is esbuild's),
    for Piston's ranges."""
    found = NUMBERS.search(runner.version() or "")
    if not found:
        return UNKNOWN_VERSION
    parts = (found.group().split(".") + ["0", "0"])[:3]
    return ".".join(parts)


def pick(runners: dict, language: str, version: str) -> tuple[str, str, str]:
    """(livecode language, Piston language name, version) for a request, or 422 as Piston's
    400 says: ``<language>-<version> runtime is unknown``."""
    for name, (piston_name, aliases, _) in RUNTIMES.items():
        if name in runners and language in (piston_name, *aliases):
            actual = version_of(runners[name])
            if version == "*" or _satisfies(actual, version):
                return name, piston_name, actual
    raise InvalidInput(f"{language}-{version} runtime is unknown; GET /api/v2/runtimes lists "
                       "them", field="language")


def _satisfies(version: str, wanted: str) -> bool:
    try:
        return nodesemver.satisfies(version, wanted, loose=True)
    except (ValueError, TypeError):
        return False
