"""The manifest of vault (service.manifest), listed in service.capabilities.

The personal-data vault: master-key rotation, re-wrapping and re-indexing.
"""

from __future__ import annotations

from service.manifest import Capability
from service.vault.jobs import reindex_schedule, rewrap_job, rotation_schedule

CAPABILITY = Capability(
    "vault",
    jobs=(rewrap_job,),
    schedules=(rotation_schedule, reindex_schedule),
)
