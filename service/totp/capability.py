"""The manifest of totp (service.manifest), listed in service.capabilities.

The second factor: TOTP and recovery codes.
"""

from __future__ import annotations

from service.lifecycle.personal_data import WHILE_THE_ACCOUNT_LIVES, Erasure, PersonalData
from service.manifest import Capability
from service.totp.routes import TotpController

# The tables holding personal data about account holders (lifecycle.personal_data).
PERSONAL_DATA = (
    PersonalData(
        "totp_credentials",
        "second_factor",
        # The secret is a credential, not information about the person: whether and since when.
        "SELECT created_at, confirmed_at FROM totp_credentials WHERE account_id = $1",
        Erasure.DELETED,
        WHILE_THE_ACCOUNT_LIVES,
        erased_by="accounts.erasure",
    ),
    PersonalData(
        "recovery_codes",
        "recovery_codes",
        "SELECT used_at FROM recovery_codes WHERE account_id = $1 ORDER BY used_at NULLS LAST",
        Erasure.DELETED,
        WHILE_THE_ACCOUNT_LIVES,
        erased_by="accounts.erasure",
    ),
)


CAPABILITY = Capability(
    "totp",
    routes=(TotpController,),
    personal_data=PERSONAL_DATA,
)
