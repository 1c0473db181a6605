"""Signed session tokens (issue 23): what they say, who gets one, and that only the published
Ed25519 keys verify them. The verifier here is PyJWT given the key set, as a gateway's would be,
and a second one written with cryptography alone."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import jwt
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from service.accounts.suspension import suspend
from service.app import create_asgi
from service.audit import Actor
from service.runtime import Runtime
from service.settings import load_settings
from service.tokens.keys import PRE_PUBLICATION
from tests.arrange.contacts import verify_email
from tests.arrange.people import person, real_name_verified
from tests.conftest import environment_for_tests
from tests.helpers import STRONG_PASSWORD, bearer, register

TOKEN = "/v1/sessions/token"
JWKS = "/.well-known/jwks.json"
WHOAMI = "/v1/sessions/whoami"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


async def token_for(client: httpx.AsyncClient, me: dict[str, str], **params: str) -> str:
    response = await client.post(TOKEN, headers=me, params=params)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    token: str = response.json()["token"]
    return token


async def key_set(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    response = await client.get(JWKS)
    assert response.status_code == 200, response.text
    keys: list[dict[str, Any]] = response.json()["keys"]
    return keys


def verify(token: str, keys: list[dict[str, Any]], audience: str = "idv-gateway") -> dict[str, Any]:
    """What a gateway does: the key named by the header's kid, from the published set, and EdDSA only."""
    kid = jwt.get_unverified_header(token)["kid"]
    (jwk,) = [key for key in keys if key["kid"] == kid]
    claims: dict[str, Any] = jwt.decode(
        token,
        jwt.PyJWK(jwk),
        algorithms=["EdDSA"],
        audience=audience,
        issuer="idv",
        options={"require": ["exp", "iat", "nbf", "iss", "aud", "sub", "jti"]},
    )
    return claims


def verify_with_cryptography(token: str, keys: list[dict[str, Any]]) -> dict[str, Any]:
    """The same check without PyJWT: the signature over ``header.payload`` with the raw public key."""
    header_part, payload_part, signature_part = token.split(".")
    header = json.loads(_unb64url(header_part))
    assert header["alg"] == "EdDSA"
    (jwk,) = [key for key in keys if key["kid"] == header["kid"]]
    public = Ed25519PublicKey.from_public_bytes(_unb64url(jwk["x"]))
    public.verify(_unb64url(signature_part), f"{header_part}.{payload_part}".encode())
    claims: dict[str, Any] = json.loads(_unb64url(payload_part))
    return claims


