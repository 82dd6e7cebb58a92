"""The jail: the short program that turns a plain child process into a sandboxed run.

The worker starts it as ``python -I -S jail.py SPEC_FD STATUS_FD`` with the run's stdin, stdout
and stderr already connected, or has its fork-server (:mod:`.zygote`) fork a process that calls
:func:`main` the same way; either way it sends the spec on SPEC_FD in two frames (:func:`frame`):
what does not depend on the run (namespaces, uid, cgroup, toolchain), which the jail reads at
once, and the run's own part (files, argv, limits, filter), which the init reads once its root
is built. A run sends both at once, or takes a jail started ahead of it that waits for the
second (:mod:`.prefork`): the same steps either way. Three processes follow, each with one job
(the shape of bubblewrap's ``--unshare-pid --die-with-parent``):

- the **jail** itself stays outside the run's PID namespace, ``unshare``s the namespaces (a new
  user namespace first when livecode is not root) and forks the init; it relays the program's
  exit status to the worker and passes SIGTERM on to the init, which kills everything else in
  the namespace and reaps the program (so its CPU time is counted). The worker kills the jail's
  process group outright if that takes longer than a grace period. It dies with its parent (``PR_SET_PDEATHSIG``):
  the worker thread that started it, or the fork-server, which dies with the worker;
- the **init** is PID 1 of the run's PID namespace and stays root (of the host, or of the run's
  user namespace) for the whole run, so its own ``PR_SET_PDEATHSIG``, tied to the jail, is never
  cleared by a ``setuid``. It joins the run's cgroup, builds the minimal root, forks the program
  and reaps. When it dies, for whatever reason, the kernel kills every process in the namespace:
  a SIGKILLed worker takes all of its runs with it;
- the **program** drops to the run's uid, loads the seccomp filter and execs.

Each step below is one function, named for what it guarantees, applied in this order:
``enter_namespaces`` → (fork: init) ``join_cgroup`` → ``build_minimal_root`` → ``loopback_up`` →
``empty_bounding_set`` → (the run's part of the spec) ``size_tmp`` → ``write_files`` → (fork:
program) ``apply_rlimits`` → ``drop_privileges`` → ``no_new_privs`` → ``load_seccomp`` → exec
(or, for a Python program the zygote's interpreter runs itself, a return to it:
:mod:`.warm_python`); once the program has ended, the init copies out the ``outputs`` it was
asked for (``collect_outputs``: a compile step's artefact). Any step that fails writes why to
STATUS_FD and ends the run before the program starts; just before the exec the program writes
``exec <monotonic ns>`` there, and the descriptor closes on a successful exec. The worker so
tells "the sandbox could not start" from "the program failed" without parsing output, and
times the program alone. Once the init has reaped the program it writes ``exit <wait status>``
there too: the run's result is known before the init, its namespace and the jail have exited.

It imports only what a bare interpreter has (``-S``), because its start-up is part of every run.
"""

import ctypes
import marshal
import os
import resource
import sys
import time

import _signal

CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID = 0x00020000, 0x10000000, 0x20000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MS_NOATIME, MS_NODIRATIME, MS_RELATIME = 1024, 2048, 1 << 21
ST_RELATIME = 4096
MNT_DETACH = 2
PR_SET_PDEATHSIG, PR_SET_SECCOMP, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 1, 22, 24, 38
PR_SET_DUMPABLE, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 4, 47, 4
SECCOMP_MODE_FILTER = 2
SIGKILL, SIGTERM, SIGSTOP = 9, 15, 19
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1
BOX = "/tmp/box"
HOSTNAME = "livecode"
DEVICES = ("null", "zero", "full", "random", "urandom", "tty")
ETC_COPIED = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime")

libc = ctypes.CDLL(None, use_errno=True)
# Array types made once, when the fork-server imports this file, not in each run (see
# warm_python.THREAD_STATE_INTS).
IFREQ = ctypes.c_char * 40
CAP_DATA = ctypes.c_uint32 * 6  # effective, permitted, inheritable; two 32-bit halves


class JailError(Exception):
    pass


