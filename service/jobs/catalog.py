"""Every job the worker runs, bound to the runtime that carries their dependencies."""

from __future__ import annotations

from service.accounts.notices import state_notice_job
from service.cases.sweep import sweep_schedule
from service.consents.effects import erase_biometric_job
from service.courier.outbox import delivery_job
from service.face.retention import retention_schedule
from service.guardians.lifecycle import guardian_schedule
from service.jobs.runner import JobDefinition, ScheduledJob
from service.jobs.runs import Trigger, recorded
from service.lifecycle.cancellation import erasure_schedule
from service.lifecycle.retention import retention_schedule as retention_purge_schedule
from service.qualifications.lifecycle import expiry_schedule
from service.realname.verification import check_job
from service.recipients.notices import delivery_job as notice_delivery_job
from service.rights.exports import build_job
from service.runtime import Runtime
from service.vault.jobs import reindex_schedule, rewrap_job, rotation_schedule


def job_definitions(runtime: Runtime) -> list[JobDefinition]:
    return [
        delivery_job(runtime.courier),
        rewrap_job(runtime),
        erase_biometric_job(runtime),
        check_job(runtime, runtime.real_name),
        state_notice_job(runtime),
        build_job(runtime),
        notice_delivery_job(runtime),
    ]


def scheduled_jobs(runtime: Runtime, trigger: Trigger = Trigger.SCHEDULE) -> list[ScheduledJob]:
    """Every scheduled job, each run recorded (jobs.runs): the worker's schedule and `idv jobs run`
    run exactly these."""
    jobs = [
        sweep_schedule(runtime),
        expiry_schedule(runtime),
        guardian_schedule(runtime),
        erasure_schedule(runtime),
        retention_schedule(runtime),
        retention_purge_schedule(runtime),
        rotation_schedule(runtime),
        reindex_schedule(runtime),
    ]
    return [recorded(runtime.database, job, trigger) for job in jobs]
