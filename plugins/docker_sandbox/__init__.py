"""The ``docker`` sandbox: one throw-away container per run, through the Docker engine's API.

Each container runs with no network, memory = memory+swap limit, a PID limit, one CPU, a
read-only root filesystem with a size-limited tmpfs on /tmp (the working directory is /tmp/box,
as in the subprocess sandbox), an unprivileged user, every capability dropped and
``no-new-privileges``. No host path is mounted: the program's files travel as command arguments
to a fixed bootstrap (``sh``, ``base64``, ``tar`` and ``timeout`` must be in the image), stdin
through the attach stream. Output is read from the attach stream, split and capped as it
arrives; the logging driver is ``none``, so nothing piles up on the host.

Containers carry labels naming their owner (host and worker pid); a worker removes, when it
starts, the containers of owners that are gone, so a crashed worker leaves nothing for long.

Options (environment): ``LIVECODE_DOCKER_IMAGE_<LANGUAGE>`` (default for python:
``livecode-python:bookworm``, built by ``scripts/build-docker-image``), ``LIVECODE_DOCKER_USER``
(default ``65534:65534``), ``DOCKER_HOST`` as for the docker CLI.
"""

import base64
import io
import logging
import os
import select
import socket
import tarfile
import time
from datetime import datetime, timezone

from livecode.core.contracts import Program, Sandbox, SandboxError, SandboxResult
from livecode.core.hookspecs import hookimpl
from livecode.core.limits import Limits, whole_cpu_seconds

log = logging.getLogger(__name__)

DEFAULT_IMAGES = {"python": "livecode-python:bookworm"}
LABEL = "livecode.sandbox"
OWNER_LABEL = "livecode.owner"
BOX = "/tmp/box"
CHUNK = 96 * 1024  # the program travels in argv strings below the kernel's 128 KiB per string
BOOTSTRAP_FAILED = 125
# Unpack the files, then run the program under a kill-timer of its own, so that a container
# whose worker died still ends. User data is only ever in "$@", never in this line.
BOOTSTRAP = (
    'n=$1; deadline=$2; shift 2; mkdir -p /tmp/box && cd /tmp/box || exit 125; '
    'i=0; for chunk in "$@"; do [ "$i" -ge "$n" ] && break; printf %s "$chunk"; i=$((i+1)); done '
    '| base64 -d | tar -x -f - || exit 125; shift "$n"; exec timeout -s KILL "$deadline" "$@"'
)
HEADER = 8  # bytes of each frame header in the multiplexed attach stream
STREAM_STDOUT, STREAM_STDERR = 1, 2


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _archive(files) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(content), 0o644
            tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


