"""Plugins load through the ``livecode`` entry-point group, built-ins included; a broken or
conflicting one is named, not silently dropped."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

from livecode.cli import describe_plugins
from livecode.core import hookspecs
from livecode.core.contracts import LanguageRunner, Program
from livecode.core.errors import InvalidInput, PluginError
from livecode.core.hookspecs import hookimpl
from livecode.core.plugins import Plugins


class EchoRunner(LanguageRunner):
    name = "python"

    def build(self, source_code, artefact=None, limits=None):
        return Program(files={}, argv=["echo", source_code])


class DuplicatePython:
    @hookimpl
    def livecode_register_languages(self, register):
        register(EchoRunner())


def test_builtins_arrive_through_entry_points(settings):
    plugins = Plugins(settings)
    described = {row["name"]: row for row in describe_plugins(plugins)}
    # Third-party packages installed next to livecode (examples/livecode-lua) add their own.
    own = {name for name, row in described.items() if row["package"] == "livecode"}
    assert {"python", "javascript", "typescript", "c", "cpp", "bash"} == {
        name for name in plugins.languages if name in own}
    assert set(plugins.sandboxes) == {"subprocess", "docker"}
    assert {"sqlite"} <= set(plugins.stores)
    assert {"memory", "redis", "amqp"} <= set(plugins.queues)
    assert described["python"]["package"] == "livecode"
    assert described["python"]["hooks"] == ["livecode_register_languages"]


def test_two_plugins_registering_one_language_stop_startup_naming_both(settings):
    with pytest.raises(PluginError) as info:
        Plugins(settings, extra_plugins=[DuplicatePython()])
    assert "'python'" in info.value.message and "'python' and" in info.value.message


def test_plugin_authors_import_hookimpl_from_the_package():
    import livecode

    assert livecode.hookimpl is hookimpl and livecode.hookimpl.project_name == "livecode"


def test_a_misspelt_hook_fails_loudly(settings):
    class Misspelt:
        @hookimpl
        def livecode_register_langauges(self, register):
            pass

    with pytest.raises(PluginError, match="livecode_register_langauges"):
        Plugins(settings, extra_plugins=[Misspelt()])


def test_unknown_backend_url_or_sandbox_names_what_is_installed(settings):
    plugins = Plugins(settings)
    with pytest.raises(InvalidInput, match=r"no store plugin handles 'mysql://x'.*postgresql://.*sqlite://"):
        plugins.open_store("mysql://x")
    with pytest.raises(InvalidInput, match=r"unknown sandbox .nsjail.; installed: docker, subprocess"):
        plugins.create_sandbox("nsjail")


def test_disable_and_load_lists(settings_with):
    every = set(Plugins(settings_with()).languages)
    disabled = Plugins(settings_with(LIVECODE_DISABLE_PLUGINS="python,c"))
    assert set(disabled.languages) == every - {"python", "c"}
    only = Plugins(settings_with(LIVECODE_LOAD_PLUGINS="python,sqlite_store"))
    assert set(only.languages) == {"python"} and set(only.stores) == {"sqlite"}
    assert only.queues == {}


def ping_class():
    """A plugin's resource: a Falcon resource the API mounts, answering through the service,
    its operations declared as livecode's own are (they are in /openapi.json, tagged ``ping``)."""
    from livecode.api.operations import Answer, Tag, operation
    from livecode.api.validation import Body, Field

    class Ping:
        tag = Tag("ping", "A plugin's own routes")

        def __init__(self, api):
            self.livecode, self.settings = api.livecode, api.livecode.settings

        @operation("Answer pong", {200: Answer({"type": "object"}, "pong")})
        def on_get(self, req, resp, word):
            resp.media = {"pong": word, "languages": sorted(self.livecode.plugins.languages)}

        @operation("Echo the body", {200: Answer({"type": "object"}, "the body")},
                   body=Body({"a": Field(int, "a number")}, 1024))
        def on_post_echo(self, req, resp):
            resp.media = req.context.body

    return Ping


class PingRoutes:
    @hookimpl
    def livecode_register_routes(self, register, api):
        ping = ping_class()(api)
        register("/ping/{word}", ping)
        register("/ping", ping, "echo")


def app_with(settings, *plugins):
    import falcon.testing

    from livecode.api.app import create_app
    from livecode.core.service import Livecode

    service = Livecode.open(settings, Plugins(settings, extra_plugins=plugins))
    try:
        return falcon.testing.TestClient(create_app(service)), service
    except Exception:
        service.close()
        raise


def test_a_plugin_adds_routes_that_act_through_the_service(settings):
    client, service = app_with(settings, PingRoutes())
    try:
        assert client.simulate_get("/ping/hi").json == {
            "pong": "hi", "languages": sorted(service.plugins.languages)}
        assert client.simulate_post("/ping", json={"a": 1}).json == {"a": 1}
        assert client.simulate_post("/ping", json={"b": 1}).status_code == 422  # as declared
        spec = client.simulate_get("/openapi.json").json
        assert spec["paths"]["/ping/{word}"]["get"]["tags"] == ["ping"]
        assert "requestBody" in spec["paths"]["/ping"]["post"]
        assert client.simulate_get("/health").status_code == 200  # livecode's own still answer
    finally:
        service.close()


