"""The ``docker`` sandbox: one throw-away container per run, through the Docker engine's API.

Each run gets a container of its own (see ``container`` for what it holds and how the program
reaches it), taken ready from a warm pool (``pool``) when its limits are the worker's defaults
or the compile limits, and made for it otherwise; either way it is used for that run only and
ended after it. A compile step is such a run: its artefact comes back as bytes in
``SandboxResult.files`` and enters the run step's own fresh container as a file of its box. While
the run goes the worker reads the container's cgroup (``cgroup``): the CPU time of all its
processes together is held to ``cpu_time_limit`` (TIMEOUT, reason ``cpu_time_limit``), and
``cpu_time_ms`` and ``max_rss_kb`` are the whole run's. ``protections`` reports what a probe
container shows to be in effect (``probe``), nothing more.

Containers run with livecode's seccomp profile (``seccomp_profile``) instead of Docker's
default: the subprocess sandbox's deny list from ``plugins/sandboxing/syscall_policy.py``
(user namespaces, io_uring, bpf, keyrings, mounts, kexec and modules, ptrace, clock setting, ``AF_NETLINK`` and
``AF_PACKET`` sockets…, which also covers what Docker's default denies a container without
capabilities), so both sandboxes refuse the same calls.

Containers carry labels naming their owner (host and worker pid); they end when their worker's
connection to the engine closes, however the worker died, and a worker removes, when it starts,
containers of owners that are gone.

An image needs ``sh``, ``cat``, ``head``, ``tar``, ``timeout`` and ``prlimit`` (Debian's
coreutils, tar and util-linux, all in a minbase root) besides the language's toolchain.

Options (environment): ``LIVECODE_DOCKER_IMAGE_<LANGUAGE>`` (default for python:
``livecode-python:bookworm``, built by ``scripts/build-docker-image`` from the recipes in
``scripts/docker-images``), ``LIVECODE_DOCKER_USER``
(the programs' uid:gid, default ``1999999999:1999999999``), ``LIVECODE_DOCKER_HOLDER_USER``
(each container's first process, default ``1999999998:1999999998``),
``LIVECODE_DOCKER_POOL_SIZE`` (ready containers per image, for the run limits and for the
compile limits each, default the worker's concurrency;
0 turns the pool off), ``DOCKER_HOST`` as for the docker CLI.
"""

import logging
import os
import socket
import subprocess
import sys
import time

from livecode.core.contracts import Program, Sandbox, SandboxError, SandboxResult
from livecode.core.hookspecs import hookimpl
from livecode.core.limits import Limits

from . import probe, seccomp_profile
from .container import OWNER_LABEL, ContainerGone, Containers, ContainerSpec
from .pool import WarmPool

log = logging.getLogger(__name__)

