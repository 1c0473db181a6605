"""Which operator may work which case: the case type's roles, appeals' excluded deciders,
and claims."""

from __future__ import annotations

from service.cases.cases import Case
from service.cases.catalogue import CASE_TYPES, CaseType
from service.http.problems import ProblemError
from service.operators.auth import OperatorPrincipal


def workable_types(operator: OperatorPrincipal) -> list[CaseType]:
    return [case_type for case_type, spec in CASE_TYPES.items() if operator.has_any(spec.workers)]


def ensure_may_see(operator: OperatorPrincipal, case: Case) -> None:
    if not operator.has_any(CASE_TYPES[case.case_type].workers):
        raise ProblemError(403, "case_type_not_allowed", "Your roles do not cover this type of case")


def ensure_may_decide(operator: OperatorPrincipal, case: Case, *, second_approval: bool = False) -> None:
    """A second approver confirms what the claimant staged, so claims do not bind them."""
    ensure_may_see(operator, case)
    if operator.operator_id in case.excluded_operator_ids:
        raise ProblemError(
            403, "excluded_from_case", "You decided the original case; another operator must review the appeal"
        )
    if not second_approval and case.assignee_id not in (None, operator.operator_id):
        raise ProblemError(409, "case_claimed_by_other", "Another operator has claimed this case")
