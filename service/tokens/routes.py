"""HTTP for signed session tokens and the key set gateways verify them with."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from litestar import Controller, Response, get, post
from litestar.params import QueryParameter

from service.http.dependencies import CurrentRuntime, SignedIn
from service.sessions.auth import STATUS_CHECK
from service.tokens.issuing import ALGORITHM, issue
from service.tokens.keys import JWKS_MAX_AGE, public_jwk, published
from service.tokens.schemas import JsonWebKey, KeySet, SessionToken


class SessionTokenController(Controller):
    path = "/v1/sessions/token"
    tags = ["sessions"]

    # Reachable wherever whoami is (its claims say the state and whether consent is required), but
    # issuing.NO_TOKEN. Not rate limited, like whoami: a gateway asks for many people from one address.
    @post(
        "/",
        status_code=200,
        summary="A short-lived signed token (JWT, EdDSA) carrying whoami's answer, for gateways that verify "
        "locally with /.well-known/jwks.json",
        opt=STATUS_CHECK,
    )
    async def create(
        self,
        runtime: CurrentRuntime,
        principal: SignedIn,
        audience: Annotated[str | None, QueryParameter(min_length=1, max_length=200)] = None,
    ) -> Response[SessionToken]:
        issued = await issue(runtime, principal, audience)
        expires_in = max(0, int((issued.expires_at - datetime.now(UTC)).total_seconds()))
        return Response(
            SessionToken(issued.token, "Bearer", issued.expires_at, expires_in),
            headers={"cache-control": "no-store"},
        )


class KeySetController(Controller):
    path = "/.well-known/jwks.json"
    tags = ["sessions"]

    @get(
        "/",
        summary="The public keys session tokens are signed with (OKP/Ed25519 JWKs), the next one included "
        "before it signs",
    )
    async def key_set(self, runtime: CurrentRuntime) -> Response[KeySet]:
        keys = [
            JsonWebKey(**public_jwk(key.public_key), kid=key.kid, alg=ALGORITHM, use="sig")
            for key in await published(
                runtime.database,
                runtime.vault,
                runtime.settings.session_signing_key_rotation,
                runtime.settings.session_token_lifetime,
            )
        ]
        return Response(
            KeySet(keys),
            headers={"cache-control": f"public, max-age={int(JWKS_MAX_AGE.total_seconds())}"},
        )
