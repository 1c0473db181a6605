"""The manifest of document_review (service.manifest), listed in service.capabilities.

Verification without facial recognition: an operator checks photos of the identity document.
"""

from __future__ import annotations

from datetime import timedelta

from service.cases.catalogue import REVIEWERS, VERIFYING_DECISIONS, CaseType, CaseTypeSpec
from service.consents.purposes import ConsentPurpose
from service.document_review.outcomes import document_review_case_changed
from service.document_review.routes import DocumentReviewController
from service.manifest import Capability, CaseTypeDeclaration

CAPABILITY = Capability(
    "document_review",
    routes=(DocumentReviewController,),
    case_types=(
        CaseTypeDeclaration(
            CaseType.DOCUMENT_REVIEW,
            CaseTypeSpec(timedelta(hours=72), REVIEWERS, VERIFYING_DECISIONS),
            document_review_case_changed,
            relies_on=ConsentPurpose.IDENTITY_DATA,
        ),
    ),
)
