"""The Lua tests run on both of livecode's sandboxes: livecode.testing's ``livecode_server``
starts a serve on the one ``livecode_sandbox`` names. On Docker they need an engine and the
image of this package's recipe (``docker-images/lua``); they skip saying why when either is
missing, and fail instead in CI, which builds the image."""

import os

import pytest

from livecode_lua import IMAGE

IN_CI = os.environ.get("CI", "") not in ("", "0", "false")


def docker_problem() -> str | None:
    try:
        import docker

        docker.from_env(timeout=10).images.get(IMAGE)
    except Exception as exc:
        return (f"no Docker engine with the image {IMAGE} ({exc}); livecode's "
                "scripts/build-docker-image examples/livecode-lua/docker-images builds it")
    return None


@pytest.fixture(scope="module", params=["subprocess", "docker"])
def livecode_sandbox(request):
    if request.param == "docker" and (problem := docker_problem()):
        if IN_CI:
            pytest.fail(f"CI must run the Lua tests on Docker, but {problem}")
        pytest.skip(problem)
    return request.param
