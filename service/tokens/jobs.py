"""Background work of session tokens: rotating the keys that sign them."""

from __future__ import annotations

import logging

from service.jobs.runner import ScheduledJob
from service.runtime import Runtime
from service.tokens.keys import rotate

logger = logging.getLogger(__name__)

ROTATE = "tokens.rotate_signing_keys"


def rotation_schedule(runtime: Runtime) -> ScheduledJob:
    """Every ten minutes: pre-publish the next signing key when one is due, and retire the keys
    whose every token has expired (service/tokens/keys.py)."""

    async def run() -> None:
        settings = runtime.settings
        done = await rotate(
            runtime.database, runtime.vault, settings.session_signing_key_rotation, settings.session_token_lifetime
        )
        if done.created or done.retired:
            rotated = {"kid_created": done.created, "kids_retired": list(done.retired)}
            logger.info("session signing keys rotated", extra=rotated)

    return ScheduledJob(ROTATE, "*/10 * * * *", run)