class DockerSandbox(Sandbox):
    name = "docker"

    def __init__(self, settings):
        super().__init__(settings)
        try:
            import docker
        except ImportError as exc:
            raise SandboxError("the docker sandbox needs the docker package "
                               "(pip install 'livecode[docker]')") from exc
        self.errors = docker.errors
        self.types = docker.types
        try:
            self.client = docker.from_env(timeout=60)
            self.client.ping()
        except Exception as exc:
            raise SandboxError(f"cannot reach the Docker engine: {exc}") from exc
        self.user = settings.option("DOCKER_USER", "65534:65534")
        self.images = dict(DEFAULT_IMAGES)
        for key, value in settings.environ.items():
            if key.startswith("LIVECODE_DOCKER_IMAGE_") and value:
                self.images[key.removeprefix("LIVECODE_DOCKER_IMAGE_").lower()] = value
        for language, image in self.images.items():
            self._check_image(language, image)
        self.owner = _owner()
        self.sweep()

    def _check_image(self, language: str, image: str) -> None:
        try:
            self.client.images.get(image)
        except self.errors.ImageNotFound:
            raise SandboxError(
                f"the Docker image {image!r} for {language} is missing; build it with "
                f"scripts/build-docker-image {image} or set LIVECODE_DOCKER_IMAGE_"
                f"{language.upper()}") from None

    def protections(self) -> dict[str, bool]:
        return {name: True for name in (
            "rlimits", "unprivileged_user", "no_new_privs", "process_limit", "memory_cgroup",
            "network_isolation", "pid_namespace", "mount_namespace", "ipc_namespace",
            "uts_namespace", "private_tmp", "kills_every_descendant", "clean_environment",
            "read_only_root", "no_capabilities")}

    def sweep(self) -> int:
        """Remove the containers of workers that are gone; returns how many."""
        removed = 0
        host = socket.gethostname()
        for container in self.client.containers.list(all=True, filters={"label": LABEL}):
            owner_host, _, pid = container.labels.get(OWNER_LABEL, ":").rpartition(":")
            mine_and_dead = owner_host == host and pid.isdigit() and not _alive(int(pid))
            if mine_and_dead or _age_seconds(container) > 3600:
                container.remove(force=True)
                removed += 1
        if removed:
            log.info("docker sandbox: removed %d containers left by earlier workers", removed)
        return removed

    def run(self, program: Program, stdin: bytes, limits: Limits) -> SandboxResult:
        language = program.language or "python"
        image = self.images.get(language)
        if image is None:
            raise SandboxError(f"no Docker image is configured for {language}; set "
                               f"LIVECODE_DOCKER_IMAGE_{language.upper()}")
        encoded = base64.b64encode(_archive(program.files)).decode()
        chunks = [encoded[i:i + CHUNK] for i in range(0, len(encoded), CHUNK)] or [""]
        argv = [os.path.basename(program.argv[0]), *program.argv[1:]]
        kill_after = int(limits.wall_time_limit) + 5
        cpu = whole_cpu_seconds(limits)
        Ulimit = self.types.Ulimit
        container = self.client.containers.create(
            image,
            command=["/bin/sh", "-c", BOOTSTRAP, "sh", str(len(chunks)), str(kill_after),
                     *chunks, *argv],
            user=self.user,
            working_dir="/tmp",
            environment={"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8",
                         "HOME": BOX},
            network_mode="none",
            mem_limit=f"{limits.memory_limit}k",
            memswap_limit=f"{limits.memory_limit}k",
            pids_limit=limits.max_processes,
            nano_cpus=1_000_000_000,
            read_only=True,
            tmpfs={"/tmp": f"rw,exec,nosuid,nodev,size={limits.disk_limit},mode=1777"},
            shm_size="16m",
            cap_drop=["ALL"],
            security_opt=["no-new-privileges"],
            ulimits=[Ulimit(name="cpu", soft=cpu, hard=cpu + 1),
                     Ulimit(name="fsize", soft=limits.max_file_size, hard=limits.max_file_size),
                     Ulimit(name="nofile", soft=limits.max_open_files,
                            hard=limits.max_open_files),
                     Ulimit(name="core", soft=0, hard=0)],
            labels={LABEL: "1", OWNER_LABEL: self.owner},
            log_config=self.types.LogConfig(type="none"),
            # detach=False is what makes the engine close stdin when the attach stream ends.
            stdin_open=True, tty=False, detach=False,
        )
        try:
            return self._attach_and_run(container, stdin, limits)
        finally:
            try:
                container.remove(force=True)
            except self.errors.NotFound:
                pass

    def _attach_and_run(self, container, stdin: bytes, limits: Limits) -> SandboxResult:
        attached = container.attach_socket(params={"stdin": 1, "stdout": 1, "stderr": 1,
                                                   "stream": 1})
        try:
            started = time.monotonic()
            container.start()
            stream = _Demux(attached._sock, limits.output_limit)
            timed_out = not stream.pump(stdin, started + limits.wall_time_limit)
            ended = time.monotonic()
        finally:
            # Hang up first: the engine does not finish a kill while it is blocked writing
            # output to an attach stream that nobody reads. shutdown() ends the connection even
            # though the HTTP response object still holds the socket.
            try:
                attached._sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            attached.close()
        if timed_out or stream.truncated:
            try:
                container.kill()
            except self.errors.APIError:
                pass  # it ended on its own meanwhile
        exit_code = container.wait(timeout=30)["StatusCode"]
        state = self.client.api.inspect_container(container.id)["State"]
        limit_hit = None
        if timed_out:
            limit_hit = "wall_time_limit"
        elif stream.truncated:
            limit_hit = "output_limit"
        elif state.get("OOMKilled"):
            limit_hit = "memory_limit"
        elif exit_code == 128 + 24:  # SIGXCPU
            limit_hit = "cpu_time_limit"
        if exit_code == BOOTSTRAP_FAILED and not limit_hit:
            raise SandboxError("the container could not unpack the program: "
                               + bytes(stream.stderr[-500:]).decode("utf-8", "replace"))
        signal = exit_code - 128 if exit_code > 128 else None
        return SandboxResult(
            exit_code=None if signal else exit_code,
            stdout=bytes(stream.stdout),
            stderr=bytes(stream.stderr),
            wall_time_ms=(ended - started) * 1000,
            signal=signal,
            truncated=stream.truncated,
            limit_hit=limit_hit,
        )

    def close(self) -> None:
        self.client.close()


class _Demux:
    """Docker's multiplexed attach stream, split into capped stdout and stderr as it arrives."""

    def __init__(self, sock, output_limit: int):
        self.sock, self.output_limit = sock, output_limit
        self.stdout, self.stderr = bytearray(), bytearray()
        self.truncated = False
        self._pending = bytearray()

    def pump(self, stdin: bytes, deadline: float) -> bool:
        """Write ``stdin`` and read output until the stream ends (True) or the deadline passes
        (False); stop early when output passes the cap. A program that never reads its input
        cannot block the worker: input is written only as the socket takes it."""
        self.sock.setblocking(False)
        pending = memoryview(stdin)
        writing = True
        if not pending:
            writing = self._close_stdin()
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            readable, writable, _ = select.select([self.sock], [self.sock] if writing else [],
                                                  [], remaining)
            if writable:
                try:
                    pending = pending[self.sock.send(pending[:65536]):]
                except BlockingIOError:
                    pass
                except OSError:
                    pending = pending[:0]  # the program ended without reading it all
                if not pending:
                    writing = self._close_stdin()
            if not readable:
                continue
            try:
                chunk = self.sock.recv(65536)
            except BlockingIOError:
                continue
            if not chunk:
                return True
            self._pending += chunk
            self._split()
            if self.truncated:
                return True

    def _close_stdin(self) -> bool:
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        return False

    def _split(self) -> None:
        while len(self._pending) >= HEADER:
            size = int.from_bytes(self._pending[4:8], "big")
            if len(self._pending) < HEADER + size:
                return
            kind = self._pending[0]
            payload = self._pending[HEADER:HEADER + size]
            del self._pending[:HEADER + size]
            target = self.stderr if kind == STREAM_STDERR else self.stdout
            room = self.output_limit - len(target)
            target += payload[:max(room, 0)]
            if len(payload) > room:
                self.truncated = True


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _age_seconds(container) -> float:
    created = container.attrs.get("Created", "")
    try:
        when = datetime.fromisoformat(created[:26].rstrip("Z") + "+00:00")
    except ValueError:
        return 0.0
    return (datetime.now(timezone.utc) - when).total_seconds()


@hookimpl
def livecode_register_sandboxes(register):
    register(DockerSandbox)
