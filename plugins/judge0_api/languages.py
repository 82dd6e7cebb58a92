"""Judge0 CE 1.13's language ids for the languages livecode has (``db/languages/active.rb`` in
judge0/judge0), so the ids frontends hard-code keep their meaning.

Judge0 has several ids for one language (C is 48, 49, 50 and 75, one per GCC it shipped); each
runs on livecode's one toolchain for that language, whose real version is in the name. The
first id of each language is the one livecode reports back as ``language_id``.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Judge0Language:
    ids: tuple[int, ...]
    label: str  # the name, with {version} for livecode's toolchain version
    source_file: str
    compile_cmd: str | None
    run_cmd: str


LANGUAGES = {
    "python": Judge0Language((71,), "Python ({version})", "script.py", None, "python3 script.py"),
    "javascript": Judge0Language((63,), "JavaScript (Node.js {version})", "script.js", None,
                                 "node script.js"),
    "typescript": Judge0Language((74,), "TypeScript ({version})", "script.ts",
                                 "esbuild %s script.ts", "node script.js"),
    "c": Judge0Language((50, 48, 49, 75), "C (GCC {version})", "main.c", "gcc %s main.c",
                        "./a.out"),
    "cpp": Judge0Language((54, 52, 53), "C++ (GCC {version})", "main.cpp", "g++ %s main.cpp",
                          "./a.out"),
    "bash": Judge0Language((46,), "Bash ({version})", "script.sh", None, "bash script.sh"),
}


def language_ids(runners: dict) -> dict[int, str]:
    """Every Judge0 id this server answers to, with its livecode language: only the languages
    whose runner is loaded."""
    return {number: name for name, language in LANGUAGES.items() if name in runners
            for number in language.ids}


def language_id_of(language: str) -> int | None:
    known = LANGUAGES.get(language)
    return known.ids[0] if known else None


def describe(number: int, runner) -> dict:
    """``GET /languages/{id}``'s shape (the listing keeps ``id`` and ``name``)."""
    language = LANGUAGES[runner.name]
    return {"id": number, "name": language.label.format(version=runner.version() or "unknown"),
            "is_archived": False, "source_file": language.source_file,
            "compile_cmd": language.compile_cmd, "run_cmd": language.run_cmd}
