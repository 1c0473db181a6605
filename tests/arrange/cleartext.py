"""Looking for a value in clear anywhere in a database, as the erasure tests do."""

from __future__ import annotations

import asyncpg


async def _columns(conn: asyncpg.Connection) -> list[tuple[str, str, str]]:
    rows = await conn.fetch(
        """SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c
           JOIN information_schema.tables t USING (table_schema, table_name)
           WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'
             AND c.data_type IN ('text', 'character varying', 'bytea', 'jsonb', 'json', 'ARRAY')"""
    )
    return [(r["table_name"], r["column_name"], r["data_type"]) for r in rows]


async def found_in_clear(conn: asyncpg.Connection, needle: str | bytes) -> list[str]:
    """Every column holding the value (bytes, e.g. a ciphertext, only in bytea columns)."""
    found = []
    for table, column, data_type in await _columns(conn):
        if data_type == "bytea":
            condition = f'position($1::bytea in "{column}") > 0'
            argument: object = needle.encode() if isinstance(needle, str) else needle
        elif isinstance(needle, bytes):
            continue
        else:
            condition = f'position($1 in "{column}"::text) > 0'
            argument = needle
        if await conn.fetchval(f'SELECT count(*) FROM "{table}" WHERE {condition}', argument):  # noqa: S608
            found.append(f"{table}.{column}")
    return found
