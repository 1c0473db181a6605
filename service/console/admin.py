"""HTTP for the console's administration pages: operators (admins), recipients and their notices
owed, and the open rights requests (HTTP in and out only).

Each page calls the very domain functions of its operator API endpoint, behind the very roles that
endpoint declares (``allow``, checked by ``console_guard`` through ``ensure_allowed``): operators as
``/v1/operator/operators``, recipients and notices as ``/v1/operator/recipients``, rights requests
as the queue of their case type (``service.rights.requests.REQUEST_WORKERS``). The navigation reads
the same constants (routes.NAVIGATION); the templates only show what they are given.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID

import msgspec
from litestar import Controller, Response, get, post
from litestar.params import FromPath, QueryParameter

from service.cases.catalogue import CaseType
from service.cases.queue import queue_page
from service.console.pages import (
    AnyRequest,
    CurrentOperator,
    OperatorNames,
    SignInFirst,
    console_error,
    console_guard,
    error_page,
    operator_uuid,
    page_context,
    render,
    see_other,
    session_form,
)
from service.errors import DomainError, invalid_field
from service.http.dependencies import CurrentRuntime
from service.http.request_guard import ACCEPTS_FORM
from service.operators.auth import allow
from service.operators.enrolment import approve_operator, may_approve, request_operator
from service.operators.roles import ADMINS, AUDIT_READERS, Role
from service.operators.roster import disable_operator, list_operators
from service.operators.schemas import NewOperatorRequest
from service.recipients.notices import resend
from service.recipients.registry import listed, unacknowledged
from service.rights.requests import REQUEST_WORKERS

# The roles of each page: those of the operator API endpoints it stands for (a test compares them).
OPERATOR_ROLES = ADMINS
RECIPIENT_ROLES = AUDIT_READERS
RIGHTS_ROLES = REQUEST_WORKERS
# A rights request due within this long stands out before it is overdue.
DUE_SOON = timedelta(days=3)
# Requests per page of the rights list (the queue's keyset pages).
RIGHTS_PAGE_SIZE = 100
SECTIONS = frozenset({"operators", "recipients", "rights"})


def admin_error(request: AnyRequest, exc: Exception) -> Response[Any]:
    """As the console's other pages answer, with the way back to the page the form was on."""
    if isinstance(exc, SignInFirst):
        return console_error(request, exc)
    assert isinstance(exc, DomainError)
    parts = request.url.path.split("/")
    back = f"/console/{parts[2]}" if len(parts) >= 3 and parts[2] in SECTIONS else "/console/"
    return error_page(request, exc, back)


def _new_operator(email: str, roles: list[str]) -> NewOperatorRequest:
    """The API's own body, so the console accepts exactly what the API does."""
    try:
        return msgspec.convert({"email": email.strip(), "roles": roles}, NewOperatorRequest)
    except msgspec.ValidationError as exc:
        field = "roles" if "roles" in str(exc) else "email"
        message = "choose one to four of the roles offered" if field == "roles" else "enter an e-mail address"
        raise invalid_field(field, "invalid", message) from None


def _creator(created_by: str, emails: dict[UUID, str]) -> str:
    """Who created an operator (an actor's label): the creating operator's address, else the label
    (``system:cli`` for `idv operators create`)."""
    creator = operator_uuid(created_by)
    return emails.get(creator, created_by) if creator else created_by


