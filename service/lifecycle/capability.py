"""The manifest of lifecycle (service.manifest), listed in service.capabilities.

Cancellation, erasure, the legal hold and retention.
"""

from __future__ import annotations

from service.lifecycle.cancellation import erasure_schedule
from service.lifecycle.personal_data import Erasure, Hold, PersonalData, erase_registered_data
from service.lifecycle.retention import retention_schedule
from service.lifecycle.routes import CancellationController
from service.manifest import Capability

# The tables holding personal data about account holders (lifecycle.personal_data).
PERSONAL_DATA = (
    PersonalData(
        "cancellations",
        "cancellations",
        """SELECT requested_at, erase_after, withdrawn_at, erased_at, outcome FROM cancellations
           WHERE account_id = $1 ORDER BY requested_at""",
        Erasure.KEPT,
        "legal_hold",
        hold=Hold.LEGAL,
    ),
    PersonalData(
        "erasure_ledger",
        "erasures",
        "SELECT category, reason, items, erased_at FROM erasure_ledger WHERE account_id = $1 ORDER BY id",
        Erasure.KEPT,
        "kept for good: what a restored backup must have re-applied",
    ),
)


CAPABILITY = Capability(
    "lifecycle",
    routes=(CancellationController,),
    schedules=(erasure_schedule, retention_schedule),
    personal_data=PERSONAL_DATA,
    erase=erase_registered_data,
)
