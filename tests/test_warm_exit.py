"""What lets a program run in the warm interpreter end without the interpreter's teardown
(plugins/subprocess_sandbox/warm_exit.py): the exit status a fresh interpreter gives, and the
search for anything the teardown would run. Observed end to end by the conformance corpus
(tests/conformance/: finalisers, weakref callbacks, generators, file objects at exit)."""

import subprocess
import sys
from pathlib import Path

import pytest

from livecode.plugins.subprocess_sandbox import warm_exit

HERE = Path(warm_exit.__file__).parent


@pytest.mark.parametrize("code, status", [
    (None, 0), (0, 0), (3, 3), (True, 1), (256, 0), (-1, 255), (2**63 - 1, 255),
    (2**63, None), (-2**63 - 1, None), ("a message", None), (1.5, None), ([], None),
])
def test_the_exit_status_is_a_fresh_interpreter_s_or_none_where_it_prints(code, status):
    assert warm_exit.exit_status(code) == status


def test_an_int_subclass_code_is_read_by_its_value_not_its_hooks():
    class Sneaky(int):
        def __int__(self):
            raise AssertionError("a hook of the program's ran")

        def __index__(self):
            raise AssertionError("a hook of the program's ran")

    assert warm_exit.exit_status(Sneaky(7)) == 7


def finalisers_before_and_after(body: str) -> list[str]:
    """``finalisers_left()`` in a fresh interpreter whose own objects are frozen (as the
    zygote's are), before and after ``body`` runs."""
    script = (f"import gc, sys\nsys.path.insert(0, {str(HERE)!r})\nimport warm_exit\n"
              "gc.collect()\ngc.freeze()\nprint(warm_exit.finalisers_left())\n"
              f"{body}\nprint(warm_exit.finalisers_left())\n")
    out = subprocess.run([sys.executable, "-I", "-S", "-c", script], capture_output=True,
                         text=True, check=True, timeout=30)
    return out.stdout.split()


@pytest.mark.parametrize("body, left", [
    ("numbers = [1, 2, 3]\nclass Plain: pass\nplain = Plain()", "False"),
    ("class Noisy:\n    def __del__(self): pass\nnoisy = Noisy()", "True"),
    ("class Noisy:\n    def __del__(self): pass", "True"),  # a class alone: instances may be untracked
    ("def g():\n    yield 1\nstarted = g()", "True"),
    ("import io\nbuffer = io.BytesIO()", "True"),
    ("import weakref\nclass T: pass\nt = T()\nr = weakref.ref(t, lambda r: None)", "True"),
    ("import weakref\nclass T: pass\nt = T()\nr = weakref.ref(t)", "False"),
    ("import weakref\nclass T: pass\nt = T()\np = weakref.proxy(t)", "True"),
    ("import weakref\nr = weakref.ref(int, lambda r: None)", "False"),  # a static type is never freed
    ("import abc\nclass A(abc.ABC): pass\nA.register(int)", "False"),  # the registry's own
    ("class Meta(type):\n    def __getattr__(cls, name): raise SystemExit('hook ran')\n"
     "class C(metaclass=Meta): pass\nc = C()", "False"),
])
def test_finalisers_left_finds_what_the_teardown_would_run(body, left):
    assert finalisers_before_and_after(body) == ["False", left]
