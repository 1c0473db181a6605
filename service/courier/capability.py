"""The manifest of courier (service.manifest), listed in service.capabilities.

The outbox of e-mail and SMS messages.
"""

from __future__ import annotations

from service.courier.outbox import delivery_job
from service.jobs.runner import JobDefinition
from service.lifecycle.personal_data import Erasure, PersonalData, Sealed, Shape
from service.manifest import Capability
from service.runtime import Runtime
from service.vault.labels import VaultField


def _delivery_job(runtime: Runtime) -> JobDefinition:
    return delivery_job(runtime.courier)


# The tables holding personal data about account holders (lifecycle.personal_data).
PERSONAL_DATA = (
    PersonalData(
        "courier_messages",
        "messages",
        """SELECT channel, template, recipient, variables, status, attempts, created_at, sent_at
           FROM courier_messages WHERE owner_id = $1 ORDER BY created_at""",
        Erasure.SHREDDED,
        "outbox_messages",
        sealed={
            "recipient": Sealed(VaultField.COURIER_RECIPIENT),
            "variables": Sealed(VaultField.COURIER_VARIABLES, shape=Shape.JSON, omit=("code",)),
        },
    ),
)


CAPABILITY = Capability(
    "courier",
    jobs=(_delivery_job,),
    personal_data=PERSONAL_DATA,
)
