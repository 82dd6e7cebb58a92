"""The jail: the short program that turns a plain child process into a sandboxed run.

The worker starts it as ``python -I -S jail.py SPEC_FD STATUS_FD`` with the run's stdin, stdout
and stderr already connected. It reads a marshalled spec from SPEC_FD, then, as root:

1. ``unshare``s new mount, PID, network, IPC and UTS namespaces (those the spec asks for) and
   forks; the child is PID 1 of the new PID namespace, so when it exits the kernel kills every
   process the program left behind, daemons and ``setsid`` escapees included;
2. in the child: mounts one size-limited tmpfs on /tmp (the working directory is /tmp/box) and
   binds it on /var/tmp and /dev/shm, so everything writable is private, bounded and gone with the
   run; hides the paths it is told to (the store, other runs) under empty read-only mounts;
   mounts a /proc that shows only this run; brings up an isolated loopback;
3. writes the program's files, applies the rlimits, drops to the run's uid and gid with no
   supplementary groups, no capabilities (bounding set emptied) and ``no_new_privs``, and execs.

Just before the exec the child writes ``exec <monotonic ns>`` to STATUS_FD, which closes on a
successful exec; anything that fails is written there instead. The worker so tells "the sandbox
could not start" from "the program failed" without parsing output, and times the program alone.
The parent stays outside the new PID namespace only to relay the program's exit status; on
SIGTERM it kills the program, so the worker can end a run and know the namespace is gone when
the jail exits. It dies with the worker (``PR_SET_PDEATHSIG``), and the program dies with it.

It imports only what a bare interpreter has (``-S``), because its start-up is part of every run.
"""

import ctypes
import marshal
import os
import resource
import sys
import time

import _signal

CLONE_NEWNS = 0x00020000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_BIND, MS_REC, MS_PRIVATE = 4096, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 1, 24, 38
SIGKILL, SIGTERM, SIGSTOP = 9, 15, 19
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1
BOX = "/tmp/box"

libc = ctypes.CDLL(None, use_errno=True)


class JailError(Exception):
    pass


def check(result, what):
    if result != 0:
        errno = ctypes.get_errno()
        raise JailError(f"{what}: {os.strerror(errno)}")


def mount(source, target, fstype, flags, data=None):
    check(libc.mount(source and source.encode(), target.encode(), fstype and fstype.encode(),
                     ctypes.c_ulong(flags), data and data.encode()), f"mount {target}")


def prctl(option, value):
    check(libc.prctl(option, ctypes.c_ulong(value), 0, 0, 0), f"prctl {option}")


def loopback_up():
    """An isolated ``lo`` so programs can talk to themselves (a socket exercise), nothing else."""
    fd = libc.socket(2, 2, 0)  # AF_INET, SOCK_DGRAM
    if fd < 0:
        raise JailError("socket for loopback")
    ifreq = ctypes.create_string_buffer(b"lo", 40)
    check(libc.ioctl(fd, SIOCGIFFLAGS, ifreq), "read loopback flags")
    flags = int.from_bytes(ifreq.raw[16:18], "little") | IFF_UP
    ctypes.memmove(ctypes.addressof(ifreq) + 16, flags.to_bytes(2, "little"), 2)
    check(libc.ioctl(fd, SIOCSIFFLAGS, ifreq), "bring loopback up")
    os.close(fd)


def private_filesystem(spec):
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    for path in spec["hide"]:
        if os.path.isdir(path):
            mount("tmpfs", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                  "size=4k,mode=0")
        elif os.path.exists(path):
            mount("/dev/null", path, None, MS_BIND)
    mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV,
          f"size={spec['disk_limit']},mode=1777")
    for target in ("/var/tmp", "/dev/shm"):
        if os.path.isdir(target):
            mount("/tmp", target, None, MS_BIND | MS_REC)
    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    os.mkdir(BOX, 0o755)
    return BOX


def write_files(workdir, files, uid, gid):
    for name, content in files.items():
        path = os.path.join(workdir, name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        try:
            os.write(fd, content)
        finally:
            os.close(fd)
        if uid >= 0:
            os.chown(path, uid, gid, follow_symlinks=False)
    if uid >= 0:
        os.chown(workdir, uid, gid, follow_symlinks=False)


def drop_privileges(uid, gid):
    for cap in range(64):
        if libc.prctl(PR_CAPBSET_DROP, ctypes.c_ulong(cap), 0, 0, 0) != 0:
            break  # past the last capability this kernel knows
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)  # with no keep-caps, this clears every capability


def join_cgroup(spec):
    """Move this process (PID 1 of the run, still root) into the run's cgroup, so that everything
    the run starts is counted, limited and killed with it. "0" means the writer itself: its pid
    in this PID namespace (1) would name another process on the host."""
    for path in spec.get("cgroup_procs", []):
        fd = os.open(path, os.O_WRONLY)
        try:
            os.write(fd, b"0")
        finally:
            os.close(fd)


def become_program(spec, status_fd):
    """In the child: finish the jail and exec. Never returns."""
    try:
        prctl(PR_SET_PDEATHSIG, SIGKILL)
        join_cgroup(spec)
        if spec["namespaces"] & CLONE_NEWNS:
            workdir = private_filesystem(spec)
        else:
            workdir = spec["workdir"]
        if spec["loopback"]:
            loopback_up()
        write_files(workdir, spec["files"], spec["uid"], spec["gid"])
        os.chdir(workdir)
        env = dict(spec["env"], HOME=workdir)
        for limit, soft, hard in spec["rlimits"]:
            resource.setrlimit(limit, (soft, hard))
        if spec["uid"] >= 0:
            drop_privileges(spec["uid"], spec["gid"])
        prctl(PR_SET_NO_NEW_PRIVS, 1)
        os.set_inheritable(status_fd, False)
        # The worker times the program from here, not from the jail's own start-up.
        os.write(status_fd, b"exec %d\n" % time.monotonic_ns())
        os.execve(spec["argv"][0], spec["argv"], env)
    except BaseException as exc:  # report, never fall through to the parent's code
        os.write(status_fd, f"{type(exc).__name__}: {exc}".encode())
        os._exit(127)


def relay(child):
    """Wait for the program and exit as it did, so the worker sees its status."""
    _signal.signal(SIGTERM, lambda *_: os.kill(child, SIGKILL))
    while True:
        try:
            _, status = os.waitpid(child, 0)
            break
        except ChildProcessError:
            os._exit(125)
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig not in (SIGKILL, SIGSTOP):
            _signal.signal(sig, _signal.SIG_DFL)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        os.kill(os.getpid(), sig)
        os.kill(os.getpid(), SIGKILL)  # a signal that does not end a process: end it anyway
    os._exit(os.waitstatus_to_exitcode(status))


def main():
    spec_fd, status_fd = int(sys.argv[1]), int(sys.argv[2])
    with os.fdopen(spec_fd, "rb") as spec_file:
        spec = marshal.load(spec_file)
    try:
        prctl(PR_SET_PDEATHSIG, SIGKILL)
        if os.getppid() != spec["worker_pid"]:
            raise JailError("the worker is gone")
        if spec["namespaces"]:
            check(libc.unshare(spec["namespaces"]), "unshare")
    except BaseException as exc:
        os.write(status_fd, f"{type(exc).__name__}: {exc}".encode())
        os._exit(127)
    child = os.fork()
    if child == 0:
        become_program(spec, status_fd)
    os.close(status_fd)
    relay(child)


if __name__ == "__main__":
    main()
