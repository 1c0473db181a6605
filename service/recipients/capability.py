"""The manifest of recipients (service.manifest), listed in service.capabilities.

Recipients of personal data, what they received, and notices to them.
"""

from __future__ import annotations

from service.lifecycle.personal_data import Erasure, Hold, PersonalData
from service.manifest import Capability
from service.recipients.notices import delivery_job
from service.recipients.routes import RecipientController

# The tables holding personal data about account holders (lifecycle.personal_data).
PERSONAL_DATA = (
    PersonalData(
        "disclosures",
        "disclosures",
        """SELECT r.name AS recipient, r.kind, d.categories, d.disclosed_at FROM disclosures d
           JOIN recipients r ON r.id = d.recipient_id WHERE d.account_id = $1 ORDER BY d.disclosed_at""",
        Erasure.KEPT,
        "legal_hold",
        hold=Hold.LEGAL,
    ),
    PersonalData(
        "recipient_notices",
        "recipient_notices",
        """SELECT n.id, r.name AS recipient, n.event, n.attempts, n.created_at, n.acknowledged_at
           FROM recipient_notices n JOIN recipients r ON r.id = n.recipient_id
           WHERE n.account_id = $1 ORDER BY n.created_at""",
        Erasure.KEPT,
        "legal_hold",
        hold=Hold.LEGAL,
    ),
)


CAPABILITY = Capability(
    "recipients",
    routes=(RecipientController,),
    jobs=(delivery_job,),
    personal_data=PERSONAL_DATA,
)
