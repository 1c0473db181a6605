"""Facts about the calling client that handlers pass to domain code."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection


def client_address(request: ASGIConnection[Any, Any, Any, Any]) -> str:
    # uvicorn has already replaced this with X-Forwarded-For when the peer is a trusted proxy.
    return request.client.host if request.client else "unknown"


def user_agent(request: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    return request.headers.get("user-agent")
