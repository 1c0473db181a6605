"""Whether what a person says now matches their verified real-name record (sessions' assisted
recovery asks): the ID number through its blind index, the legal name against the sealed one,
both compared in constant time. What was said is neither stored nor returned, only whether it
matched."""

from __future__ import annotations

import hmac
from dataclasses import dataclass

import asyncpg

from service.realname import store
from service.realname.store import VerificationStatus
from service.vault import BlindIndex, OwnerCipher
from service.vault.labels import IndexPurpose, VaultField
from verification.errors import InvalidValue
from verification.identity_numbers import compact_identity_number
from verification.legal_names import normalize_legal_name


@dataclass(frozen=True)
class RecordMatch:
    legal_name: bool
    id_number: bool

    @property
    def both(self) -> bool:
        return self.legal_name and self.id_number


async def match_verified_record(
    conn: asyncpg.Connection, index: BlindIndex, cipher: OwnerCipher, legal_name: str, id_number: str
) -> RecordMatch | None:
    """None when the account (the cipher's owner) has no verified real name to compare with."""
    summary = await store.live_for_account(conn, cipher.owner_id)
    if summary is None or summary.status is not VerificationStatus.VERIFIED:
        return None
    record = await store.fetch(conn, summary.id)
    if record is None:
        return None
    number_matches = index.matches(
        IndexPurpose.IDENTITY_NUMBER, compact_identity_number(id_number), record.id_number_index
    )
    try:
        given = normalize_legal_name(legal_name)
    except InvalidValue:
        given = ""  # not a name at all: it matches nothing, and says no more than a wrong one
    verified = cipher.open_text(VaultField.REALNAME_LEGAL_NAME, record.legal_name)
    name_matches = hmac.compare_digest(given.encode(), verified.encode()) and bool(given)
    return RecordMatch(name_matches, number_matches)
