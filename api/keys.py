"""API keys: who is asking, what they may do, and how much.

A key is shown once, when it is made, as ``lck_<key id>_<secret>``; stores keep only the key id and
the SHA-256 of the whole key (:class:`livecode.core.keys.ApiKey`). The secret is 256 random bits,
so no slow KDF (bcrypt, scrypt, argon2) is needed: those stretch guessable passwords, and nothing
about a 256-bit random key is guessable, so one fast hash is as strong and keeps every request
cheap. The key id (public, also the owner id of what the key creates) finds the record; the
hashes are compared in constant time.

Scopes are ordered: ``client`` sees and touches only what it created, ``operator`` also sees
everything and may cancel and re-run anyone's runs, ``admin`` also manages keys.
"""

import hashlib
import hmac
import secrets

from livecode.core.errors import InvalidInput, NotFound
from livecode.core.keys import ApiKey
from livecode.core.timestamps import utcnow

SCOPES = ("client", "operator", "admin")
PREFIX = "lck"
# Per-key quotas (None: the deployment's default, 0: unlimited).
QUOTAS = ("writes_per_second", "runs_per_minute", "active_runs")


def digest(key: str | bytes) -> bytes:
    return hashlib.sha256(key.encode("utf-8", "surrogateescape") if isinstance(key, str)
                          else key).digest()


def new(name: str, scope: str, quotas: dict | None = None) -> tuple[ApiKey, str]:
    """A new key record and the key itself (shown once, never stored)."""
    if scope not in SCOPES:
        raise InvalidInput(f"unknown scope {scope!r}; one of {', '.join(SCOPES)}", field="scope")
    if not name or len(name) > 200:
        raise InvalidInput("a key needs a name of 1 to 200 characters", field="name")
    quotas = dict(quotas or {})
    for quota, value in quotas.items():
        if quota not in QUOTAS:
            raise InvalidInput(f"unknown quota {quota!r}; one of {', '.join(QUOTAS)}",
                               field="quotas")
        # Below 2**63: what every store's integers hold (BSON's refuse more).
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2 ** 63:
            raise InvalidInput(f"quota {quota} must be an integer of 0 (unlimited) to 2**63 - 1",
                               field="quotas")
    key_id = secrets.token_hex(8)
    key = f"{PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
    return ApiKey(key_id, name, scope, digest(key).hex(), utcnow(), None, quotas), key


def matches(record: ApiKey, key: bytes) -> bool:
    """Whether ``key`` is the one ``record`` keeps: hashes compared in constant time."""
    return record.revoked_at is None and hmac.compare_digest(
        digest(key), bytes.fromhex(record.key_hash))


def issue(store, name: str, scope: str, quotas: dict | None = None) -> tuple[ApiKey, str]:
    """Make a key and store its record; the key itself is returned to be shown once."""
    record, key = new(name, scope, quotas)
    store.create_key(record)
    return record, key


def revoke(store, key_id: str) -> ApiKey:
    record = store.revoke_key(key_id, utcnow())
    if record is None:
        raise NotFound(f"no API key {key_id!r}", key_id=key_id)
    return record


def scope_allows(have: str, need: str) -> bool:
    return SCOPES.index(have) >= SCOPES.index(need)


def key_id_of(key: bytes) -> str | None:
    """The key id a presented key names, or None when it is not shaped like one of ours."""
    parts = key.split(b"_", 2)
    if len(parts) != 3 or parts[0] != PREFIX.encode() or len(parts[1]) != 16:
        return None
    try:
        return parts[1].decode("ascii")
    except UnicodeDecodeError:
        return None
