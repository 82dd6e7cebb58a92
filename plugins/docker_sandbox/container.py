"""One container made ready for exactly one program, and that program's run in it.

A container's first process is a **holder** (``HOLDER``), running as a uid of its own: it waits
on the container's stdin, which the worker keeps attached for the container's whole life. When
that connection closes — the run is over, or the worker died, even by SIGKILL — the engine
closes the holder's stdin, the holder exits, and as PID 1 of the container it takes every
process of the run with it; the engine then removes the container (``auto_remove``). When a
run starts the worker also tells the holder a deadline (the wall limit and a grace), after which
it ends the container by itself, so a frozen worker leaves nothing running for long either.

The program's side is a **bootstrap** (``BOOTSTRAP``) started with ``exec`` as the run's uid
before any program is known, so a warm container costs a run no process start of the engine's.
It reads one header line (sizes, rlimits, argument and output counts), the arguments and the
output names one a line, the program's files as a tar archive, and then hands the rest of the
stream to the program as its stdin. User data never reaches a shell line: it arrives as data on
a pipe. When the program ends, the bootstrap kills whatever it left and exits with its status,
which the engine reports for the exec. The container stays up until the worker has read its
cgroup (the run's CPU time, memory peak and OOM kills), because the holder, not the program,
keeps it alive.

A program with ``outputs`` (a compile step) writes everything it says to stderr, so that its
stdout never reaches the exec's stdout stream: that stream then carries only what the bootstrap
writes once every process of the run's uid is dead, a tar of the outputs that are regular files
and not links (``tar`` stores links as links and follows none). The worker takes from it only
regular members it asked for within ``max_file_size``, as bytes, and writes nothing to disk:
even a tar the program managed to forge would only hand over bytes of the program's own making,
which any artefact is.

Every container has the same restrictions whether it is made ahead (the warm pool) or for the
run: no network, memory = memory+swap, a PID limit, one CPU, a read-only root with a
size-limited tmpfs on /tmp, a private IPC namespace, every capability dropped,
``no-new-privileges``, livecode's seccomp profile (``seccomp_profile``, the subprocess sandbox's
policy in place of Docker's default), no host path mounted, the logging driver off.
"""

import io
import os
import select
import socket
import tarfile
import threading
import time
import uuid
from dataclasses import dataclass

from livecode.core.contracts import Program, SandboxError, SandboxResult
from livecode.core.limits import Limits
from livecode.plugins.sandboxing.cpu import whole_cpu_seconds

from .cgroup import ContainerCgroup

LABEL = "livecode.sandbox"
OWNER_LABEL = "livecode.owner"
# Containers waiting in a pool are named IDLE_PREFIX…, renamed RUN_PREFIX… once given a
# program; containers made for one run are named RUN_PREFIX… from the start. A check for what
# runs left behind looks at RUN_PREFIX containers (labels cannot change after creation).
IDLE_PREFIX, RUN_PREFIX = "livecode-idle-", "livecode-run-"
BOX = "/tmp/box"
ENVIRONMENT = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": BOX}
GRACE_SECONDS = 5  # after the wall limit, the holder ends the container by itself
BOOTSTRAP_FAILED = 125
HOLDER_PIDS, BOOTSTRAP_PIDS = 2, 1  # timeout + cat; the shell waiting for the program
POLL_SECONDS = 0.05  # how often a run's cgroup CPU time is checked against its limit
HEADER = 8  # bytes of each frame header in the multiplexed attach stream
STREAM_STDERR = 2

HOLDER = 'read -r deadline || exit 0; exec timeout -s KILL "$deadline" cat >/dev/null'
BOOTSTRAP = (
    'read -r size cpu fsize nofile merge argc outc || exit 125; set --; i=0; '
    'while [ "$i" -lt "$argc" ]; do IFS= read -r arg || exit 125; set -- "$@" "$arg"; '
    'i=$((i+1)); done; '
    'outputs=; i=0; while [ "$i" -lt "$outc" ]; do IFS= read -r name || exit 125; '
    'outputs="$outputs$name\n"; i=$((i+1)); done; '
    'mkdir -p /tmp/box && cd /tmp/box && head -c "$size" | tar -x -f - || exit 125; '
    # The shell's own messages ("Killed") go nowhere; the program gets the real stderr, and
    # the real stdout unless the bootstrap needs it for the outputs.
    'exec 3>&2 2>/dev/null; if [ "$outc" -gt 0 ]; then exec 4>&3; else exec 4>&1; fi; '
    # redirect_stderr_to_stdout: the program's stderr is where its stdout goes.
    'if [ "$merge" = 1 ]; then exec 3>&4; fi; '
    '(exec prlimit --core=0 --cpu="$cpu:$((cpu+1))" --fsize="$fsize" --nofile="$nofile" '
    '-- "$@" >&4 2>&3 3>&- 4>&-); status=$?; kill -9 -1; '
    'if [ "$outc" -gt 0 ]; then set -f; IFS="\n"; set --; for name in $outputs; do '
    '[ -f "$name" ] && [ ! -L "$name" ] && set -- "$@" "$name"; done; '
    '[ "$#" -eq 0 ] || tar -c -f - --no-recursion --hard-dereference -- "$@"; fi; '
    'exit "$status"'
)
OUTPUTS_SLACK = 64 * 1024  # room in the outputs' tar for headers and padding


