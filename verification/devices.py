"""What a person is shown of the device and network a sign-in came from: a summary, never the raw values.

``device`` names a browser (or client) and an operating system from a User-Agent header: enough for a person to
recognise "Firefox on Windows" as theirs or not, little enough that it does not fingerprint them. ``network`` is
the address's prefix (an IPv4 /24, an IPv6 /48): no geo-IP database is used, so no place is claimed.
"""

from __future__ import annotations

import ipaddress
import re

UNKNOWN_DEVICE = "an unknown device"
UNKNOWN_NETWORK = "an unknown network"
IPV4_PREFIX = 24
IPV6_PREFIX = 48
_MAX_USER_AGENT = 512

# First match wins, so the more specific come first (Edge and Opera say "Chrome" too, Chrome says "Safari").
_BROWSERS = (
    ("Edge", re.compile(r"\bEdg(?:e|A|iOS)?/")),
    ("Opera", re.compile(r"\bOPR/|\bOpera\b")),
    ("Samsung Internet", re.compile(r"\bSamsungBrowser/")),
    ("WeChat", re.compile(r"\bMicroMessenger/")),
    ("Firefox", re.compile(r"\bFirefox/|\bFxiOS/")),
    ("Chrome", re.compile(r"\bChrome/|\bCriOS/|\bChromium/")),
    ("Safari", re.compile(r"\bSafari/")),
    ("curl", re.compile(r"^curl/")),
    ("an HTTP library", re.compile(r"^(?:python-|Python-urllib|Go-http-client|okhttp|axios|node-fetch|Java/)")),
)
_SYSTEMS = (
    ("Android", re.compile(r"\bAndroid\b")),
    ("iOS", re.compile(r"\biPhone\b|\biPad\b|\biPod\b")),
    ("Windows", re.compile(r"\bWindows\b")),
    ("macOS", re.compile(r"\bMac OS X\b|\bMacintosh\b")),
    ("ChromeOS", re.compile(r"\bCrOS\b")),
    ("HarmonyOS", re.compile(r"\bHarmonyOS\b|\bOpenHarmony\b")),
    ("Linux", re.compile(r"\bLinux\b")),
)


def device(user_agent: str | None) -> str:
    """``Firefox on Windows``, ``Safari on iOS``, ``curl``; ``an unknown device`` when nothing is recognised."""
    if not user_agent:
        return UNKNOWN_DEVICE
    text = user_agent[:_MAX_USER_AGENT]
    browser = next((name for name, pattern in _BROWSERS if pattern.search(text)), None)
    system = next((name for name, pattern in _SYSTEMS if pattern.search(text)), None)
    if browser and system:
        return f"{browser} on {system}"
    return browser or (f"a browser on {system}" if system else UNKNOWN_DEVICE)


def network(address: str | None) -> str:
    """The address's network: ``203.0.113.0/24``, ``2001:db8:1::/48``; ``an unknown network`` otherwise."""
    if not address:
        return UNKNOWN_NETWORK
    try:
        parsed = ipaddress.ip_address(address.strip())
    except ValueError:
        return UNKNOWN_NETWORK
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        parsed = parsed.ipv4_mapped
    prefix = IPV4_PREFIX if parsed.version == 4 else IPV6_PREFIX
    return str(ipaddress.ip_network(f"{parsed}/{prefix}", strict=False))
