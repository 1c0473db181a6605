"""What a person is shown of a device and a network: summaries (issue 19)."""

from __future__ import annotations

import pytest

from verification.devices import UNKNOWN_DEVICE, UNKNOWN_NETWORK, device, network


@pytest.mark.parametrize(
    ("user_agent", "shown"),
    [
        ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox on Windows"),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
            "Safari/537.36 Edg/131.0.0.0",
            "Edge on Windows",
        ),
        (
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
            "Mobile Safari/537.36",
            "Chrome on Android",
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
            "Version/18.1 Safari/605.1.15",
            "Safari on macOS",
        ),
        ("curl/8.5.0", "curl"),
        ("python-httpx/0.28.1", "an HTTP library"),
        ("Mozilla/5.0 (X11; Linux x86_64)", "a browser on Linux"),
        ("", UNKNOWN_DEVICE),
        (None, UNKNOWN_DEVICE),
        ("\x00" * 100_000, UNKNOWN_DEVICE),
        ("<script>alert(1)</script>", UNKNOWN_DEVICE),
    ],
)
def test_a_user_agent_is_summarised_to_browser_and_system(user_agent: str | None, shown: str) -> None:
    assert device(user_agent) == shown


@pytest.mark.parametrize(
    ("address", "shown"),
    [
        ("203.0.113.10", "203.0.113.0/24"),
        ("2001:db8:abcd:12::7", "2001:db8:abcd::/48"),
        ("::ffff:198.51.100.7", "198.51.100.0/24"),
        ("unknown", UNKNOWN_NETWORK),
        ("", UNKNOWN_NETWORK),
        (None, UNKNOWN_NETWORK),
        ("999.1.1.1", UNKNOWN_NETWORK),
    ],
)
def test_an_address_is_shown_as_its_network_prefix(address: str | None, shown: str) -> None:
    assert network(address) == shown
