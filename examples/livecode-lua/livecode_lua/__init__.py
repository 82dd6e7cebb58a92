"""The ``lua`` language for livecode, from a package livecode knows nothing about.

``luac5.4`` compiles ``main.lua`` (the entry, in a program of several files) to bytecode in a
compile step, so a syntax error ends the run FAILED with reason ``compilation_error`` and luac's
message in ``compile_output``, before anything runs; ``lua5.4`` runs the bytecode in a fresh box
beside the program's files, which it can ``require`` from there (``./?.lua``). Both come from
Debian's ``lua5.4`` package (``scripts/ensure-lua`` installs it); ``LIVECODE_LUA`` and
``LIVECODE_LUAC`` name others. Debian installs them under ``/usr``, which every sandbox already
shows its runs; a toolchain installed elsewhere would name its directories in
``Program.toolchain_paths``. On the docker sandbox both steps run in ``livecode-lua:bookworm``,
built from this package's recipe (``docker-images/lua``) by livecode's
``scripts/build-docker-image``.
"""

import re
import shutil
import subprocess

from livecode import hookimpl
from livecode.core.contracts import LanguageRunner, Program

SAFE_PATH = "/usr/local/bin:/usr/bin:/bin"  # the PATH livecode gives every run
IMAGE = "livecode-lua:bookworm"  # for the docker sandbox: see docker-images/lua


class LuaRunner(LanguageRunner):
    name = "lua"
    display_name = "Lua 5.4"
    file_extension = ".lua"
    main_file = "main.lua"
    bytecode = "main.luac"

    def __init__(self, lua: str, luac: str):
        self.lua, self.luac = lua, luac
        self._version: str | None = None

    def compile(self, source) -> Program:
        source = self.source_of(source)
        return Program(files=dict(source.files),
                       argv=[self.luac, "-o", self.bytecode, source.entry],
                       language=self.name, outputs=(self.bytecode,), image=IMAGE)

    def build(self, source, artefact=None, limits=None) -> Program:
        source = self.source_of(source)  # the entry is in the bytecode; modules stay as they are
        files = {**{n: c for n, c in source.files.items() if n != source.entry},
                 self.bytecode: artefact[self.bytecode]}
        return Program(files=files, argv=[self.lua, self.bytecode], language=self.name,
                       image=IMAGE)

    def version(self) -> str | None:
        if self._version is None:
            try:
                out = subprocess.run([self.lua, "-v"], capture_output=True, text=True,
                                     timeout=10, env={}, stdin=subprocess.DEVNULL)
            except (OSError, subprocess.SubprocessError):
                return None
            found = re.search(r"Lua (\d+\.\d+\.\d+)", out.stdout + out.stderr)
            self._version = found.group(1) if found else None
        return self._version


@hookimpl
def livecode_register_languages(register, settings):
    register(LuaRunner(
        settings.option("LUA") or shutil.which("lua5.4", path=SAFE_PATH) or "/usr/bin/lua5.4",
        settings.option("LUAC") or shutil.which("luac5.4", path=SAFE_PATH) or "/usr/bin/luac5.4",
    ))
