"""The system-call filter every run gets, compiled once per worker with libseccomp.

Written with libseccomp (through ``pyseccomp``, a ctypes binding with libseccomp's own Python
API), never as hand-written BPF; the worker exports the compiled program as bytes and the jail
only loads them, so the jail itself stays free of the binding. What it refuses, and with which
errno, is ``plugins/sandboxing/syscall_policy.py``, shared with the docker sandbox's profile.
Only this machine's native architecture is allowed; a 32-bit system call (``int 0x80``) kills
the process, so no second syscall table slips past.
"""

import tempfile

from livecode.plugins.sandboxing import syscall_policy as policy


def compile_filter() -> bytes:
    """The filter as raw ``struct sock_filter`` entries; raises ImportError or OSError where
    libseccomp is missing."""
    import pyseccomp as seccomp

    rules = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    denied = seccomp.ERRNO(policy.DENIED_ERRNO)
    for name in policy.DENIED:
        rules.add_rule(denied, name)
    for name in policy.NAMESPACE_CALLS:
        rules.add_rule(denied, name, seccomp.Arg(0, seccomp.MASKED_EQ, policy.CLONE_NEWUSER,
                                                 policy.CLONE_NEWUSER))
    for name, number in policy.FALLBACK.items():
        rules.add_rule(seccomp.ERRNO(number), name)
    for family in policy.DENIED_SOCKET_FAMILIES:
        rules.add_rule(denied, "socket", seccomp.Arg(0, seccomp.EQ, family))
    with tempfile.TemporaryFile() as out:
        rules.export_bpf(out)
        out.seek(0)
        return out.read()
