"""`idv operators create`: the first admin (and any operator) made from the command line."""

from __future__ import annotations

import getpass
import re

from service.audit import Actor
from service.operators.enrolment import create_operator
from service.operators.roles import Role
from service.operators.schemas import NewOperator
from service.runtime import Runtime
from service.settings import Settings


def command_actor() -> Actor:
    """The OS user who ran the command, as far as the audit trail can tell."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return Actor.system("cli." + (re.sub(r"[^A-Za-z0-9_.-]", "_", user) or "unknown"))


async def create_from_command_line(
    settings: Settings, dsn: str, migrations_dsn: str, email: str, roles: list[Role]
) -> NewOperator:
    async with Runtime.open(settings, dsn, migrations_dsn=migrations_dsn, pool_size=2) as runtime:
        return await create_operator(runtime, email, roles, command_actor())
