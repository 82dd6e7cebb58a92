"""The ``bash`` language: ``bash main.sh``, or the entry of several files, which may ``source``
each other (non-interactive, so it reads no start-up files; the
environment is clean, so no ``BASH_ENV`` either).

Bash is ``LIVECODE_BASH``, else ``bash`` on the safe PATH; the programs it starts come from the
same PATH as every run's (``/usr/local/bin:/usr/bin:/bin``).
"""

from livecode.core.contracts import LanguageRunner, Program
from livecode.core.hookspecs import hookimpl
from livecode.plugins.toolchain import POLYGLOT_IMAGE, find, probe_version


class BashRunner(LanguageRunner):
    name = "bash"
    display_name = "Bash"
    file_extension = ".sh"
    main_file = "main.sh"

    def __init__(self, bash: str):
        self.bash = bash

    def build(self, source, artefact=None, limits=None) -> Program:
        source = self.source_of(source)
        return Program(files=dict(source.files), argv=[self.bash, source.entry],
                       language=self.name, image=POLYGLOT_IMAGE)

    def version(self) -> str | None:
        return probe_version(self.bash, "--version")


@hookimpl
def livecode_register_languages(register, settings):
    register(BashRunner(settings.option("BASH") or find("bash")))
