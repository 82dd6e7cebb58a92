"""The client for a livecode server's API: JSON in and out, the API token, errors that carry the
HTTP status and are worded for people, ``wait`` for a run to end and ``events`` to follow one
live. ``livecode run``, the console, the benches and the tests all use it; it needs nothing
beyond the standard library.

Each thread keeps one keep-alive connection, as a frontend polling a run does; an event stream
has a connection of its own.
"""

import http.client
import json
import socket
import threading
import time
import urllib.parse
from dataclasses import dataclass

from livecode.core.errors import LivecodeError
from livecode.core.execution_states import TERMINAL

FINAL_STATUSES = frozenset(str(status) for status in TERMINAL)


class ApiError(LivecodeError):
    """The server refused (``status`` is its HTTP status), or could not be reached (``None``)."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message, status=status)
        self.status = status


def normalize_url(url: str) -> str:
    """``localhost:8000`` means ``http://localhost:8000``: a URL without a scheme gets http."""
    url = url.strip()
    if "://" not in url:
        url = "http://" + url
    return url.rstrip("/")


class ApiClient:
    def __init__(self, url: str, token: str | None = None, timeout: float = 10.0):
        self.url, self.token, self.timeout = normalize_url(url), token, timeout
        parts = urllib.parse.urlsplit(self.url)
        self._connection_class = (http.client.HTTPSConnection if parts.scheme == "https"
                                  else http.client.HTTPConnection)
        self._netloc, self._prefix = parts.netloc, parts.path
        self._local = threading.local()

    def get(self, path: str, params=None):
        return self._checked("GET", path, params=params)

    def post(self, path: str, body=None):
        return self._checked("POST", path, body)

    def patch(self, path: str, body=None):
        return self._checked("PATCH", path, body)

    def wait(self, execution_id: str, timeout: float = 60.0) -> dict:
        """The execution once it has ended: long polls (``?wait=``), each answered by the
        server as soon as the run ends, none longer than this client's own timeout allows."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            wait = max(0.1, min(30.0, left, self.timeout - 1))
            execution = self.get(f"/executions/{execution_id}", params={"wait": f"{wait:.1f}"})
            if execution["status"] in FINAL_STATUSES:
                return execution
            if time.monotonic() > deadline:
                raise ApiError(f"execution {execution_id} still {execution['status']} "
                               f"after {timeout}s")

    def events(self, execution_id: str, last_event_id: str | None = None) -> "EventStream":
        """The run's Server-Sent Events (``GET /executions/{id}/events``): iterate over it for
        each :class:`Event` until the server ends the stream after ``result``."""
        return EventStream(self, f"/executions/{execution_id}/events", last_event_id)

    def call(self, method: str, path: str, body=None, params=None) -> tuple[int, object]:
        """The HTTP status and the decoded body, whatever the status; raises only when the
        server cannot be reached."""
        query = "?" + urllib.parse.urlencode(params, doseq=True) if params else ""
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        for attempt in (1, 2):
            reused = getattr(self._local, "conn", None) is not None
            if not reused:
                self._local.conn = self._connection_class(self._netloc, timeout=self.timeout)
            try:
                self._local.conn.request(method, self._prefix + path + query, data, headers)
                response = self._local.conn.getresponse()
                raw = response.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as exc:
                # The server closed an idle keep-alive connection before reading this request:
                # send it again once on a fresh one, as HTTP clients do.
                self._local.conn = None
                if not reused or attempt == 2:
                    raise ApiError(f"cannot reach {self.url}: {exc}") from None
            except (OSError, http.client.HTTPException) as exc:
                self._local.conn = None
                raise ApiError(f"cannot reach {self.url}: {exc}") from None
        try:
            return response.status, (json.loads(raw) if raw else None)
        except ValueError:
            return response.status, raw.decode("utf-8", "replace")

    def _checked(self, method: str, path: str, body=None, params=None):
        status, answer = self.call(method, path, body, params)
        if status >= 400:
            try:
                message = answer["error"]["message"]
            except (KeyError, TypeError):
                # Not our error shape: another server, or a proxy in front of ours.
                raise self._not_livecode(f"answered {method} {path} with {status} "
                                         f"{http.client.responses.get(status, '')}".rstrip(),
                                         status) from None
            if status == 404 and message.startswith("no route"):
                # Our server, but the URL has a path in front of the routes.
                raise ApiError(f"{self.url} is a livecode server's address plus a path: "
                               f"{message} (--url or LIVECODE_URL should be the server's root, "
                               f"e.g. http://127.0.0.1:8000)", status)
            raise ApiError(f"{status}: {message}", status)
        if isinstance(answer, str):
            raise self._not_livecode(f"answered {method} {path} with something not JSON",
                                     status)
        return answer

    def _not_livecode(self, what: str, status: int | None) -> ApiError:
        return ApiError(f"{self.url} {what}: it is not a livecode API (check the URL: --url or "
                        f"LIVECODE_URL, e.g. http://127.0.0.1:8000)", status)


@dataclass(frozen=True)
class Event:
    """One Server-Sent Event: its name (``state``, ``stdout``, ``stderr``, ``result``), its
    decoded JSON data, and its id (what a resumed stream starts after)."""

    event: str
    data: object
    id: str | None = None


class EventStream:
    """A run's events as they arrive, over a connection of its own. A connection that drops
    before ``result`` is opened again with ``Last-Event-ID``, so nothing is lost or repeated;
    ``close()``, from any thread, ends the iteration (the console does when its view goes)."""

    RESUMES = 5  # reconnections in a row without an event, before giving up
    READ_TIMEOUT = 60.0  # the server sends a keep-alive comment every ~15 s

    def __init__(self, client: ApiClient, path: str, last_event_id: str | None = None):
        self.client, self.path, self.last_event_id = client, path, last_event_id
        self.closed = False
        self._connection: http.client.HTTPConnection | None = None

    def __iter__(self):
        failures = 0
        while not self.closed:
            try:
                for event in self._read_once():
                    failures = 0
                    yield event
                    if event.event == "result":
                        return
                if self.closed:
                    return
                raise ApiError(f"the event stream of {self.path} ended before its result")
            except (OSError, http.client.HTTPException, ApiError) as exc:
                if self.closed:
                    return
                if isinstance(exc, ApiError) and exc.status is not None:
                    raise  # the server refused: resuming would be refused again
                failures += 1
                if failures > self.RESUMES:
                    raise ApiError(f"cannot follow {self.client.url}{self.path}: {exc}") from None
                time.sleep(min(0.2 * 2 ** failures, 3))
            finally:
                self._disconnect()

    def close(self) -> None:
        self.closed = True
        connection = self._connection
        if connection is not None and connection.sock is not None:
            try:  # wakes the reading thread at once, unlike close() alone
                connection.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _disconnect(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _read_once(self):
        client = self.client
        headers = {"Accept": "text/event-stream"}
        if client.token:
            headers["Authorization"] = f"Bearer {client.token}"
        if self.last_event_id is not None:
            headers["Last-Event-ID"] = self.last_event_id
        self._connection = client._connection_class(
            client._netloc, timeout=max(client.timeout, self.READ_TIMEOUT))
        if self.closed:
            return
        self._connection.request("GET", client._prefix + self.path, headers=headers)
        response = self._connection.getresponse()
        if response.status != 200:
            raw = response.read()
            try:
                message = json.loads(raw)["error"]["message"]
            except (ValueError, KeyError, TypeError):
                message = raw.decode("utf-8", "replace")[:200]
            raise ApiError(f"{response.status}: {message}", response.status)
        name, data, event_id = "message", [], None
        for raw_line in response:  # the SSE format: fields until a blank line ends an event
            line = raw_line.decode("utf-8").rstrip("\r\n")
            if not line:
                if data:
                    if event_id is not None:
                        self.last_event_id = event_id
                    yield Event(name, json.loads("\n".join(data)), event_id)
                name, data, event_id = "message", [], None
                continue
            if line.startswith(":"):
                continue  # a keep-alive comment
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "event":
                name = value
            elif field == "data":
                data.append(value)
            elif field == "id":
                event_id = value
