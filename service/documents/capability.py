"""The manifest of documents (service.manifest), listed in service.capabilities.

Uploaded documents attached to cases and qualifications.
"""

from __future__ import annotations

from service.documents.routes import CaseDocumentController
from service.lifecycle.personal_data import Erasure, Hold, PersonalData, Sealed, Shape
from service.manifest import Capability
from service.vault.labels import VaultField

# The tables holding personal data about account holders (lifecycle.personal_data).
PERSONAL_DATA = (
    PersonalData(
        "documents",
        "documents",
        """SELECT d.id, d.kind, d.byte_size, d.width, d.height, d.created_at, d.deleted_at, d.content,
                  ARRAY(SELECT c.case_id FROM case_documents c WHERE c.document_id = d.id) AS case_ids,
                  ARRAY(SELECT q.qualification_id FROM qualification_documents q WHERE q.document_id = d.id)
                      AS qualification_ids
           FROM documents d WHERE d.account_id = $1 ORDER BY d.created_at""",
        Erasure.EMPTIED,
        "documents",
        sealed={"content": Sealed(VaultField.DOCUMENT_CONTENT, shape=Shape.BYTES)},
        erase=("UPDATE documents SET content = NULL, deleted_at = now() WHERE account_id = $1 AND deleted_at IS NULL",),
        hold=Hold.LEGAL,
    ),
)


CAPABILITY = Capability(
    "documents",
    routes=(CaseDocumentController,),
    personal_data=PERSONAL_DATA,
)
