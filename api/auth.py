"""Who is asking: API keys sent as ``Authorization: Bearer <key>`` (or ``X-Auth-Token: <key>``,
the header Judge0's clients send theirs in), and the scope a route needs.

Without keys, on loopback: a host's own user runs ``livecode serve`` and uses it alone, so with
no key stored (and none sent) every request is the *local admin*: it sees everything, owns what
it creates with the empty owner id, and has no quotas. As soon as one key exists, every request
but ``GET /``, ``GET /health``, the playground's files and CORS preflights needs one. Bound to any other address, the
API always wants a key (``livecode api`` refuses to start without one unless
``--insecure-no-auth``, which gives everyone the local admin: only behind something else that
authenticates).
"""

import ipaddress
import time
from dataclasses import dataclass, field

import falcon

from .keys import key_id_of, matches, scope_allows

from .errors import APIError

OPEN_PATHS = {"/", "/health"}  # what a load balancer or a newcomer asks first
OPEN_PREFIXES = ("/playground/static/",)  # the playground's files: it loads before a key is pasted
CHALLENGE = 'Bearer realm="livecode"'
HAS_KEYS_TTL = 1.0  # seconds a "no key exists yet" answer is trusted


@dataclass(frozen=True)
class Caller:
    """The key a request came with (``key_id`` "" and no quotas: the local admin)."""

    key_id: str
    scope: str
    quotas: dict | None = field(default=None)  # None: no quotas at all

    def allows(self, scope: str) -> bool:
        return scope_allows(self.scope, scope)

    @property
    def owner(self) -> str | None:
        """Whose records this caller sees: its own, or (operators and admins) everyone's."""
        return None if self.allows("operator") else self.key_id


LOCAL_ADMIN = Caller("", "admin")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def unauthorized(message: str, error: str | None = None) -> APIError:
    challenge = CHALLENGE + (f', error="{error}"' if error else "")
    return APIError(falcon.HTTP_401, "unauthorized", message,
                    headers={"WWW-Authenticate": challenge})


class Authentication:
    """Falcon middleware: sets ``req.context.caller``, then checks each resource's ``scope``."""

    def __init__(self, store, open_without_keys: bool):
        self.store = store
        self.open_without_keys = open_without_keys
        self._no_keys_until = 0.0

    def _keys_exist(self) -> bool:
        if time.monotonic() < self._no_keys_until:
            return False
        if self.store.has_keys():
            return True
        self._no_keys_until = time.monotonic() + HAS_KEYS_TTL
        return False

    def process_request(self, req, resp):
        header = req.get_header("Authorization")
        if header is None and req.get_header("X-Auth-Token") is not None:
            header = "Bearer " + req.get_header("X-Auth-Token")
        if header is None:
            if req.method == "OPTIONS" or req.path in OPEN_PATHS or req.path.startswith(
                    OPEN_PREFIXES) or (
                    self.open_without_keys and not self._keys_exist()):
                req.context.caller = LOCAL_ADMIN
                return
            raise unauthorized("send an API key as Authorization: Bearer <key>")
        req.context.caller = self._caller(header)

    def _caller(self, header: str) -> Caller:
        # WSGI servers hand headers over as Latin-1: these are the bytes the client sent.
        raw = header.encode("latin-1", "replace")
        scheme, _, key = raw.strip().partition(b" ")
        key = key.strip()
        if scheme.lower() != b"bearer" or not key:
            raise unauthorized("the Authorization header must be 'Bearer <key>'",
                               "invalid_request")
        key_id = key_id_of(key)
        record = self.store.get_key(key_id) if key_id else None
        if record is None or not matches(record, key):
            raise unauthorized("this API key is not valid (unknown, malformed or revoked)",
                               "invalid_token")
        return Caller(record.key_id, record.scope, record.quotas)

    def process_resource(self, req, resp, resource, params):
        needed = getattr(resource, "scope", "client")
        if resource is not None and not req.context.caller.allows(needed):
            raise APIError(falcon.HTTP_403, "forbidden",
                           f"this needs an API key of scope {needed} or above")
