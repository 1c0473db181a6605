"""The keys that sign session tokens: made by the service, published before they sign, retired
once every token they signed has expired.

Each key is an Ed25519 pair. Its private key is sealed by the vault under a data key of its own
(owner: the key's id), so retiring a key destroys that data key as well: backups taken while it
signed stop opening it once the master key that wrapped it is gone. One transaction under an
advisory lock decides a rotation, so replicas running it at once make one key.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from service.database.pool import Database
from service.errors import Unavailable
from service.tokens import store
from service.tokens.store import SigningKey
from service.vault import Vault
from service.vault.labels import VaultField

# A new key is in the published key set this long before it signs anything: longer than a gateway
# may cache the set (JWKS_MAX_AGE), so every gateway has it before its first token.
PRE_PUBLICATION = timedelta(hours=1)
# How long gateways may keep the key set (Cache-Control: max-age of /.well-known/jwks.json).
JWKS_MAX_AGE = timedelta(minutes=5)
# Clocks of replicas and gateways may disagree by this much; a key stays published this long past
# the last expiry of the tokens it signed.
CLOCK_LEEWAY = timedelta(seconds=60)
# Production's longest token lifetime (IDV_SESSION_TOKEN_LIFETIME); a key is kept at least this long.
LONGEST_LIFETIME = timedelta(minutes=5)

assert JWKS_MAX_AGE < PRE_PUBLICATION, "a key must be published for longer than gateways cache the set"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def public_jwk(public_key: bytes) -> dict[str, str]:
    """The public key as an OKP JWK (RFC 8037), without its kid."""
    return {"kty": "OKP", "crv": "Ed25519", "x": _b64url(public_key)}


def thumbprint(public_key: bytes) -> str:
    """The JWK thumbprint (RFC 7638): SHA-256 of the required members in lexicographic order."""
    canonical = json.dumps(public_jwk(public_key), sort_keys=True, separators=(",", ":")).encode()
    return _b64url(hashlib.sha256(canonical).digest())


@dataclass(frozen=True)
class Plan:
    # When a new key is to begin signing (None: no new key).
    new_key_signs_from: datetime | None
    retire: tuple[SigningKey, ...]


def plan(keys: Sequence[SigningKey], at: datetime, rotation: timedelta, lifetime: timedelta) -> Plan:
    """What a rotation at ``at`` does with the live ``keys`` (oldest signer first).

    - No key signs yet: one that signs at once (a first start; nothing could be signed otherwise).
    - The signing key has signed for ``rotation`` less the pre-publication period and no successor
      is waiting: a successor that signs ``PRE_PUBLICATION`` from now.
    - A key whose successor began signing longer ago than a token lives (and the leeway): retired.
    """
    signing = [key for key in keys if key.signs_from <= at]
    waiting = [key for key in keys if key.signs_from > at]
    new_key_signs_from: datetime | None = None
    if not signing:
        new_key_signs_from = at
    elif not waiting and signing[-1].signs_from + rotation - PRE_PUBLICATION <= at:
        new_key_signs_from = at + PRE_PUBLICATION
    kept_for = max(lifetime, LONGEST_LIFETIME) + CLOCK_LEEWAY
    retire = tuple(older for older, newer in itertools.pairwise(signing) if newer.signs_from + kept_for <= at)
    return Plan(new_key_signs_from, retire)


@dataclass(frozen=True)
class Rotation:
    created: str | None
    retired: tuple[str, ...]


async def rotate(
    database: Database, vault: Vault, rotation: timedelta, lifetime: timedelta, at: datetime | None = None
) -> Rotation:
    """Make the next key when one is due and retire the keys no token needs any more, in one
    transaction under the rotation lock."""
    at = at or datetime.now(UTC)
    async with database.transaction() as conn:
        await store.lock_for_rotation(conn)
        decided = plan(await store.live(conn), at, rotation, lifetime)
        created = None
        if decided.new_key_signs_from is not None:
            private = Ed25519PrivateKey.generate()
            public_key = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
            key = SigningKey(uuid.uuid4(), thumbprint(public_key), public_key, at, decided.new_key_signs_from, None)
            cipher = await vault.create_key(conn, key.id)
            raw = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
            await store.insert(conn, key, cipher.seal(VaultField.TOKENS_SIGNING_KEY, raw))
            created = key.kid
        for old in decided.retire:
            await store.retire(conn, old.id, at)
            await vault.destroy(conn, old.id)
    return Rotation(created, tuple(old.kid for old in decided.retire))


async def published(database: Database, vault: Vault, rotation: timedelta, lifetime: timedelta) -> list[SigningKey]:
    """The key set gateways verify with: every key not retired, those waiting to sign included.
    Never empty: asked before any key exists, it makes the first (which signs at once), so that no
    gateway caches an empty set and then meets a token it cannot verify."""
    async with database.connection() as conn:
        keys = await store.live(conn)
    if not keys:
        await rotate(database, vault, rotation, lifetime)
        async with database.connection() as conn:
            keys = await store.live(conn)
    return keys


async def signing_key(
    database: Database, vault: Vault, rotation: timedelta, lifetime: timedelta
) -> tuple[str, Ed25519PrivateKey]:
    """The key that signs now (its kid and private key). The first ask on a database without
    keys makes one (the scheduled rotation makes the rest)."""
    at = datetime.now(UTC)
    async with database.connection() as conn:
        sealed = await store.signing_at(conn, at)
    if sealed is None:
        await rotate(database, vault, rotation, lifetime, at)
        async with database.connection() as conn:
            sealed = await store.signing_at(conn, at)
    if sealed is None:  # a rotation at ``at`` leaves a key signing at ``at``; never seen
        raise Unavailable("signing_key_unavailable", "No key can sign tokens right now", retry_after=1)
    cipher = vault.open_wrapped(sealed.id, sealed.master_key_id, sealed.wrapped_key)
    raw = cipher.open(VaultField.TOKENS_SIGNING_KEY, sealed.private_key)
    return sealed.kid, Ed25519PrivateKey.from_private_bytes(raw)
