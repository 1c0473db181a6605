"""The client's address behind the gateway: the right-most address the gateway's own hops did not add.

Each proxy appends the address it received the connection from to ``X-Forwarded-For``; everything
to the left of what our own proxies appended was written by the client and proves nothing. So the
client is the entry ``forwarded_hops`` places from the right (with Envoy as the only hop, the last
one: the address Envoy saw), and only when the direct peer is one of our proxies at all
(``IDV_FORWARDED_ALLOW_IPS``). Trusting "any address in 10.0.0.0/8", as uvicorn's proxy support
does when it walks the list from the right, let a client whose own hop sits in the same range
pick its address with a forged left-most entry and step around every per-address limit.

``X-Forwarded-Proto`` is read the same way: the entry our hop wrote.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Sequence

from litestar.types import ASGIApp, Receive, Scope, Send

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(spec: str) -> tuple[Network, ...]:
    """``127.0.0.1, 10.0.0.0/8`` -> networks; ``*`` means every peer (only where nothing but the
    gateway can connect, e.g. behind a NetworkPolicy)."""
    items = [item.strip() for item in spec.split(",") if item.strip()]
    if "*" in items:
        return (ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0"))
    return tuple(ipaddress.ip_network(item, strict=False) for item in items)


def _is_trusted(peer: str, trusted: Sequence[Network]) -> bool:
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return False
    return any(address in network for network in trusted)


def unmapped(peer: str) -> str:
    """An IPv4 client of a dual-stack socket (IDV_HOST=::) arrives as ``::ffff:10.1.2.3``: it is
    ``10.1.2.3``, which IDV_FORWARDED_ALLOW_IPS, rate limits and the audit trail know it by."""
    try:
        mapped = ipaddress.ip_address(peer)
    except ValueError:
        return peer
    if isinstance(mapped, ipaddress.IPv6Address) and mapped.ipv4_mapped is not None:
        return str(mapped.ipv4_mapped)
    return peer


def _header_values(scope: Scope, name: bytes) -> list[str]:
    """Every comma-separated entry of every occurrence of the header, in order."""
    entries: list[str] = []
    for key, value in scope["headers"]:
        if key == name:
            entries.extend(part.strip() for part in value.decode("latin-1").split(","))
    return [entry for entry in entries if entry]


def forwarded_client(peer: str, forwarded_for: list[str], trusted: Sequence[Network], hops: int) -> str:
    """The client's address: the peer itself unless it is one of our proxies; else the entry our
    ``hops`` proxies appended last (the right-most one they did not add themselves)."""
    if not _is_trusted(peer, trusted):
        return peer
    return _appended_by_our_hops(peer, forwarded_for, hops)


def _appended_by_our_hops(peer: str, forwarded_for: list[str], hops: int) -> str:
    """The entry our ``hops`` proxies appended last, for a peer known to be one of them."""
    if hops < 1 or len(forwarded_for) < hops:
        return peer
    candidate = forwarded_for[-hops]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        # Not an address (a proxy misconfigured, or "unknown"): the peer is all we know.
        return peer


class TrustedForwarding:
    """ASGI middleware that sets ``scope["client"]`` (and ``scheme``) from our proxies' headers."""

    def __init__(self, app: ASGIApp, trusted: Sequence[Network], hops: int) -> None:
        self.app = app
        self.trusted = tuple(trusted)
        self.hops = hops
        # Whether a peer is one of our proxies, remembered: the peers are the gateway's few pods, and
        # parsing the address on every request was a tenth of whoami's time. Bounded, since the peer
        # is whatever connects (an IPv6 client can bring many addresses).
        self._peer_trusted = functools.lru_cache(maxsize=4096)(functools.partial(_is_trusted, trusted=self.trusted))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client")
        if scope["type"] in ("http", "websocket") and client is not None and client[0].startswith("::ffff:"):
            # An IPv4 caller of a dual-stack socket, as the IPv4 address it is (limits, the proxy
            # list). In place, for the same reason as below.
            client = (unmapped(client[0]), client[1])
            scope["client"] = client
        if scope["type"] in ("http", "websocket") and client is not None and self.hops > 0:
            peer, port = client
            if self._peer_trusted(peer):
                # In place, not on a copy: the layer outside (service.http.context) reads the route
                # template that routing writes into this same scope, for metrics, logs and spans.
                forwarded = _header_values(scope, b"x-forwarded-for")
                scope["client"] = (_appended_by_our_hops(peer, forwarded, self.hops), port)
                protos = _header_values(scope, b"x-forwarded-proto")
                if len(protos) >= self.hops and protos[-self.hops] in ("http", "https"):
                    scope["scheme"] = protos[-self.hops]
        await self.app(scope, receive, send)
