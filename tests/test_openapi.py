"""The OpenAPI document and the app it describes agree: every route has an operation and every
operation a route, the document is valid OpenAPI 3.1, and the error statuses it documents are
the ones the app gives (checked for every operation where a request can provoke them)."""

import re
from types import SimpleNamespace

import falcon.inspect
import falcon.testing
import jsonschema_rs
import pytest

from livecode.api import keys
from livecode.api.app import create_app, create_apps
from livecode.api.asgi import live_routes_of

DOCUMENTED_METHODS = {"GET", "POST", "PATCH", "PUT", "DELETE"}


@pytest.fixture
def apps(livecode):
    return create_apps(livecode)


@pytest.fixture
def app(apps):
    return apps[0]


@pytest.fixture
def client(app):
    return falcon.testing.TestClient(app)


@pytest.fixture
def spec(client):
    result = client.simulate_get("/openapi.json")
    assert result.status_code == 200
    return result.json


def operations(spec):
    for path, item in spec["paths"].items():
        for method, op in item.items():
            yield path, method.upper(), op


def routed(apps, livecode, plugins: bool):
    """The apps' (path, method) pairs: livecode's own, or those ``livecode_register_routes``
    plugins (the Judge0 and Piston layers) added."""
    parts = SimpleNamespace(livecode=livecode, quotas=None, introspection=None, reporting=None)
    added = set(livecode.plugins.routes(parts))
    return {(route.path, m.method) for app in apps
            for route in falcon.inspect.inspect_app(app).routes
            for m in route.methods if not m.internal and m.method in DOCUMENTED_METHODS
            and (route.path in added) == plugins}


def test_every_route_has_an_operation_and_every_operation_a_route(apps, spec, livecode):
    """Both apps: the WSGI app's routes, and the ASGI app's long-lived ones (its
    ``GET /executions/{id}`` answers only ``?wait=``, declared on the WSGI app's)."""
    own = routed(apps, livecode, plugins=False)
    documented = {(path, method) for path, method, _ in operations(spec)}
    assert own | routed(apps, livecode, plugins=True) == documented
    assert len(own) > 20


def test_routes_added_by_plugins_are_documented_too(apps, spec, livecode):
    documented = {(path, method) for path, method, _ in operations(spec)}
    added = routed(apps, livecode, plugins=True)
    assert added and added <= documented
    tags = {path: op["tags"] for path, _, op in operations(spec)}
    assert tags["/judge0/submissions"] == ["judge0"] and tags["/api/v2/execute"] == ["piston"]
    assert {"judge0", "piston"} <= {tag["name"] for tag in spec["tags"]}
    body = spec["paths"]["/api/v2/execute"]["post"]["requestBody"]["content"][
        "application/json"]["schema"]
    assert body["required"] == ["language", "version", "files"]


def test_a_responder_without_a_declaration_stops_the_app(livecode, monkeypatch):
    from livecode.api import resources

    def on_get(self, req, resp):
        resp.media = {}

    monkeypatch.setattr(resources.Languages, "on_get", on_get)
    with pytest.raises(TypeError, match="GET /languages .*declares no operation"):
        create_app(livecode)


def test_the_document_is_valid_openapi_3_1(spec):
    """Against the OpenAPI 3.1 meta-schema, with every schema and reference resolvable."""
    from schemathesis.specs.openapi import definitions
    jsonschema_rs.validator_for(definitions.OPENAPI_31).validate(spec)
    import schemathesis
    schema = schemathesis.openapi.from_dict(spec)
    assert len(list(schema.get_all_operations())) == len(list(operations(spec)))
    for name in re.findall(r'"#/components/schemas/(\w+)"', str(spec).replace("'", '"')):
        assert name in spec["components"]["schemas"]


def test_tags_security_and_headers(spec):
    tags = {(path, method): op["tags"] for path, method, op in operations(spec)}
    assert tags[("/code-sessions", "POST")] == ["public"]
    assert tags[("/workers", "GET")] == ["operators"]
    assert tags[("/keys", "POST")] == ["keys"]
    assert spec["paths"]["/health"]["get"]["security"] == []
    assert spec["paths"]["/stats"]["get"]["security"] == [{"bearer": ["operator"]}]
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    run = spec["paths"]["/code-sessions/{session_id}/run"]["post"]
    assert "Retry-After" in run["responses"]["429"]["headers"]
    assert "Location" in run["responses"]["202"]["headers"]
    body = run["requestBody"]["content"]["application/json"]["schema"]
    assert body["additionalProperties"] is False and body["examples"]
    assert body["properties"]["wall_time_limit"]["maximum"] == 30.0  # the server's cap


def test_requests_are_checked_against_the_documented_body(client, spec):
    """What the document says a body holds is what the app accepts: an extra field is refused,
    and each documented field of the right type is taken."""
    session = spec["paths"]["/code-sessions"]["post"]["requestBody"]["content"][
        "application/json"]["schema"]
    assert set(session["properties"]) == {"language", "source_code", "sourceCode", "files",
                                          "entry"}
    assert session["properties"]["language"]["enum"] == sorted(
        language["name"] for language in client.simulate_get("/languages").json["languages"])
    ok = client.simulate_post("/code-sessions", json={"language": "python", "source_code": ""})
    assert ok.status_code == 201
    refused = client.simulate_post("/code-sessions", json={"colour": "red"})
    assert refused.status_code == 422 and "colour" in refused.json["error"]["message"]