def check(result, what):
    if result != 0:
        errno = ctypes.get_errno()
        raise JailError(f"{what}: {os.strerror(errno)}")


def mount(source, target, fstype, flags, data=None):
    check(libc.mount(source and source.encode(), target.encode(), fstype and fstype.encode(),
                     ctypes.c_ulong(flags), data and data.encode()), f"mount {target}")


def prctl(option, value, arg=0):
    check(libc.prctl(option, ctypes.c_ulong(value), arg, 0, 0), f"prctl {option}")


def frame(part):
    """One part of the spec as sent on SPEC_FD: its length (8 bytes), then it, marshalled."""
    data = marshal.dumps(part)
    return len(data).to_bytes(8, "little") + data


def read_frame(fd):
    """The next part of the spec, read to its exact end (the next one belongs to the init)."""
    size = int.from_bytes(read_exactly(fd, 8), "little")
    return marshal.loads(read_exactly(fd, size))


def read_exactly(fd, size):
    data = b""
    while len(data) < size:
        chunk = os.read(fd, size - len(data))
        if not chunk:
            raise JailError("the worker is gone (the spec ended early)")
        data += chunk
    return data


def report_and_exit(status_fd, exc):
    os.write(status_fd, f"{type(exc).__name__}: {exc}\n".encode())
    os._exit(127)


# --- jail: namespaces -----------------------------------------------------------------------


def enter_namespaces(spec):
    """New namespaces for the run. Without root, a new user namespace comes first (it grants the
    capabilities the others need inside it) and maps one id, the run's, onto livecode's own."""
    flags = spec["namespaces"]
    if not flags:
        return
    outer_uid, outer_gid = os.geteuid(), os.getegid()
    check(libc.unshare(flags), "unshare")
    if flags & CLONE_NEWUSER:
        write_text("/proc/self/setgroups", "deny")
        write_text("/proc/self/uid_map", f"{spec['uid']} {outer_uid} 1")
        write_text("/proc/self/gid_map", f"{spec['gid']} {outer_gid} 1")


def write_text(path, text, mode=0o644):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC, mode)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


# --- init: cgroup, root, network, files -----------------------------------------------------


def join_cgroup(spec):
    """Move the init (PID 1 of the run, still root) into the run's cgroup, one ``cgroup.procs``
    file per hierarchy, so that everything the run starts is counted, limited and killed with it;
    done while the host's cgroup filesystem is still in view. "0" means the writer itself: its
    pid in this PID namespace (1) would name another process on the host."""
    for path in spec.get("cgroup_procs", []):
        fd = os.open(path, os.O_WRONLY)
        try:
            os.write(fd, b"0")
        finally:
            os.close(fd)


