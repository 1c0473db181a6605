"""SQL for accounts and their state history."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

import asyncpg
import msgspec

from service.accounts.states import DOUBT, AccountEvent, AccountState, next_state


class AccountProfile(msgspec.Struct, frozen=True):
    """An account with its contacts, its data key (wrapped) and whether TOTP is on. Personal
    values are sealed under the account's data key."""

    id: UUID
    state: AccountState
    display_name: bytes
    username: bytes | None
    birth_date: bytes
    created_at: datetime
    in_doubt: bool
    master_key_id: str
    wrapped_key: bytes
    email: bytes | None
    email_verified_at: datetime | None
    phone: bytes | None
    phone_verified_at: datetime | None
    totp_enabled: bool
    # None for accounts registered before languages were recorded: the service's default.
    preferred_language: str | None = None


class StateChange(msgspec.Struct, frozen=True):
    """One change of an account's state, as its history records it."""

    from_state: AccountState | None
    reason_code: str | None
    case_id: UUID | None
    at: datetime


def _state_change(row: asyncpg.Record | None) -> StateChange | None:
    if row is None:
        return None
    before = row["from_state"]
    return StateChange(AccountState(before) if before else None, row["reason_code"], row["case_id"], row["at"])


async def insert(
    conn: asyncpg.Connection,
    *,
    account_id: UUID,
    display_name: bytes,
    username: bytes | None,
    username_index: bytes | None,
    birth_date: bytes,
    password_hash: str,
    preferred_language: str,
    event: AccountEvent = AccountEvent.REGISTERED,
) -> AccountState:
    state = next_state(None, event)
    await conn.execute(
        """WITH account AS (
               INSERT INTO accounts (id, state, display_name, username, username_index, birth_date, password_hash,
                                     preferred_language)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $9) RETURNING id, state)
           INSERT INTO account_state_changes (account_id, from_state, to_state, event, actor)
           SELECT id, NULL, state, $8, 'self' FROM account""",
        account_id,
        state,
        display_name,
        username,
        username_index,
        birth_date,
        password_hash,
        event,
        preferred_language,
    )
    return state


async def record_change(
    conn: asyncpg.Connection,
    account_id: UUID,
    before: AccountState | None,
    after: AccountState,
    event: AccountEvent,
    *,
    actor: str,
    reason_code: str | None = None,
    case_id: UUID | None = None,
    notice: str | None = None,
) -> None:
    await conn.execute(
        """INSERT INTO account_state_changes
               (account_id, from_state, to_state, event, actor, reason_code, case_id, notice)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""",
        account_id,
        before,
        after,
        event,
        actor,
        reason_code,
        case_id,
        notice,
    )


async def apply_event(
    conn: asyncpg.Connection,
    account_id: UUID,
    event: AccountEvent,
    *,
    actor: str,
    reason_code: str | None = None,
    case_id: UUID | None = None,
    notice: str | None = None,
) -> tuple[AccountState, AccountState]:
    """Move the account along the transition table, recording the change if there is one.
    (state before, state after)."""
    current = await conn.fetchval("SELECT state FROM accounts WHERE id = $1 FOR UPDATE", account_id)
    before = AccountState(current)
    after = next_state(before, event)
    if after != before:
        doubt = DOUBT.get(event)
        await conn.execute(
            """UPDATE accounts SET state = $2, updated_at = now(),
                   in_doubt_since = CASE WHEN $3::boolean IS NULL THEN in_doubt_since
                                         WHEN $3 THEN coalesce(in_doubt_since, now()) END
               WHERE id = $1""",
            account_id,
            after,
            doubt,
        )
        await record_change(
            conn, account_id, before, after, event, actor=actor, reason_code=reason_code, case_id=case_id, notice=notice
        )
    return before, after


