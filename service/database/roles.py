"""Database roles: the service connects as a member of ``idv_service``, never as the owner.

Migration 0007 grants ``idv_service`` what the service needs and withholds UPDATE, DELETE and
TRUNCATE on the append-only tables. This module makes the embedded server's login for the
service and lets start-up check which kind of role it was given.
"""

from __future__ import annotations

import re

import asyncpg

SERVICE_GROUP = "idv_service"
EMBEDDED_SERVICE_LOGIN = "idv_app"
APPEND_ONLY_TABLES = (
    "audit_log",
    "audit_checkpoints",
    "audit_archives",
    "audit_archive_chains",
    "consent_events",
    "account_state_changes",
    "review_case_events",
    "policy_versions",
    "policy_translations",
    "erasure_ledger",
)

_PASSWORD = re.compile(r"^[0-9a-f]{32,128}$")


async def ensure_service_login(conn: asyncpg.Connection, login: str, password: str) -> None:
    """Create (or re-key) a login role in ``idv_service``. ``conn`` needs CREATEROLE."""
    if not _PASSWORD.match(password) or not re.fullmatch(r"[a-z_]+", login):
        raise ValueError("generated logins use a lower-case name and a hex password")
    # Role statements take no parameters; both values were checked above.
    await conn.execute(
        f"""DO $$
        BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{SERVICE_GROUP}') THEN
                CREATE ROLE {SERVICE_GROUP} NOLOGIN;
            END IF;
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{login}') THEN
                CREATE ROLE {login} LOGIN;
            END IF;
        END;
        $$"""  # noqa: S608 - both names checked above
    )
    await conn.execute(f"ALTER ROLE {login} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '{password}'")
    await conn.execute(f"GRANT {SERVICE_GROUP} TO {login}")


async def writable_append_only_tables(conn: asyncpg.Connection) -> list[str]:
    """Append-only tables (those guarded by the refuse_change trigger) that the connected role
    could rewrite: it holds UPDATE or DELETE on them, owns them, or is a superuser."""
    rows = await conn.fetch(
        """SELECT DISTINCT c.relname AS name
           FROM pg_trigger t
           JOIN pg_class c ON c.oid = t.tgrelid
           JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
           WHERE to_regproc('public.refuse_change') IS NOT NULL
             AND t.tgfoid = to_regproc('public.refuse_change')
             AND (has_table_privilege(c.oid, 'UPDATE') OR has_table_privilege(c.oid, 'DELETE')
                  OR pg_has_role(c.relowner, 'USAGE'))
           ORDER BY 1"""
    )
    return [row["name"] for row in rows]
