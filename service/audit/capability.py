"""The manifest of audit (service.manifest), listed in service.capabilities.

The audit trail and its chain of hashes.
"""

from __future__ import annotations

from service.audit.routes import ActivityController, AuditController
from service.lifecycle.personal_data import Erasure, Key, PersonalData, Sealed, Shape
from service.manifest import Capability
from service.vault.labels import VaultField

# The tables holding personal data about account holders (lifecycle.personal_data).
PERSONAL_DATA = (
    PersonalData(
        "audit_log",
        "audit_trail",
        """SELECT l.at, l.actor_type, l.actor_id,
                   (SELECT o.roles FROM operators o WHERE o.id::text = l.actor_id AND l.actor_type = 'operator')
                       AS actor_roles,
                   l.action, l.target_type, l.target_id, l.details,
                   CASE WHEN (l.actor_type = 'user' AND l.actor_id = $1::uuid::text) OR l.actor_type = 'anonymous'
                        THEN l.origin END AS origin
            FROM audit_log l
            WHERE (l.actor_type = 'user' AND l.actor_id = $1::uuid::text)
               OR (l.target_type = 'account' AND l.target_id = $1::uuid::text)
               OR (l.target_type = 'case'
                   AND l.target_id IN (SELECT id::text FROM review_cases WHERE subject_account_id = $1))
               OR (l.target_type = 'qualification'
                   AND l.target_id IN (SELECT id::text FROM qualifications WHERE account_id = $1))
               OR (l.target_type = 'recipient_notice'
                   AND l.target_id IN (SELECT id::text FROM recipient_notices WHERE account_id = $1))
            ORDER BY l.at, l.id""",
        Erasure.KEPT,
        "audit_origins",
        sealed={"origin": Sealed(VaultField.AUDIT_ORIGIN, key=Key.AUDIT_MONTH, shape=Shape.JSON)},
        json=("details",),
    ),
)


CAPABILITY = Capability(
    "audit",
    routes=(AuditController, ActivityController),
    personal_data=PERSONAL_DATA,
)
