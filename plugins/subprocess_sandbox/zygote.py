"""The fork-server ("zygote"): a warm process that forks jails, so a run does not pay for starting
an interpreter.

The worker starts it once, as ``python FLAGS zygote.py CONTROL_FD WORKER_PID``, in ``/``, with no
descriptor of its own but CONTROL_FD (see :mod:`.fork_server`), from an empty environment or, for
the zygote that runs Python programs in itself, from the one environment every program gets
(``PATH``, ``LANG``, ``HOME``), nothing of the worker's. It holds no settings, secrets or
connections: all it has is :mod:`.jail` and :mod:`.warm_python` imported. For each run the
worker sends, on the control socket (``SOCK_SEQPACKET``), the run's six descriptors (stdin,
stdout, stderr, spec, status and a reply socket; a seventh for a compile step, the file its
outputs go to, which the jail gets as 5); the zygote forks a child that puts them in place, closes everything else and calls ``jail.main`` (the same sequence, so the same protections,
as a jail started fresh). The program is exec'd by the jail as before, but a Python program this
interpreter can run as a fresh one would: then the program's process, once every protection is in
place, comes back up here and :mod:`.warm_python` runs it (no other user code ever runs here).

The zygote answers on the run's reply socket: ``pid N`` with a pidfd of the jail (the worker
watches and signals the jail through it, free of pid reuse), then, once it reaped the jail,
``exit STATUS UTIME STIME``. It dies with the worker thread that started it
(``PR_SET_PDEATHSIG``, a thread that lives as long as the worker); each jail dies with the
zygote, each run's init with its jail: a SIGKILLed worker takes every run with it.
"""

import sys

# What a fresh interpreter started with these flags has, taken before this file imports anything.
FRESH = {"modules": list(sys.modules), "path": list(sys.path),
         "path_importer_cache": list(sys.path_importer_cache),
         "main": [name for name in globals() if name.startswith("__")]}  # not this file's
try:
    sys.setrecursionlimit(1)  # the message names the depth a program's first line runs at
except RecursionError as exc:
    FRESH["depth"] = int(str(exc).split("depth ")[1].split(":")[0])

import fcntl  # noqa: E402
import gc  # noqa: E402
import os  # noqa: E402
import select  # noqa: E402
import socket  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jail  # noqa: E402  (the jail's own directory, which -I leaves off sys.path)
import warm_python  # noqa: E402

DESCRIPTORS = (6, 7)  # stdin, stdout, stderr, spec, status, reply[, outputs]
SPEC_FD, STATUS_FD, OUTPUTS_FD = 3, 4, 5


def become_jail(fds, zygote_pid):
    """In the forked child: the run's descriptors at 0-4 (and the outputs file at 5), nothing
    else open, then the jail. Never returns, but in the process of a program to run here: its
    spec."""
    try:
        os.setsid()
        # Out of the way of 0-5 first, so that putting one in place never overwrites another.
        moved = [fcntl.fcntl(fd, fcntl.F_DUPFD, 16) for fd in fds[:5] + fds[6:]]
        for target, fd in enumerate(moved):
            os.dup2(fd, target)
        os.closerange(len(moved), os.sysconf("SC_OPEN_MAX"))
        program = jail.main(SPEC_FD, STATUS_FD, parent_pid=zygote_pid)
    except BaseException:
        os._exit(127)
    if not program:
        os._exit(127)
    return program


def send(reply, data, fds=()):
    """Answer on a run's reply socket; a worker that stopped listening is not an error here."""
    try:
        socket.send_fds(reply, [data], list(fds))
    except OSError:
        pass


def start(fds, runs, poll):
    """Fork the run's jail; in the process of a program to run here, its spec."""
    reply = socket.socket(fileno=fds[5])
    zygote_pid = os.getpid()
    try:
        pid = os.fork()
    except OSError as exc:
        pid = None
        send(reply, f"error {exc}".encode())
        reply.close()
    if pid == 0:
        reply.detach()  # its descriptor is closed in the child: the number may be reused
        return become_jail(fds, zygote_pid)
    for fd in fds[:5] + fds[6:]:
        os.close(fd)
    if pid is None:
        return None
    pidfd = os.pidfd_open(pid)
    send(reply, b"pid %d" % pid, [pidfd])
    runs[pidfd] = (pid, reply)
    poll.register(pidfd, select.POLLIN)
    return None


def reap(pidfd, runs, poll):
    pid, reply = runs.pop(pidfd)
    poll.unregister(pidfd)
    os.close(pidfd)
    _, status, usage = os.wait4(pid, 0)
    send(reply, b"exit %d %r %r" % (status, usage.ru_utime, usage.ru_stime))
    reply.close()


def serve(control, worker_pid):
    """Fork a jail per request until the worker is gone. Returns only in the process of a
    program to run in this interpreter: its spec. (A poll object, not an epoll one: it holds no
    descriptor that program could see.)"""
    jail.prctl(jail.PR_SET_PDEATHSIG, jail.SIGKILL)
    if os.getppid() != worker_pid:
        return None  # the worker died before PDEATHSIG was armed
    control.send(b"ready")
    runs = {}
    poll = select.poll()
    poll.register(control, select.POLLIN)
    while True:
        for fd, _ in poll.poll():
            if fd != control.fileno():
                reap(fd, runs, poll)
                continue
            try:
                message, fds, _, _ = socket.recv_fds(control, 16, max(DESCRIPTORS))
            except OSError:
                return None
            if not message:
                return None  # the worker is gone
            if len(fds) not in DESCRIPTORS:
                for fd in fds:
                    os.close(fd)
            elif program := start(fds, runs, poll):
                control.detach()  # closed in the child, as every reply socket
                for _, reply in runs.values():
                    reply.detach()
                return program


if __name__ == "__main__":
    warm_python.hide_own_modules(FRESH)
    # Out of the collector's sight: a collection in a run would write to every object's header,
    # and so copy every page of the zygote's heap into the run.
    gc.freeze()
    if program := serve(socket.socket(fileno=int(sys.argv[1])), int(sys.argv[2])):
        warm_python.run(program, FRESH)