def example_path(path):
    return re.sub(r"{\w+}", "no-such-id", path)


def test_documented_error_statuses_are_given(livecode, spec):
    """For each operation: 401 without a key once keys exist, 403 with too low a scope, 404 for
    an unknown id, and 400, 411, 413, 415, 422 for bad bodies, wherever the document lists them;
    every error has the documented shape. The long-lived routes are asked of the ASGI app that
    serves them."""
    _, client_key = keys.issue(livecode.store, "c", "client")
    _, admin_key = keys.issue(livecode.store, "a", "admin", {"writes_per_second": 0})
    rest, live = create_apps(livecode)  # they know at once that keys exist
    clients = {"rest": falcon.testing.TestClient(rest), "live": falcon.testing.TestClient(live)}
    live_paths = {path for path, _, _ in live_routes_of(live)}  # what the dispatcher sends it
    checked = set()

    def call(method, path, key=None, **kwargs):
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        headers.update(kwargs.pop("headers", {}))
        client = clients["live" if path in live_paths else "rest"]
        result = client.simulate_request(method, example_path(path), headers=headers, **kwargs)
        if result.status_code >= 400:
            error = result.json["error"]
            assert error["status"] == result.status_code and error["code"] and error["message"]
        return result.status_code

    for path, method, op in operations(spec):
        documented = set(op["responses"])
        if not op["security"]:  # open: no key needed, a bad one refused
            assert call(method, path) == 200
            assert call(method, path, "lck_0000000000000000_x") == 401
        else:
            assert "401" in documented and call(method, path) == 401, (method, path)
            checked.add(401)
        if "403" in documented:
            assert call(method, path, client_key) == 403, (method, path)
            checked.add(403)
        if "{" in path and method != "DELETE" or path == "/keys/{key_id}":
            assert "404" in documented
            assert call(method, path, admin_key) == 404, (method, path)
            checked.add(404)
        if "requestBody" in op and "{" not in path:
            assert call(method, path, admin_key, body="{",
                        headers={"Content-Type": "application/json"}) == 400
            assert call(method, path, admin_key, body="x",
                        headers={"Content-Type": "text/plain"}) == 415
            assert call(method, path, admin_key, json={"no_such_field": 1}) == 422
            # 32 MiB: over every body's cap (a run with its test cases may hold about 4 MiB, and
            # the server reads up to four times a cap before refusing).
            assert call(method, path, admin_key, body="x" * 2 ** 25,
                        headers={"Content-Type": "application/json"}) == 413
            assert call(method, path, admin_key, headers={"Transfer-Encoding": "chunked"}) == 411
            checked.update({400, 411, 413, 415, 422})
    assert checked == {400, 401, 403, 404, 411, 413, 415, 422}


def test_swagger_ui_is_served_from_package_files(client):
    page = client.simulate_get("/api-docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "/openapi.json" in page.text
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert assets and all(a.startswith("/api-docs/static/") for a in assets)  # no CDN
    for asset in assets:
        result = client.simulate_get(asset)
        assert result.status_code == 200 and len(result.content) > 1000, asset


def test_an_unknown_page_cursor_is_a_documented_404(client, spec):
    """Found by schemathesis: ``GET /executions?before=`` answered 404, which the document did
    not list."""
    assert "404" in spec["paths"]["/executions"]["get"]["responses"]
    assert client.simulate_get("/executions", query_string="before=").status_code == 404
    assert client.simulate_get("/executions", params={"before": "nope"}).status_code == 404


def test_an_open_endpoint_documents_the_401_of_a_bad_key(client, spec):
    """Found by schemathesis: ``GET /health`` with an invalid key answered 401, undocumented."""
    assert "401" in spec["paths"]["/health"]["get"]["responses"]
    bad = {"Authorization": "Bearer lck_0000000000000000_x"}
    assert client.simulate_get("/health", headers=bad).status_code == 401


def test_batch_ids_callbacks_and_the_signing_secret_are_declared(client, spec):
    batch = spec["paths"]["/executions/batch"]["post"]
    assert batch["tags"] == ["public"]
    assert batch["responses"]["202"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/BatchQueued"}
    runs = batch["requestBody"]["content"]["application/json"]["schema"]["properties"]["runs"]
    assert runs["maxItems"] == 20 and runs["items"]["additionalProperties"] is False
    assert {"code", "session_id", "callback_url", "tests", "wall_time_limit"} <= set(
        runs["items"]["properties"])
    assert "422" in batch["responses"] and "429" in batch["responses"]
    listing = spec["paths"]["/executions"]["get"]
    assert "ids" in {p["name"] for p in listing["parameters"]}
    for path in ("/submit-code", "/code-sessions/{session_id}/run"):
        body = spec["paths"][path]["post"]["requestBody"]["content"]["application/json"]
        assert body["schema"]["properties"]["callback_url"]["format"] == "uri"
    schemas = spec["components"]["schemas"]
    assert set(schemas["Execution"]["properties"]["callback"]["properties"]) == {
        "url", "state", "attempts", "last_status", "last_error", "delivered_at"}
    assert "signing_secret" in schemas["NewKey"]["allOf"][1]["properties"]
    secret = spec["paths"]["/callbacks/signing-secret"]["get"]
    assert secret["security"] == [{"bearer": ["client"]}]
    assert secret["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/SigningSecret"}
