"""What the docker sandbox really has on this host, found by running a program and looking.

``protections`` runs a probe program in a container made exactly as for a run, and reports a
protection only as far as it is both set in the container's configuration (as the engine
reports it back) and seen in effect: the probe prints, from inside, its own credentials,
capabilities, seccomp mode, rlimits, mounts, namespaces, network interfaces and environment,
which are compared with the worker's host. An engine that ignores or overrides a setting (a
daemon-wide ``seccomp=unconfined``, a ``--default-ulimit``, a cgroup it cannot read here) turns
the protection false instead of leaving it claimed.
"""

import os

from livecode.core.contracts import Program, SandboxError
from livecode.core.limits import Limits
from livecode.plugins.sandboxing.cpu import whole_cpu_seconds

from .container import BOX, ENVIRONMENT, Containers, ContainerSpec

SECTIONS = "status limits mountinfo interfaces namespaces environment".split()
NAMESPACES = {"pid": "pid_namespace", "mnt": "mount_namespace", "net": "network_isolation",
              "ipc": "ipc_namespace", "uts": "uts_namespace"}
PROBE = (
    "cat /proc/self/status; echo @@; cat /proc/self/limits; echo @@; "
    "cat /proc/self/mountinfo; echo @@; ls /sys/class/net; echo @@; "
    "for ns in pid mnt net ipc uts user; do echo $ns $(readlink /proc/self/ns/$ns); done; "
    "echo @@; env"
)
# What the engine and the shells add to the environment we give: nothing of the worker's.
ENGINE_ENVIRONMENT = {"HOSTNAME", "PWD", "OLDPWD", "SHLVL", "_"}


def protections(containers: Containers, image: str, limits: Limits,
                engine_info: dict) -> dict[str, bool]:
    container = containers.make(ContainerSpec.of(image, limits), idle=False)
    try:
        result = container.run(Program({}, ["sh", "-c", PROBE]), b"", limits)
        config = containers.api.inspect_container(container.cid)
        cgroup_readable = container.cgroup is not None
    finally:
        container.discard()
    seen = dict(zip(SECTIONS, result.stdout.decode("utf-8", "replace").split("@@\n")))
    if result.exit_code != 0 or len(seen) != len(SECTIONS):
        raise SandboxError(f"the probe program failed in {image} (exit {result.exit_code}): "
                           + result.stderr[-300:].decode("utf-8", "replace"))
    host = config["HostConfig"]
    status = _status(seen["status"])
    found = {
        "unprivileged_user": _unprivileged_user(status, containers, config),
        "no_capabilities": "ALL" in (host.get("CapDrop") or []) and not host.get("CapAdd")
        and all(int(status.get(f"Cap{kind}", "1"), 16) == 0
                for kind in ("Inh", "Prm", "Eff", "Bnd", "Amb")),
        "no_new_privs": "no-new-privileges" in (host.get("SecurityOpt") or [])
        and status.get("NoNewPrivs") == "1",
        "seccomp": status.get("Seccomp") == "2"
        and (host.get("SecurityOpt") or []) == containers.security_options,
        "read_only_root": bool(host.get("ReadonlyRootfs")),
        "minimal_root": bool(host.get("ReadonlyRootfs")) and not host.get("Binds")
        and not config.get("Mounts") and not host.get("Privileged"),
        "private_tmp": "/tmp" in (host.get("Tmpfs") or {}) and _mounted(seen, BOX, "tmpfs"),
        "devpts": _own_devpts(seen["mountinfo"]),
        "cgroup_memory": bool(host.get("Memory")) and host.get("MemorySwap") == host["Memory"],
        "cgroup_pids": (host.get("PidsLimit") or 0) > 0,
        "cgroup_cpu": bool(host.get("NanoCpus")) and cgroup_readable,
        "rlimits": _rlimits(seen["limits"], limits),
        "clean_environment": set(_environment(seen["environment"])) <= (
            set(ENVIRONMENT) | ENGINE_ENVIRONMENT),
    }
    namespaces = _namespaces(seen["namespaces"])
    for short, name in NAMESPACES.items():
        found[name] = namespaces.get(short, "") not in ("", _host_namespace(short))
    found["network_isolation"] = (found["network_isolation"] and host.get("NetworkMode") == "none"
                                  and seen["interfaces"].split() == ["lo"])
    found["kills_every_descendant"] = found["pid_namespace"]
    if any("name=userns" in option for option in engine_info.get("SecurityOptions") or []):
        # The engine maps container uids to unprivileged host ones (userns-remap).
        found["user_namespace"] = namespaces.get("user", "") != _host_namespace("user")
    return found


def _status(text: str) -> dict[str, str]:
    fields = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return fields


def _unprivileged_user(status: dict, containers: Containers, config: dict) -> bool:
    """The program runs as the configured uid, which is neither root, nor ``nobody``, nor the
    holder's, and has no group but its own."""
    uid, _, gid = containers.program_user.partition(":")
    uids, gids = status.get("Uid", "").split(), status.get("Gid", "").split()
    holder = config["Config"].get("User", "").partition(":")[0]
    return (uids == [uid] * 4 and gids == [gid or uid] * 4 and uid not in ("0", "65534", holder)
            and set(status.get("Groups", "").split()) <= {gid or uid})


def _mounted(seen: dict, path: str, fstype: str) -> bool:
    """``path`` lies on a mount of ``fstype`` (the longest mount point that holds it)."""
    best, best_type = "", ""
    for line in seen["mountinfo"].splitlines():
        left, _, right = line.partition(" - ")
        point = left.split()[4] if len(left.split()) > 4 else ""
        if (path == point or path.startswith(point.rstrip("/") + "/")) and len(point) >= len(best):
            best, best_type = point, right.split()[0] if right else ""
    return best_type == fstype


def _own_devpts(mountinfo: str) -> bool:
    """/dev/pts is a devpts instance of its own, not the host's terminals."""
    try:
        host = os.stat("/dev/pts").st_dev
    except OSError:
        host = None
    host_device = f"{os.major(host)}:{os.minor(host)}" if host is not None else ""
    for line in mountinfo.splitlines():
        left, _, right = line.partition(" - ")
        fields = left.split()
        if len(fields) > 4 and fields[4] == "/dev/pts":
            return right.split()[:1] == ["devpts"] and fields[2] != host_device
    return False


def _rlimits(text: str, limits: Limits) -> bool:
    """The per-run rlimits were applied: core dumps off, open files and CPU time as asked."""
    found = {}
    for line in text.splitlines()[1:]:
        parts = line.split()
        if len(parts) >= 4 and parts[0] == "Max":
            name = " ".join(parts[1:-3]) if parts[-1] in ("seconds", "bytes", "files") else ""
            found[name] = parts[-3]
    return (found.get("core file size") == "0"
            and found.get("open files") == str(limits.max_open_files)
            and found.get("cpu time") == str(whole_cpu_seconds(limits))
            and found.get("file size") == str(limits.max_file_size))


def _namespaces(text: str) -> dict[str, str]:
    return dict(line.split(" ", 1) for line in text.splitlines() if " " in line)


def _host_namespace(short: str) -> str:
    try:
        return os.readlink(f"/proc/self/ns/{short}")
    except OSError:
        return ""


def _environment(text: str) -> list[str]:
    return [line.partition("=")[0] for line in text.splitlines() if "=" in line]
