"""The Docker images' recipes (scripts/docker-images, one per language, and the Lua example's):
each language has one, naming the image its runner declares, and the builder skips an image
whose label says it holds the recipes' packages."""

import subprocess
from pathlib import Path

import pytest

from conftest import docker_problem
from livecode.core.plugins import Plugins

ROOT = Path(__file__).resolve().parent.parent
RECIPE_DIRS = [ROOT / "scripts" / "docker-images",
               ROOT / "examples" / "livecode-lua" / "docker-images"]
BUILDER = ROOT / "scripts" / "build-docker-image"


def recipes() -> dict[str, dict[str, str]]:
    found = {}
    for directory in RECIPE_DIRS:
        for recipe in directory.iterdir():
            fields = {}
            for line in recipe.read_text().splitlines():
                if line and not line.startswith("#"):
                    key, _, value = line.partition(" ")
                    fields[key] = value.strip()
            found[recipe.name] = fields
    return found


def declared_images(runner) -> set[str]:
    step = runner.compile("")
    artefact = {name: b"" for name in step.outputs} if step is not None else None
    programs = [runner.build("", artefact), *([step] if step is not None else [])]
    return {program.image for program in programs}


def test_every_language_has_a_recipe_for_the_image_its_runner_declares(settings):
    languages = Plugins(settings).languages
    known = recipes()
    assert set(languages) <= set(known), set(languages) - set(known)
    for name, runner in languages.items():
        assert declared_images(runner) == {known[name]["image"]}, name
        assert "packages" in known[name], name


def test_the_builder_skips_images_that_hold_their_recipes_packages():
    if problem := docker_problem():
        pytest.skip(problem)
    images = {fields["image"] for fields in recipes().values()}
    for image in images:  # scripts/ensure-services builds them; this test only reads labels
        if subprocess.run(["docker", "image", "inspect", image], capture_output=True).returncode:
            pytest.skip(f"the image {image} is not built (scripts/ensure-services builds it)")
    out = subprocess.run(["bash", str(BUILDER), *map(str, RECIPE_DIRS)], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert sorted(line.split()[1] for line in out.stdout.splitlines()) == sorted(images), out.stdout
    assert all(line.endswith(" exists") for line in out.stdout.splitlines()), out.stdout


def test_an_image_no_recipe_names_is_refused_by_name():
    out = subprocess.run(["bash", str(BUILDER), "livecode-nothing:bookworm"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 1 and "no recipe" in out.stdout and "livecode-nothing" in out.stdout
