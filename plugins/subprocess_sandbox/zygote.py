"""The fork-server ("zygote"): a warm process that forks jails, so a run does not pay for starting
an interpreter.

The worker starts it once, as ``python -I -S zygote.py CONTROL_FD WORKER_PID``, from an empty
environment, in ``/``, with no descriptor of its own but CONTROL_FD (see :mod:`.fork_server`). It
holds no settings, secrets or connections: all it has is :mod:`.jail` imported. For each run the
worker sends, on the control socket (``SOCK_SEQPACKET``), the run's six descriptors (stdin,
stdout, stderr, spec, status and a reply socket); the zygote forks a child that puts them in
place, closes everything else and calls ``jail.main`` (the same sequence, so the same protections,
as a jail started fresh). The user's program is still exec'd by the jail as before: no user code
ever runs in this interpreter.

The zygote answers on the run's reply socket: ``pid N`` with a pidfd of the jail (the worker
watches and signals the jail through it, free of pid reuse), then, once it reaped the jail,
``exit STATUS UTIME STIME``. It dies with the worker thread that started it
(``PR_SET_PDEATHSIG``, a thread that lives as long as the worker); each jail dies with the
zygote, each run's init with its jail: a SIGKILLed worker takes every run with it.
"""

import fcntl
import os
import selectors
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jail  # noqa: E402  (the jail's own directory, which -I leaves off sys.path)

DESCRIPTORS = 6  # stdin, stdout, stderr, spec, status, reply
SPEC_FD, STATUS_FD = 3, 4


def become_jail(fds, zygote_pid):
    """In the forked child: the run's descriptors at 0-4, nothing else open, then the jail.
    Never returns."""
    try:
        os.setsid()
        # Out of the way of 0-4 first, so that putting one in place never overwrites another.
        moved = [fcntl.fcntl(fd, fcntl.F_DUPFD, 16) for fd in fds[:5]]
        for target, fd in enumerate(moved):
            os.dup2(fd, target)
        os.closerange(5, os.sysconf("SC_OPEN_MAX"))
        jail.main(SPEC_FD, STATUS_FD, parent_pid=zygote_pid)
    finally:
        os._exit(127)


def send(reply, data, fds=()):
    """Answer on a run's reply socket; a worker that stopped listening is not an error here."""
    try:
        socket.send_fds(reply, [data], list(fds))
    except OSError:
        pass


def start(fds, runs, selector):
    reply = socket.socket(fileno=fds[5])
    zygote_pid = os.getpid()
    try:
        pid = os.fork()
    except OSError as exc:
        pid = None
        send(reply, f"error {exc}".encode())
        reply.close()
    if pid == 0:
        become_jail(fds, zygote_pid)
    for fd in fds[:5]:
        os.close(fd)
    if pid is None:
        return
    pidfd = os.pidfd_open(pid)
    send(reply, b"pid %d" % pid, [pidfd])
    runs[pidfd] = (pid, reply)
    selector.register(pidfd, selectors.EVENT_READ)


def reap(pidfd, runs, selector):
    pid, reply = runs.pop(pidfd)
    selector.unregister(pidfd)
    os.close(pidfd)
    _, status, usage = os.wait4(pid, 0)
    send(reply, b"exit %d %r %r" % (status, usage.ru_utime, usage.ru_stime))
    reply.close()


def serve(control, worker_pid):
    jail.prctl(jail.PR_SET_PDEATHSIG, jail.SIGKILL)
    if os.getppid() != worker_pid:
        return  # the worker died before PDEATHSIG was armed
    control.send(b"ready")
    runs = {}
    selector = selectors.DefaultSelector()
    selector.register(control, selectors.EVENT_READ)
    while True:
        for key, _ in selector.select():
            if key.fileobj is not control:
                reap(key.fd, runs, selector)
                continue
            try:
                message, fds, _, _ = socket.recv_fds(control, 16, DESCRIPTORS)
            except OSError:
                return
            if not message:
                return  # the worker is gone
            if len(fds) == DESCRIPTORS:
                start(fds, runs, selector)
            else:
                for fd in fds:
                    os.close(fd)


if __name__ == "__main__":
    serve(socket.socket(fileno=int(sys.argv[1])), int(sys.argv[2]))
