"""Where a recipient's webhook may point.

An admin types the URL and the worker POSTs to it, so without a check the worker could be aimed at
the cloud metadata service, the database or anything else on the internal network. In production
the URL must be https on port 443 and its host must resolve only to public addresses; the check
runs when the recipient is registered and again before every delivery, so a name that later
resolves inward is refused too. (A name re-pointed between the check and the connection can still
slip through: the egress NetworkPolicy, which lists the recipients' ranges, is the backstop.)
Development and tests may use local peers.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket

import httpx


class UnsafeDestination(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def parse(url: str, *, production: bool) -> httpx.URL:
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        raise UnsafeDestination("invalid_url", "the webhook URL cannot be parsed") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise UnsafeDestination("invalid_url", "the webhook URL needs http(s) and a host")
    if parsed.userinfo:
        raise UnsafeDestination("invalid_url", "the webhook URL must not carry credentials")
    if production and (parsed.scheme != "https" or parsed.port not in (None, 443)):
        raise UnsafeDestination("https_required", "production webhooks use https on port 443")
    return parsed


async def check(url: str, *, production: bool) -> None:
    """Raise UnsafeDestination unless the URL may be posted to now."""
    parsed = parse(url, production=production)
    if not production:
        return
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(parsed.host, 443, type=socket.SOCK_STREAM)
    except socket.gaierror:
        raise UnsafeDestination("unresolvable", "the webhook host does not resolve") from None
    for *_, sockaddr in infos:
        address = ipaddress.ip_address(sockaddr[0])
        if not address.is_global:
            raise UnsafeDestination("private_address", "the webhook host resolves to a non-public address")
