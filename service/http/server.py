"""How uvicorn serves the app: one place, so tests serve it exactly as `idv serve` does."""

from __future__ import annotations

import errno
import logging
import socket

import uvicorn

from service.http.context import RequestContext

logger = logging.getLogger(__name__)
# What binding `::` raises where the kernel or the pod has no IPv6.
NO_IPV6 = {errno.EAFNOSUPPORT, errno.EADDRNOTAVAIL, errno.EPROTONOSUPPORT}
ALL_IPV4 = "0.0.0.0"  # noqa: S104 - `::` asked for every address; this is every IPv4 one


def listening_sockets(hosts: str, port: int) -> list[socket.socket]:
    """Bind IDV_HOST: one address, or several separated by commas (each its own socket, on the same
    port). ``::`` alone listens on IPv6 and IPv4 at once (IPV6_V6ONLY off: IPv4 clients arrive as
    ``::ffff:a.b.c.d``, unmapped by service.http.forwarding); asyncio, and so uvicorn given a host,
    would make it IPv6 only. Where IPv6 is disabled, ``::`` falls back to ``0.0.0.0`` and says so."""
    addresses = [host.strip().strip("[]") for host in hosts.split(",") if host.strip()]
    sockets: list[socket.socket] = []
    try:
        for address in addresses:
            dual_stack = address == "::" and len(addresses) == 1
            try:
                sockets.append(_bind(address, port, dual_stack=dual_stack))
            except OSError as exc:
                if not dual_stack or exc.errno not in NO_IPV6:
                    raise
                logger.warning("no IPv6 here: listening on IPv4 only", extra={"host": ALL_IPV4, "error": str(exc)})
                sockets.append(_bind(ALL_IPV4, port, dual_stack=False))
            port = port or sockets[-1].getsockname()[1]  # port 0: the others take the first one's
    except BaseException:
        for sock in sockets:
            sock.close()
        raise
    for sock in sockets:
        logger.info("listening", extra={"address": _describe(sock)})
    return sockets


def _bind(address: str, port: int, *, dual_stack: bool) -> socket.socket:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0 if dual_stack else 1)
        sock.bind((address, port))
        sock.set_inheritable(True)
    except BaseException:
        sock.close()
        raise
    return sock


def _describe(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"[{host}]:{port}" if sock.family == socket.AF_INET6 else f"{host}:{port}"


def server_config(app: RequestContext, *, host: str, port: int, graceful_seconds: int) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        access_log=False,
        log_config=None,
        # The app reads X-Forwarded-For itself (service.http.forwarding): uvicorn's reading believes
        # a forged left-most entry whenever every hop after it is in a trusted range.
        proxy_headers=False,
        server_header=False,
        timeout_graceful_shutdown=graceful_seconds,
    )
