"""Checks every state-changing request passes before any handler runs.

- A browser on a foreign origin may not change state, with or without the session cookie: this
  is what stops cross-site request forgery, including login and registration CSRF (where a
  forged form would sign the victim into the attacker's account).
- A body must be declared JSON: an HTML form can post ``text/plain`` cross-site without a CORS
  preflight, and Litestar would otherwise parse it as JSON anyway. Upload endpoints (marked
  ``ACCEPTS_UPLOAD``) take a raw file declared as one of ``UPLOAD_MEDIA_TYPES``, none of which a
  form can send without a preflight; the file itself is judged by its bytes, not this header.
  The operator console's forms (marked ``ACCEPTS_FORM``) post ``application/x-www-form-urlencoded``:
  each carries a CSRF token bound to the console session and the cookie is SameSite=Strict
  (service/console/security.py).
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response

from service.http.problems import Problem, problem_response
from service.settings import Settings

_UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
ACCEPTS_UPLOAD_OPT = "accepts_upload"
ACCEPTS_UPLOAD: dict[str, Any] = {ACCEPTS_UPLOAD_OPT: True}
ACCEPTS_FORM_OPT = "accepts_form"
ACCEPTS_FORM: dict[str, Any] = {ACCEPTS_FORM_OPT: True}
FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"
UPLOAD_MEDIA_TYPES = frozenset({"image/jpeg", "image/png", "application/pdf", "application/octet-stream"})


def _header(request: Request[Any, Any, Any], name: bytes) -> str | None:
    value = next((v for k, v in request.scope["headers"] if k == name), None)
    return value.decode("latin-1") if value is not None else None


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def _is_json(media_type: str) -> bool:
    return media_type == "application/json" or (media_type.startswith("application/") and media_type.endswith("+json"))


def request_guard(settings: Settings) -> Any:
    allowed = frozenset(settings.allowed_origins)

    async def guard(request: Request[Any, Any, Any]) -> Response[Problem] | None:
        if request.method not in _UNSAFE_METHODS:
            return None
        origin = _header(request, b"origin")
        if origin is not None and origin not in allowed and origin != f"{request.url.scheme}://{request.url.netloc}":
            return problem_response(403, "origin_not_allowed", "Requests from this origin are not accepted")
        length = _header(request, b"content-length")
        has_body = (length is not None and length.strip() not in {"", "0"}) or _header(request, b"transfer-encoding")
        if not has_body:
            return None
        media_type = _media_type(_header(request, b"content-type") or "")
        if request.route_handler.opt.get(ACCEPTS_UPLOAD_OPT):
            if media_type not in UPLOAD_MEDIA_TYPES:
                return problem_response(415, "unsupported_media_type", "Send the file itself as the body")
        elif request.route_handler.opt.get(ACCEPTS_FORM_OPT):
            if media_type != FORM_MEDIA_TYPE:
                return problem_response(415, "unsupported_media_type", "Send the form as a form")
        elif not _is_json(media_type):
            return problem_response(415, "unsupported_media_type", "Send the body as application/json")
        return None

    return guard
