"""Images of automated face decisions kept for a configured while are erased when it ends."""

from __future__ import annotations

from service.face import store
from service.jobs.runner import ScheduledJob
from service.runtime import Runtime


async def erase_expired_images(runtime: Runtime) -> int:
    async with runtime.database.transaction() as conn:
        return await store.erase_samples_past_retention(conn)


def retention_schedule(runtime: Runtime) -> ScheduledJob:
    async def run() -> None:
        await erase_expired_images(runtime)

    return ScheduledJob("face.erase_expired_images", "23 * * * *", run)
