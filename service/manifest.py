"""What a capability declares about itself, once: the manifest each folder under ``service/``
exports as ``CAPABILITY`` from its ``capability.py``.

A manifest names the capability's HTTP routes, its jobs and schedules, the review-case types it
owns (with what their decisions do and what the person a case is about may do with it), and the
personal data it holds (how it is exported, erased, held and retained, and its own step of an
account's erasure). ``service.capabilities`` lists every manifest; the app, the job catalogue,
case outcomes, consent effects, the export and erasure read that list, and nothing else reaches
into a capability to find these things.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from service.cases.catalogue import CaseType, CaseTypeSpec
from service.cases.outcomes import CaseOutcome
from service.consents.purposes import ConsentPurpose
from service.lifecycle.personal_data import ErasureStep, PersonalData

if TYPE_CHECKING:
    from litestar.types import ControllerRouterHandler

    from service.jobs.runner import JobDefinition, ScheduledJob
    from service.runtime import Runtime


@dataclass(frozen=True)
class CaseTypeDeclaration:
    case_type: CaseType
    spec: CaseTypeSpec
    # What a change of the case's state does beyond the case (cases.outcomes), if anything.
    outcome: CaseOutcome | None = None
    # The consent the case's processing rests on: withdrawing it withdraws the open cases
    # (consents.effects).
    relies_on: ConsentPurpose | None = None


@dataclass(frozen=True)
class Capability:
    # The folder under service/; every job and schedule name starts with it and a dot, so job
    # names are unique across capabilities (they are stored: pgqueuer's queue and schedules, and
    # scheduled_job_runs).
    name: str
    routes: tuple[ControllerRouterHandler, ...] = ()
    # Bound to the runtime when the worker starts (service.jobs.catalog).
    jobs: tuple[Callable[[Runtime], JobDefinition], ...] = ()
    schedules: tuple[Callable[[Runtime], ScheduledJob], ...] = ()
    case_types: tuple[CaseTypeDeclaration, ...] = ()
    # Every table of the capability that holds personal data (lifecycle.personal_data).
    personal_data: tuple[PersonalData, ...] = ()
    # What erasing an account takes of the capability beyond its tables' ``erase`` statements
    # (keys destroyed, open cases ended, guardianships ended, the account's own data). Run by
    # lifecycle.erasure in the order of service.capabilities.ERASURE_ORDER, which must list
    # every capability that has one.
    erase: ErasureStep | None = None
