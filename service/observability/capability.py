"""The manifest of observability (service.manifest), listed in service.capabilities.

Health probes and metrics.
"""

from __future__ import annotations

from service.manifest import Capability
from service.observability.health import HealthController, metrics_endpoint

CAPABILITY = Capability(
    "observability",
    routes=(HealthController, metrics_endpoint),
)
