"""The personal-data registry covers the schema: every table of the migrated database is either
registered (how it is exported, erased, held and retained) or declared free of personal data with
a reason, and what the erasure acts on is what the export shows."""

from __future__ import annotations

import uuid

import asyncpg
import httpx
import pytest

from service.lifecycle import holds
from service.lifecycle.cancellation import erase_due
from service.lifecycle.personal_data import (
    BY_TABLE,
    NO_PERSONAL_DATA,
    REGISTRY,
    WHILE_THE_ACCOUNT_LIVES,
    Erasure,
    Hold,
    Key,
)
from service.lifecycle.retention import BY_NAME, OWN_CLOCKS
from service.runtime import Runtime
from service.vault import DataKeyDestroyed
from tests.arrange.lifecycle import cancel_now_due, held_about
from tests.arrange.people import ZHANG_SAN, person


async def _tables(conn: asyncpg.Connection) -> set[str]:
    rows = await conn.fetch(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
    )
    return {row["table_name"] for row in rows}


async def test_every_table_is_registered_or_declared_free_of_personal_data(owner_db: asyncpg.Connection) -> None:
    # The check can fail: a new table is in neither list.
    await owner_db.execute("CREATE TABLE pets (account_id uuid, name bytea)")
    assert await _tables(owner_db) - BY_TABLE.keys() - NO_PERSONAL_DATA.keys() == {"pets"}
    await owner_db.execute("DROP TABLE pets")

    tables = await _tables(owner_db)
    unaccounted = tables - BY_TABLE.keys() - NO_PERSONAL_DATA.keys()
    assert unaccounted == set(), f"declare these in their capability's manifest (personal_data): {sorted(unaccounted)}"
    assert BY_TABLE.keys() & NO_PERSONAL_DATA.keys() == set()
    assert (BY_TABLE.keys() | NO_PERSONAL_DATA.keys()) - tables == set(), "entries for tables that do not exist"
    assert all(NO_PERSONAL_DATA.values())
    assert len(BY_TABLE) == len(REGISTRY)


async def test_what_the_erasure_acts_on_is_exported_and_every_entry_has_a_rule(db: asyncpg.Connection) -> None:
    sections = [entry.section for entry in REGISTRY if entry.export is not None]
    assert len(sections) == len(set(sections))
    for entry in REGISTRY:
        assert entry.retention, entry.table
        if entry.export is None:
            # Only what nobody can tie to an account goes unexported, and it is not erased.
            assert entry.not_exported and entry.erasure is Erasure.KEPT and not entry.erase, entry.table
            continue
        assert entry.erasure is Erasure.KEPT or entry.erase or entry.erased_by or entry.sealed, entry.table
        # The query runs, and returns every column it says is sealed.
        async with db.transaction():
            statement = await db.prepare(entry.export)
            columns = {attribute.name for attribute in statement.get_attributes()}
            await statement.fetch(uuid.uuid4())
        assert set(entry.sealed) | set(entry.json) <= columns, entry.table
        if entry.hold is Hold.LEGAL:  # the legal_hold category purges it when the hold ends
            assert entry.table in holds.held_tables() or entry.table in [t for t, _, _ in holds.link_tables()]
    assert "legal_hold" in BY_NAME


def test_every_entry_ends_by_a_rule_the_retention_report_lists() -> None:
    reported = set(BY_NAME) | {clock.name for clock in OWN_CLOCKS}
    for entry in REGISTRY:
        assert (
            entry.retention in reported
            or entry.retention == WHILE_THE_ACCOUNT_LIVES
            or (entry.retention.startswith("kept for good") and entry.erasure in (Erasure.KEPT, Erasure.SHREDDED))
        ), entry.table
    # What lives as long as the account ends when the account does, a terminated one included.
    assert {"terminated_accounts", "guardian_window"} <= reported


async def test_after_an_erasure_every_table_is_as_the_registry_says(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    account_id, me = await person(client, runtime, identity=ZHANG_SAN)
    await held_about(client, runtime, db, account_id, me)
    await cancel_now_due(client, db, me)
    assert await erase_due(runtime) == 1

    with pytest.raises(DataKeyDestroyed):  # what is shredded: its key is gone
        await runtime.vault.open(db, account_id)
    for entry in REGISTRY:
        if entry.export is None:
            continue
        rows = await db.fetch(entry.export, account_id)
        if entry.erasure is Erasure.DELETED:
            assert rows == [], entry.table
        elif entry.erasure in (Erasure.BLANKED, Erasure.EMPTIED):
            assert all(not row[column] for row in rows for column in entry.sealed), entry.table
        elif entry.erasure is Erasure.KEPT:
            assert all(sealed.key is not Key.PERSON for sealed in entry.sealed.values()), entry.table
