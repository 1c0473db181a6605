"""Issuing a signed session token: whoami's answer as JWT claims, signed with EdDSA (Ed25519).

A token is a copy of whoami's answer that a gateway can check without asking idv, valid for
IDV_SESSION_TOKEN_LIFETIME (never past its session's expiry). What idv learns after signing it (a
sign-out, a revocation, a suspension, a new assurance) reaches the gateway only with the next
token: that delay is what local verification costs, and whoami stays the source of truth.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import jwt
import msgspec

from service.accounts.states import AccountState
from service.errors import Forbidden, invalid_field
from service.runtime import Runtime
from service.sessions import claims
from service.sessions.sessions import Principal
from service.tokens.keys import signing_key

ALGORITHM = "EdDSA"
# States whoami answers in but no token is signed for: what an account in them may still do
# (appeal, export, see the reason) goes through idv itself, never through a gateway's app.
NO_TOKEN = frozenset({AccountState.SUSPENDED, AccountState.TERMINATED, AccountState.ERASED})


@dataclass(frozen=True)
class IssuedToken:
    token: str
    kid: str
    expires_at: datetime


def token_claims(
    principal: Principal, issuer: str, audience: str, issued_at: int, expires_at: int
) -> dict[str, object]:
    """The claims: whoami's answer (its assurance object and flags, as whoami words them) plus the
    registered claims of RFC 7519."""
    return {
        "iss": issuer,
        "sub": str(principal.account_id),
        "aud": audience,
        "iat": issued_at,
        "nbf": issued_at,
        "exp": expires_at,
        "jti": str(uuid.uuid4()),
        "sid": str(principal.session_id),
        "state": principal.state.value,
        "assurance": msgspec.to_builtins(claims.assurance(principal)),
        "consent_required": principal.consent_required,
    }


def chosen_audience(audiences: tuple[str, ...], asked: str | None) -> str:
    if asked is None:
        return audiences[0]
    if asked not in audiences:
        raise invalid_field("audience", "unknown_audience", "ask for one of the audiences idv is configured with")
    return asked


async def issue(runtime: Runtime, principal: Principal, audience: str | None) -> IssuedToken:
    settings = runtime.settings
    aud = chosen_audience(settings.session_token_audiences, audience)
    if principal.state in NO_TOKEN:
        raise Forbidden(
            "account_restricted",
            f"Your account is {principal.state}; no token is issued for it",
            "see GET /v1/me for the reason and GET /v1/me/cases to appeal",
        )
    lifetime = settings.session_token_lifetime
    kid, private_key = await signing_key(
        runtime.database, runtime.vault, settings.session_signing_key_rotation, lifetime
    )
    now = datetime.now(UTC)
    issued_at = int(now.timestamp())
    expires_at = min(issued_at + int(lifetime.total_seconds()), int(principal.expires_at.timestamp()))
    body = token_claims(principal, settings.session_token_issuer, aud, issued_at, expires_at)
    token = jwt.encode(body, private_key, algorithm=ALGORITHM, headers={"kid": kid, "typ": "JWT"})
    return IssuedToken(token, kid, datetime.fromtimestamp(expires_at, UTC))
