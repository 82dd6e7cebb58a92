"""One HTTP request to a callback URL, on a connection made to an address :mod:`.targets`
checked a moment before (so DNS cannot change where it goes in between), with short timeouts,
no redirects followed (``http.client`` follows none: a 3xx is just a failed attempt) and at
most ``MAX_RESPONSE_BYTES`` of the answer read, all within ``timeout`` seconds in total (a
receiver that drips its answer a byte at a time has the socket shut under it), so one attempt
holds a delivery thread for a bounded time."""

import http.client
import socket
import ssl
import threading
from dataclasses import dataclass
from urllib.parse import urlsplit

from .targets import RefusedTarget, Unresolvable, checked_addresses

MAX_RESPONSE_BYTES = 64 * 1024
USER_AGENT = "livecode-callbacks/1"
MAX_ADDRESSES = 2  # addresses of a host tried per attempt


@dataclass(frozen=True)
class Outcome:
    ok: bool
    status: int | None = None
    error: str | None = None
    refused: bool = False  # the URL now leads to an address that may not be called


class PinnedConnection(http.client.HTTPConnection):
    """An HTTP(S) connection to ``address`` for ``host``: TLS checks ``host``'s certificate."""

    def __init__(self, scheme: str, host: str, address: str, port: int, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self.scheme, self.address = scheme, address

    def connect(self):
        sock = socket.create_connection((self.address, self.port), self.timeout)
        self.expired = False
        self.deadline = threading.Timer(self.timeout, self._expire, (sock,))
        self.deadline.start()
        if self.scheme == "https":
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=self.host)
        self.sock = sock

    def _expire(self, sock) -> None:
        self.expired = True
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def close(self):
        deadline = getattr(self, "deadline", None)
        if deadline is not None:
            deadline.cancel()
        super().close()




def send(url: str, method: str, body: bytes, headers: dict, allowed, timeout: float) -> Outcome:
    """Resolve, check, connect to the first allowed address that answers, send, and read a
    bounded answer: a 2xx is delivered, anything else (or no answer) is not."""
    try:
        scheme, host, port, addresses = checked_addresses(url, allowed)
    except RefusedTarget as exc:
        return Outcome(False, error=exc.message, refused=True)
    except Unresolvable as exc:
        return Outcome(False, error=exc.message)
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    error = "no address answered"
    for address in addresses[:MAX_ADDRESSES]:
        connection = PinnedConnection(scheme, host, address, port, timeout)
        try:
            connection.request(method, target, body=body, headers={
                "Content-Type": "application/json", "User-Agent": USER_AGENT, **headers})
            response = connection.getresponse()
            response.read(MAX_RESPONSE_BYTES)
            if connection.expired:  # what was read may be cut short: not an answer
                raise TimeoutError(f"no whole answer within {timeout} s")
            if 200 <= response.status < 300:
                return Outcome(True, response.status)
            return Outcome(False, response.status, f"the receiver answered {response.status}")
        except (OSError, http.client.HTTPException) as exc:
            error = f"{type(exc).__name__}: {exc}"
        finally:
            connection.close()
    return Outcome(False, error=error)
