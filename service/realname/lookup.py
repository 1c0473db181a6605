"""Which accounts are verified with an identity number: an operator's account look-up
(accounts.lookup) asks here, by the number's blind index only."""

from __future__ import annotations

from datetime import date
from uuid import UUID

import asyncpg

from service.errors import checking
from service.realname import store
from service.vault import BlindIndex
from service.vault.labels import IndexPurpose
from verification.identity_numbers import parse_identity_number


def number_to_look_up(value: str, today: date, field: str) -> str:
    """The number as verification stores its index (checked the same way: a number that could not
    have been verified is refused as ``field``'s problem, never looked up)."""
    with checking(field):
        return parse_identity_number(value, today).number


async def accounts_verified_as(conn: asyncpg.Connection, index: BlindIndex, number: str) -> list[UUID]:
    """The accounts verified with the number (``number_to_look_up``'s), under each key in use."""
    return await store.accounts_verified_with_number(conn, index.digests(IndexPurpose.IDENTITY_NUMBER, number))
