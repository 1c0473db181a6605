"""HTTP for the console's account pages: look an account up, see it, restrict it, lift the
restriction, propose its termination (HTTP in and out only).

Each page calls the domain functions the operator API calls (``accounts.lookup``,
``restrictions.restrictions``, ``termination.termination``) behind the roles those API routes
declare (``ACCOUNT_READERS``, ``ACCOUNT_MEASURES``); which forms an account's page offers comes from
the same constants and the states the domain functions accept (``RESTRICTABLE``, ``TERMINABLE``).
The identifier looked up travels only in a POST body, never in an address.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar
from uuid import UUID

import msgspec
from litestar import Controller, Response, get, post
from litestar.params import FromPath

from service.accounts.lookup import (
    AccountLookup,
    IdentifierKind,
    LookupReason,
    OperatorAccountView,
    account_view,
    look_up,
)
from service.accounts.reasons import LIFT_REASONS, RESTRICTION_REASONS
from service.accounts.states import AccountState
from service.console.pages import (
    AnyRequest,
    CurrentOperator,
    SignInFirst,
    console_error,
    console_guard,
    error_page,
    page_context,
    render,
    see_other,
    session_form,
)
from service.errors import DomainError, Invalid, NotFound, invalid_field
from service.http.dependencies import CurrentRuntime
from service.http.problems import domain_status
from service.http.rate_limits import RateLimitGroup
from service.http.request_guard import ACCEPTS_FORM
from service.operators.auth import OperatorPrincipal, allow
from service.operators.roles import ACCOUNT_MEASURES, ACCOUNT_READERS
from service.restrictions.restrictions import RESTRICTABLE, LiftRequest, RestrictionRequest, lift, restrict
from service.termination.termination import TERMINABLE, TerminationProposal, TerminationReason, propose

Body = TypeVar("Body", bound=msgspec.Struct)
ACCOUNT_PAGE = re.compile(r"^/console/accounts/[0-9a-f-]{36}")
# msgspec names the field a value failed in as "... - at `$.field`".
FAILED_AT = re.compile(r" - at `\$\.(\w+)`$")


def _body(kind: type[Body], fields: dict[str, str], names: tuple[str, ...]) -> Body:
    """The posted form as the API's request body, checked by the same type (422 as a field's problem)."""
    try:
        # A textarea posts CRLF line breaks; the API's free text takes LF only.
        values = {name: fields.get(name, "").replace("\r\n", "\n").strip() for name in names}
        return msgspec.convert(values, kind)
    except msgspec.ValidationError as exc:
        message = str(exc)
        at = FAILED_AT.search(message)
        field = at.group(1) if at else names[0]
        raise invalid_field(field, "invalid", FAILED_AT.sub("", message)) from None


def _account_context(
    request: AnyRequest, operator: OperatorPrincipal, views: list[OperatorAccountView]
) -> dict[str, Any]:
    return {
        **page_context(request, operator),
        "accounts": views,
        # The roles the API's restriction and termination routes declare, and the states their
        # domain functions accept: the forms shown are the acts that would be allowed.
        "may_act": operator.has_any(ACCOUNT_MEASURES),
        "restrictable": RESTRICTABLE,
        "terminable": TERMINABLE,
        "restricted": AccountState.RESTRICTED,
        "restriction_reasons": [(code, reason.internal) for code, reason in RESTRICTION_REASONS.items()],
        "lift_reasons": [(code, reason.internal) for code, reason in LIFT_REASONS.items()],
        "termination_reasons": list(TerminationReason),
    }


def _lookup_context(request: AnyRequest, operator: OperatorPrincipal, **chosen: Any) -> dict[str, Any]:
    return {
        **page_context(request, operator),
        "kinds": list(IdentifierKind),
        "reasons": list(LookupReason),
        "chosen_kind": chosen.get("kind", ""),
        "chosen_reason": chosen.get("reason", ""),
        "problem": chosen.get("problem"),
    }


def account_error(request: AnyRequest, exc: Exception) -> Response[Any]:
    """As the console's other pages answer, with the way back to the account a refused form was about."""
    page = ACCOUNT_PAGE.match(request.url.path)
    if isinstance(exc, DomainError) and page is not None:
        return error_page(request, exc, page.group(0))
    return console_error(request, exc)


class ConsoleAccountsController(Controller):
    path = "/console/accounts"
    include_in_schema = False
    guards = [console_guard]
    exception_handlers = {SignInFirst: account_error, DomainError: account_error}

    @get("/", opt=allow(ACCOUNT_READERS))
    async def lookup_page(self, request: AnyRequest, operator: CurrentOperator) -> Response[str]:
        return render("accounts_lookup.html", _lookup_context(request, operator))

    @post("/lookup", opt={**allow(ACCOUNT_READERS), **ACCEPTS_FORM, "rate_limit": RateLimitGroup.ACCOUNT_LOOKUPS})
    async def lookup(self, request: AnyRequest, runtime: CurrentRuntime, operator: CurrentOperator) -> Response[str]:
        fields = await session_form(request)
        chosen = {"kind": fields.get("kind", ""), "reason": fields.get("reason", "")}
        try:
            lookup = _body(AccountLookup, fields, ("kind", "value", "reason"))
            found = await look_up(runtime, operator, lookup)
        except (Invalid, NotFound) as exc:
            # The form again (without the value), saying what was wrong.
            context = _lookup_context(request, operator, **chosen, problem=exc)
            return render("accounts_lookup.html", context, status=domain_status(exc))
        return render("accounts.html", _account_context(request, operator, found.accounts))

    @get("/{account_id:uuid}", opt=allow(ACCOUNT_READERS))
    async def account_page(
        self, request: AnyRequest, runtime: CurrentRuntime, operator: CurrentOperator, account_id: FromPath[UUID]
    ) -> Response[str]:
        view = await account_view(runtime, operator, account_id)
        return render("accounts.html", _account_context(request, operator, [view]))

    @post("/{account_id:uuid}/restriction", opt={**allow(ACCOUNT_MEASURES), **ACCEPTS_FORM})
    async def restrict_account(
        self, request: AnyRequest, runtime: CurrentRuntime, operator: CurrentOperator, account_id: FromPath[UUID]
    ) -> Response[Any]:
        fields = await session_form(request)
        await restrict(runtime, operator, account_id, _body(RestrictionRequest, fields, ("reason_code",)))
        return see_other(f"/console/accounts/{account_id}")

    @post("/{account_id:uuid}/restriction/lift", opt={**allow(ACCOUNT_MEASURES), **ACCEPTS_FORM})
    async def lift_restriction(
        self, request: AnyRequest, runtime: CurrentRuntime, operator: CurrentOperator, account_id: FromPath[UUID]
    ) -> Response[Any]:
        fields = await session_form(request)
        await lift(runtime, operator, account_id, _body(LiftRequest, fields, ("reason_code",)))
        return see_other(f"/console/accounts/{account_id}")

    @post("/{account_id:uuid}/termination", opt={**allow(ACCOUNT_MEASURES), **ACCEPTS_FORM})
    async def propose_termination(
        self, request: AnyRequest, runtime: CurrentRuntime, operator: CurrentOperator, account_id: FromPath[UUID]
    ) -> Response[Any]:
        fields = await session_form(request)
        await propose(runtime, operator, account_id, _body(TerminationProposal, fields, ("reason", "note")))
        return see_other(f"/console/accounts/{account_id}")
