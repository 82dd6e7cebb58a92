"""The ``javascript`` language: Node.js runs ``main.js`` as a CommonJS module, or the entry of
several files, which ``require`` each other (or ``import``, as ``.mjs`` modules).

Node is ``LIVECODE_NODE`` or ``node`` on the safe PATH (``/usr/bin/node``). V8 reserves about
1 GiB of address space at start-up whatever the program does, so the program declares that
reservation: a sandbox that bounds address space (``RLIMIT_AS``) adds it to the memory limit,
one that bounds real memory (a cgroup, Docker) enforces the limit as it is. V8's heap is sized
to the run's memory limit (``--max-old-space-size``); a program that outgrows it is reported as
``memory_limit``.
"""

from livecode.core.contracts import LanguageRunner, Program
from livecode.core.hookspecs import hookimpl
from livecode.plugins.toolchain import POLYGLOT_IMAGE, find, probe_version

V8_RESERVED_KB = 1024 * 1024
OUT_OF_MEMORY = (b"JavaScript heap out of memory", b"Fatal process out of memory",
                 b"RangeError: Array buffer allocation failed")


class JavaScriptRunner(LanguageRunner):
    name = "javascript"
    display_name = "JavaScript (Node.js)"
    file_extension = ".js"
    main_file = "main.js"

    def __init__(self, node: str):
        self.node = node

    def build(self, source, artefact=None, limits=None) -> Program:
        source = self.source_of(source)
        return self.node_program(dict(source.files), limits, source.entry)

    def node_program(self, files: dict[str, bytes], limits, entry: str) -> Program:
        # V8 sizes its heap from the host's memory, not from any limit: tell it the run's, so
        # a program that outgrows it fails fast with "heap out of memory" (memory_limit).
        heap = [f"--max-old-space-size={max(16, limits.memory_limit // 1024)}"] if limits else []
        return Program(files=files, argv=[self.node, *heap, entry], language=self.name,
                       reserved_address_space_kb=V8_RESERVED_KB, image=POLYGLOT_IMAGE)

    def failure_reason(self, result) -> str | None:
        tail = result.stderr[-2000:]
        return "memory_limit" if any(sign in tail for sign in OUT_OF_MEMORY) else None

    def version(self) -> str | None:
        return probe_version(self.node, "--version")


@hookimpl
def livecode_register_languages(register, settings):
    register(JavaScriptRunner(settings.option("NODE") or find("node")))
