"""The ``c`` language: GCC compiles ``main.c`` in a compile step, the binary runs in a fresh box.

In a program of several files every ``.c`` file is compiled and linked into the one binary
(headers are there to be included); the run's box holds the binary beside the program's other
files (its data), not the sources compiled.
The compiler is ``LIVECODE_CC``, else ``gcc`` on the safe PATH; it builds with ``-O2`` against
the C17 standard with GNU extensions and links the maths library, as judges usually do. The
binary leaves the compile sandbox as the step's output and enters the run sandbox as an
executable file; the worker carries its bytes and nothing else (see ``worker.compile_and_run``).

A run's own ``compiler_options`` follow livecode's flags (so they win). The compile is as
sandboxed as the program, so an option is checked only for what would defeat the step itself
or reach past the box: each is one flag of letters, digits and ``_+=,.:-`` (no path with a
``/``, no separate argument), and never ``-o`` (the binary's name), ``-B``, ``-wrapper``,
``-fplugin``, ``-specs`` or a pass-through to another tool (``-W[alp],``, ``-X…``).
"""

import re

from livecode.core.contracts import LanguageRunner, Program
from livecode.core.hookspecs import hookimpl
from livecode.plugins.toolchain import POLYGLOT_IMAGE, find, probe_version

MAX_OPTIONS, MAX_OPTION_CHARS = 32, 128
OPTION = re.compile(r"-[A-Za-z0-9][A-Za-z0-9_+=,.:-]*")
REFUSED = re.compile(r"-(o|B|wrapper|fplugin|-?specs|W[alp],|X)")


class GccRunner(LanguageRunner):
    """A language GCC compiles to one binary; C and C++ differ only in their data."""

    binary = "main"

    def __init__(self, compiler: str, name: str, display_name: str, extension: str,
                 flags: tuple[str, ...], libraries: tuple[str, ...] = ("-lm",),
                 compiled: tuple[str, ...] = ()):
        self.compiler, self.name, self.display_name = compiler, name, display_name
        self.file_extension, self.flags, self.libraries = extension, flags, libraries
        self.main_file = "main" + extension
        self.compiled = compiled or (extension,)  # the files compiled, by extension

    def check_compiler_options(self, options) -> str | None:
        if len(options) > MAX_OPTIONS:
            return f"at most {MAX_OPTIONS} compiler options, not {len(options)}"
        for option in options:
            if (not isinstance(option, str) or len(option) > MAX_OPTION_CHARS
                    or not OPTION.fullmatch(option) or REFUSED.match(option)):
                return (f"compiler option {option!r} is refused: one flag of letters, digits "
                        f"and _+=,.:- of at most {MAX_OPTION_CHARS} characters, not -o, -B, "
                        "-wrapper, -fplugin, -specs or a -W[alp], / -X pass-through")
        return None

    def compile(self, source) -> Program:
        source = self.source_of(source)
        return Program(
            files=dict(source.files),
            argv=[self.compiler, *self.flags, *source.compiler_options, "-o", self.binary,
                  *source.named(*self.compiled), *self.libraries],
            language=self.name, outputs=(self.binary,), image=POLYGLOT_IMAGE)

    def build(self, source, artefact=None, limits=None) -> Program:
        source = self.source_of(source)
        compiled = set(source.named(*self.compiled))
        files = {**{n: c for n, c in source.files.items() if n not in compiled},
                 self.binary: artefact[self.binary]}
        return Program(files=files, argv=["./" + self.binary],
                       language=self.name, executable=frozenset({self.binary}),
                       image=POLYGLOT_IMAGE)

    def version(self) -> str | None:
        return probe_version(self.compiler, "-dumpfullversion")


C_FLAGS = ("-O2", "-std=gnu17", "-pipe", "-fdiagnostics-color=never")


@hookimpl
def livecode_register_languages(register, settings):
    register(GccRunner(settings.option("CC") or find("gcc"), "c", "C (GCC)", ".c", C_FLAGS))
