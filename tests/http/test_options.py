"""A plain OPTIONS request names every method of the path, however many handlers share it."""

from __future__ import annotations

import httpx

from service.app import create_litestar
from service.settings import Settings

# Path templates whose handlers come from more than one decorator; Litestar 2 named only one's.
SHARED = {
    "/v1/me": "GET, OPTIONS, PATCH",
    "/v1/sessions": "GET, OPTIONS, POST",
    "/v1/me/totp": "DELETE, OPTIONS, POST",
    "/v1/me/exports": "GET, OPTIONS, POST",
    "/v1/me/cancellation": "DELETE, OPTIONS, POST",
}


def _concrete(path_template: str) -> str:
    """A request path for a template: a UUID or a word in place of each parameter."""
    parts = []
    for part in path_template.split("/"):
        if part.startswith("{"):
            part = "00000000-0000-4000-8000-000000000000" if part.endswith("_id}") else "email"
        parts.append(part)
    return "/".join(parts)


async def test_options_lists_every_method_of_every_path(client: httpx.AsyncClient, settings: Settings) -> None:
    app = create_litestar(settings, dsn="postgresql://unused")
    checked = 0
    for route in app.routes:
        methods = getattr(route, "methods", None)
        if not methods or "{path" in route.path_format or route.path_format.startswith("/openapi"):
            continue
        response = await client.options(_concrete(route.path_format))
        assert response.status_code == 204, (route.path_format, response.text)
        assert response.headers["allow"] == ", ".join(sorted(methods)), route.path_format
        checked += 1
    assert checked > 60
    for path, allow in SHARED.items():
        assert (await client.options(path)).headers["allow"] == allow
