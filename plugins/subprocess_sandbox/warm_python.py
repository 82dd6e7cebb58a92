"""A Python program run in the zygote's already-initialised interpreter, as ``python FLAGS main.py``
would run it in a fresh one, so that a run does not pay for starting an interpreter.

Only where the program cannot tell. The zygote (:mod:`.zygote`) is that interpreter started with
the program's flags and environment, and it noted what a fresh one has before importing anything
(``FRESH``); the jail forked from it has put every protection in place (namespaces, minimal root,
cgroup, rlimits, uid, no_new_privs, seccomp) and closed every descriptor but the run's 0-2. Here,
in the program's process, :func:`run` then:

- closes what an exec would have (the jail's close-on-exec pipes) and puts back what the
  zygote's own imports changed: ``sys.modules`` (what it imported is hidden, so a program imports
  ``os``, ``random``, ``tempfile``… afresh, seeded afresh from the kernel), ``sys.path``,
  ``sys.path_importer_cache``, ``sys.argv``/``sys.orig_argv``, the command line ``ps`` reads
  (over the zygote's, zero-padded) and a new ``__main__`` laid out as a fresh one is;
- runs the file with the same C function a fresh interpreter uses (``PyRun_FileExFlags``), so
  the same parser, the same messages and the same ``KeyboardInterrupt`` bookkeeping; what follows
  is ``_PyRun_SimpleFileObject``'s (flush, print the error, drop ``__file__``), with the
  traceback starting at the program's first frame;
- ends through the interpreter's own exit (``SystemExit`` raised at the zygote's top level, or
  its end), so threads are joined, ``atexit`` runs, buffers are flushed and the exit status
  chosen by the same code as in a fresh interpreter; then, where no object left could run code
  when freed, the process ends without the teardown (:mod:`.warm_exit`), else objects are
  finalised as there;
- makes the recursion depth the program's first line sees the one a fresh interpreter's first
  line sees, where this interpreter's thread state can be read and checked (CPython 3.11+).

What the program could still tell, and what therefore runs by exec instead
(:func:`.fork_server.python_program` looks for it in the source): the frames below its own
(``sys._getframe``, ``inspect``, ``traceback`` stacks, ``warnings``' ``stacklevel``), the
zygote's objects (``gc``, ``ctypes``), its memory and the rest of its command-line area
(``/proc/``…), all named in ``fork_server.TELLING``. Across runs: forks of one zygote share its hash seed
(``hash()`` of a string, and so the order of a set of strings, repeats from run to run; a fresh
interpreter draws a new seed each time) and its address-space layout (``id()`` values repeat).
Neither is visible within one run, neither lets a run learn anything of another (the seed and
the layout are the zygote's, which holds nothing); livecode accepts both for the start-up cost
they save, and documents them (README, "Fast path"). Everything else a program can observe —
output, exit status, tracebacks, ``sys`` state, fresh randomness, descriptors, environment —
is checked against a fresh interpreter by the conformance corpus (tests/conformance/).

Any step here that cannot be done exactly ends in an exec of the program after all, never in a
run that differs.
"""

import atexit
import ctypes
import os
import sys
import time

from warm_exit import QuickExit, exit_status

PY_FILE_INPUT = 257
HIDDEN = []  # the zygote's own modules, kept alive out of sys.modules
PROBE = b"import sys\ntry:\n    sys.setrecursionlimit(1)\nexcept RecursionError as e:\n    depth = e\n"

api = ctypes.pythonapi
api.PyThreadState_Get.restype = ctypes.c_void_p
api.PyRun_FileExFlags.restype = ctypes.py_object
api.PyRun_FileExFlags.argtypes = (ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int,
                                  ctypes.py_object, ctypes.py_object, ctypes.c_int,
                                  ctypes.c_void_p)
api.PyRun_StringFlags.restype = ctypes.py_object
api.PyRun_StringFlags.argtypes = (ctypes.c_char_p, ctypes.c_int, ctypes.py_object,
                                  ctypes.py_object, ctypes.c_void_p)
api.PyErr_Display.argtypes = (ctypes.py_object,) * 3
api.PyErr_Display.restype = None
libc = ctypes.CDLL(None, use_errno=True)
# ctypes types made here, in the zygote, not in a run: each one made is a weak proxy in ctypes'
# cache, which :mod:`.warm_exit` would take for a finaliser the program left.
THREAD_STATE_INTS = ctypes.c_int * 32
libc.fopen.restype = ctypes.c_void_p
libc.fopen.argtypes = (ctypes.c_char_p, ctypes.c_char_p)


