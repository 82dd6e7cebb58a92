"""The playground page as the API serves it (falcon.testing on a real SQLite store): a browser's
``GET /`` gets the page, every other client the JSON pointer; its files come from the package,
open without a key, and nothing points off this origin. In a real browser:
tests/test_playground_browser.py."""

import re

import falcon
import falcon.testing
import pytest

from livecode.api.app import create_app
from livecode.api.playground import FILES
from livecode.api import keys
from livecode.core.errors import InvalidInput
from livecode.core.service import Livecode

BROWSER_ACCEPT = ("text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,"
                  "image/webp,*/*;q=0.8")


@pytest.fixture
def client(livecode):
    return falcon.testing.TestClient(create_app(livecode))


def test_a_browser_gets_the_page_and_every_other_client_the_json_pointer(client):
    page = client.simulate_get("/", headers={"Accept": BROWSER_ACCEPT})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "<title>livecode playground</title>" in page.text
    assert "Accept" in page.headers["vary"]
    assert "script-src 'self'" in page.headers["content-security-policy"]
    for accept in (None, "*/*", "application/json", "application/json, text/html"):
        pointer = client.simulate_get("/", headers={"Accept": accept} if accept else {})
        assert pointer.headers["content-type"].startswith("application/json"), accept
        assert pointer.json["health"] == "/health"
        assert pointer.json["playground"].startswith("GET / with Accept: text/html")
        assert "Accept" in pointer.headers["vary"]


def test_every_file_the_page_loads_is_served_from_the_package_and_nothing_from_elsewhere(client):
    page = client.simulate_get("/", headers={"Accept": "text/html"}).text
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    loaded = [a for a in assets if not a.startswith("data:") and a != "api-docs"]
    assert {"playground/static/editor.bundle.js", "playground/static/playground.js",
            "playground/static/playground.css"} <= set(loaded)
    for asset in loaded:
        assert not re.match(r"^[a-z]+:|^//", asset), f"{asset} leaves this origin"
        served = client.simulate_get("/" + asset)
        assert served.status_code == 200, asset
        assert served.content == (FILES / asset.rsplit("/", 1)[1]).read_bytes()
    for name in ("playground.js", "editor.bundle.js"):  # only the SVG namespace's name
        urls = set(re.findall(r"\bhttps?://[^\s\"'`]*", (FILES / name).read_text()))
        assert urls <= {"http://www.w3.org/2000/svg"}, (name, urls)
    assert "@codemirror/view" in (FILES / "THIRD_PARTY_LICENSES.txt").read_text()


def test_with_keys_the_page_and_its_files_need_none_but_the_api_still_does(client, livecode):
    key = keys.issue(livecode.store, "frontend", "client", {})[1]
    assert client.simulate_get("/", headers={"Accept": "text/html"}).status_code == 200
    assert client.simulate_get("/playground/static/playground.js").status_code == 200
    assert client.simulate_get("/languages").status_code == 401
    assert client.simulate_get("/playground/static/nothing.js").status_code == 404
    made = client.simulate_post("/code-sessions", json={},
                                headers={"Authorization": f"Bearer {key}"})
    assert made.status_code == 201


def test_turned_off_a_browser_gets_the_json_pointer_and_no_file_is_served(tmp_path,
                                                                          settings_with):
    livecode = Livecode.open(settings_with(LIVECODE_PLAYGROUND="0"))
    try:
        client = falcon.testing.TestClient(create_app(livecode))
        root = client.simulate_get("/", headers={"Accept": BROWSER_ACCEPT})
        assert root.headers["content-type"].startswith("application/json")
        assert root.json["playground"] is None
        assert client.simulate_get("/playground/static/playground.js").status_code == 404
    finally:
        livecode.close()


def test_a_misspelt_switch_stops_the_app_from_being_made(settings_with):
    livecode = Livecode.open(settings_with(LIVECODE_PLAYGROUND="off"))
    try:
        with pytest.raises(InvalidInput, match="LIVECODE_PLAYGROUND"):
            create_app(livecode)
    finally:
        livecode.close()


def test_the_document_describes_both_answers_of_the_root(client):
    content = client.simulate_get("/openapi.json").json["paths"]["/"]["get"]["responses"]["200"]
    assert set(content["content"]) == {"application/json", "text/html"}


def test_the_package_data_ships_every_file_of_the_page():
    """``pip install livecode`` users get the page: setup.cfg's package data names each file
    (no npm at install time; the bundle is committed)."""
    import configparser
    import fnmatch

    root = FILES.parent.parent
    config = configparser.ConfigParser()
    config.read(root / "setup.cfg")
    patterns = config["options.package_data"]["livecode.api"].split()
    for path in FILES.iterdir():
        relative = f"{FILES.name}/{path.name}"
        assert any(fnmatch.fnmatch(relative, p) for p in patterns), relative
