"""Webhooks cannot be aimed inward: in production only https on 443 to hosts that resolve to
public addresses; checked at registration and before each delivery."""

from __future__ import annotations

import pytest

from service.recipients.destinations import UnsafeDestination, check


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("http://169.254.169.254/latest/meta-data", "https_required"),
        ("https://169.254.169.254/latest/meta-data", "private_address"),
        ("https://127.0.0.1/hook", "private_address"),
        ("https://localhost/hook", "private_address"),
        ("https://10.1.2.3/hook", "private_address"),
        ("https://192.168.0.10/hook", "private_address"),
        ("https://[fd00::1]/hook", "private_address"),
        ("https://[::ffff:127.0.0.1]/hook", "private_address"),
        ("https://93.184.216.34:8443/hook", "https_required"),
        ("https://user:secret@93.184.216.34/hook", "invalid_url"),
        ("https://[::1/hook", "invalid_url"),
        ("ftp://93.184.216.34/hook", "invalid_url"),
    ],
)
async def test_production_refuses_what_is_not_a_public_https_endpoint(url: str, code: str) -> None:
    with pytest.raises(UnsafeDestination) as refused:
        await check(url, production=True)
    assert refused.value.code == code


async def test_a_public_https_endpoint_is_allowed_and_local_peers_outside_production() -> None:
    await check("https://93.184.216.34/hook", production=True)
    await check("http://127.0.0.1:8081/hook", production=False)
