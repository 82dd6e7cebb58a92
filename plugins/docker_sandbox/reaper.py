"""Removes a sandbox's containers once its worker is gone, however it went.

    python -m livecode.plugins.docker_sandbox.reaper LABEL   (stdin: a pipe from the worker)

The sandbox starts this small process, in a session of its own, with a pipe on its stdin that
it never writes to; the pipe reads end-of-file when the worker closes the sandbox, exits or is
killed (the kernel closes the worker's end). Started containers end by themselves then (each
holder's stdin closes too); what this catches is the rest: a container the worker had created
but not yet started, which has no process to end and would otherwise wait for the next worker's
sweep. It looks twice, a second apart, for a creation the engine finished after the worker
died, then exits.
"""

import sys
import time
from concurrent.futures import ThreadPoolExecutor

SECOND_LOOK_SECONDS = 1.0


def main() -> None:
    label = sys.argv[1]
    import docker  # before waiting, so that the removal starts at once

    client = docker.from_env(timeout=60)
    sys.stdin.buffer.read()

    def remove(container: dict) -> None:
        try:
            client.api.remove_container(container["Id"], force=True)
        except docker.errors.APIError:
            pass  # gone already, or its removal is under way

    with ThreadPoolExecutor(max_workers=8) as removals:
        for look in range(2):
            if look:
                time.sleep(SECOND_LOOK_SECONDS)
            list(removals.map(remove, client.api.containers(all=True,
                                                            filters={"label": label})))


if __name__ == "__main__":
    main()