def build_minimal_root(spec):
    """A fresh root made of only what the run may see, in bubblewrap's way.

    A tmpfs becomes ``/`` with the host's root under ``/oldroot``, so every host path keeps one
    name while the new root is assembled in ``/newroot``: read-only binds of the toolchain, a few
    ``/etc`` files, its own ``/proc``, a ``/dev`` of six device nodes and a new devpts instance,
    and the run's size-limited ``/tmp``. Then the new root is remounted read-only, becomes ``/``,
    and the host's root is detached. Anything not named here (the store, the lock directory,
    other runs, ``/run``, ``/var``, ``/home``, ``/sys``) is absent by construction.
    """
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,nr_inodes=16,mode=0755")
    os.chdir("/tmp")
    os.mkdir("oldroot")
    os.mkdir("newroot")
    pivot_root(".", "oldroot")
    os.chdir("/")
    new = "/newroot"
    mount("tmpfs", new, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,nr_inodes=4096,mode=0755")
    # The run's /tmp first: a toolchain that lives under the host's /tmp (a checkout's venv
    # there) is then bound inside it, read-only, rather than hidden by it.
    os.mkdir(new + "/tmp", 0o1777)
    # Its size is the run's, set by size_tmp: a jail started ahead does not know it yet.
    mount("tmpfs", new + "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,mode=1777")
    os.mkdir(new + BOX, 0o755)
    for kind, path, target in spec["toolchain"]:
        place = new + path
        make_parents(place)
        if kind == "link":
            os.symlink(target, place)
        else:
            bind_read_only("/oldroot" + path, place)
    build_etc(new, spec)
    os.mkdir(new + "/proc", 0o555)
    mount("proc", new + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    build_dev(new)
    mount(None, new, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
    os.chdir(new)
    pivot_root(".", ".")  # the scaffolding, with the host's root in it, ends up on top of /
    # One lazy detach takes the scaffolding and every mount below it, the host's root included
    # (each detach waits for an RCU grace period, which two would pay twice).
    check(libc.umount2(b".", MNT_DETACH), "detach the host's root")
    os.chdir("/")


def pivot_root(new_root, put_old):
    check(libc.syscall(155, new_root.encode(), put_old.encode()), f"pivot_root {new_root}")


def make_parents(path):
    """Create the missing directories above ``path`` with mode 0755 (a host directory may be 0700,
    like /root; the run needs to traverse only the copy, which holds nothing else)."""
    parent = os.path.dirname(path)
    if not os.path.isdir(parent):
        make_parents(parent)
        os.mkdir(parent, 0o755)


def bind_read_only(source, target):
    if os.path.isdir(source):
        os.mkdir(target, 0o755)
    else:
        os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
    mount(source, target, None, MS_BIND | MS_REC)
    # A bind takes its source's flags; read-only needs a remount, which in a user namespace must
    # keep the flags the source mount already has (they are locked), as bubblewrap does.
    mount(None, target, None,
          MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | locked_flags(target))


def locked_flags(path):
    found = os.statvfs(path).f_flag
    flags = found & (MS_NOEXEC | MS_NOATIME | MS_NODIRATIME)
    return flags | (MS_RELATIME if found & ST_RELATIME else 0)


def build_etc(new, spec):
    etc = new + "/etc"
    os.makedirs(etc, 0o755, exist_ok=True)  # a toolchain link may have made it (alternatives)
    for name in ETC_COPIED:
        copy_host_entry("/oldroot/etc/" + name, f"{etc}/{name}")
    user = f"livecode:x:{spec['uid']}:{spec['gid']}:livecode run:{BOX}:/usr/sbin/nologin\n"
    write_text(etc + "/passwd", "root:x:0:0:root:/root:/usr/sbin/nologin\n" + user)
    write_text(etc + "/group", f"root:x:0:\nlivecode:x:{spec['gid']}:\n")
    write_text(etc + "/nsswitch.conf", "passwd: files\ngroup: files\nhosts: files\n")
    write_text(etc + "/hosts", f"127.0.0.1\tlocalhost\n::1\tlocalhost\n127.0.1.1\t{HOSTNAME}\n")
    write_text(etc + "/hostname", HOSTNAME + "\n")


def copy_host_entry(source, target):
    """Copy a small host file, a link as a link, a directory of small files one level deep."""
    if os.path.islink(source):
        os.symlink(os.readlink(source), target)
    elif os.path.isdir(source):
        os.mkdir(target, 0o755)
        for entry in os.scandir(source):
            copy_host_entry(entry.path, f"{target}/{entry.name}")
    elif os.path.isfile(source):
        with open(source, "rb") as file:
            data = file.read()
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)


def build_dev(new):
    """Six host device nodes (bound: a user namespace may not ``mknod``), a devpts instance of
    the run's own with a few ptys, and the usual links."""
    dev = new + "/dev"
    os.mkdir(dev, 0o755)
    mount("tmpfs", dev, "tmpfs", MS_NOSUID | MS_NOEXEC, "size=16k,nr_inodes=64,mode=0755")
    for name in DEVICES:
        os.close(os.open(f"{dev}/{name}", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        mount("/oldroot/dev/" + name, f"{dev}/{name}", None, MS_BIND)
    os.mkdir(dev + "/pts", 0o755)
    mount("devpts", dev + "/pts", "devpts", MS_NOSUID | MS_NOEXEC,
          "newinstance,ptmxmode=0666,mode=0620,max=16")
    for link, target in (("ptmx", "pts/ptmx"), ("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                         ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2"),
                         ("shm", "/tmp")):
        os.symlink(target, f"{dev}/{link}")
    mount(None, dev, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NOEXEC)


def loopback_up():
    """An isolated ``lo`` so programs can talk to themselves (a socket exercise), nothing else."""
    fd = libc.socket(2, 2, 0)  # AF_INET, SOCK_DGRAM
    if fd < 0:
        raise JailError("socket for loopback")
    ifreq = IFREQ(*b"lo")
    check(libc.ioctl(fd, SIOCGIFFLAGS, ifreq), "read loopback flags")
    flags = int.from_bytes(ifreq.raw[16:18], "little") | IFF_UP
    ctypes.memmove(ctypes.addressof(ifreq) + 16, flags.to_bytes(2, "little"), 2)
    check(libc.ioctl(fd, SIOCSIFFLAGS, ifreq), "bring loopback up")
    os.close(fd)
    check(libc.sethostname(HOSTNAME.encode(), len(HOSTNAME)), "sethostname")


def size_tmp(spec):
    """The run's /tmp holds at most ``disk_limit`` bytes (empty until now, so any size fits)."""
    mount(None, "/tmp", None, MS_REMOUNT | MS_NOSUID | MS_NODEV, f"size={spec['disk_limit']}")


def write_files(workdir, files, executable, uid, gid):
    """Write the program's files, making the directories their names hold (the box is new and
    holds nothing of the program's yet, so no part of a path can be a link)."""
    for name, content in files.items():
        path = os.path.join(workdir, name)
        make_box_directories(workdir, name, uid, gid)
        mode = 0o755 if name in executable else 0o644
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
        try:
            while content:
                content = content[os.write(fd, content):]
        finally:
            os.close(fd)
        if uid >= 0:
            os.chown(path, uid, gid, follow_symlinks=False)
    if uid >= 0:
        os.chown(workdir, uid, gid, follow_symlinks=False)


def make_box_directories(workdir, name, uid, gid):
    directory = workdir
    for part in name.split("/")[:-1]:
        directory = os.path.join(directory, part)
        try:
            os.mkdir(directory, 0o755)
        except FileExistsError:
            continue
        if uid >= 0:
            os.chown(directory, uid, gid, follow_symlinks=False)


# --- program: limits, credentials, filter ---------------------------------------------------


def apply_rlimits(spec):
    for limit, soft, hard in spec["rlimits"]:
        resource.setrlimit(limit, (soft, hard))


def empty_bounding_set():
    """No capability can be gained by an ``exec`` from here on, in this process and all it
    forks. The init does it before its run is known (it never execs, and keeps what it holds)."""
    for cap in range(64):
        if libc.prctl(PR_CAPBSET_DROP, ctypes.c_ulong(cap), 0, 0, 0) != 0:
            break  # past the last capability this kernel knows


def drop_privileges(spec):
    """The run's uid and gid, no supplementary groups (the init emptied the capability bounding
    set). A uid that is not 0 loses every capability at ``exec`` (no file capabilities can
    return them)."""
    if spec["uid"] < 0:
        return
    if not spec["namespaces"] & CLONE_NEWUSER:  # a user namespace has setgroups denied
        os.setgroups([])
    os.setgid(spec["gid"])
    os.setuid(spec["uid"])
    drop_capabilities()


class CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


def drop_capabilities():
    """No capability left, now rather than at the exec: in a user namespace the run's uid was
    never 0, so ``setuid`` kept the namespace's full set (CAP_NET_RAW on its own network, say),
    and a program run in this interpreter (:mod:`.warm_python`) has no exec to lose it at."""
    data = CAP_DATA()
    check(libc.capset(ctypes.byref(CapHeader(0x20080522, 0)), data), "capset")
    check(libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), "clear ambient caps")


def no_new_privs():
    prctl(PR_SET_NO_NEW_PRIVS, 1)


class SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_char_p)]


def load_seccomp(spec):
    """Load the filter the worker compiled with libseccomp (the jail stays free of the binding)."""
    program = spec["seccomp"]
    if not program:
        return
    fprog = SockFprog(len(program) // 8, program)
    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog))