async def fetch_profile(conn: asyncpg.Connection, account_id: UUID) -> AccountProfile | None:
    row = await conn.fetchrow(
        """SELECT a.id, a.state, a.display_name, a.username, a.birth_date, a.created_at,
                  a.in_doubt_since IS NOT NULL AS in_doubt, k.master_key_id, k.wrapped_key,
                  e.address AS email, e.verified_at AS email_verified_at,
                  p.address AS phone, p.verified_at AS phone_verified_at,
                  t.confirmed_at IS NOT NULL AS totp_enabled, a.preferred_language
           FROM accounts a
           JOIN data_keys k ON k.owner_id = a.id
           LEFT JOIN contacts e ON e.account_id = a.id AND e.kind = 'email'
           LEFT JOIN contacts p ON p.account_id = a.id AND p.kind = 'phone'
           LEFT JOIN totp_credentials t ON t.account_id = a.id
           WHERE a.id = $1""",
        account_id,
    )
    if row is None:
        return None
    return AccountProfile(
        id=row["id"],
        state=AccountState(row["state"]),
        display_name=row["display_name"],
        username=row["username"],
        birth_date=row["birth_date"],
        created_at=row["created_at"],
        in_doubt=row["in_doubt"],
        master_key_id=row["master_key_id"],
        wrapped_key=row["wrapped_key"],
        email=row["email"],
        email_verified_at=row["email_verified_at"],
        phone=row["phone"],
        phone_verified_at=row["phone_verified_at"],
        totp_enabled=row["totp_enabled"],
        preferred_language=row["preferred_language"],
    )


async def update_profile(
    conn: asyncpg.Connection,
    account_id: UUID,
    *,
    display_name: bytes | None,
    username: bytes | None,
    username_index: bytes | None,
    preferred_language: str | None = None,
) -> None:
    await conn.execute(
        """UPDATE accounts SET display_name = coalesce($2, display_name),
                  username = coalesce($3, username), username_index = coalesce($4, username_index),
                  preferred_language = coalesce($5, preferred_language), updated_at = now()
           WHERE id = $1""",
        account_id,
        display_name,
        username,
        username_index,
        preferred_language,
    )


async def password_hash(conn: asyncpg.Connection, account_id: UUID) -> str | None:
    value: str | None = await conn.fetchval("SELECT password_hash FROM accounts WHERE id = $1", account_id)
    return value


async def replace_password_hash(conn: asyncpg.Connection, account_id: UUID, old: str, new: str) -> None:
    # Only if nobody changed it meanwhile: an upgrade must not undo a password change.
    await conn.execute(
        "UPDATE accounts SET password_hash = $3 WHERE id = $1 AND password_hash = $2", account_id, old, new
    )


async def set_password_hash(conn: asyncpg.Connection, account_id: UUID, new: str) -> None:
    """A new password (changed or recovered); a pending rehash of the old one then matches nothing."""
    await conn.execute("UPDATE accounts SET password_hash = $2, updated_at = now() WHERE id = $1", account_id, new)


async def lock_state(conn: asyncpg.Connection, account_id: UUID) -> AccountState | None:
    state = await conn.fetchval("SELECT state FROM accounts WHERE id = $1 FOR UPDATE", account_id)
    return AccountState(state) if state else None


async def latest_change_into(conn: asyncpg.Connection, account_id: UUID, state: AccountState) -> StateChange | None:
    """The change that last put the account in this state (its reason, case and time)."""
    row = await conn.fetchrow(
        """SELECT from_state, reason_code, case_id, at FROM account_state_changes
           WHERE account_id = $1 AND to_state = $2 ORDER BY id DESC LIMIT 1""",
        account_id,
        state,
    )
    return _state_change(row)


async def latest_event(conn: asyncpg.Connection, account_id: UUID, event: AccountEvent) -> StateChange | None:
    """The last change made by this event (its reason, case and time)."""
    row = await conn.fetchrow(
        """SELECT from_state, reason_code, case_id, at FROM account_state_changes
           WHERE account_id = $1 AND event = $2 ORDER BY id DESC LIMIT 1""",
        account_id,
        event,
    )
    return _state_change(row)


async def state_before(conn: asyncpg.Connection, account_id: UUID, state: AccountState) -> AccountState | None:
    change = await latest_change_into(conn, account_id, state)
    return change.from_state if change else None


async def has_verified_contact(conn: asyncpg.Connection, account_id: UUID) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM contacts WHERE account_id = $1 AND verified_at IS NOT NULL)", account_id
        )
    )


async def replace_birth_date(conn: asyncpg.Connection, account_id: UUID, sealed: bytes) -> None:
    await conn.execute("UPDATE accounts SET birth_date = $2, updated_at = now() WHERE id = $1", account_id, sealed)


