"""The Docker seccomp profile every container gets, built from the shared policy
(``plugins/sandboxing/syscall_policy.py``).

Docker's builtin profile is an allow-list that still lets io_uring and ``AF_NETLINK`` sockets
through; this one is the subprocess sandbox's deny-list instead (the same names, errnos and
argument rules), so both sandboxes refuse the same calls. It replaces the builtin profile, so the
shared list also covers what that profile denies a container without capabilities. Names the
engine's libseccomp does not know are skipped by runc rather than refused.

Only the engine's native architecture is listed: a 32-bit system call (``int 0x80``), whose
``socketcall`` would hide the socket family from the filter, is a bad architecture and kills,
as in the subprocess sandbox.
"""

import json

from livecode.plugins.sandboxing import syscall_policy as policy

ARCHITECTURES = {"x86_64": "SCMP_ARCH_X86_64", "aarch64": "SCMP_ARCH_AARCH64"}


def profile(engine_architecture: str) -> str:
    """The profile as the JSON text ``security_opt=["seccomp=…"]`` takes, for an engine whose
    ``info()`` reports ``engine_architecture`` (``x86_64``, ``aarch64``)."""
    architecture = ARCHITECTURES.get(engine_architecture)
    if architecture is None:
        raise ValueError(f"no seccomp profile for a {engine_architecture} engine")
    denied = {"action": "SCMP_ACT_ERRNO", "errnoRet": policy.DENIED_ERRNO}
    rules = [{"names": list(policy.DENIED), **denied}]
    rules += [{"names": [name], **denied,
               "args": [{"index": 0, "value": policy.CLONE_NEWUSER,
                         "valueTwo": policy.CLONE_NEWUSER, "op": "SCMP_CMP_MASKED_EQ"}]}
              for name in policy.NAMESPACE_CALLS]
    rules += [{"names": [name], "action": "SCMP_ACT_ERRNO", "errnoRet": number}
              for name, number in policy.FALLBACK.items()]
    rules += [{"names": ["socket"], **denied,
               "args": [{"index": 0, "value": family, "valueTwo": 0, "op": "SCMP_CMP_EQ"}]}
              for family in policy.DENIED_SOCKET_FAMILIES]
    return json.dumps({"defaultAction": "SCMP_ACT_ALLOW", "architectures": [architecture],
                       "syscalls": rules}, separators=(",", ":"))