def default_signals():
    """Python ignores SIGPIPE and SIGXFSZ when it starts, and exec keeps what is ignored: give
    the program the default dispositions it would get from a shell (``yes | head`` ends,
    a file past RLIMIT_FSIZE kills with SIGXFSZ)."""
    for sig in (_signal.SIGPIPE, _signal.SIGXFSZ):
        _signal.signal(sig, _signal.SIG_DFL)


def in_this_interpreter(spec, env):
    """Whether the program may run in this very process instead of an exec: asked for (a Python
    program, see :mod:`.warm_python`), and this interpreter is the one the program names, started
    with its flags and its environment, in the warm zygote's process (its command line
    ``python FLAGS zygote.py CONTROL_FD WORKER_PID``)."""
    argv = spec["argv"]
    return bool(spec.get("in_process") and sys.orig_argv[:-3] == argv[:-1]
                and sys.orig_argv[-3].endswith("/zygote.py") and dict(os.environ) == env)


def become_program(spec, workdir, status_fd):
    """In the program's process: finish the jail and exec. Never returns, but in a Python
    program that runs in this interpreter (:func:`in_this_interpreter`): then it returns once
    every protection is in place, for the zygote to run the program (:mod:`.warm_python`)."""
    try:
        os.chdir(workdir)
        env = dict(spec["env"], HOME=workdir)
        in_process = in_this_interpreter(spec, env)
        apply_rlimits(spec)
        drop_privileges(spec)
        no_new_privs()
        load_seccomp(spec)
        if in_process:
            # An exec would make it dumpable again (``setuid`` made it not): its /proc files
            # its own, as an exec'd program's are
            prctl(PR_SET_DUMPABLE, 1)
        else:  # a fresh interpreter ignores both again itself, as this one does
            default_signals()
        os.set_inheritable(status_fd, False)
        if spec["outputs_fd"] >= 0:
            os.close(spec["outputs_fd"])
        if spec.get("stderr_to_stdout"):
            os.dup2(1, 2)  # one stream, in the order the program wrote it
        if in_process:  # it reports its own start (or execs after all) and closes status_fd
            return dict(spec, status_fd=status_fd)
        # The worker times the program from here, not from the jail's own start-up.
        os.write(status_fd, b"exec %d\n" % time.monotonic_ns())
        os.execve(spec["argv"][0], spec["argv"], env)
    except BaseException as exc:  # report, never fall through to the init's code
        report_and_exit(status_fd, exc)


