"""Who is calling: a session token from the Authorization header or the session cookie."""

from __future__ import annotations

from typing import Any

from litestar import Request

from service.accounts.states import AccountState
from service.consents.ledger import required_acceptances
from service.errors import Forbidden, Unauthenticated
from service.runtime import Runtime
from service.sessions.cookies import cookie_name
from service.sessions.sessions import Principal, resolve_session

WITHOUT_CONSENT_OPT = "allowed_without_consent"
WHILE_RESTRICTED_OPT = "allowed_while_restricted"
# ``opt`` of the endpoints that work while a required policy awaits acceptance and while the
# account is suspended: reading and accepting policies, seeing one's own data and sessions,
# signing out (and, later, export and cancellation). Everything else answers 403
# consent_required or account_restricted.
SELF_SERVICE: dict[str, Any] = {WITHOUT_CONSENT_OPT: True, WHILE_RESTRICTED_OPT: True}
# Endpoints a suspended account reaches besides those: its cases (to appeal) and withdrawing consent.
WHILE_RESTRICTED: dict[str, Any] = {WHILE_RESTRICTED_OPT: True}
AWAITING_GUARDIAN_OPT = "allowed_awaiting_guardian"
# What a minor reaches before a guardian consents: a status check, and inviting the guardian.
AWAITING_GUARDIAN: dict[str, Any] = {AWAITING_GUARDIAN_OPT: True}
# Whoami, one's profile and signing out: reachable in every state that can sign in.
STATUS_CHECK: dict[str, Any] = {**SELF_SERVICE, **AWAITING_GUARDIAN}
VERIFICATION_OPT = "allowed_for_verification"
# Proving who one is (contacts, real name, face, qualifications): what a restricted account is for.
FOR_VERIFICATION: dict[str, Any] = {VERIFICATION_OPT: True}

# Limited states -> the ``opt`` keys that let a session through (any one suffices).
REACHABLE_WHILE: dict[AccountState, frozenset[str]] = {
    AccountState.SUSPENDED: frozenset({WHILE_RESTRICTED_OPT}),
    AccountState.CANCELLATION_PENDING: frozenset({WHILE_RESTRICTED_OPT}),
    AccountState.RESTRICTED: frozenset({WHILE_RESTRICTED_OPT, VERIFICATION_OPT}),
}


def unauthenticated() -> Unauthenticated:
    return Unauthenticated("unauthenticated", "Sign in first", challenge=True)


def presented_token(request: Request[Any, Any, Any], cookie: str) -> tuple[str | None, bool]:
    """(token, came from the cookie)."""
    # Read from the raw ASGI headers: building Litestar's Headers object for one look-up costs
    # more than the look-up, and this runs on every authenticated request.
    header = next((value for name, value in request.scope["headers"] if name == b"authorization"), None)
    if header is not None:
        scheme, _, value = header.decode("latin-1").partition(" ")
        return (value.strip(), False) if scheme.lower() == "bearer" else (None, False)
    from_cookie = request.cookies.get(cookie)
    return (from_cookie, True) if from_cookie else (None, False)


async def provide_principal(request: Request[Any, Any, Any]) -> Principal:
    # The runtime is read from app state rather than injected: this runs on every
    # authenticated request (whoami above all), and a nested dependency costs more than it saves.
    runtime: Runtime = request.app.state.runtime
    settings = runtime.settings
    token, _ = presented_token(request, cookie_name(settings))
    if token is None:
        raise unauthenticated()
    principal = await resolve_session(
        runtime.database,
        token,
        settings.session_idle_timeout,
        required_acceptances(runtime.policies),
        runtime.session_cache,
    )
    if principal is None:
        raise unauthenticated()
    opt = request.route_handler.opt
    if principal.state is AccountState.AWAITING_GUARDIAN and not opt.get(AWAITING_GUARDIAN_OPT):
        raise Forbidden(
            "guardian_consent_required",
            "A parent or guardian must agree first",
            "invite them with POST /v1/me/guardian-invitation",
        )
    reachable = REACHABLE_WHILE.get(principal.state)
    if reachable is not None and not any(opt.get(key) for key in reachable):
        raise Forbidden(
            "account_restricted",
            f"Your account is {principal.state}; only appeals and your data rights are available",
            "see GET /v1/me for the reason and GET /v1/me/cases to appeal",
        )
    if principal.consent_required and not opt.get(WITHOUT_CONSENT_OPT):
        raise Forbidden(
            "consent_required",
            "Accept the updated terms or privacy policy first",
            "see GET /v1/me/consents; accept with POST /v1/me/consents/{purpose}",
        )
    return principal