class ContainerGone(SandboxError):
    """The container ended before it was given its program (nothing of the run happened)."""


@dataclass(frozen=True)
class ContainerSpec:
    """What a container is created with and cannot change afterwards; a warm container serves
    only a run whose limits give the same spec (the other limits are set per run)."""

    image: str
    memory_limit: int  # KiB, also the memory+swap limit
    max_processes: int  # the program's; the holder and bootstrap get theirs on top
    disk_limit: int  # bytes of the /tmp tmpfs

    @classmethod
    def of(cls, image: str, limits: Limits) -> "ContainerSpec":
        return cls(image, limits.memory_limit, limits.max_processes, limits.disk_limit)


class Containers:
    """Makes ready containers on one engine for one sandbox instance: every container is
    labelled ``LABEL=<the instance's id>`` and ``OWNER_LABEL=<host>:<worker pid>``."""

    def __init__(self, client, program_user: str, holder_user: str, owner: str, seccomp: str):
        import docker

        self.api, self.errors, self.types = client.api, docker.errors, docker.types
        self.program_user, self.holder_user, self.owner = program_user, holder_user, owner
        self.security_options = ["no-new-privileges", f"seccomp={seccomp}"]
        self.instance = uuid.uuid4().hex[:12]

    def listed(self, label: str = LABEL) -> list[dict]:
        """Containers labelled ``label`` (all of livecode's by default; ``self.label`` for this
        instance's) as the engine lists them (``Id``, ``Names``, ``Labels``, ``State``,
        ``Created``), without inspecting each, so that one removed meanwhile is no error."""
        return self.api.containers(all=True, filters={"label": label})

    @property
    def label(self) -> str:
        return f"{LABEL}={self.instance}"

    def make(self, spec: ContainerSpec, idle: bool) -> "ReadyContainer":
        name = (IDLE_PREFIX if idle else RUN_PREFIX) + uuid.uuid4().hex[:12]
        try:
            cid = self.api.create_container(
                spec.image, command=["/bin/sh", "-c", HOLDER], user=self.holder_user,
                working_dir="/tmp", name=name,
                labels={LABEL: self.instance, OWNER_LABEL: self.owner},
                # detach=False is what makes the engine close the holder's stdin (StdinOnce)
                # when the worker's attach connection ends.
                stdin_open=True, tty=False, detach=False,
                host_config=self.api.create_host_config(
                    network_mode="none",
                    ipc_mode="private",
                    mem_limit=f"{spec.memory_limit}k",
                    memswap_limit=f"{spec.memory_limit}k",
                    pids_limit=spec.max_processes + HOLDER_PIDS + BOOTSTRAP_PIDS,
                    nano_cpus=1_000_000_000,
                    read_only=True,
                    tmpfs={"/tmp": f"rw,exec,nosuid,nodev,size={spec.disk_limit},mode=1777"},
                    shm_size="16m",
                    cap_drop=["ALL"],
                    security_opt=self.security_options,
                    log_config=self.types.LogConfig(type="none"),
                    auto_remove=True,
                ))["Id"]
        except self.errors.DockerException as exc:
            raise SandboxError(f"the Docker engine could not create a container: {exc}") from exc
        holder = None
        try:
            holder = self.api.attach_socket(cid, params={"stdin": 1, "stdout": 1, "stderr": 1,
                                                         "stream": 1})
            self.api.start(cid)
            pid = self.api.inspect_container(cid)["State"]["Pid"]
            exec_id = self.api.exec_create(cid, ["/bin/sh", "-c", BOOTSTRAP, "sh"], stdin=True,
                                           user=self.program_user, workdir="/tmp",
                                           environment=ENVIRONMENT)["Id"]
            bootstrap = self.api.exec_start(exec_id, socket=True)
        except self.errors.DockerException as exc:
            if holder is not None:
                holder.close()
            self.remove(cid)
            raise SandboxError(f"the Docker engine could not start a container: {exc}") from exc
        return ReadyContainer(self, cid, name, spec, holder, exec_id, bootstrap,
                              ContainerCgroup.locate(pid) if pid else None)

    def remove(self, cid: str) -> None:
        try:
            self.api.remove_container(cid, force=True)
        except self.errors.APIError:
            pass  # gone already, or its removal is under way


