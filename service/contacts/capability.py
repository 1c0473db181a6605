"""The manifest of contacts (service.manifest), listed in service.capabilities.

E-mail and phone contacts and their one-time codes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from service.contacts.routes import ContactController, OwnContactsController
from service.lifecycle.personal_data import WHILE_THE_ACCOUNT_LIVES, Erasure, PersonalData, Sealed
from service.manifest import Capability


def _contact_field(row: Mapping[str, Any]) -> str:
    return f"contact.{row['kind']}"


# The tables holding personal data about account holders (lifecycle.personal_data).
PERSONAL_DATA = (
    PersonalData(
        "contacts",
        "contacts",
        """SELECT id, kind, address, verified_at, receives_notices, created_at FROM contacts
           WHERE account_id = $1 ORDER BY kind""",
        Erasure.DELETED,
        WHILE_THE_ACCOUNT_LIVES,
        sealed={"address": Sealed(_contact_field)},
        erased_by="accounts.erasure",
    ),
    PersonalData(
        "contact_additions",
        "contact_additions",
        """SELECT id, kind, address, created_at, expires_at FROM contact_additions
           WHERE account_id = $1 ORDER BY kind""",
        Erasure.DELETED,
        "one_time_codes",
        sealed={"address": Sealed(_contact_field)},
        erased_by="accounts.erasure",
    ),
    PersonalData(
        "one_time_codes",
        "one_time_codes",
        """SELECT purpose, attempts, created_at, expires_at, consumed_at FROM one_time_codes
           WHERE account_id = $1 ORDER BY created_at""",
        Erasure.DELETED,
        "one_time_codes",
        erased_by="accounts.erasure",
    ),
)


CAPABILITY = Capability(
    "contacts",
    routes=(ContactController, OwnContactsController),
    personal_data=PERSONAL_DATA,
)