# --- init, after the program: the outputs it was asked to leave ------------------------------


def read_capped(fd, cap):
    """The file's content, or ``None`` if it holds more than ``cap`` bytes."""
    chunks, size = [], 0
    while chunk := os.read(fd, min(1 << 20, cap + 1 - size)):
        chunks.append(chunk)
        size += len(chunk)
        if size > cap:
            return None
    return b"".join(chunks)


def collect_outputs(spec, workdir):
    """Once the program has ended, write the files it was asked to leave (a compile step's
    artefact) to the worker's outputs file. The box belongs to the program, so each is opened
    through a descriptor of the box directory without following a link, and taken only if it is
    a regular file within the size cap; a link, a FIFO or anything larger is left behind."""
    found = {}
    try:
        box_fd = os.open(workdir, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        box_fd = -1
    if box_fd >= 0:
        for name in spec["outputs"]:
            try:
                fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=box_fd)
            except OSError:
                continue
            try:
                info = os.fstat(fd)
                if info.st_mode & 0o170000 == 0o100000 and info.st_size <= spec["output_cap"]:
                    content = read_capped(fd, spec["output_cap"])
                    if content is not None:
                        found[name] = content
            finally:
                os.close(fd)
        os.close(box_fd)
    with os.fdopen(spec["outputs_fd"], "wb") as outputs:
        marshal.dump(found, outputs)


# --- the three processes --------------------------------------------------------------------


