"""The ``typescript`` language: esbuild strips the types in a compile step, Node.js runs the result.

esbuild bundles the entry with the files it imports into one ``main.js`` (Node's own modules
stay outside the bundle). It is a single native binary that starts in milliseconds (``tsc``
takes about a second to start), so the compile step costs one more sandbox run, not a compiler
start-up. It only strips
types and turns ES module syntax into CommonJS: it does not type-check, so a syntax error fails
the compile (``compilation_error``, esbuild's message in ``compile_output``) and a type error
does not, as with Node's own type stripping.

esbuild is ``LIVECODE_ESBUILD``, else the one ``make setup`` installs from the npm registry into
the virtualenv (``<venv>/node_modules/@esbuild/<platform>/bin/esbuild``), else ``esbuild`` on
the safe PATH; outside ``/usr`` it is declared as the compile step's toolchain path, so the
jail's minimal root holds it. Node is the ``javascript`` language's.
"""

import glob
import os
import sys

from livecode.core.contracts import Program
from livecode.core.hookspecs import hookimpl
from livecode.plugins.javascript_runner import JavaScriptRunner
from livecode.plugins.toolchain import POLYGLOT_IMAGE, find, probe_version


def default_esbuild() -> str:
    local = sorted(glob.glob(os.path.join(sys.prefix, "node_modules", "@esbuild", "*", "bin",
                                          "esbuild")))
    return local[0] if local else find("esbuild")


TYPESCRIPT = (".ts", ".tsx", ".mts", ".cts")


class TypeScriptRunner(JavaScriptRunner):
    name = "typescript"
    display_name = "TypeScript (esbuild, Node.js)"
    file_extension = ".ts"
    main_file = "main.ts"
    bundle = "main.js"

    def __init__(self, node: str, esbuild: str):
        super().__init__(node)
        self.esbuild = esbuild

    def compile(self, source) -> Program:
        source = self.source_of(source)
        return Program(
            files=dict(source.files),
            argv=[self.esbuild, source.entry, "--bundle", f"--outfile={self.bundle}",
                  "--format=cjs", "--platform=node", "--log-level=warning", "--color=false"],
            language=self.name, outputs=(self.bundle,), image=POLYGLOT_IMAGE,
            toolchain_paths=(self.esbuild,))

    def build(self, source, artefact=None, limits=None) -> Program:
        # The bundle holds the TypeScript; the program's other files (its data) stay beside it.
        others = {n: c for n, c in self.source_of(source).files.items()
                  if not n.endswith(TYPESCRIPT)}
        files = {**others, self.bundle: artefact[self.bundle]}
        return self.node_program(files, limits, self.bundle)

    def version(self) -> str | None:
        esbuild = probe_version(self.esbuild, "--version")
        return esbuild and f"esbuild {esbuild}, node {super().version()}"


@hookimpl
def livecode_register_languages(register, settings):
    register(TypeScriptRunner(settings.option("NODE") or find("node"),
                              settings.option("ESBUILD") or default_esbuild()))
