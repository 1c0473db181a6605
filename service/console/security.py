"""The console's security frame: its own session cookie, CSRF tokens, and the headers of every page.

- The cookie holds the token of an operator session signed in through the console
  (service.operators.sign_in and .passkeys with ``SessionChannel.CONSOLE``), never a person's nor
  an API session's: only the operators' console sessions are accepted, so a user's session or an
  operator's bearer token opens nothing here, and the cookie's token is no bearer token. It is
  HttpOnly, SameSite=Strict, Path=/ and, where cookies are Secure (IDV_COOKIE_SECURE, as for the
  users' session cookie), ``__Host-`` prefixed. The idle timeout is the operator sessions'
  (IDV_OPERATOR_SESSION_IDLE_TIMEOUT), enforced where the session is looked up.
- Every state-changing form carries a synchronizer token bound to the console session: an HMAC
  keyed with the session's own token, which only the server and the cookie's holder can compute;
  it dies with the session. The sign-in form, before there is a session, carries a random token
  also set in a short-lived cookie of its own (double submit; the cookie is ``__Host-`` too); a
  passkey sign-in's challenge is bound to that cookie's token (its sha256), so it is answered only
  from the page that asked for it.
- Pages forbid inline script and style and framing, and are never stored by caches.
- A case's documents and photos are never cached either; were one opened on its own, the sandbox
  gives it an opaque origin without scripts, and only pages of this origin may embed it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from litestar.datastructures import Cookie

from service.settings import Settings

SESSION_COOKIE = "idv_console"
PRE_SESSION_COOKIE = "idv_console_pre"
CSRF_FIELD = "csrf_token"
# A sign-in form is good for this long.
PRE_SESSION_SECONDS = 15 * 60

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
# With the headers every response carries (service.http.context: nosniff, DENY framing). Not its
# no-referrer: with it, browsers post forms with ``Origin: null``, which the request guard refuses
# as a foreign origin; same-origin still sends nothing to other sites.
PAGE_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "cache-control": "no-store",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
}

# The evidence a browser may show inline (its headers: service.http.evidence); never a PDF.
INLINE_MEDIA_TYPES = frozenset({"image/jpeg", "image/png"})


def evidence_disposition(media_type: str, filename: str) -> str:
    """Inline for the images a page shows; anything else (a PDF) only as a download."""
    shown = "inline" if media_type in INLINE_MEDIA_TYPES else "attachment"
    return f'{shown}; filename="{filename}"'


def cookie_name(settings: Settings, name: str) -> str:
    # Browsers refuse a __Host- cookie that is not Secure; without Secure the plain name is used.
    return f"__Host-{name}" if settings.cookie_secure else name


def session_cookie(settings: Settings, token: str, max_age: int) -> Cookie:
    return _cookie(settings, SESSION_COOKIE, token, max_age)


def cleared_session_cookie(settings: Settings) -> Cookie:
    return _cookie(settings, SESSION_COOKIE, "", 0)


def pre_session_cookie(settings: Settings, token: str) -> Cookie:
    return _cookie(settings, PRE_SESSION_COOKIE, token, PRE_SESSION_SECONDS)


def _cookie(settings: Settings, name: str, value: str, max_age: int) -> Cookie:
    return Cookie(
        key=cookie_name(settings, name),
        value=value,
        path="/",
        httponly=True,
        secure=settings.cookie_secure,
        samesite="strict",
        max_age=max_age,
    )


def cleared_pre_session_cookie(settings: Settings) -> Cookie:
    return _cookie(settings, PRE_SESSION_COOKIE, "", 0)


def new_pre_session_token() -> str:
    return secrets.token_urlsafe(32)


def pre_session_digest(token: str) -> bytes:
    """What a passkey sign-in's challenge is bound to: the sign-in page's pre-session (its cookie)."""
    return hashlib.sha256(token.encode()).digest()


def csrf_token(session_token: str) -> str:
    """The CSRF token of the console session whose (secret) token this is."""
    return hmac.new(session_token.encode(), b"idv console csrf v1", hashlib.sha256).hexdigest()


def csrf_matches(expected: str | None, sent: str | None) -> bool:
    if not expected or not sent:
        return False
    return hmac.compare_digest(expected.encode(), sent.encode())