async def test_a_token_verifies_with_the_published_key_and_says_what_whoami_says(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    account_id, me = await person(client, runtime)
    whoami = (await client.get(WHOAMI, headers=me)).json()
    before = int(time.time())
    response = await client.post(TOKEN, headers=me)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert 0 < body["expires_in"] <= 120
    keys = await key_set(client)

    claims = verify(body["token"], keys)
    assert claims == verify_with_cryptography(body["token"], keys)
    assert claims["sub"] == str(account_id) == whoami["account_id"]
    assert claims["sid"] == whoami["session_id"]
    assert claims["state"] == whoami["state"] == "active"
    assert claims["assurance"] == whoami["assurance"]
    assert claims["consent_required"] is whoami["consent_required"] is False
    assert claims["iss"] == "idv" and claims["aud"] == "idv-gateway"
    assert before <= claims["iat"] == claims["nbf"] <= int(time.time())
    assert claims["exp"] - claims["iat"] == 120
    assert datetime.fromisoformat(body["expires_at"]) == datetime.fromtimestamp(claims["exp"], UTC)
    # Each token is its own (a gateway may refuse a replayed jti), signed by the one published key.
    again = await token_for(client, me)
    assert verify(again, keys)["jti"] != claims["jti"]
    header = jwt.get_unverified_header(body["token"])
    assert header["alg"] == "EdDSA" and header["typ"] == "JWT"
    assert [key["kid"] for key in keys] == [header["kid"]]


async def test_the_proofing_flags_are_whoamis(client: httpx.AsyncClient, runtime: Runtime) -> None:
    _, me = await real_name_verified(client, runtime)
    whoami = (await client.get(WHOAMI, headers=me)).json()
    claims = verify(await token_for(client, me), await key_set(client))
    assert claims["assurance"] == whoami["assurance"]
    assert claims["assurance"]["real_name_verified"] is True


async def test_the_key_set_publishes_okp_ed25519_public_keys_only_for_a_short_while(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    _, me = await person(client, runtime)
    await token_for(client, me)
    response = await client.get(JWKS)
    keys = response.json()["keys"]
    assert keys and all(
        set(key) == {"kty", "crv", "x", "kid", "alg", "use"}
        and (key["kty"], key["crv"], key["alg"], key["use"]) == ("OKP", "Ed25519", "EdDSA", "sig")
        and len(_unb64url(key["x"])) == 32
        for key in keys
    )
    # The kid is the key's RFC 7638 thumbprint.
    for key in keys:
        canonical = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": key["x"]}, separators=(",", ":"))
        assert key["kid"] == _b64url(hashlib.sha256(canonical.encode()).digest())
    # Cached for less than a new key is published before it signs.
    directives = dict(
        part.strip().partition("=")[::2] for part in response.headers["cache-control"].split(",") if part.strip()
    )
    assert "public" in directives
    assert 0 < int(directives["max-age"]) < PRE_PUBLICATION.total_seconds()


async def test_forged_tokens_are_refused_by_a_verifier_using_the_key_set(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    account_id, me = await person(client, runtime)
    token = await token_for(client, me)
    keys = await key_set(client)
    (jwk,) = keys
    header_part, payload_part, signature_part = token.split(".")
    claims = json.loads(_unb64url(payload_part))

    # Another person's id in a real token's payload: the signature no longer matches.
    forged = {**claims, "sub": str(uuid.uuid4()), "assurance": {**claims["assurance"], "level": 2}}
    tampered = f"{header_part}.{_b64url(json.dumps(forged).encode())}.{signature_part}"
    with pytest.raises(jwt.InvalidSignatureError):
        verify(tampered, keys)
    with pytest.raises(InvalidSignature):
        verify_with_cryptography(tampered, keys)

    # alg=none, unsigned.
    unsigned_header = _b64url(json.dumps({"alg": "none", "typ": "JWT", "kid": jwk["kid"]}).encode())
    unsigned = f"{unsigned_header}.{payload_part}."
    with pytest.raises(jwt.InvalidAlgorithmError):
        verify(unsigned, keys)

    # HS256 with the public key as the HMAC secret (the classic algorithm confusion), whichever
    # form of it a confused verifier might use.
    for secret in (_unb64url(jwk["x"]), jwk["x"].encode(), json.dumps(jwk).encode()):
        hs_header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT", "kid": jwk["kid"]}).encode())
        mac = hmac.new(secret, f"{hs_header}.{payload_part}".encode(), hashlib.sha256).digest()
        confused = f"{hs_header}.{payload_part}.{_b64url(mac)}"
        with pytest.raises(jwt.InvalidAlgorithmError):
            verify(confused, keys)
        # Even a verifier that listed HS256 cannot use an OKP key for it.
        with pytest.raises(jwt.PyJWTError):
            jwt.decode(confused, jwt.PyJWK(jwk), algorithms=["HS256"], audience="idv-gateway")

    # Signed by a key that is not published.
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    stranger = jwt.encode(claims, Ed25519PrivateKey.generate(), algorithm="EdDSA", headers={"kid": jwk["kid"]})
    with pytest.raises(jwt.InvalidSignatureError):
        verify(stranger, keys)
    # For another audience.
    with pytest.raises(jwt.InvalidAudienceError):
        verify(token, keys, audience="another-app")
    assert verify(token, keys)["sub"] == str(account_id)


async def test_no_token_without_a_live_session(client: httpx.AsyncClient, runtime: Runtime) -> None:
    assert (await client.post(TOKEN)).status_code == 401
    assert (await client.post(TOKEN, headers=bearer("not-a-token"))).status_code == 401
    assert (await client.post(TOKEN, headers=bearer("A" * 43))).status_code == 401
    _, me = await person(client, runtime)
    token = await token_for(client, me)
    assert (await client.delete("/v1/sessions/current", headers=me)).status_code == 204
    refused = await client.post(TOKEN, headers=me)
    assert refused.status_code == 401
    assert refused.json()["code"] == "unauthenticated"
    # The revocation delay the README states: a token signed before the sign-out stays valid
    # until its exp, while whoami, the source of truth, already refuses the session.
    assert (await client.get(WHOAMI, headers=me)).status_code == 401
    assert verify(token, await key_set(client))["exp"] <= int(time.time()) + 120


async def test_a_suspended_or_terminated_account_gets_no_token(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    registered = await register(client)
    account_id, me = uuid.UUID(registered["account_id"]), bearer(registered["session"]["token"])
    await verify_email(client, runtime, me, "bruce@example.com")
    await token_for(client, me)
    async with runtime.database.transaction() as conn:
        assert await suspend(conn, account_id, "repeated_identity_mismatch", Actor.system("tests"), None)
    # Suspension ended the session; a suspended account may sign in again to appeal, but gets no token.
    assert (await client.post(TOKEN, headers=me)).status_code == 401
    signed_in = await client.post("/v1/sessions", json={"identifier": "bruce@example.com", "password": STRONG_PASSWORD})
    assert signed_in.status_code == 201, signed_in.text
    limited = bearer(signed_in.json()["session"]["token"])
    assert (await client.get(WHOAMI, headers=limited)).json()["state"] == "suspended"
    refused = await client.post(TOKEN, headers=limited)
    assert refused.status_code == 403
    assert refused.json()["code"] == "account_restricted"
    assert "token" not in refused.json()

    other_id, other = await person(client, runtime)
    await token_for(client, other)
    await db.execute("UPDATE accounts SET state = 'terminated' WHERE id = $1", other_id)
    assert (await client.post(TOKEN, headers=other)).status_code in {401, 403}


async def test_an_audience_is_one_idv_is_configured_with(tmp_path: Path, database_url: str) -> None:
    settings = load_settings(
        environment_for_tests(tmp_path, IDV_SESSION_TOKEN_AUDIENCES="shop, forum", IDV_SESSION_TOKEN_LIFETIME="30s")
    )
    async with Runtime.open(settings, database_url, apply_migrations=False) as runtime:
        transport = httpx.ASGITransport(app=create_asgi(settings, runtime=runtime), client=("203.0.113.10", 1))
        async with httpx.AsyncClient(transport=transport, base_url="https://idv.test") as client:
            _, me = await person(client, runtime)
            keys_token = await token_for(client, me)
            keys = await key_set(client)
            assert verify(keys_token, keys, audience="shop")["aud"] == "shop"
            forum = verify(await token_for(client, me, audience="forum"), keys, audience="forum")
            assert forum["exp"] - forum["iat"] == 30
            refused = await client.post(TOKEN, headers=me, params={"audience": "bank"})
            assert refused.status_code == 422
            assert refused.json()["errors"][0]["field"] == "audience"
            assert (await client.post(TOKEN, headers=me, params={"audience": ""})).status_code == 400


async def test_a_token_never_outlives_its_session(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    account_id, me = await person(client, runtime)
    ends = await db.fetchval(
        "UPDATE sessions SET expires_at = now() + interval '30 seconds' WHERE account_id = $1 RETURNING expires_at",
        account_id,
    )
    claims = verify(await token_for(client, me), await key_set(client))
    assert claims["exp"] == int(ends.timestamp())
    assert claims["exp"] - claims["iat"] <= 30
