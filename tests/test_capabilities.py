"""The list of capabilities (service.capabilities) covers the service: every folder under service/
is a listed capability or one of the foundations, and every route, job, schedule and case outcome
found in a folder is declared in that folder's manifest. Forgetting a line fails here."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from pathlib import Path
from types import ModuleType
from unittest.mock import MagicMock

import pytest
from litestar import Controller
from litestar.handlers import BaseRouteHandler

from service.capabilities import CAPABILITIES, ERASURE_ORDER, FOUNDATIONS
from service.cases.catalogue import CASE_TYPES, CaseType
from service.cases.outcomes import OUTCOMES
from service.consents.effects import CASES_RELYING_ON
from service.consents.purposes import ConsentPurpose
from service.lifecycle import personal_data
from service.manifest import Capability
from service.observability.health import WorkerHealthController, worker_metrics
from service.registration import NotRegistered, RegisteredList, RegisteredTable

SERVICE = Path(__file__).resolve().parent.parent / "service"
BY_NAME = {capability.name: capability for capability in CAPABILITIES}

# Job names are stored (pgqueuer's queue and schedules, scheduled_job_runs): renaming one strands
# what is queued under the old name, so it takes a migration, not only an edit here.
STORED_JOB_NAMES = {
    "accounts.state_notice",
    "cases.sweep_overdue",
    "consents.erase_biometric_data",
    "courier.deliver",
    "face.erase_expired_images",
    "guardians.daily",
    "lifecycle.erase_due",
    "lifecycle.retention",
    "qualifications.expire",
    "realname.check",
    "recipients.deliver_notice",
    "rights.build_export",
    "sessions.assisted_recovery_decided",
    "tokens.rotate_signing_keys",
    "vault.reindex",
    "vault.rewrap",
    "vault.rotate_master_keys",
}


# Served by the worker's own health port (observability.health), not by the service's app.
WORKER_ROUTES: set[object] = {WorkerHealthController, worker_metrics}


def _folders() -> set[str]:
    return {path.parent.name for path in SERVICE.glob("*/__init__.py")}


def _modules(folder: str) -> list[ModuleType]:
    package = importlib.import_module(f"service.{folder}")
    names = [package.__name__] + [
        info.name for info in pkgutil.walk_packages(package.__path__, prefix=f"{package.__name__}.")
    ]
    return [importlib.import_module(name) for name in names]


def _routes_defined_in(folder: str) -> set[object]:
    found: set[object] = set()
    for module in _modules(folder):
        for value in vars(module).values():
            # Defined here, not imported: a controller class, or a handler function made a route.
            here = module.__name__
            controller = inspect.isclass(value) and issubclass(value, Controller) and value.__module__ == here
            handler = isinstance(value, BaseRouteHandler) and value.fn.__module__ == here
            if controller or handler:
                found.add(value)
    return found


def _job_factories_defined_in(folder: str) -> dict[str, set[str]]:
    """The functions of the folder (outside its manifest) returning a job or a schedule."""
    found: dict[str, set[str]] = {"JobDefinition": set(), "ScheduledJob": set()}
    for path in (SERVICE / folder).rglob("*.py"):
        if path.name == "capability.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and isinstance(node.returns, ast.Name) and node.returns.id in found:
                found[node.returns.id].add(f"{path.stem}.{node.name}")
    return found


def test_every_folder_is_a_listed_capability_or_a_foundation() -> None:
    names = [capability.name for capability in CAPABILITIES]
    assert len(names) == len(set(names))
    assert set(names) & FOUNDATIONS == set()
    assert _folders() - FOUNDATIONS - set(names) == set(), "add the folder's CAPABILITY to service.capabilities"
    assert set(names) - _folders() == set()
    for capability in CAPABILITIES:
        module = importlib.import_module(f"service.{capability.name}.capability")
        assert module.CAPABILITY is capability, capability.name


@pytest.mark.parametrize("folder", sorted(_folders()))
def test_every_route_of_a_folder_is_in_its_manifest(folder: str) -> None:
    declared = set(BY_NAME[folder].routes) if folder in BY_NAME else set()
    assert _routes_defined_in(folder) - WORKER_ROUTES == declared


def test_no_route_is_declared_twice() -> None:
    routes = [route for capability in CAPABILITIES for route in capability.routes]
    assert len(routes) == len(set(routes))


@pytest.mark.parametrize("folder", sorted(_folders() - {"jobs"}))
def test_every_job_and_schedule_of_a_folder_is_in_its_manifest(folder: str) -> None:
    capability = BY_NAME.get(folder, Capability(folder))
    factories = _job_factories_defined_in(folder)
    assert len(factories["JobDefinition"]) == len(capability.jobs), factories["JobDefinition"]
    assert len(factories["ScheduledJob"]) == len(capability.schedules), factories["ScheduledJob"]


def test_job_names_are_the_capabilitys_own_and_stay_as_stored() -> None:
    runtime = MagicMock()
    names: list[str] = []
    for capability in CAPABILITIES:
        bound = [job(runtime).name for job in capability.jobs] + [
            schedule(runtime).name for schedule in capability.schedules
        ]
        assert all(name.startswith(f"{capability.name}.") for name in bound), bound
        names += bound
    assert len(names) == len(set(names))
    assert set(names) == STORED_JOB_NAMES


def test_every_case_type_is_declared_by_one_capability_with_its_outcome() -> None:
    declared = [declaration.case_type for capability in CAPABILITIES for declaration in capability.case_types]
    assert sorted(declared) == sorted(CaseType)
    assert list(CASE_TYPES) == list(CaseType)
    for capability in CAPABILITIES:
        outcomes = {declaration.outcome for declaration in capability.case_types if declaration.outcome}
        defined = {
            value
            for module in _modules(capability.name)
            for name, value in vars(module).items()
            if name.endswith("_case_changed") and getattr(value, "__module__", None) == module.__name__
        }
        assert defined == outcomes, capability.name
        for declaration in capability.case_types:
            assert OUTCOMES.get(declaration.case_type) is declaration.outcome


def test_consent_effects_and_personal_data_are_the_manifests() -> None:
    assert dict(CASES_RELYING_ON) == {
        ConsentPurpose.IDENTITY_DATA: (CaseType.REAL_NAME, CaseType.QUALIFICATION, CaseType.DOCUMENT_REVIEW),
        ConsentPurpose.BIOMETRIC: (CaseType.FACE,),
    }
    assert list(personal_data.REGISTRY) == [entry for capability in CAPABILITIES for entry in capability.personal_data]


def test_the_erasure_runs_each_capabilitys_step_once_in_the_declared_order() -> None:
    # The order the erasure has always run in (README "Cancellation and erasure"): keys first,
    # the account's own data and key last.
    assert [name for name, _ in personal_data.ERASURE_STEPS] == ["face", "lifecycle", "cases", "guardians", "accounts"]
    assert [step for _, step in personal_data.ERASURE_STEPS] == [capability.erase for capability in ERASURE_ORDER]
    assert {capability.name for capability in CAPABILITIES if capability.erase} == {
        capability.name for capability in ERASURE_ORDER
    }


def test_a_table_is_read_only_once_the_capabilities_filled_it_and_filled_once() -> None:
    table: RegisteredTable[str, int] = RegisteredTable("examples")
    with pytest.raises(NotRegistered):
        table.get("a")
    table.fill([("a", 1)])
    assert table.get("a") == 1
    assert table.get("b") is None
    with pytest.raises(RuntimeError):
        table.fill([("b", 2)])
    with pytest.raises(RuntimeError, match="twice"):
        RegisteredTable[str, int]("examples").fill([("a", 1), ("a", 2)])
    entries: RegisteredList[int] = RegisteredList("examples")
    with pytest.raises(NotRegistered):
        list(entries)