async def erase_identifiers(conn: asyncpg.Connection, account_id: UUID) -> None:
    """The account's username and its blind index; sealed values become unreadable when the caller
    destroys the data key, and are blanked here as well."""
    await conn.execute(
        """UPDATE accounts SET username = NULL, username_index = NULL, display_name = '', birth_date = '',
                               password_hash = '!erased', updated_at = now()
           WHERE id = $1""",
        account_id,
    )


class IndexedUsername(msgspec.Struct, frozen=True):
    id: UUID
    username: bytes  # sealed under the account's data key
    username_index: bytes


async def indexed_usernames(conn: asyncpg.Connection, account_ids: list[UUID]) -> list[IndexedUsername]:
    """The accounts' usernames with their blind indexes (vault.reindex re-makes them)."""
    rows = await conn.fetch(
        "SELECT id, username, username_index FROM accounts WHERE id = ANY($1) AND username_index IS NOT NULL",
        account_ids,
    )
    return [IndexedUsername(row["id"], row["username"], row["username_index"]) for row in rows]


async def replace_username_index(conn: asyncpg.Connection, account_id: UUID, old: bytes, new: bytes) -> None:
    """Compare-and-set: a change made since ``old`` was read (an erasure, a new username) wins."""
    await conn.execute(
        "UPDATE accounts SET username_index = $3 WHERE id = $1 AND username_index = $2", account_id, old, new
    )


# Pending accounts with no verified contact, pending for longer than $1 (since their last change
# into the state: registration, or a way back that found no verified contact).
_PAST_LIFETIME = """SELECT a.id FROM accounts a
    WHERE a.state = 'pending_verification'
      AND NOT EXISTS (SELECT 1 FROM contacts c WHERE c.account_id = a.id AND c.verified_at IS NOT NULL)
      AND coalesce((SELECT max(s.at) FROM account_state_changes s
                    WHERE s.account_id = a.id AND s.to_state = 'pending_verification'), a.created_at)
          < now() - $1::interval"""


async def count_unverified_past(conn: asyncpg.Connection, lifetime: timedelta) -> int:
    due: int = await conn.fetchval(f"SELECT count(*) FROM ({_PAST_LIFETIME}) t", lifetime)  # noqa: S608
    return due


async def lock_next_unverified_past(
    conn: asyncpg.Connection, lifetime: timedelta, passed_over: list[UUID]
) -> UUID | None:
    """One such account, locked, skipping those another sweeper holds and those that failed this run."""
    account_id: UUID | None = await conn.fetchval(
        _PAST_LIFETIME + " AND a.id <> ALL($2::uuid[]) LIMIT 1 FOR UPDATE OF a SKIP LOCKED", lifetime, passed_over
    )
    return account_id


class AccountOverview(msgspec.Struct, frozen=True):
    """An account's state and dates, nothing sealed: what an operator's view of it starts from."""

    id: UUID
    state: AccountState
    created_at: datetime
    in_doubt: bool


class StateHistoryEntry(msgspec.Struct, frozen=True):
    """One change of an account's state, whole (ids and codes only)."""

    from_state: AccountState | None
    to_state: AccountState
    event: AccountEvent
    actor: str
    reason_code: str | None
    case_id: UUID | None
    at: datetime


async def fetch_overview(conn: asyncpg.Connection, account_id: UUID) -> AccountOverview | None:
    row = await conn.fetchrow(
        "SELECT id, state, created_at, in_doubt_since IS NOT NULL AS in_doubt FROM accounts WHERE id = $1", account_id
    )
    if row is None:
        return None
    return AccountOverview(row["id"], AccountState(row["state"]), row["created_at"], row["in_doubt"])


async def state_history(conn: asyncpg.Connection, account_id: UUID) -> list[StateHistoryEntry]:
    """Every change of the account's state, oldest first."""
    rows = await conn.fetch(
        """SELECT from_state, to_state, event, actor, reason_code, case_id, at FROM account_state_changes
           WHERE account_id = $1 ORDER BY id""",
        account_id,
    )
    return [
        StateHistoryEntry(
            AccountState(row["from_state"]) if row["from_state"] else None,
            AccountState(row["to_state"]),
            AccountEvent(row["event"]),
            row["actor"],
            row["reason_code"],
            row["case_id"],
            row["at"],
        )
        for row in rows
    ]
