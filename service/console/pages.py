"""What every console page module shares: the operator's session check, the templates and how a
page, a redirect and a posted form are made (HTTP in and out only).

The console's page modules (routes, accounts, admin, passkeys) are controllers side by side; each
answers with these, so a page is rendered, guarded and refused the same way wherever it lives, and
a form's CSRF token is checked by one function. They are public here, not private helpers of one
controller that the others reach into.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from babel.dates import format_date, format_time
from jinja2 import Environment, PackageLoader, StrictUndefined
from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.handlers.base import BaseRouteHandler
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect
from markupsafe import Markup

from service.audit import Actor
from service.console.security import (
    CSRF_FIELD,
    PAGE_HEADERS,
    PRE_SESSION_COOKIE,
    SESSION_COOKIE,
    cleared_session_cookie,
    cookie_name,
    csrf_matches,
    csrf_token,
)
from service.errors import DomainError, Forbidden, Unauthenticated
from service.http.clients import client_address, user_agent
from service.http.problems import domain_status
from service.i18n.catalogues import in_request_language, translatable, translations
from service.i18n.languages import Language, request_language
from service.operators.auth import ROLES_OPT, OperatorPrincipal, SessionChannel, authenticate, ensure_allowed
from service.operators.roles import ACCOUNT_READERS, ADMINS, AUDIT_READERS, CASE_WORKERS
from service.operators.roster import operator_names
from service.rights.requests import REQUEST_WORKERS
from service.runtime import Runtime

# The signed-in operator, as console_guard found them (litestar's dependency named "operator").
CurrentOperator = NamedDependency[OperatorPrincipal]
# A console handler's request: its state carries the operator and their session's token.
AnyRequest = Request[Any, Any, Any]

HTML = "text/html; charset=utf-8"
SIGN_IN_PATH = "/console/sign-in"

# The pages the navigation offers, each with the roles its route declares (the same constant).
QUEUE_ROLES = CASE_WORKERS
AUDIT_ROLES = AUDIT_READERS
# The administration pages (service.console.admin) declare the same constants: ADMINS for
# operators, AUDIT_READERS for recipients (as their API endpoints), rights requests' own workers.
NAVIGATION = (
    (translatable("Queue"), "/console/queue", QUEUE_ROLES),
    (translatable("Rights requests"), "/console/rights", REQUEST_WORKERS),
    (translatable("Accounts"), "/console/accounts", ACCOUNT_READERS),  # service.console.accounts
    (translatable("Audit trail"), "/console/audit", AUDIT_ROLES),
    (translatable("Recipients"), "/console/recipients", AUDIT_READERS),
    (translatable("Operators"), "/console/operators", ADMINS),
)


def page_language() -> Language:
    """The language of the request (negotiated from Accept-Language, with IDV_DEFAULT_LANGUAGE, by
    service.http.context, as for the API's answers)."""
    return request_language.get() or Language.ZH_CN


def _console_gettext(english: str) -> str:
    """A template's text in the language of the request."""
    return translations(page_language()).compiled.gettext(english)


def _console_ngettext(singular: str, plural: str, count: int) -> str:
    return translations(page_language()).compiled.ngettext(singular, plural, count)


def console_environment() -> Environment:
    """The templates' environment: autoescaped, and ``{% trans %}``/``_()`` read the catalogues
    (service/locale) in the request's language; ``python -m service.i18n.extract`` reads its texts."""
    environment = Environment(
        loader=PackageLoader("service.console", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
    )
    # A {% trans %} block's text is its words, whatever the lines and indentation of the template.
    environment.policies["ext.i18n.trimmed"] = True
    environment.install_gettext_callables(_console_gettext, _console_ngettext, newstyle=True)  # type: ignore[attr-defined]
    # Texts made elsewhere (a domain error's title and detail, a field's message) as they are translated for the API.
    environment.filters["translated"] = in_request_language
    # Times and dates in the reader's language, in UTC said so, machine-readable in <time>.
    environment.filters["when"] = reader_time
    environment.filters["day"] = reader_date
    return environment


def reader_time(moment: datetime, seconds: bool = False) -> Markup:
    """A moment as the reader writes one (Babel's medium date and short or medium time of the
    page's language), in UTC and saying so, in a ``<time>`` whose ``datetime`` is its ISO 8601 form:
    operators in several time zones read one clock, and a script or screen reader the exact value."""
    at = moment.astimezone(UTC)
    locale = page_language().locale
    day = format_date(at, "medium", locale=locale)
    time = format_time(at, "medium" if seconds else "short", tzinfo=UTC, locale=locale)
    return Markup('<time datetime="{}">{} {} UTC</time>').format(at.isoformat(), day, time)


def reader_date(moment: datetime | date) -> Markup:
    """A day as the reader writes one (UTC for a moment), in a ``<time>`` with its ISO 8601 date."""
    day = moment.astimezone(UTC).date() if isinstance(moment, datetime) else moment
    text = format_date(day, "medium", locale=page_language().locale)
    return Markup('<time datetime="{}">{}</time>').format(day.isoformat(), text)


ENGINE = JinjaTemplateEngine.from_environment(console_environment())


class SignInFirst(Exception):
    """No console session (or an ended one): the browser goes to the sign-in page."""


async def console_guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """The operator API's check, fed from the console's cookie; only that cookie is read, and only a
    session signed in through the console is accepted, so a person's session or an operator's
    API token opens nothing here."""
    if ROLES_OPT not in handler.opt:
        return  # the sign-in pages, declared public in their opt
    runtime: Runtime = connection.app.state.runtime
    token = connection.cookies.get(cookie_name(runtime.settings, SESSION_COOKIE))
    try:
        principal = await authenticate(connection, handler, token, SessionChannel.CONSOLE)
    except Unauthenticated:
        raise SignInFirst from None
    # Known before the role check, so a refused page still shows who is signed in and sign-out.
    connection.state.operator = principal
    connection.state.console_token = token
    await ensure_allowed(connection, handler, principal)


def render(
    name: str,
    context: Mapping[str, Any],
    *,
    status: int = 200,
    cookies: list[Cookie] | None = None,
) -> Response[str]:
    """A template as a page, with the console's headers (CSP, no-store) on every one."""
    body = ENGINE.get_template(name).render(**context, language=page_language().value)
    return Response(body, status_code=status, media_type=HTML, headers=PAGE_HEADERS, cookies=cookies or [])


def page_context(request: AnyRequest, operator: OperatorPrincipal | None) -> dict[str, Any]:
    """What the frame of every page shows: who is signed in, the navigation their roles open, and
    the session's CSRF token for the page's forms."""
    token: str | None = getattr(request.state, "console_token", None)
    return {
        "operator": operator,
        "roles": sorted(operator.roles) if operator else [],
        # A session restricted to enrolling a passkey reaches none of these pages.
        "navigation": [
            (in_request_language(label), path)
            for label, path, roles in NAVIGATION
            if operator and not operator.restricted and operator.has_any(roles)
        ],
        "audit_allowed": bool(operator and operator.has_any(AUDIT_ROLES)),
        "csrf_field": CSRF_FIELD,
        "csrf": csrf_token(token) if token else "",
        "path": request.url.path,
    }


def see_other(path: str, cookies: list[Cookie] | None = None) -> Response[Any]:
    """After a form: 303 to the page that shows its outcome (a reload never posts again)."""
    return Redirect(path, status_code=303, headers=PAGE_HEADERS, cookies=cookies or [])


def _csrf_refused() -> Forbidden:
    return Forbidden("csrf_token_invalid", "This form has expired; reload the page and try again")


async def session_form(request: AnyRequest) -> dict[str, str]:
    """The posted form, once its CSRF token is that of the console session."""
    form = await request.form()
    fields = {key: value for key, value in form.items() if isinstance(value, str)}
    token: str | None = getattr(request.state, "console_token", None)
    if token is None or not csrf_matches(csrf_token(token), fields.get(CSRF_FIELD)):
        raise _csrf_refused()
    return fields


async def pre_session_form(request: AnyRequest, runtime: Runtime) -> dict[str, str]:
    """A form posted before there is a session (sign-in, enrolment), once its token is the one
    its page set in the pre-session cookie."""
    form = await request.form()
    fields = {key: value for key, value in form.items() if isinstance(value, str)}
    expected = request.cookies.get(cookie_name(runtime.settings, PRE_SESSION_COOKIE))
    if not csrf_matches(expected, fields.get(CSRF_FIELD)):
        raise _csrf_refused()
    return fields


class OperatorNames:
    """How a page names the operators it shows (its assignees, stagers, deciders, actors): by
    ``operators.roster.operator_names`` (their e-mail masked), read once for the whole page; one
    it has no name for shows as the start of their id. Templates call it: ``operator_name(id)``."""

    def __init__(self, names: Mapping[UUID, str]) -> None:
        self._names = dict(names)

    @classmethod
    async def of(cls, runtime: Runtime, ids: Iterable[UUID | str | None]) -> OperatorNames:
        """The names of these operators (ids as UUIDs or the audit trail's strings), in one query."""
        return cls(await operator_names(runtime, {i for i in map(operator_uuid, ids) if i is not None}))

    def __call__(self, operator_id: UUID | str | None) -> str:
        key = operator_uuid(operator_id)
        if key is not None and key in self._names:
            return self._names[key]
        return str(operator_id or "")[:8]


def operator_uuid(value: UUID | str | None) -> UUID | None:
    """An operator's id from a page's data: a UUID, the audit trail's text, or an actor's label
    (``operator:<id>``); anything else (a system's or a person's) is no operator's."""
    if value is None or isinstance(value, UUID):
        return value
    text = value.removeprefix("operator:")
    try:
        return UUID(text) if len(text) == 36 else None
    except ValueError:
        return None


def anonymous_actor(request: AnyRequest) -> Actor:
    """Who acts before signing in, for the audit trail: the address and browser, no one yet."""
    return Actor.anonymous(client_address(request), user_agent(request))


def error_page(request: AnyRequest, exc: DomainError, back: str) -> Response[str]:
    """A refused page or form: the error in the operator's language, and the way back to ``back``."""
    operator: OperatorPrincipal | None = getattr(request.state, "operator", None)
    context = {**page_context(request, operator), "error": exc, "back": back}
    return render("error.html", context, status=domain_status(exc))


def console_error(request: AnyRequest, exc: Exception) -> Response[Any]:
    """The console's exception handler: no session goes to sign-in (the cookie cleared); a domain
    error is a page with its status, leading back to the case, or the form, it was about."""
    if isinstance(exc, SignInFirst):
        return see_other(SIGN_IN_PATH, [cleared_session_cookie(request.app.state.runtime.settings)])
    assert isinstance(exc, DomainError)
    parts = request.url.path.split("/")
    if len(parts) >= 4 and parts[2] == "cases":
        back = "/".join(parts[:4])
    elif len(parts) >= 3 and parts[2] in {"enrol", "sign-in"}:
        back = f"/console/{parts[2]}"
    else:
        back = "/console/"
    return error_page(request, exc, back)
