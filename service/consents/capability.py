"""The manifest of consents (service.manifest), listed in service.capabilities.

The consent ledger and what a withdrawal does.
"""

from __future__ import annotations

from service.consents.effects import erase_biometric_job
from service.consents.routes import ConsentController
from service.lifecycle.personal_data import Erasure, PersonalData
from service.manifest import Capability

# The tables holding personal data about account holders (lifecycle.personal_data).
PERSONAL_DATA = (
    PersonalData(
        "consent_events",
        "consents",
        """SELECT purpose, policy_version, policy_language, policy_sha256, action, channel, actor_account_id, at
           FROM consent_events
           WHERE account_id = $1 ORDER BY id""",
        Erasure.KEPT,
        "kept for good: ids and codes only",
    ),
)


CAPABILITY = Capability(
    "consents",
    routes=(ConsentController,),
    jobs=(erase_biometric_job,),
    personal_data=PERSONAL_DATA,
)
