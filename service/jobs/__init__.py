"""Background jobs on pgqueuer: enqueued in the caller's transaction, run by `idv worker`."""

from service.jobs.queue import enqueue
from service.jobs.runner import JobDefinition, JobRunner, ScheduledJob

__all__ = ["JobDefinition", "JobRunner", "ScheduledJob", "enqueue"]
