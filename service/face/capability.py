"""The manifest of face (service.manifest), listed in service.capabilities.

Face verification: the selfie against the identity photo, with liveness.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import asyncpg

from service.cases.catalogue import REVIEWERS, VERIFYING_DECISIONS, CaseType, CaseTypeSpec
from service.consents.purposes import ConsentPurpose
from service.face import store
from service.face.keys import biometric_key_owner
from service.face.outcomes import face_case_changed
from service.face.retention import retention_schedule
from service.face.routes import FaceController, FaceReviewController
from service.lifecycle.personal_data import AccountErasure, Erasure, Hold, Key, PersonalData, Sealed, Shape
from service.manifest import Capability, CaseTypeDeclaration


def _face_sample_field(row: Mapping[str, Any]) -> str:
    return f"face.sample.{row['role']}"


# The tables holding personal data about account holders (lifecycle.personal_data).
PERSONAL_DATA = (
    PersonalData(
        "face_verifications",
        "face_verifications",
        # The template is numbers only the model reads; the images and scores it came from are here.
        """SELECT id, case_id, status, score, accept_threshold, reject_threshold, model_version, liveness_method,
                  reason_codes, template IS NOT NULL AS template_kept, created_at, decided_at
           FROM face_verifications WHERE account_id = $1 ORDER BY created_at""",
        Erasure.EMPTIED,
        "legal_hold",
        erased_by="face.store.erase_biometric_data (and the biometric keys destroyed)",
        hold=Hold.LEGAL,
    ),
    PersonalData(
        "face_samples",
        "face_images",
        """SELECT s.verification_id, s.role, s.content, s.created_at, s.keep_until, s.deleted_at
           FROM face_samples s JOIN face_verifications v ON v.id = s.verification_id
           WHERE v.account_id = $1 ORDER BY s.created_at, s.role""",
        Erasure.EMPTIED,
        "face_images",
        sealed={"content": Sealed(_face_sample_field, key=Key.BIOMETRIC, shape=Shape.BYTES)},
        erased_by="face.store.erase_biometric_data",
        hold=Hold.LEGAL,
        through=("verification_id", "face_verifications"),
    ),
)


async def erase_biometrics(conn: asyncpg.Connection, erasure: AccountErasure) -> None:
    """Templates and images go, and every attempt's biometric key is destroyed."""
    await store.erase_biometric_data(conn, erasure.account_id)
    for verification_id in await store.verification_ids(conn, erasure.account_id):
        await erasure.vault.destroy(conn, biometric_key_owner(verification_id))


CAPABILITY = Capability(
    "face",
    routes=(FaceController, FaceReviewController),
    schedules=(retention_schedule,),
    case_types=(
        CaseTypeDeclaration(
            CaseType.FACE,
            CaseTypeSpec(timedelta(hours=24), REVIEWERS, VERIFYING_DECISIONS),
            face_case_changed,
            relies_on=ConsentPurpose.BIOMETRIC,
        ),
    ),
    personal_data=PERSONAL_DATA,
    erase=erase_biometrics,
)
