"""`idv policies publish FILE`: publish a policy version from a file named <kind>@<version>.md, or
its translation from <kind>@<version>.<language>.md."""

from __future__ import annotations

from service.operators.commands import command_actor
from service.policies.catalog import PolicyDocument, file_name_parts
from service.policies.publishing import publish
from service.runtime import Runtime
from service.settings import Settings


async def publish_file(settings: Settings, dsn: str, migrations_dsn: str, name: str, source: str) -> PolicyDocument:
    kind, version, language = file_name_parts(name)
    async with Runtime.open(settings, dsn, migrations_dsn=migrations_dsn, pool_size=2) as runtime:
        return await publish(
            runtime.database, runtime.policies, runtime.audit, kind, version, source, command_actor(), language
        )