DEFAULT_IMAGES = {"python": "livecode-python:bookworm"}
# Above the uids of host services and of container runtimes' uid ranges, below the subprocess
# sandbox's slots (2000000000 and up): no other process on the host is either of these.
PROGRAM_USER, HOLDER_USER = "1999999999:1999999999", "1999999998:1999999998"
# The engine refuses to create a container held to less memory than this ("Minimum memory limit
# allowed is 6MB"). Such a run ends as ``memory_limit`` without starting: failing it as a sandbox
# error would blame the sandbox for a limit the request chose.
ENGINE_MIN_MEMORY_KIB = 6 * 1024


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class DockerSandbox(Sandbox):
    name = "docker"
    live_io = True

    def __init__(self, settings):
        super().__init__(settings)
        try:
            import docker
        except ImportError as exc:
            raise SandboxError("the docker sandbox needs the docker package "
                               "(pip install 'livecode[docker]')") from exc
        try:
            self.client = docker.from_env(timeout=60)
            self.engine_info = self.client.info()
        except Exception as exc:
            raise SandboxError(f"cannot reach the Docker engine: {exc}") from exc
        self.images = dict(DEFAULT_IMAGES)
        for key, value in settings.environ.items():
            if key.startswith("LIVECODE_DOCKER_IMAGE_") and value:
                self.images[key.removeprefix("LIVECODE_DOCKER_IMAGE_").lower()] = value
        self.owner = _owner()
        self.containers = Containers(
            self.client, settings.option("DOCKER_USER", PROGRAM_USER),
            settings.option("DOCKER_HOLDER_USER", HOLDER_USER), self.owner,
            self._seccomp_profile())
        for language, image in self.images.items():
            self._check_image(language, image)
        self.checked = set(self.images.values())
        self.sweep()
        self.defaults = settings.limits
        self.pooled_limits = (settings.limits, settings.compile_limits)
        # Removes this instance's containers once the worker is gone (see reaper.py); a session
        # of its own keeps it out of a signal sent to the worker's process group.
        self.reaper = subprocess.Popen(
            [sys.executable, "-m", "livecode.plugins.docker_sandbox.reaper",
             self.containers.label], stdin=subprocess.PIPE, start_new_session=True)
        try:
            self._protections = probe.protections(
                self.containers, next(iter(self.images.values())), self.defaults,
                self.engine_info)
            self._refuse_or_warn(settings)
        except BaseException:
            self._stop_reaper()
            raise
        size = int(settings.option("DOCKER_POOL_SIZE", settings.concurrency or os.cpu_count()))
        self.pool = WarmPool(self.containers.make, size) if size > 0 else None

    def _seccomp_profile(self) -> str:
        try:
            return seccomp_profile.profile(self.engine_info.get("Architecture", ""))
        except ValueError as exc:
            raise SandboxError(f"docker sandbox: {exc}") from exc

    def _refuse_or_warn(self, settings) -> None:
        missing = [name for name, on in self._protections.items() if not on]
        if missing:
            message = f"docker sandbox: running WITHOUT {', '.join(missing)}"
            if settings.option("SANDBOX_STRICT", "0") not in ("0", "", "false"):
                raise SandboxError(message + "; LIVECODE_SANDBOX_STRICT=1 forbids that")
            log.warning(message)

    def _stop_reaper(self) -> None:
        self.reaper.stdin.close()
        self.reaper.wait(timeout=60)

    def _check_image(self, language: str, image: str) -> None:
        try:
            self.client.images.get(image)
        except self.containers.errors.ImageNotFound:
            raise SandboxError(
                f"the Docker image {image!r} for {language} is missing; build it with "
                f"scripts/build-docker-image {image} or set LIVECODE_DOCKER_IMAGE_"
                f"{language.upper()}") from None

    def protections(self) -> dict[str, bool]:
        return dict(self._protections)

    def start_path(self) -> str:
        """``warm_pool`` when runs take containers made ahead, ``cold`` when each run waits for
        its container to be made (the pool is off, or the engine refuses to fill it)."""
        return "warm_pool" if self.pool is not None and self.pool.problem is None else "cold"

    def sweep(self) -> int:
        """Remove the containers of workers that are gone; returns how many."""
        removed = 0
        host = socket.gethostname()
        for container in self.containers.listed():
            owner_host, _, pid = container["Labels"].get(OWNER_LABEL, ":").rpartition(":")
            mine_and_dead = owner_host == host and pid.isdigit() and not _alive(int(pid))
            if mine_and_dead or time.time() - container["Created"] > 3600:
                self.containers.remove(container["Id"])
                removed += 1
        if removed:
            log.info("docker sandbox: removed %d containers left by earlier workers", removed)
        return removed

    def run(self, program: Program, stdin: bytes, limits: Limits, live=None) -> SandboxResult:
        language = program.language or "python"
        image = self.images.get(language) or program.image  # the operator's, else the runner's
        if not image:
            raise SandboxError(f"no Docker image is configured for {language}; set "
                               f"LIVECODE_DOCKER_IMAGE_{language.upper()}")
        if image not in self.checked:
            self._check_image(language, image)
            self.checked.add(image)
        if limits.memory_limit < ENGINE_MIN_MEMORY_KIB:
            return SandboxResult(
                exit_code=None, stdout=b"", wall_time_ms=0.0, limit_hit="memory_limit",
                stderr=f"livecode: a memory_limit under {ENGINE_MIN_MEMORY_KIB} KiB cannot be "
                       f"given on the docker sandbox; the program did not start\n".encode())
        spec = ContainerSpec.of(image, limits)
        pooled = self.pool is not None and any(
            spec == ContainerSpec.of(image, limits) for limits in self.pooled_limits)
        container = self.pool.take(spec) if pooled else None
        if container is not None:
            try:
                return _run_once(container, program, stdin, limits, live)
            except ContainerGone as exc:  # it died just as it was taken: make one
                log.warning("docker sandbox: a ready container was gone (%s)", exc)
        return _run_once(self.containers.make(spec, idle=False), program, stdin, limits, live)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()
        self._stop_reaper()
        self.client.close()


def _run_once(container, program: Program, stdin: bytes, limits: Limits,
              live=None) -> SandboxResult:
    try:
        return container.run(program, stdin, limits, live)
    finally:
        container.discard()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@hookimpl
def livecode_register_sandboxes(register):
    register(DockerSandbox)