class CannotRunHere(Exception):
    pass


def run(spec, fresh):
    """Run the program of ``spec`` here, or exec it if that cannot be done exactly."""
    close_on_exec(keep=spec["status_fd"])
    try:
        main, path, depth_field = prepare(spec, fresh)
        fp = libc.fopen(os.fsencode(path), b"rb")
        if not fp:
            raise CannotRunHere(f"cannot open {path}")
        globals_ = main.__dict__
        depth_field.value += depth(globals_) - fresh["depth"]
        if depth(globals_) != fresh["depth"]:
            raise CannotRunHere("the recursion depth cannot be made a fresh interpreter's")
    except (CannotRunHere, OSError, KeyError, ValueError, IndexError):
        started(spec, b"")
        os.execve(spec["argv"][0], spec["argv"], dict(os.environ))
    started(spec, b" in-process")
    sys.modules["__main__"] = main
    quick_exit = QuickExit()
    atexit.register(quick_exit)  # the first registered, so the last to run
    error = execute(fp, path, globals_)
    flush(sys.stderr)
    flush(sys.stdout)
    if error is not None:
        if isinstance(error, SystemExit):
            quick_exit.status = exit_status(error.code)
            raise error  # exits as a fresh interpreter does (__file__ is then kept, as there)
        report(error)
    globals_.pop("__file__", None)
    globals_.pop("__cached__", None)
    if error is None:
        quick_exit.status = 0
    elif not isinstance(error, KeyboardInterrupt):
        quick_exit.status = 1
        raise SystemExit(1)
    # Else the interpreter ends as after a script: status 0, or SIGINT after an uncaught
    # KeyboardInterrupt (the C run noted it, as for a fresh interpreter's script).


def close_on_exec(keep):
    """Close what an exec would (the jail's own pipes are close-on-exec), but ``keep``."""
    for name in os.listdir("/dev/fd"):
        fd = int(name)
        if fd != keep:
            try:
                if not os.get_inheritable(fd):
                    os.close(fd)
            except OSError:
                pass  # the listing's own descriptor, closed since


def started(spec, how):
    """The jail's report that the program starts (the worker times it from here), and how."""
    os.write(spec["status_fd"], b"exec %d%s\n" % (time.monotonic_ns(), how))
    os.close(spec["status_fd"])


def hide_own_modules(fresh):
    """Put ``sys.modules`` and ``sys.path`` back as a fresh interpreter has them, and
    ``sys.path_importer_cache`` but for the zygote's own file (a run's is put in its place): done
    once in the zygote, which imports nothing more, rather than in every run, where each object
    it touches is a page copied. Each run checks again (:func:`prepare`)."""
    for name in [name for name in sys.modules if name not in fresh["modules"]]:
        module = sys.modules.pop(name)
        HIDDEN.append(module)  # out of sight, not freed: a run would copy each page it frees
        parent, _, child = name.rpartition(".")
        if parent in fresh["modules"] and getattr(sys.modules[parent], child, None) is module:
            delattr(sys.modules[parent], child)
    sys.path[:] = fresh["path"]
    cache = {key: sys.path_importer_cache.get(key) for key in fresh["path_importer_cache"]}
    sys.path_importer_cache.clear()
    sys.path_importer_cache.update(cache)


def prepare(spec, fresh):
    """Put the interpreter back as a fresh one is, for the program ``spec["argv"][-1]``; its new
    ``__main__``, the file's path and the thread state's recursion counter."""
    script = spec["argv"][-1]
    path = os.path.join(os.getcwd(), script)
    zygote_path = sys.orig_argv[-3]
    field = recursion_counter()
    show_command_line(spec["argv"])
    if list(sys.modules) != fresh["modules"] or list(sys.path_importer_cache) != fresh[
            "path_importer_cache"] or sys.path != fresh["path"]:
        hide_own_modules(fresh)  # something was imported since the zygote hid its own
    cache = list(sys.path_importer_cache.items())
    sys.path_importer_cache.clear()
    sys.path_importer_cache.update({path if key == zygote_path else key: value
                                    for key, value in cache})
    sys.argv = [script]
    sys.orig_argv = list(spec["argv"])
    loader = type(sys.modules["__main__"].__loader__)
    main = type(sys)("__main__")
    values = {"__name__": "__main__", "__doc__": None, "__package__": None,
              "__loader__": loader("__main__", path), "__spec__": None, "__annotations__": {},
              "__builtins__": sys.modules["builtins"], "__file__": path, "__cached__": None}
    main.__dict__.clear()
    for key in fresh["main"]:
        main.__dict__[key] = values[key]  # a key a fresh __main__ has that is not known: exec
    return main, path, field


