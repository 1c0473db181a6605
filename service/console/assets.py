"""The console's static files, served by the service itself: htmx, vendored and pinned by its
sha256 (checked when this module is imported, so a service with another htmx does not start),
the style sheet and our own passkeys.js. No build step: the files are in the repository as they are served."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources

# htmx 2.0.11, dist/htmx.min.js of the npm package htmx.org (BSD Zero Clause License,
# static/htmx.LICENSE); the package's published integrity was checked when it was vendored.
HTMX_VERSION = "2.0.11"
HTMX_SHA256 = "d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717"


@dataclass(frozen=True)
class Asset:
    body: bytes
    media_type: str
    sha256: str


def _read(name: str) -> bytes:
    return resources.files("service.console").joinpath("static", name).read_bytes()


def _asset(name: str, media_type: str, pinned: str | None = None) -> Asset:
    body = _read(name)
    digest = hashlib.sha256(body).hexdigest()
    if pinned is not None and digest != pinned:
        raise RuntimeError(f"service/console/static/{name} is not the vendored file (sha256 {digest})")
    return Asset(body, media_type, digest)


ASSETS: dict[str, Asset] = {
    "htmx.min.js": _asset("htmx.min.js", "text/javascript", HTMX_SHA256),
    "console.css": _asset("console.css", "text/css"),
    # Ours: the passkey ceremonies of the sign-in and Passkeys pages.
    "passkeys.js": _asset("passkeys.js", "text/javascript"),
}
