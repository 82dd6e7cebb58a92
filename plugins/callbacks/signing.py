"""Callback signatures: HMAC-SHA256 with a secret of the API key that asked for the callback.

A key's signing secret is derived, not stored (``livecode.api.keys.signing_secret``): ``lcs_`` + hex
HMAC-SHA256 keyed with the SHA-256 of the key (what stores keep) over
``livecode callback signing v1``. So every key has
one from the start with no schema change; whoever holds the key can compute it (the key's
owner; ``GET /callbacks/signing-secret`` shows it to the key's caller); someone who reads the
store learns it as they would a stored secret, but still cannot act as the key, whose hash is
not the key. Rotating it means issuing a new key.

Headers of every delivery (Stripe's scheme)::

    Livecode-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>
    Livecode-Delivery: <execution id>   (the same on every retry: deduplicate on it)
    Livecode-Attempt: <n>

A receiver recomputes ``v1`` over the raw body with its secret, compares in constant time and
refuses a ``t`` more than a few minutes from its clock, so a recorded delivery cannot be
replayed later; :func:`verify` does all three.
"""

import hashlib
import hmac
import time

from livecode.api.keys import digest, signing_secret
from livecode.core.keys import ApiKey

SIGNATURE_HEADER = "Livecode-Signature"
DELIVERY_HEADER = "Livecode-Delivery"
ATTEMPT_HEADER = "Livecode-Attempt"
TOLERANCE_SECONDS = 300


def secret_of_key(key: str) -> str:
    """A key's signing secret, from the key itself (what its holder can compute offline)."""
    return signing_secret(ApiKey("", "", "", digest(key).hex(), ""))


def _mac(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature(secret: str, body: bytes, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    return f"t={timestamp},v1={_mac(secret, timestamp, body)}"


def verify(secret: str, body: bytes, header: str, tolerance: float = TOLERANCE_SECONDS,
           now: float | None = None) -> bool:
    """Whether ``header`` (a ``Livecode-Signature`` value) signs ``body`` with ``secret`` at a
    time within ``tolerance`` seconds of ``now``."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
        given = parts["v1"]
    except (KeyError, ValueError):
        return False
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance:
        return False
    return hmac.compare_digest(given, _mac(secret, timestamp, body))
