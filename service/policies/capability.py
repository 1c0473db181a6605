"""The manifest of policies (service.manifest), listed in service.capabilities.

Published policies (terms, privacy) and their versions.
"""

from __future__ import annotations

from service.manifest import Capability
from service.policies.routes import PolicyController, PolicyPublishingController

CAPABILITY = Capability(
    "policies",
    routes=(PolicyController, PolicyPublishingController),
)
