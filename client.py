"""A small client for a livecode server's API: JSON in and out, the API token, and errors worded
for people. ``livecode run`` and the console use it; it needs nothing beyond the standard library."""

import json
import urllib.error
import urllib.parse
import urllib.request


from livecode.core.errors import LivecodeError


class ApiError(LivecodeError):
    """The server refused, or could not be reached."""


class ApiClient:
    def __init__(self, url: str, token: str | None = None, timeout: float = 10.0):
        self.url, self.token, self.timeout = url.rstrip("/"), token, timeout

    def get(self, path: str, params=None):
        query = "?" + urllib.parse.urlencode(params, doseq=True) if params else ""
        return self._call("GET", path + query)

    def post(self, path: str, body=None):
        return self._call("POST", path, body)

    def _call(self, method: str, path: str, body=None):
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.load(response)
        except urllib.error.HTTPError as exc:
            try:
                message = json.load(exc)["error"]["message"]
            except (ValueError, KeyError, TypeError):
                message = exc.reason
            raise ApiError(f"{exc.code}: {message}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ApiError(f"cannot reach {self.url}: {reason}") from None