def init(spec, spec_fd, status_fd, jail_alive, exit_w):
    """PID 1 of the run. Never returns (but in the program's process, see
    :func:`become_program`). Everything before the run's part of the spec is read depends only
    on the first part, so a jail may have done it before its run was known."""
    try:
        prctl(PR_SET_PDEATHSIG, SIGKILL)
        os.set_blocking(jail_alive, False)
        try:
            if os.read(jail_alive, 1) == b"":
                os._exit(1)  # the jail died before PDEATHSIG was armed
        except BlockingIOError:
            pass  # still alive: from now on its death kills this process
        join_cgroup(spec)
        if spec["minimal_root"]:
            build_minimal_root(spec)
            workdir = BOX
        else:
            workdir = spec["workdir"]
        if spec["loopback"]:
            loopback_up()
        if spec["uid"] >= 0:
            empty_bounding_set()
        spec = dict(spec, **read_frame(spec_fd))  # waits here for the run
        os.close(spec_fd)  # nothing the program may hold
        if spec["minimal_root"]:
            size_tmp(spec)
        write_files(workdir, spec["files"], spec["executable"], spec["uid"], spec["gid"])
        program = os.fork()
    except BaseException as exc:
        report_and_exit(status_fd, exc)
    if program == 0:
        return become_program(spec, workdir, status_fd)
    close_streams()
    if spec["namespaces"] & CLONE_NEWPID:
        # Asked to end the run: kill everything else in the namespace, then reap the program
        # as usual, so its CPU time still reaches the worker.
        _signal.signal(SIGTERM, lambda *_: os.kill(-1, SIGKILL))
    while True:  # reap orphans too, as an init must, until the program itself ends
        pid, status = os.waitpid(-1, 0)
        if pid == program:
            break
    if spec["outputs_fd"] >= 0:
        collect_outputs(spec, workdir)
    # The worker learns the program's end here, without waiting for this process's exit, the
    # namespace's and the jail's; the jail exits as the program did for those who look there.
    os.write(status_fd, b"exit %d\n" % status)
    os.write(exit_w, b"%d" % status)
    os._exit(0)


def close_streams():
    """The run's stdin, stdout and stderr are the program's alone once it is forked: the worker
    reads their end of file as soon as the program and what it started are gone."""
    for fd in (0, 1, 2):
        os.close(fd)


def relay(child, exit_r):
    """Wait for the init and exit as the program did, so the worker sees its status. (The init
    cannot do that by itself: PID 1 of a namespace is immune to its own default signals.)"""
    _signal.signal(SIGTERM, lambda *_: os.kill(child, SIGTERM))  # the init ends the run
    try:
        os.waitpid(child, 0)
    except ChildProcessError:
        os._exit(125)
    reported = os.read(exit_r, 32)
    status = int(reported) if reported else SIGKILL  # no report: the init was killed
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig not in (SIGKILL, SIGSTOP):
            _signal.signal(sig, _signal.SIG_DFL)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        os.kill(os.getpid(), sig)
        os.kill(os.getpid(), SIGKILL)  # a signal that does not end a process: end it anyway
    os._exit(os.waitstatus_to_exitcode(status))


def main(spec_fd, status_fd, parent_pid=None):
    """The jail's whole sequence, in the process that becomes the jail: started fresh by the
    worker (its parent, ``spec["worker_pid"]``), or forked by the fork-server (``parent_pid``,
    itself tied to the worker; see :mod:`.zygote`). Never returns, but in the process of a
    program that runs in this interpreter (:func:`become_program`): the spec, to run it."""
    try:
        spec = read_frame(spec_fd)
        prctl(PR_SET_PDEATHSIG, SIGKILL)
        if os.getppid() != (parent_pid or spec["worker_pid"]):
            raise JailError("the worker is gone")
        enter_namespaces(spec)
        alive_r, alive_w = os.pipe()
        exit_r, exit_w = os.pipe()
        child = os.fork()
    except BaseException as exc:
        report_and_exit(status_fd, exc)
    if child == 0:
        os.close(alive_w)
        os.close(exit_r)
        return init(spec, spec_fd, status_fd, alive_r, exit_w)
    os.close(spec_fd)
    os.close(status_fd)
    os.close(alive_r)
    os.close(exit_w)
    close_streams()
    relay(child, exit_r)


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
