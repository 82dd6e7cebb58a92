"""The system-call filter every run gets, compiled once per worker with libseccomp.

Written with libseccomp (through ``pyseccomp``, a ctypes binding with libseccomp's own Python
API), never as hand-written BPF; the worker exports the compiled program as bytes and the jail
only loads them, so the jail itself stays free of the binding. Everything not named here is
allowed: the list denies what a program has no business with and what gave attackers kernel
bugs (user namespaces, io_uring, bpf, keyrings), as Docker's default profile does, and answers
with an errno rather than a kill, so a program that probes gets ``PermissionError``.

``clone3`` answers ``ENOSYS``: its flags sit in memory a filter cannot read, and libc then falls
back to ``clone``, whose flags it can. Only this machine's native architecture is allowed; a
32-bit system call (``int 0x80``) kills the process, so no second syscall table slips past.
"""

import errno
import tempfile

CLONE_NEWUSER = 0x10000000
AF_NETLINK, AF_PACKET = 16, 17
DENIED = (
    "keyctl", "add_key", "request_key",  # a keyring outlives the run, readable by its uid later
    "io_uring_setup", "io_uring_enter", "io_uring_register",
    "bpf", "perf_event_open", "userfaultfd",
    "mount", "umount2", "pivot_root", "move_mount", "open_tree", "fsopen", "fsmount",
    "fsconfig", "fspick", "mount_setattr", "setns",
    "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
    "reboot", "swapon", "swapoff", "acct", "quotactl",
    "ptrace", "process_vm_readv", "process_vm_writev",
    "open_by_handle_at", "name_to_handle_at",
)


def compile_filter() -> bytes:
    """The filter as raw ``struct sock_filter`` entries; raises ImportError or OSError where
    libseccomp is missing."""
    import pyseccomp as seccomp

    rules = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    eperm = seccomp.ERRNO(errno.EPERM)
    for name in DENIED:
        rules.add_rule(eperm, name)
    for name in ("unshare", "clone"):  # the flags are the first argument of both
        rules.add_rule(eperm, name, seccomp.Arg(0, seccomp.MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER))
    rules.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
    for family in (AF_NETLINK, AF_PACKET):
        rules.add_rule(eperm, "socket", seccomp.Arg(0, seccomp.EQ, family))
    with tempfile.TemporaryFile() as out:
        rules.export_bpf(out)
        out.seek(0)
        return out.read()
