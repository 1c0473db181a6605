"""The manifest of restrictions (service.manifest), listed in service.capabilities.

Restriction of processing at the person's request.
"""

from __future__ import annotations

from service.manifest import Capability
from service.restrictions.routes import RestrictionController

CAPABILITY = Capability(
    "restrictions",
    routes=(RestrictionController,),
)