class ReadyContainer:
    """A started container whose bootstrap waits for one program. Use it for one run, then
    ``discard`` it."""

    def __init__(self, containers: Containers, cid: str, name: str, spec: ContainerSpec,
                 holder, exec_id: str, bootstrap, cgroup: ContainerCgroup | None):
        self.containers, self.api = containers, containers.api
        self.cid, self.name, self.spec, self.exec_id, self.cgroup = (
            cid, name, spec, exec_id, cgroup)
        self.holder, self.bootstrap = holder._sock, bootstrap._sock
        self._responses = (holder, bootstrap)
        self.made_at = time.monotonic()

    def alive(self) -> bool:
        """Still waiting: neither the holder nor the bootstrap has ended or said anything."""
        try:
            readable, _, _ = select.select([self.holder, self.bootstrap], [], [], 0)
        except (OSError, ValueError):
            return False
        return not readable

    def run(self, program: Program, stdin: bytes, limits: Limits, live=None) -> SandboxResult:
        # An interpreter runs from the image's PATH; a file of the box (./main) from the box.
        command = program.argv[0]
        argv = [os.path.basename(command) if os.path.isabs(command) else command,
                *program.argv[1:]]
        outputs = list(program.outputs)
        if any("\n" in arg or "\0" in arg for arg in argv + outputs):
            raise SandboxError("a program argument or output name holds a newline or NUL")
        archive = _archive(program.files, program.executable)
        header = (f"{len(archive)} {whole_cpu_seconds(limits)} {limits.max_file_size} "
                  f"{limits.max_open_files} {int(program.stderr_to_stdout)} {len(argv)} {len(outputs)}\n"
                  + "".join(f"{line}\n" for line in argv + outputs))
        cpu_base = self._reading(ContainerCgroup.cpu_ns) or 0
        oom_base = self._reading(ContainerCgroup.oom_kills) or 0
        stream = _Demux(self.bootstrap, limits.output_limit, stdout_limit=(
            len(outputs) * limits.max_file_size + OUTPUTS_SLACK if outputs else None),
            live=live)
        try:
            self.holder.sendall(f"{int(limits.wall_time_limit) + GRACE_SECONDS}\n".encode())
            started = time.monotonic()
            self.bootstrap.settimeout(30)  # the bootstrap reads all of it at once
            self.bootstrap.sendall(header.encode() + archive)
        except OSError as exc:
            raise ContainerGone(f"the container ended before its program started: {exc}") from exc
        if self.name.startswith(IDLE_PREFIX):  # while the program runs, off its clock
            threading.Thread(target=self._rename, name="docker-rename", daemon=True).start()
        cpu_limit_ns = int(limits.cpu_time_limit * 1e9)
        cpu_used = [0]

        def over_cpu() -> bool:
            used = self._reading(ContainerCgroup.cpu_ns)
            if used is not None:
                cpu_used[0] = used - cpu_base
            return cpu_used[0] >= cpu_limit_ns

        ended_by = stream.pump(stdin, started + limits.wall_time_limit, over_cpu)
        ended = time.monotonic()
        if ended_by == "eof":
            exit_code = self._exit_code()
            over_cpu()
            limit_hit = "cpu_time_limit" if cpu_used[0] >= cpu_limit_ns else None
        else:
            exit_code = None
            limit_hit = ended_by
        memory_peak = self._reading(ContainerCgroup.memory_peak)
        oom_kills = self._reading(ContainerCgroup.oom_kills)
        if ended_by != "eof":
            # Hang up first: the engine does not finish a kill while it is blocked writing
            # output to a stream that nobody reads any more.
            _hang_up(self.bootstrap)
            self._kill()
        if limit_hit is None and oom_kills is not None and oom_kills > oom_base:
            limit_hit = "memory_limit"
        if limit_hit is None and exit_code == 128 + 24:  # SIGXCPU: one process's own rlimit
            limit_hit = "cpu_time_limit"
        if exit_code == BOOTSTRAP_FAILED and limit_hit is None:
            raise SandboxError("the container could not unpack the program: "
                               + bytes(stream.stderr[-500:]).decode("utf-8", "replace"))
        if exit_code is None:
            exit_code = 128 + 9  # killed with its container
        signal = exit_code - 128 if exit_code > 128 else None
        files = {}
        if outputs and ended_by == "eof":
            files = _unpacked(bytes(stream.stdout), outputs, limits.max_file_size)
        return SandboxResult(
            exit_code=None if signal else exit_code,
            stdout=b"" if outputs else bytes(stream.stdout),
            stderr=bytes(stream.stderr),
            wall_time_ms=(ended - started) * 1000,
            cpu_time_ms=cpu_used[0] / 1e6 if self.cgroup else None,
            max_rss_kb=memory_peak // 1024 if memory_peak is not None else None,
            signal=signal,
            truncated=stream.truncated,
            limit_hit=limit_hit,
            files=files,
        )

    def _reading(self, read):
        return read(self.cgroup) if self.cgroup is not None else None

    def _rename(self) -> None:
        try:
            self.api.rename(self.cid, RUN_PREFIX + self.name.removeprefix(IDLE_PREFIX))
        except self.containers.errors.APIError:
            pass  # it ended meanwhile: the run will see that

    def _exit_code(self) -> int | None:
        """The bootstrap's exit status (the program's), once the engine has recorded it."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                info = self.api.exec_inspect(self.exec_id)
            except self.containers.errors.APIError:
                return None  # the container is gone: its processes were killed
            if not info["Running"]:
                return info["ExitCode"]
            time.sleep(0.002)
        return None

    def _kill(self) -> None:
        try:
            self.api.kill(self.cid)
        except self.containers.errors.APIError:
            pass  # it ended on its own meanwhile

    def discard(self) -> None:
        """End the container: hanging up makes its holder exit, which ends every process in
        it; the engine then removes it."""
        for sock in (self.bootstrap, self.holder):
            _hang_up(sock)
        for response in self._responses:
            response.close()


def _hang_up(sock) -> None:
    """End a connection to the engine, although its HTTP response object still holds it."""
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def _archive(files, executable=frozenset()) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(content), 0o755 if name in executable else 0o644
            tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def _unpacked(archive: bytes, names, cap: int) -> dict[str, bytes]:
    """The regular files named ``names`` within ``cap`` bytes from the bootstrap's tar of a
    run's outputs; anything else in it (a link, a device, a file too big) is left out."""
    wanted, found = set(names), {}
    if not archive:
        return found
    try:
        with tarfile.open(fileobj=io.BytesIO(archive), mode="r:") as tar:
            for member in tar:
                if member.name in wanted and member.isreg() and member.size <= cap:
                    found[member.name] = tar.extractfile(member).read()
    except tarfile.TarError:
        return {}
    return found


