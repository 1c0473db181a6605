"""Every job the worker runs, bound to the runtime that carries their dependencies: what each
capability's manifest declares (service.capabilities)."""

from __future__ import annotations

from service.capabilities import CAPABILITIES
from service.jobs.runner import JobDefinition, ScheduledJob
from service.jobs.runs import Trigger, recorded
from service.runtime import Runtime


def job_definitions(runtime: Runtime) -> list[JobDefinition]:
    return [job(runtime) for capability in CAPABILITIES for job in capability.jobs]


def scheduled_jobs(runtime: Runtime, trigger: Trigger = Trigger.SCHEDULE) -> list[ScheduledJob]:
    """Every scheduled job, each run recorded (jobs.runs): the worker's schedule and `idv jobs run`
    run exactly these."""
    jobs = [schedule(runtime) for capability in CAPABILITIES for schedule in capability.schedules]
    return [recorded(runtime.database, job, trigger) for job in jobs]
