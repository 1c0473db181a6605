"""The manifest of accounts (service.manifest), listed in service.capabilities.

Registration, the profile, account states and their notices.
"""

from __future__ import annotations

import asyncpg

from service.accounts.erasure import erase_personal_data
from service.accounts.notices import state_notice_job
from service.accounts.routes import OperatorAccountsController, ProfileController, RegistrationController
from service.lifecycle.personal_data import WHILE_THE_ACCOUNT_LIVES, AccountErasure, Erasure, PersonalData, Sealed
from service.manifest import Capability
from service.vault.labels import VaultField

# The tables holding personal data about account holders (lifecycle.personal_data).
PERSONAL_DATA = (
    PersonalData(
        "accounts",
        "account",
        """SELECT a.id AS account_id, a.state, a.created_at, a.display_name, a.username, a.birth_date,
                  a.in_doubt_since, a.preferred_language,
                  EXISTS (SELECT 1 FROM totp_credentials t WHERE t.account_id = a.id AND t.confirmed_at IS NOT NULL)
                      AS totp_enabled
           FROM accounts a WHERE a.id = $1""",
        Erasure.SHREDDED,
        WHILE_THE_ACCOUNT_LIVES,
        sealed={
            "display_name": Sealed(VaultField.ACCOUNT_DISPLAY_NAME),
            "username": Sealed(VaultField.ACCOUNT_USERNAME),
            "birth_date": Sealed(VaultField.ACCOUNT_BIRTH_DATE),
        },
        erased_by="accounts.erasure (identifiers blanked, the data key destroyed)",
        single=True,
    ),
    PersonalData(
        "account_state_changes",
        "state_history",
        """SELECT from_state, to_state, event, actor, reason_code, notice, case_id, at FROM account_state_changes
           WHERE account_id = $1 ORDER BY id""",
        Erasure.KEPT,
        "kept for good: ids and codes only",
    ),
)


async def erase_account_data(conn: asyncpg.Connection, erasure: AccountErasure) -> None:
    """Sessions, contacts, second factor, the username, and the account's data key (accounts.erasure)."""
    await erase_personal_data(conn, erasure.vault, erasure.account_id, erasure.event, erasure.actor, erasure.reason)


CAPABILITY = Capability(
    "accounts",
    routes=(RegistrationController, ProfileController, OperatorAccountsController),
    jobs=(state_notice_job,),
    personal_data=PERSONAL_DATA,
    erase=erase_account_data,
)
