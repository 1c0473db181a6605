"""The manifest of passkeys (service.manifest), listed in service.capabilities.

WebAuthn passkeys: enrolled by a signed-in person, then a way to sign in (issue 21)."""

from __future__ import annotations

from service.lifecycle.personal_data import WHILE_THE_ACCOUNT_LIVES, Erasure, PersonalData, Sealed
from service.manifest import Capability
from service.passkeys.routes import PasskeyController, PasskeySignInController
from service.retention_categories import Retained
from service.vault.labels import VaultField

# The tables holding personal data about account holders (lifecycle.personal_data).
PERSONAL_DATA = (
    PersonalData(
        "passkey_credentials",
        "passkeys",
        # The public key and credential id are credentials, not information about the person.
        """SELECT name, created_at, last_used_at, backup_eligible, backed_up, aaguid AS authenticator_model
           FROM passkey_credentials WHERE account_id = $1 ORDER BY created_at""",
        Erasure.DELETED,
        WHILE_THE_ACCOUNT_LIVES,
        sealed={"name": Sealed(VaultField.PASSKEY_NAME)},
        erase=("DELETE FROM passkey_credentials WHERE account_id = $1",),
    ),
    PersonalData(
        "passkey_challenges",
        "passkey_ceremonies",
        # Ceremonies under way (single-use, gone within minutes): when each ends; the challenge is random.
        "SELECT purpose, expires_at FROM passkey_challenges WHERE account_id = $1 ORDER BY expires_at",
        Erasure.DELETED,
        Retained.ONE_TIME_CODES,
        erase=("DELETE FROM passkey_challenges WHERE account_id = $1",),
    ),
)


CAPABILITY = Capability(
    "passkeys",
    routes=(PasskeyController, PasskeySignInController),
    personal_data=PERSONAL_DATA,
)
