"""The end of a program run in the warm interpreter (:mod:`.warm_python`), without the teardown
no one can see.

A fresh interpreter's exit joins the non-daemon threads, runs the ``atexit`` callbacks, flushes
``sys.stdout`` and ``sys.stderr``, and then tears everything down: every module cleared, every
object freed, the interned strings, the types, the arenas. In a process forked from the zygote
that teardown writes to nearly every page of the zygote's heap, and each write copies a page:
measured here, 3 ms of a hello world's run against 0.2 ms for the exit alone. Once the flush is
done, the teardown can only be seen through code it runs: a ``__del__`` (a Python class's, or a C
type's finaliser: files, generators, coroutines, sockets) or a weakref's callback, on an object
the program left alive. So the program's process ends at once (``os._exit``) where none is left,
and with the exit status a fresh interpreter would give; else the interpreter ends as always.

:class:`QuickExit` is registered with ``atexit`` before the program's first line, so it runs
after every callback the program registers, at the point of a fresh exit where the flush comes.
It acts only when called by the interpreter's own exit (from no Python frame, in the main
thread, once the program's outcome is known): a program calling ``atexit._run_exitfuncs()``
itself gets the callbacks it registered and nothing else. A program that asks how many
callbacks there are (``atexit._ncallbacks``), or that adds an audit hook (which would see the
scan's ``gc.get_objects`` event, and miss the teardown's own), is exec'd instead
(``fork_server.TELLING``).
"""

import _thread
import _weakref
import ctypes
import gc
import os
import sys

# Past this many blocks allocated since the program started, the scan for finalisers could cost
# more than it saves, and its list could count against the run's memory: end as always.
MOST_BLOCKS = 100_000
MRO = type.__dict__["__mro__"].__get__
TYPE_DICT = type.__dict__["__dict__"].__get__
CALLBACK = _weakref.ref.__dict__["__callback__"].__get__
FLAGS = type.__dict__["__flags__"].__get__
HEAP_TYPE = 1 << 9
BUILTIN = type(len)
libc = ctypes.CDLL(None)


class QuickExit:
    """The ``atexit`` callback; ``status`` is the exit status once the program's outcome says
    it (``None``: the interpreter decides, as for a ``SystemExit`` that prints a message)."""

    def __init__(self):
        self.status: int | None = None
        self.thread = _thread.get_ident()
        self.blocks = sys.getallocatedblocks()

    def __call__(self):
        try:
            if (self.status is None or _thread.get_ident() != self.thread or called_by_python()
                    or not flushed(sys.stdout) or not flushed(sys.stderr)
                    or sys.getallocatedblocks() - self.blocks > MOST_BLOCKS
                    or finalisers_left()):
                return
            libc.fflush(None)  # what C's exit would flush (the interpreter writes through Python)
        except BaseException:  # noqa: B036 (any doubt: the interpreter ends as always)
            return
        os._exit(self.status)


PROXY, CALLABLE_PROXY = type(_weakref.proxy(sys)), type(_weakref.proxy(len))


def called_by_python() -> bool:
    try:
        sys._getframe(2)  # this function's, the callback's, and a caller's if Python called it
    except ValueError:
        return False
    return True


def exit_status(code) -> int | None:
    """The status a fresh interpreter exits with for ``SystemExit(code)``, where it prints
    nothing: ``None`` or an int in C's ``long`` (taken as C does, the low 8 bits reach the
    parent); ``None`` for any other code."""
    if code is None:
        return 0
    if isinstance(code, int):  # bool and int subclasses too: the interpreter reads their value
        value = int.__int__(code)
        if -2**63 <= value < 2**63:
            return value & 0xFF
    return None


def flushed(stream) -> bool:
    """``flush_std_files``' step: skipped for ``None`` or a closed stream (or one that cannot
    say); ``False`` if the flush fails, which the interpreter then reports itself."""
    if stream is None:
        return True
    try:
        if stream.closed:
            return True
    except Exception:  # noqa: BLE001 (the interpreter skips such a stream too)
        return True
    try:
        stream.flush()
    except Exception:  # noqa: BLE001
        return False
    return True


def finalisers_left() -> bool:
    """Whether an object the program left (any the collector tracks: the zygote's are frozen,
    out of its sight) could run code when freed. Looked up in the types' own dictionaries, so
    no attribute hook of the program's runs."""
    for obj in gc.get_objects():
        kind = type(obj)
        if kind is PROXY or kind is CALLABLE_PROXY or (issubclass(kind, _weakref.ref)
                                                       and callback_may_run(obj)):
            return True  # (identity and issubclass: a metaclass's __eq__ is never called)
        for klass in MRO(kind) + (MRO(obj) if issubclass(kind, type) else ()):
            if "__del__" in TYPE_DICT(klass):
                return True
    return False


def callback_may_run(ref) -> bool:
    """Whether a weakref's callback could run at the teardown: not if it has none, if its
    referent is a static type (never freed), or if it is an ABC registry's own ``_destroy``
    (each class registered with an ABC, as importing ``os`` does, leaves one; it only drops the
    entry from the registry)."""
    callback = CALLBACK(ref)
    referent = ref()
    if callback is None or referent is None:
        return False
    if issubclass(type(referent), type) and not FLAGS(referent) & HEAP_TYPE:
        return False
    return not (type(callback) is BUILTIN and callback.__name__ == "_destroy"
                and type(callback.__self__) is _weakref.ref)
