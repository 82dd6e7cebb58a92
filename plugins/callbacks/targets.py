"""Where a callback may go: SSRF protection, checked twice.

At submission the URL must be ``http``/``https`` with a host, and every address its host
resolves to must be public; at delivery the host is resolved again, every address checked
again, and the connection made to a checked address itself (never to the name), so a name
that resolved to a public address at submission and to ``127.0.0.1`` later (DNS rebinding)
reaches nothing. Refused: loopback, private (RFC 1918, ULA), link-local (with the clouds'
metadata address 169.254.169.254 and fd00:ec2::254), multicast, reserved and unspecified,
CGNAT (100.64.0.0/10), benchmarking, documentation, IPv4-mapped/compatible and 6to4/Teredo
addresses (judged by the IPv4 address inside) — anything that is not globally routable.
``LIVECODE_CALLBACK_ALLOW_NETWORKS`` (comma-separated CIDRs) lets an operator open networks it
trusts, e.g. ``127.0.0.0/8`` for a receiver on the same host.
"""

import ipaddress
import socket
from urllib.parse import urlsplit

from livecode.core.errors import InvalidInput

MAX_URL = 2048
ALWAYS_REFUSED = [ipaddress.ip_network(n) for n in (
    "0.0.0.0/8", "100.64.0.0/10", "169.254.0.0/16", "192.0.0.0/24", "198.18.0.0/15",
    "224.0.0.0/4", "240.0.0.0/4", "fe80::/10", "fc00::/7", "ff00::/8", "fd00:ec2::254/128")]


class RefusedTarget(InvalidInput):
    """A callback URL that must not be called."""


class Unresolvable(InvalidInput):
    """A callback URL whose host does not resolve (now: at delivery it is tried again)."""


def allowed_networks(settings) -> list:
    raw = settings.option("CALLBACK_ALLOW_NETWORKS", "") or ""
    try:
        return [ipaddress.ip_network(n.strip(), strict=False) for n in raw.split(",") if n.strip()]
    except ValueError as exc:
        raise InvalidInput(f"LIVECODE_CALLBACK_ALLOW_NETWORKS: {exc}") from None


def split_url(url: str) -> tuple[str, str, int]:
    """``(scheme, host, port)`` of a URL a callback may be sent to, or :class:`RefusedTarget`."""
    if len(url) > MAX_URL:
        raise RefusedTarget(f"callback_url is longer than {MAX_URL} characters",
                            field="callback_url")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise RefusedTarget(f"callback_url is not a URL: {exc}", field="callback_url") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RefusedTarget("callback_url must be an http:// or https:// URL with a host",
                            field="callback_url")
    if parts.username is not None or parts.password is not None:
        raise RefusedTarget("callback_url must not carry a user or password",
                            field="callback_url")
    if any(ord(c) < 33 or ord(c) == 127 for c in url):
        raise RefusedTarget("callback_url must not contain spaces or control characters",
                            field="callback_url")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80)


def embedded_ipv4(address):
    """The IPv4 address an IPv6 address carries (mapped, compatible, 6to4, Teredo, NAT64), which
    is what a host actually reaches through it."""
    if address.version != 6:
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    packed = address.packed
    if packed[:12] == bytes(12) and packed[12:] != bytes(4):  # ::a.b.c.d (deprecated)
        return ipaddress.IPv4Address(packed[12:])
    if address in ipaddress.ip_network("64:ff9b::/96"):
        return ipaddress.IPv4Address(packed[12:])
    return None


def refusal(address, allowed) -> str | None:
    """Why ``address`` may not be called, or ``None``."""
    address = ipaddress.ip_address(address)
    if any(address in network for network in allowed if network.version == address.version):
        return None
    inner = embedded_ipv4(address)
    if inner is not None:
        why = refusal(inner, allowed)
        return why and f"{address} carries {inner}: {why}"
    if any(address in network for network in ALWAYS_REFUSED if network.version == address.version):
        return f"{address} is a reserved, shared, link-local or multicast address"
    if not address.is_global:
        return f"{address} is not a public address (loopback, private or reserved)"
    return None


def resolve(host: str, port: int) -> list[str]:
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise Unresolvable(f"callback_url's host {host!r} does not resolve: {exc}",
                            field="callback_url") from None
    return list(dict.fromkeys(info[4][0].split("%")[0] for info in found))


def checked_addresses(url: str, allowed) -> tuple[str, str, int, list[str]]:
    """``(scheme, host, port, addresses)``: every address the URL's host resolves to, each one
    allowed, or :class:`RefusedTarget` naming the first that is not."""
    scheme, host, port = split_url(url)
    addresses = resolve(host, port)
    for address in addresses:
        why = refusal(address, allowed)
        if why:
            raise RefusedTarget(f"callback_url {url!r} is refused: {host} resolves to {why}; "
                                "an operator may allow a network with "
                                "LIVECODE_CALLBACK_ALLOW_NETWORKS", field="callback_url")
    return scheme, host, port, addresses
