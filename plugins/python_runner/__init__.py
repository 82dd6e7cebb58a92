"""The ``python`` language.

The program is written to ``main.py`` and run in isolated mode (``-I``: no user site-packages,
no PYTHON* variables), which the subprocess sandbox can run in a warm interpreter. A program of
several files is written as its files are named and its entry run with ``-E -s`` instead: ``-I``
but for ``-P``, so the entry's own directory stays on ``sys.path`` and the files import each
other. By default the interpreter is the system's ``/usr/bin/python3`` where there is
one, since programs run as an unprivileged user who may not reach livecode's own interpreter (a
pyenv build under /root, say), else the one livecode runs on, outside any virtualenv. Either way
user programs cannot import livecode's dependencies. ``LIVECODE_PYTHON`` names another.

Programs see the standard library only (``-S``), unless ``LIVECODE_PYTHON_SITE_PACKAGES=1``: the
host interpreter's site-packages belong to the host, and their ``.pth`` start-up hooks cost more
than a hello-world program itself (25 ms of 38 ms on the development machines). A deployment that
offers libraries to its users points ``LIVECODE_PYTHON`` at an interpreter made for them and turns
site-packages on.
"""

import os
import subprocess

from livecode.plugins.sandboxing.interpreter import base_interpreter
from livecode.core.contracts import LanguageRunner, Program
from livecode.core.hookspecs import hookimpl


SYSTEM_PYTHON = "/usr/bin/python3"
IMAGE = "livecode-python:bookworm"  # for the docker sandbox; scripts/build-docker-image builds it


def default_interpreter() -> str:
    return SYSTEM_PYTHON if os.access(SYSTEM_PYTHON, os.X_OK) else base_interpreter()


class PythonRunner(LanguageRunner):
    name = "python"
    display_name = "Python"
    file_extension = ".py"
    main_file = "main.py"

    def __init__(self, interpreter: str, site_packages: bool = False):
        self.interpreter = interpreter
        self.flags = ["-I", "-B"] if site_packages else ["-I", "-B", "-S"]
        self.several_files_flags = ["-E", "-s", *self.flags[1:]]
        self._version: str | None = None
        self._prefixes: tuple[str, ...] | None = None

    def build(self, source, artefact=None, limits=None) -> Program:
        source = self.source_of(source)
        return Program(
            files=dict(source.files),
            argv=[self.interpreter,
                  *(self.flags if len(source.files) == 1 else self.several_files_flags),
                  source.entry],
            language=self.name,
            toolchain_paths=self.toolchain_paths(),
            image=IMAGE,
        )

    def toolchain_paths(self) -> tuple[str, ...]:
        """The interpreter and its installation prefixes (a venv's and the Python it is built on),
        as the interpreter itself reports them, asked once."""
        if self._prefixes is None:
            try:
                out = subprocess.run(
                    [self.interpreter, "-I", "-S", "-c",
                     "import sys; print(sys.prefix, sys.base_prefix, sys.exec_prefix, "
                     "sys.base_exec_prefix, sep=chr(10))"],
                    capture_output=True, text=True, timeout=10, env={}, check=True,
                )
                self._prefixes = (self.interpreter, *dict.fromkeys(out.stdout.splitlines()))
            except (OSError, subprocess.SubprocessError):
                return (self.interpreter,)  # the run will say what is missing
        return self._prefixes

    def failure_reason(self, result) -> str | None:
        last_line = result.stderr.rstrip().rsplit(b"\n", 1)[-1]
        if last_line.startswith(b"MemoryError"):
            return "memory_limit"
        return None

    def version(self) -> str | None:
        if self._version is None:
            try:
                out = subprocess.run(
                    [self.interpreter, "-I", "-c", "import platform; print(platform.python_version())"],
                    capture_output=True, text=True, timeout=10, env={},
                )
                self._version = out.stdout.strip() or None
            except (OSError, subprocess.SubprocessError):
                return None
        return self._version


@hookimpl
def livecode_register_languages(register, settings):
    site_packages = settings.option("PYTHON_SITE_PACKAGES", "0") not in ("0", "", "false")
    register(PythonRunner(settings.option("PYTHON") or default_interpreter(), site_packages))
