"""The ``c`` language: GCC compiles ``main.c`` in a compile step, the binary runs in a fresh box.

The compiler is ``LIVECODE_CC``, else ``gcc`` on the safe PATH; it builds with ``-O2`` against
the C17 standard with GNU extensions and links the maths library, as judges usually do. The
binary leaves the compile sandbox as the step's output and enters the run sandbox as an
executable file; the worker carries its bytes and nothing else (see ``worker.compile_and_run``).
"""

from livecode.core.contracts import LanguageRunner, Program
from livecode.core.hookspecs import hookimpl
from livecode.plugins.toolchain import POLYGLOT_IMAGE, find, probe_version


class GccRunner(LanguageRunner):
    """A language GCC compiles to one binary; C and C++ differ only in their data."""

    binary = "main"

    def __init__(self, compiler: str, name: str, display_name: str, extension: str,
                 flags: tuple[str, ...], libraries: tuple[str, ...] = ("-lm",)):
        self.compiler, self.name, self.display_name = compiler, name, display_name
        self.file_extension, self.flags, self.libraries = extension, flags, libraries
        self.source_file = "main" + extension

    def compile(self, source_code: str) -> Program:
        return Program(
            files={self.source_file: source_code.encode("utf-8", "surrogatepass")},
            argv=[self.compiler, *self.flags, "-o", self.binary, self.source_file,
                  *self.libraries],
            language=self.name, outputs=(self.binary,), image=POLYGLOT_IMAGE)

    def build(self, source_code: str, artefact=None, limits=None) -> Program:
        return Program(files={self.binary: artefact[self.binary]}, argv=["./" + self.binary],
                       language=self.name, executable=frozenset({self.binary}),
                       image=POLYGLOT_IMAGE)

    def version(self) -> str | None:
        return probe_version(self.compiler, "-dumpfullversion")


C_FLAGS = ("-O2", "-std=gnu17", "-pipe", "-fdiagnostics-color=never")


@hookimpl
def livecode_register_languages(register, settings):
    register(GccRunner(settings.option("CC") or find("gcc"), "c", "C (GCC)", ".c", C_FLAGS))
