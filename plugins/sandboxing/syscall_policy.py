"""The system calls no run may make, one list both built-in sandboxes build their filter from.

Plain names and numbers, no seccomp binding: the subprocess sandbox compiles it with libseccomp
(``plugins/subprocess_sandbox/seccomp_filter.py``) and the docker sandbox turns it into a Docker
seccomp profile (``plugins/docker_sandbox/seccomp_profile.py``), so both refuse exactly the same
things. Everything not named is allowed: the list denies what a program has no business with and
what gave attackers kernel bugs (user namespaces, io_uring, bpf, keyrings), and covers what
Docker's default profile denies a container without capabilities, because the docker sandbox's
profile replaces that one. Refusals are an errno, not a kill, so a program that probes gets
``PermissionError``.
"""

import errno

DENIED_ERRNO = errno.EPERM
DENIED = (
    "keyctl", "add_key", "request_key",  # a keyring outlives the run, readable by its uid later
    "io_uring_setup", "io_uring_enter", "io_uring_register",
    "bpf", "perf_event_open", "userfaultfd", "lookup_dcookie", "kcmp",
    "mount", "umount2", "pivot_root", "move_mount", "open_tree", "fsopen", "fsmount",
    "fsconfig", "fspick", "mount_setattr", "setns",
    "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
    "create_module", "get_kernel_syms", "query_module", "nfsservctl",
    "reboot", "swapon", "swapoff", "acct", "quotactl",
    "clock_adjtime", "clock_settime", "settimeofday",
    "ptrace", "process_vm_readv", "process_vm_writev",
    "open_by_handle_at", "name_to_handle_at",
    "sysfs", "_sysctl", "uselib", "ustat", "vm86", "vm86old", "iopl", "ioperm",
)
# Creating a user namespace: refused when the flags (first argument) of these hold the bit.
CLONE_NEWUSER = 0x10000000
NAMESPACE_CALLS = ("unshare", "clone")
# clone3's flags sit in memory a filter cannot read; ENOSYS makes libc fall back to clone.
FALLBACK = {"clone3": errno.ENOSYS}
# socket() families refused (first argument): raw link-layer access and kernel netlink.
AF_NETLINK, AF_PACKET = 16, 17
DENIED_SOCKET_FAMILIES = (AF_NETLINK, AF_PACKET)
