"""Consents a person grants over the API before the work that relies on them."""

from __future__ import annotations

import httpx

CURRENT_VERSION = "2026-11-01"


async def grant(client: httpx.AsyncClient, me: dict[str, str], purpose: str, version: str = CURRENT_VERSION) -> None:
    """The person grants the consent for ``purpose`` (identity_data, biometric, ...)."""
    granted = await client.post(f"/v1/me/consents/{purpose}", json={"version": version}, headers=me)
    assert granted.status_code == 200, granted.text
