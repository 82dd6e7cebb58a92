"""The record of an API key, as every store keeps it: issuing, checking and scoping keys is the
API's (:mod:`livecode.api.keys`); stores only keep these."""

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class ApiKey:
    key_id: str  # public: also the owner id of what the key creates
    name: str
    scope: str
    key_hash: str  # hex SHA-256 of the whole key, never the key
    created_at: str
    revoked_at: str | None = None
    quotas: dict = field(default_factory=dict)

    def public(self) -> dict:
        """What listing keys shows: everything but the hash."""
        data = asdict(self)
        del data["key_hash"]
        return data

    def to_dict(self) -> dict:
        return asdict(self)
