"""Feeding stdin to a process and reading its stdout and stderr, each capped, under a deadline.

One loop over a selector watches the pipes and a pidfd of the process. The program's exit (not
the pipes' end of file) ends the run: whatever it left behind holding the pipes is killed with its
process group, so a background child cannot keep the run, or the worker thread, waiting. A jail
also says on its status pipe when its program has ended (``exit <wait status>``), before the
process the pidfd is of has exited: that ends the run the same way, sooner.
"""

import os
import re
import selectors
import time
from dataclasses import dataclass, field

READ_CHUNK = 64 * 1024
DRAIN_AFTER_EXIT = 0.5  # seconds to collect output still in the pipes once the program exited
EXIT_LINE = re.compile(rb"^exit (\d+)\n\Z", re.MULTILINE)  # the status pipe's last line


@dataclass
class Captured:
    stdout: bytearray = field(default_factory=bytearray)
    stderr: bytearray = field(default_factory=bytearray)
    truncated: bool = False
    timed_out: bool = False
    exited_at: float | None = None
    report: bytearray = field(default_factory=bytearray)  # what came on the status pipe
    exit_status: int | None = None  # the wait status it gave, if it gave one


def pump(proc, stdin: bytes, output_limit: int, deadline: float, kill, watch=None,
         live=None, status=None) -> Captured:
    """Run the I/O of ``proc`` (its ``stdin``, ``stdout``, ``stderr`` and ``pidfd``, which stays
    open) until it exits, the deadline passes (``timed_out``) or a stream
    exceeds ``output_limit`` (``truncated``). ``kill()`` kills the whole process group.

    ``status``, if given, is a descriptor read into ``report``; an ``exit N`` line at its end
    gives ``exit_status`` and ends the run as the process's exit would.

    ``watch()``, if given, is called at once and then when the seconds it returned have passed;
    when it returns ``None`` the run is killed (the watch knows why).

    ``live`` (a ``LiveIO``) gets each piece of output as it is kept, and its ``stdin_fd`` feeds
    the program's stdin after ``stdin``, which stays open until that pipe's end of file."""
    captured = Captured()
    buffers = {proc.stdout.fileno(): captured.stdout, proc.stderr.fileno(): captured.stderr}
    names = {proc.stdout.fileno(): "stdout", proc.stderr.fileno(): "stderr"}
    pidfd = proc.pidfd
    source = live.stdin_fd if live is not None else None
    sel = selectors.DefaultSelector()
    try:
        for fd in buffers:
            os.set_blocking(fd, False)
            sel.register(fd, selectors.EVENT_READ)
        sel.register(pidfd, selectors.EVENT_READ)
        if status is not None:
            os.set_blocking(status, False)
            sel.register(status, selectors.EVENT_READ)
        pending = memoryview(stdin)
        writing = bool(pending)
        if source is not None:
            sel.register(source, selectors.EVENT_READ)
        if pending or source is not None:
            os.set_blocking(proc.stdin.fileno(), False)
        if pending:
            sel.register(proc.stdin.fileno(), selectors.EVENT_WRITE)
        elif source is None:
            proc.stdin.close()
        killed = False
        next_look = time.monotonic()
        while sel.get_map():
            now = time.monotonic()
            if now >= deadline:
                if captured.exited_at is None:
                    captured.timed_out = True
                break
            if watch and now >= next_look:
                wait = watch()
                if wait is None:
                    if not killed:
                        kill()
                        killed = True
                    watch = None
                else:
                    next_look = now + wait
            timeout = deadline - now
            if watch:
                timeout = min(timeout, max(0.0, next_look - now))
            for key, _ in sel.select(timeout):
                fd = key.fd
                if fd == status:
                    if fd not in sel.get_map():  # its run ended earlier in this batch
                        continue
                    try:
                        chunk = os.read(fd, READ_CHUNK)
                    except BlockingIOError:
                        continue
                    captured.report += chunk
                    told = EXIT_LINE.search(captured.report)
                    if chunk and not told:
                        continue
                    sel.unregister(fd)
                    if told is None:
                        continue
                    captured.exit_status = int(told[1])
                    fd = pidfd  # the program has ended, as if the process had
                if fd == pidfd:
                    if captured.exited_at is not None:
                        continue
                    captured.exited_at = time.monotonic()
                    for ended in (pidfd, status):
                        if ended is not None and ended in sel.get_map():
                            sel.unregister(ended)
                    if source is not None:  # nobody reads what comes now
                        sel.unregister(source)
                        source = None
                    kill()
                    killed = True
                    deadline = min(deadline, captured.exited_at + DRAIN_AFTER_EXIT)
                elif fd in buffers:
                    try:
                        chunk = os.read(fd, READ_CHUNK)
                    except BlockingIOError:
                        continue
                    if not chunk:
                        sel.unregister(fd)
                        continue
                    buffer = buffers[fd]
                    room = output_limit - len(buffer)
                    kept = chunk[:max(room, 0)]
                    buffer += kept
                    if live is not None and kept:
                        live.output(names[fd], kept)
                    if len(chunk) > room and not killed:
                        captured.truncated = True
                        kill()
                        killed = True
                elif fd == source:
                    data = os.read(source, READ_CHUNK)
                    if data and not proc.stdin.closed:
                        pending = memoryview(bytes(pending) + data)
                        if not writing:
                            sel.register(proc.stdin.fileno(), selectors.EVENT_WRITE)
                            writing = True
                    elif not data:
                        sel.unregister(source)
                        source = None
                        if not writing and not proc.stdin.closed:
                            proc.stdin.close()
                else:
                    try:
                        written = os.write(fd, pending[:READ_CHUNK])
                        pending = pending[written:]
                    except BrokenPipeError:
                        pending = pending[:0]
                        proc.stdin.close()  # a reader that left: what follows is dropped
                    except BlockingIOError:
                        continue
                    if not pending:
                        sel.unregister(fd)
                        writing = False
                        if source is None and not proc.stdin.closed:
                            proc.stdin.close()
    finally:
        sel.close()
        if not proc.stdin.closed:
            proc.stdin.close()
    return captured