class _Demux:
    """Docker's multiplexed attach stream, split into capped stdout and stderr as it arrives."""

    def __init__(self, sock, output_limit: int, stdout_limit: int | None = None, live=None):
        self.sock, self.output_limit, self.live = sock, output_limit, live
        self.stdout_limit = output_limit if stdout_limit is None else stdout_limit
        self.stdout, self.stderr = bytearray(), bytearray()
        self.truncated = False
        self._pending = bytearray()

    def pump(self, stdin: bytes, deadline: float, over_cpu) -> str:
        """Write ``stdin`` and read output until the stream ends ("eof"), the deadline passes
        ("wall_time_limit"), output passes its cap ("output_limit") or ``over_cpu()`` says the
        run's CPU time is spent ("cpu_time_limit"; asked every ``POLL_SECONDS``). A program
        that never reads its input cannot block the worker: input is written only as the
        socket takes it. An interactive run (``live.stdin_fd``) goes on taking input from that
        pipe until its end of file."""
        self.sock.setblocking(False)
        pending = memoryview(stdin)
        source = self.live.stdin_fd if self.live is not None else None
        writing = bool(pending) or source is not None or self._close_stdin()
        next_poll = time.monotonic() + POLL_SECONDS
        while True:
            now = time.monotonic()
            if now >= deadline:
                return "wall_time_limit"
            if now >= next_poll:
                if over_cpu():
                    return "cpu_time_limit"
                next_poll = now + POLL_SECONDS
            readable, writable, _ = select.select(
                [self.sock, *([source] if source is not None else [])],
                [self.sock] if writing and pending else [], [],
                max(0.0, min(deadline, next_poll) - now))
            if source is not None and source in readable:
                data = os.read(source, 65536)
                pending = memoryview(bytes(pending) + data)
                if not data:
                    source = None
                    if not pending:
                        writing = self._close_stdin()
            if writable:
                try:
                    pending = pending[self.sock.send(pending[:65536]):]
                except BlockingIOError:
                    pass
                except OSError:
                    pending = pending[:0]  # the program ended without reading it all
                if not pending and source is None:
                    writing = self._close_stdin()
            if self.sock not in readable:
                continue
            try:
                chunk = self.sock.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                return "eof"
            if not chunk:
                return "eof"
            self._pending += chunk
            self._split()
            if self.truncated:
                return "output_limit"

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
            if kind == STREAM_STDERR:
                target, room = self.stderr, self.output_limit - len(self.stderr)
            else:
                target, room = self.stdout, self.stdout_limit - len(self.stdout)
            kept = payload[:max(room, 0)]
            target += kept
            if self.live is not None and kept:
                self.live.output("stderr" if kind == STREAM_STDERR else "stdout", bytes(kept))
            if len(payload) > room:
                self.truncated = True
