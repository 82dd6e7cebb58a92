"""What is particular to the docker sandbox, against the real engine: its start-up checks and
the sweep of containers that crashed workers left behind."""

import subprocess
import sys

import pytest

from conftest import DOCKER_IMAGE, IN_CI, docker_problem
from livecode.core.contracts import SandboxError
from livecode.core.plugins import Plugins
from livecode.plugins.docker_sandbox import LABEL, OWNER_LABEL

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def engine():
    if problem := docker_problem():
        if IN_CI:
            pytest.fail(f"CI must run the Docker tests, but {problem}")
        pytest.skip(problem)
    import docker

    client = docker.from_env()
    yield client
    client.close()


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_worker_sweeps_containers_whose_worker_is_gone(engine, settings):
    import socket

    orphan = engine.containers.create(
        DOCKER_IMAGE, ["sleep", "300"], labels={LABEL: "1", OWNER_LABEL: f"{socket.gethostname()}:"
                                                                  f"{dead_pid()}"})
    orphan.start()
    sandbox = Plugins(settings).create_sandbox("docker")
    try:
        ids = [c.id for c in engine.containers.list(all=True, filters={"label": LABEL})]
        assert orphan.id not in ids
    finally:
        sandbox.close()


def test_containers_of_a_live_worker_are_left_alone(engine, settings):
    import os
    import socket

    mine = engine.containers.create(
        DOCKER_IMAGE, ["sleep", "300"], labels={LABEL: "1", OWNER_LABEL: f"{socket.gethostname()}:"
                                                                  f"{os.getppid()}"})
    try:
        Plugins(settings).create_sandbox("docker").close()
        assert mine.id in [c.id for c in engine.containers.list(all=True,
                                                               filters={"label": LABEL})]
    finally:
        mine.remove(force=True)


def test_a_missing_image_is_a_clear_error_naming_the_build_script(engine, settings_with):
    settings = settings_with(LIVECODE_DOCKER_IMAGE_PYTHON="livecode-python:no-such-tag")
    with pytest.raises(SandboxError) as info:
        Plugins(settings).create_sandbox("docker")
    assert "'livecode-python:no-such-tag' for python is missing" in str(info.value)
    assert "scripts/build-docker-image" in str(info.value)


def test_serve_refuses_to_start_without_the_image(engine, start_livecode):
    process = start_livecode("serve", "--port", "0", "--sandbox", "docker",
                             LIVECODE_DOCKER_IMAGE_PYTHON="livecode-python:no-such-tag")
    assert process.proc.wait(60) == 125
    assert "scripts/build-docker-image" in process.log_path.read_text()


def test_input_the_program_never_reads_cannot_hold_the_worker(engine, settings):
    import time
    from dataclasses import replace

    plugins = Plugins(settings)
    sandbox = plugins.create_sandbox("docker")
    try:
        started = time.monotonic()
        result = sandbox.run(plugins.languages["python"].build("import time; time.sleep(60)"),
                             b"y" * 2_000_000, replace(settings.limits, wall_time_limit=1))
        assert result.limit_hit == "wall_time_limit"
        assert time.monotonic() - started < 1 + 3
    finally:
        sandbox.close()
