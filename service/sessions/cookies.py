"""The session cookie: HttpOnly, Secure, SameSite=Lax; host-only unless IDV_COOKIE_DOMAIN is set."""

from __future__ import annotations

from datetime import UTC, datetime

from litestar.datastructures import Cookie

from service.settings import Settings

# The __Host- prefix makes browsers refuse the cookie unless it is Secure, host-only and Path=/.
SECURE_NAME = "__Host-idv_session"
# A cookie for a parent domain (apps on its subdomains) may not be __Host-; __Secure- still makes
# browsers refuse it unless it is Secure, so no plain-HTTP page can set or overwrite it.
DOMAIN_NAME = "__Secure-idv_session"
PLAIN_NAME = "idv_session"


def cookie_name(settings: Settings) -> str:
    if not settings.cookie_secure:
        return PLAIN_NAME
    return DOMAIN_NAME if settings.cookie_domain else SECURE_NAME


def session_cookie(settings: Settings, token: str, expires_at: datetime) -> Cookie:
    return Cookie(
        key=cookie_name(settings),
        value=token,
        path="/",
        domain=settings.cookie_domain,
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
        domain=settings.cookie_domain,
        httponly=True,
        secure=settings.cookie_secure,
        samesite="lax",
        max_age=0,
    )
