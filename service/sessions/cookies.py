"""The session cookie: HttpOnly, Secure, SameSite=Lax, host-only."""

from __future__ import annotations

from datetime import UTC, datetime

from litestar.datastructures import Cookie

from service.settings import Settings

# The __Host- prefix makes browsers refuse the cookie unless it is Secure, host-only and Path=/.
SECURE_NAME = "__Host-idv_session"
PLAIN_NAME = "idv_session"


def cookie_name(settings: Settings) -> str:
    return SECURE_NAME if settings.cookie_secure else PLAIN_NAME


def session_cookie(settings: Settings, token: str, expires_at: datetime) -> Cookie:
    return Cookie(
        key=cookie_name(settings),
        value=token,
        path="/",
        httponly=True,
        secure=settings.cookie_secure,
        samesite="lax",
        max_age=max(0, int((expires_at - datetime.now(UTC)).total_seconds())),
    )


def cleared_cookie(settings: Settings) -> Cookie:
    return Cookie(
        key=cookie_name(settings),
        value="",
        path="/",
        httponly=True,
        secure=settings.cookie_secure,
        samesite="lax",
        max_age=0,
    )
