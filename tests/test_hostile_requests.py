"""What an attacker sends to a real ``livecode serve`` that the per-route tests do not: query
values that parse but name nothing (a NaN window, a window reaching before year 1). Each is
the documented 422, never a 500."""

import pytest

from livecode.client import ApiClient


@pytest.fixture(scope="module")
def http(serve_for_module):
    _, url, _ = serve_for_module()
    return ApiClient(url, timeout=30)


@pytest.mark.parametrize("path", ["/stats", "/failures"])
@pytest.mark.parametrize("value", ["nan", "NaN", "-nan"])
def test_a_window_that_is_not_a_number_is_a_422(http, path, value):
    status, body = http.call("GET", path, params={"window": value})
    assert status == 422, body
    assert body["error"]["code"] == "invalid_input" and body["error"]["field"] == "window"


@pytest.mark.parametrize("path", ["/stats", "/failures"])
def test_a_window_that_starts_before_year_one_is_a_422(http, path):
    status, body = http.call("GET", path, params={"until": "0001-01-01T00:00:00Z"})
    assert status == 422, body
    assert body["error"]["code"] == "invalid_input" and body["error"]["field"] == "until"


@pytest.mark.parametrize("path", ["/stats", "/failures"])
def test_the_earliest_window_that_fits_still_answers(http, path):
    status, body = http.call("GET", path, params={"until": "0001-01-01T00:05:00Z",
                                                  "window": "300"})
    assert status == 200, body
