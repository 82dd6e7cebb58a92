"""The ``cpp`` language: G++ compiles ``main.cpp`` (and every ``.cpp``, ``.cc`` and ``.cxx`` of a
program of several files); the compile and run steps are C's (see
:mod:`livecode.plugins.c_runner`). The compiler is ``LIVECODE_CXX``, else ``g++``."""

from livecode.core.hookspecs import hookimpl
from livecode.plugins.c_runner import GccRunner
from livecode.plugins.toolchain import find

CPP_FLAGS = ("-O2", "-std=gnu++17", "-pipe", "-fdiagnostics-color=never")


@hookimpl
def livecode_register_languages(register, settings):
    register(GccRunner(settings.option("CXX") or find("g++"), "cpp", "C++ (GCC)", ".cpp",
                       CPP_FLAGS, compiled=(".cpp", ".cc", ".cxx")))
