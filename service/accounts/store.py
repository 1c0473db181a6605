"""SQL for accounts and their state history."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from service.accounts.states import DOUBT, AccountEvent, AccountState, next_state


async def insert(
    conn: asyncpg.Connection,
    *,
    account_id: UUID,
    display_name: bytes,
    username: bytes | None,
    username_index: bytes | None,
    birth_date: bytes,
    password_hash: str,
    event: AccountEvent = AccountEvent.REGISTERED,
) -> AccountState:
    state = next_state(None, event)
    await conn.execute(
        """WITH account AS (
               INSERT INTO accounts (id, state, display_name, username, username_index, birth_date, password_hash)
               VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id, state)
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


async def fetch_profile(conn: asyncpg.Connection, account_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """SELECT a.id, a.state, a.display_name, a.username, a.birth_date, a.created_at,
                  a.in_doubt_since IS NOT NULL AS in_doubt, k.master_key_id, k.wrapped_key,
                  e.address AS email, e.verified_at AS email_verified_at,
                  p.address AS phone, p.verified_at AS phone_verified_at,
                  t.confirmed_at IS NOT NULL AS totp_enabled
           FROM accounts a
           JOIN data_keys k ON k.owner_id = a.id
           LEFT JOIN contacts e ON e.account_id = a.id AND e.kind = 'email'
           LEFT JOIN contacts p ON p.account_id = a.id AND p.kind = 'phone'
           LEFT JOIN totp_credentials t ON t.account_id = a.id
           WHERE a.id = $1""",
        account_id,
    )


async def update_profile(
    conn: asyncpg.Connection,
    account_id: UUID,
    *,
    display_name: bytes | None,
    username: bytes | None,
    username_index: bytes | None,
) -> None:
    await conn.execute(
        """UPDATE accounts SET display_name = coalesce($2, display_name),
                  username = coalesce($3, username), username_index = coalesce($4, username_index),
                  updated_at = now()
           WHERE id = $1""",
        account_id,
        display_name,
        username,
        username_index,
    )


async def password_hash(conn: asyncpg.Connection, account_id: UUID) -> str | None:
    value: str | None = await conn.fetchval("SELECT password_hash FROM accounts WHERE id = $1", account_id)
    return value


async def replace_password_hash(conn: asyncpg.Connection, account_id: UUID, old: str, new: str) -> None:
    # Only if nobody changed it meanwhile: an upgrade must not undo a password change.
    await conn.execute(
        "UPDATE accounts SET password_hash = $3 WHERE id = $1 AND password_hash = $2", account_id, old, new
    )


async def lock_state(conn: asyncpg.Connection, account_id: UUID) -> AccountState | None:
    state = await conn.fetchval("SELECT state FROM accounts WHERE id = $1 FOR UPDATE", account_id)
    return AccountState(state) if state else None


async def latest_change_into(conn: asyncpg.Connection, account_id: UUID, state: AccountState) -> asyncpg.Record | None:
    """The change that last put the account in this state (its reason, case and time)."""
    return await conn.fetchrow(
        """SELECT from_state, reason_code, case_id, at FROM account_state_changes
           WHERE account_id = $1 AND to_state = $2 ORDER BY id DESC LIMIT 1""",
        account_id,
        state,
    )


async def latest_event(conn: asyncpg.Connection, account_id: UUID, event: AccountEvent) -> asyncpg.Record | None:
    """The last change made by this event (its reason, case and time)."""
    return await conn.fetchrow(
        """SELECT from_state, reason_code, case_id, at FROM account_state_changes
           WHERE account_id = $1 AND event = $2 ORDER BY id DESC LIMIT 1""",
        account_id,
        event,
    )


async def state_before(conn: asyncpg.Connection, account_id: UUID, state: AccountState) -> AccountState | None:
    change = await latest_change_into(conn, account_id, state)
    return AccountState(change["from_state"]) if change and change["from_state"] else None


async def has_verified_contact(conn: asyncpg.Connection, account_id: UUID) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM contacts WHERE account_id = $1 AND verified_at IS NOT NULL)", account_id
        )
    )


async def end_all_sessions(conn: asyncpg.Connection, account_id: UUID, reason: str) -> int:
    result: str = await conn.execute(
        "UPDATE sessions SET ended_at = now(), end_reason = $2 WHERE account_id = $1 AND ended_at IS NULL",
        account_id,
        reason,
    )
    return int(result.split()[-1])


async def erase_identifiers(conn: asyncpg.Connection, account_id: UUID) -> None:
    """Everything that names the person in clear or through a blind index; sealed values become
    unreadable when the caller destroys the data key, and are blanked here as well."""
    await conn.execute("DELETE FROM contacts WHERE account_id = $1", account_id)
    await conn.execute("DELETE FROM contact_additions WHERE account_id = $1", account_id)
    await conn.execute("DELETE FROM one_time_codes WHERE account_id = $1", account_id)
    await conn.execute("DELETE FROM recovery_codes WHERE account_id = $1", account_id)
    await conn.execute("DELETE FROM totp_credentials WHERE account_id = $1", account_id)
    await conn.execute(
        """UPDATE accounts SET username = NULL, username_index = NULL, display_name = '', birth_date = '',
                               password_hash = '!erased', updated_at = now()
           WHERE id = $1""",
        account_id,
    )