def show_command_line(argv):
    """Write the program's command line over the zygote's, where ``/proc/PID/cmdline`` (and so
    ``ps``) reads it: the area cannot move or shrink without CAP_SYS_RESOURCE, so the rest of
    it is zeros (a reader that splits on NUL sees empty strings after the program's)."""
    with open("/proc/self/stat", "rb") as stat:
        fields = stat.read().rsplit(b")", 1)[1].split()
    start, end = int(fields[45]), int(fields[46])  # arg_start, arg_end (fields 48 and 49)
    line = b"\0".join(os.fsencode(arg) for arg in argv) + b"\0"
    if len(line) > end - start or ctypes.string_at(start, end - start).split(b"\0")[:3] != [
            os.fsencode(arg) for arg in sys.orig_argv[:3]]:
        raise CannotRunHere("the command line does not fit the zygote's")
    ctypes.memmove(start, line.ljust(end - start, b"\0"), end - start)


def recursion_counter():
    """The thread state's count of calls left before RecursionError (``recursion_remaining``,
    3.12's ``py_recursion_remaining``), found next to the limit and checked to move by one per
    frame: the program's first line must see the depth a fresh interpreter's sees."""
    ints = THREAD_STATE_INTS.from_address(api.PyThreadState_Get())
    limit = sys.getrecursionlimit()
    here, deeper = read_ints(ints), one_frame_deeper(ints)
    found = [i for i in range(31)
             if here[i + 1] == limit and 0 < here[i] < limit and deeper[i] == here[i] - 1]
    if len(found) != 1:
        raise CannotRunHere("no recursion counter found in the thread state")
    return ctypes.c_int.from_address(ctypes.addressof(ints) + 4 * found[0])


def read_ints(ints):
    values = []
    for i in range(len(ints)):
        values.append(ints[i])
    return values


def one_frame_deeper(ints):
    return read_ints(ints)


def depth(globals_):
    """The recursion depth a program's first line sees when run from here (as by the probe
    a fresh interpreter's zygote ran on its own first lines), without touching ``globals_``."""
    namespace = {"__builtins__": globals_["__builtins__"]}
    api.PyRun_StringFlags(PROBE, PY_FILE_INPUT, namespace, namespace, None)
    return int(str(namespace["depth"]).split("depth ")[1].split(":")[0])


def execute(fp, path, globals_):
    """Run the file as a fresh interpreter runs its script; the exception it ended with, its
    traceback starting where the program's does."""
    try:
        api.PyRun_FileExFlags(fp, os.fsencode(path), PY_FILE_INPUT, globals_, globals_, 1, None)
    except BaseException as exc:  # noqa: B036 (whatever the program raised is its outcome)
        error = exc
    else:
        return None
    tb = error.__traceback__
    return error.with_traceback(tb.tb_next if tb is not None else None)


def flush(stream):
    """``flush_io``'s: a failing flush is not the program's error (exit shows it)."""
    try:
        stream.flush()
    except Exception:  # noqa: BLE001
        pass


def report(error):
    """Print the error as ``PyErr_Print`` does: ``sys.last_*``, the audit event, then
    ``sys.excepthook`` (a ``SystemExit`` it raises exits, as there)."""
    kind, tb = type(error), error.__traceback__
    sys.last_type, sys.last_value, sys.last_traceback = kind, error, tb
    hook = getattr(sys, "excepthook", None)
    sys.audit("sys.excepthook", hook, kind, error, tb)
    if hook is None:
        sys.stderr.write("sys.excepthook is missing\n")
        api.PyErr_Display(kind, error, tb)
        return
    try:
        hook(kind, error, tb)
    except SystemExit:
        raise
    except BaseException as failure:  # noqa: B036
        second = failure.with_traceback(failure.__traceback__.tb_next)
        libc.fflush(None)
        sys.stderr.write("Error in sys.excepthook:\n")
        api.PyErr_Display(type(second), second, second.__traceback__)
        sys.stderr.write("\nOriginal exception was:\n")
        api.PyErr_Display(kind, error, tb)
