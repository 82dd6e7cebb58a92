"""The files a user deploys from must say things livecode understands."""

from pathlib import Path

from livecode.cli import build_parser
from livecode.core.config import Settings

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"


def test_every_procfile_line_is_a_valid_livecode_command():
    lines = [line for line in (DEPLOY / "Procfile").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    assert {line.split(":", 1)[0] for line in lines} == {"api", "worker"}
    for line in lines:
        program, *args = line.split(":", 1)[1].split()
        assert program == "livecode"
        build_parser().parse_args(args)  # exits on anything it does not know


def test_the_example_environment_is_valid_settings():
    env = dict(line.split("=", 1) for line in (DEPLOY / "example.env").read_text().splitlines()
               if line.strip() and not line.startswith("#"))
    settings = Settings.from_env(env)
    assert settings.queue.startswith("redis://") and settings.store.startswith("mongodb://")
    assert settings.retention_seconds == 604800


def test_every_store_url_in_the_example_environment_has_a_plugin(settings):
    from urllib.parse import urlsplit

    from livecode.core.plugins import Plugins

    urls = [line.lstrip("# ").split("=", 1)[1]
            for line in (DEPLOY / "example.env").read_text().splitlines()
            if line.lstrip("# ").startswith(("LIVECODE_STORE=", "LIVECODE_RESULT_STORE="))]
    schemes = {urlsplit(url).scheme for url in urls}
    assert {"mongodb", "sqlite", "postgresql"} <= schemes
    assert schemes <= set(Plugins(settings).stores)
