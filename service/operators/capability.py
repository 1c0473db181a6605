"""The manifest of operators (service.manifest), listed in service.capabilities.

Operators: enrolment, sign-in, roles.
"""

from __future__ import annotations

from service.manifest import Capability
from service.operators.routes import (
    OperatorAdminController,
    OperatorEnrolmentController,
    OperatorPasskeyController,
    OperatorSelfController,
    OperatorSignInController,
)

CAPABILITY = Capability(
    "operators",
    routes=(
        OperatorEnrolmentController,
        OperatorSignInController,
        OperatorSelfController,
        OperatorPasskeyController,
        OperatorAdminController,
    ),
)