class ConsoleAdminController(Controller):
    path = "/console"
    include_in_schema = False
    guards = [console_guard]
    exception_handlers = {SignInFirst: admin_error, DomainError: admin_error}

    @get("/operators", opt=allow(OPERATOR_ROLES))
    async def operators_page(
        self, request: AnyRequest, runtime: CurrentRuntime, operator: CurrentOperator
    ) -> Response[str]:
        operators = await list_operators(runtime)
        names = {o.summary.operator_id: o.summary.email for o in operators}
        context = {
            **page_context(request, operator),
            # Who created each: an admin sees every operator's address here already.
            "created_by": {o.summary.operator_id: _creator(o.created_by, names) for o in operators},
            "operators": [
                {
                    "summary": o.summary,
                    "own": o.summary.operator_id == operator.operator_id,
                    "may_approve": may_approve(o.created_by, operator.actor),
                }
                for o in operators
            ],
            "all_roles": list(Role),
        }
        return render("operators.html", context)

    @post("/operators", opt={**allow(OPERATOR_ROLES), **ACCEPTS_FORM})
    async def create_operator(
        self, request: AnyRequest, runtime: CurrentRuntime, operator: CurrentOperator
    ) -> Response[Any]:
        fields = await session_form(request)
        roles = [value for value in (await request.form()).getall("roles", []) if isinstance(value, str)]
        body = _new_operator(fields.get("email", ""), roles)
        await request_operator(runtime, body.email, body.roles, operator.actor)
        return see_other("/console/operators")

    @post("/operators/{operator_id:uuid}/approve", opt={**allow(OPERATOR_ROLES), **ACCEPTS_FORM})
    async def approve(
        self, request: AnyRequest, runtime: CurrentRuntime, operator: CurrentOperator, operator_id: FromPath[UUID]
    ) -> Response[Any]:
        await session_form(request)
        await approve_operator(runtime, operator_id, operator.actor)
        return see_other("/console/operators")

    @post("/operators/{operator_id:uuid}/disable", opt={**allow(OPERATOR_ROLES), **ACCEPTS_FORM})
    async def disable(
        self, request: AnyRequest, runtime: CurrentRuntime, operator: CurrentOperator, operator_id: FromPath[UUID]
    ) -> Response[Any]:
        await session_form(request)
        await disable_operator(runtime, operator_id, operator.actor, own_id=operator.operator_id)
        return see_other("/console/operators")

    @get("/recipients", opt=allow(RECIPIENT_ROLES))
    async def recipients_page(
        self, request: AnyRequest, runtime: CurrentRuntime, operator: CurrentOperator
    ) -> Response[str]:
        context = {
            **page_context(request, operator),
            "recipients": await listed(runtime),
            "notices": await unacknowledged(runtime),
            "now": datetime.now(UTC),
        }
        return render("recipients.html", context)

    @post("/recipients/notices/{notice_id:uuid}/resend", opt={**allow(RECIPIENT_ROLES), **ACCEPTS_FORM})
    async def resend_notice(
        self, request: AnyRequest, runtime: CurrentRuntime, operator: CurrentOperator, notice_id: FromPath[UUID]
    ) -> Response[Any]:
        await session_form(request)
        await resend(runtime, operator, notice_id)
        return see_other("/console/recipients")

    @get("/rights", opt=allow(RIGHTS_ROLES))
    async def rights_page(
        self,
        request: AnyRequest,
        runtime: CurrentRuntime,
        operator: CurrentOperator,
        after: Annotated[str | None, QueryParameter(max_length=200)] = None,
    ) -> Response[str]:
        """The open rights requests in the queue's order (priority, then soonest due), a page at a
        time past the keyset cursor ``after``, as the queue page does; each is worked on its case page."""
        page = await queue_page(
            runtime,
            operator,
            case_type=CaseType.DATA_SUBJECT_REQUEST.value,
            state=None,
            due_before=None,
            mine=False,
            unassigned=False,
            limit=RIGHTS_PAGE_SIZE,
            after=after or None,
        )
        now = datetime.now(UTC)
        context = {
            **page_context(request, operator),
            "cases": page.cases,
            "operator_name": await OperatorNames.of(runtime, (c.assignee_id for c in page.cases)),
            "first_page": "/console/rights" if after else None,
            "next_page": "/console/rights?" + urlencode({"after": page.next_cursor}) if page.next_cursor else None,
            "now": now,
            "soon": now + DUE_SOON,
            "due_soon_days": DUE_SOON.days,
        }
        return render("rights.html", context)
