"""The manifest of tokens (service.manifest), listed in service.capabilities.

Short-lived signed session tokens (JWT, EdDSA) for gateways that verify locally, the published
key set, and the rotation of the keys that sign them. It holds no personal data: the tokens are
not stored, and its table holds keys (lifecycle.personal_data.NO_PERSONAL_DATA).
"""

from __future__ import annotations

from service.manifest import Capability
from service.tokens.jobs import rotation_schedule
from service.tokens.routes import KeySetController, SessionTokenController

CAPABILITY = Capability(
    "tokens",
    routes=(SessionTokenController, KeySetController),
    schedules=(rotation_schedule,),
)
