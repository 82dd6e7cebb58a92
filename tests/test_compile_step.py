"""The compile step in the worker, against the real store and the real subprocess sandbox: its
own limits, its own box, and what a compile that leaves no artefact ends as."""

from livecode.core.contracts import LanguageRunner, Program
from livecode.core.execution_states import Status
from livecode.core.hookspecs import hookimpl
from livecode.core.plugins import Plugins
from livecode.core.service import Livecode
from livecode.worker.worker import Worker


class ForgetfulCompilerPlugin:
    """A language written for this test: its compiler succeeds but leaves no artefact."""

    class Runner(LanguageRunner):
        name = "forgetful"

        def compile(self, source_code):
            return Program({}, ["sh", "-c", "echo compiled"], outputs=("a.out",))

        def build(self, source_code, artefact=None, limits=None):
            return Program(artefact, ["./a.out"], executable=frozenset({"a.out"}))

    @hookimpl
    def livecode_register_languages(self, register):
        register(self.Runner())


def run_once(settings, language, source, *plugins):
    livecode = Livecode.open(settings, Plugins(settings, extra_plugins=plugins))
    try:
        queued = livecode.submit_code(source, language)
        return Worker(livecode, 1).execute(queued.execution_id)
    finally:
        livecode.close()


def test_the_compile_step_has_its_own_time_limit(settings_with):
    settings = settings_with(LIVECODE_COMPILE_WALL_TIME_LIMIT="0.2")
    done = run_once(settings, "cpp", "#include <iostream>\nint main() { std::cout << 1; }")
    assert (done.status, done.reason) == (Status.FAILED, "compilation_error")
    assert "livecode: compilation stopped: wall_time_limit" in done.compile_output
    assert done.stdout == "" and done.exit_code is None


def test_the_run_step_sees_the_artefact_and_not_the_source(settings):
    source = ('#include <stdio.h>\n#include <unistd.h>\nint main(void) { printf("%s %s\\n", '
              'access("main.c", F_OK) ? "no-source" : "source", '
              'access("main", X_OK) ? "no-binary" : "binary"); return 0; }')
    done = run_once(settings, "c", source)
    assert (done.status, done.stdout) == (Status.COMPLETED, "no-source binary\n"), done


def test_a_compiler_that_leaves_no_artefact_is_a_compile_error(settings):
    done = run_once(settings, "forgetful", "", ForgetfulCompilerPlugin())
    assert (done.status, done.reason) == (Status.FAILED, "compilation_error")
    assert done.compile_output.startswith("compiled\nlivecode: the compiler left no a.out")