def test_a_route_registered_twice_or_over_livecodes_own_stops_startup(settings):
    with pytest.raises(PluginError, match="route '/ping/{word}' is registered by both"):
        app_with(settings, PingRoutes(), PingRoutes())

    class Shadow:
        @hookimpl
        def livecode_register_routes(self, register):
            register("/executions/{anything}", object())

    with pytest.raises(PluginError, match="/executions/{anything}.*livecode's own API"):
        app_with(settings, Shadow())


def test_the_judge0_and_piston_layers_are_plugins_that_can_be_disabled(settings_with, settings):
    client, service = app_with(settings)
    try:
        assert client.simulate_get("/judge0/statuses").status_code == 200
        assert client.simulate_get("/api/v2/runtimes").status_code == 200
    finally:
        service.close()
    client, service = app_with(settings_with(LIVECODE_DISABLE_PLUGINS="judge0_api,piston_api"))
    try:
        assert client.simulate_get("/judge0/statuses").status_code == 404
        assert client.simulate_get("/api/v2/runtimes").status_code == 404
        assert client.simulate_get("/languages").status_code == 200
    finally:
        service.close()


@pytest.fixture
def third_party(tmp_path):
    """A real installed distribution on sys.path: a dist-info with entry points, and its code."""
    site = tmp_path / "site"
    (site / "shout_dist-1.0.dist-info").mkdir(parents=True)
    (site / "shout_dist-1.0.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: shout-dist\nVersion: 1.0\n")
    (site / "shout_dist-1.0.dist-info" / "entry_points.txt").write_text(
        "[livecode]\nshout = shout_plugin\nbroken = broken_plugin\n")
    (site / "shout_plugin.py").write_text(textwrap.dedent("""
        from livecode.core.contracts import LanguageRunner, Program
        from livecode.core.hookspecs import hookimpl

        class Shout(LanguageRunner):
            name = "shout"
            def build(self, source_code, artefact=None, limits=None):
                return Program(files={}, argv=["echo", source_code.upper()])

        @hookimpl
        def livecode_register_languages(register):
            register(Shout())
    """))
    (site / "broken_plugin.py").write_text("raise ImportError('broken on purpose')\n")
    return site


def _livecode(site, *args, **env):
    environment = {**os.environ, "PYTHONPATH": str(site), **env}
    return subprocess.run([sys.executable, "-m", "livecode.cli", *args], env=environment,
                          capture_output=True, text=True, timeout=60)


def test_third_party_plugin_is_listed_and_a_broken_one_is_skipped_with_a_warning(third_party):
    result = _livecode(third_party, "plugins", "--json")
    assert result.returncode == 0, result.stderr
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert rows["shout"] == {"name": "shout", "package": "shout-dist", "version": "1.0",
                             "status": "loaded", "hooks": ["livecode_register_languages"],
                             "error": None}
    assert rows["broken"] == {"name": "broken", "package": "shout-dist", "version": "1.0",
                              "status": "failed", "hooks": [],
                              "error": "broken_plugin: ImportError: broken on purpose"}
    assert "skipping plugin 'broken'" in result.stderr and "broken on purpose" in result.stderr


def test_the_plugin_list_shows_a_broken_plugin_as_failed_with_the_reason(third_party):
    result = _livecode(third_party, "plugins")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("broken "))
    assert lines[at].split() == ["broken", "shout-dist", "1.0"]
    assert lines[at + 1].split(None, 4) == ["FAILED", "to", "load,", "skipped:",
                                            "broken_plugin: ImportError: broken on purpose"]


def test_a_broken_plugin_leaves_the_others_serving(third_party, tmp_path):
    """Skipped, not fatal: ``serve`` starts and runs the third-party language next to it."""
    from livecode.client import ApiClient
    from livecode.testing import LivecodeProcess

    env = {"PYTHONPATH": str(third_party), "LIVECODE_DATA_DIR": str(tmp_path / "data"),
           "LIVECODE_WORK_ROOT": str(tmp_path)}
    process = LivecodeProcess(["serve", "--port", "0"], env, tmp_path / "serve.log")
    try:
        http = ApiClient(process.url(timeout=60), timeout=30)
        names = {lang["name"] for lang in http.get("/languages")["languages"]}
        assert {"shout", "python"} <= names
        assert "skipping plugin 'broken'" in process.log_path.read_text()
    finally:
        process.stop()


def test_strict_mode_makes_a_broken_plugin_fatal(third_party):
    result = _livecode(third_party, "plugins", LIVECODE_STRICT_PLUGINS="1")
    assert result.returncode == 125
    assert "plugin 'broken'" in result.stderr and "broken on purpose" in result.stderr


def test_every_hook_is_documented_for_plugin_authors():
    specs = [name for name in dir(hookspecs) if name.startswith("livecode_")]
    assert len(specs) == 7
    for name in specs:
        doc = getattr(hookspecs, name).__doc__ or ""
        assert len(doc.split()) >= 15, f"{name} needs a docstring that tells plugin authors how"
