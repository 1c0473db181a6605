"""Who is calling the operator API, and whether their roles allow this endpoint.

Every operator endpoint declares its roles in ``opt`` (see ``allow``); the guard refuses an
endpoint that declares none, so forgetting is an error rather than an open door.

With ``IDV_OPERATOR_REQUIRE_PASSKEY=true`` a session that did not sign in with a passkey is
restricted: it reaches only the endpoints ``allow(..., while_enrolling_passkey=True)`` marks (who
am I, sign out, enrol and list passkeys), so nothing that acts. The list of those is short on purpose.

A session is accepted only through the channel it was signed in through (``SessionChannel``): the
API's bearer tokens never open the console, and the console's cookie is no bearer token.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from service.audit import Actor, AuditEntry
from service.errors import Forbidden, Unauthenticated
from service.http.clients import client_address, user_agent
from service.operators import store
from service.operators.roles import Role
from service.operators.store import SessionChannel as SessionChannel
from service.runtime import Runtime
from service.sessions.tokens import looks_like_token, token_digest

ROLES_OPT = "operator_roles"
# Reachable by a restricted session (passkeys required, signed in with password and TOTP).
WHILE_ENROLLING_PASSKEY_OPT = "operator_while_enrolling_passkey"


@dataclass(frozen=True)
class OperatorPrincipal:
    session_id: UUID
    operator_id: UUID
    roles: frozenset[Role]
    expires_at: datetime
    client_address: str
    user_agent: str | None
    signed_in_with: store.SignedInWith = store.SignedInWith.PASSWORD_TOTP
    # Passkeys are required and this session signed in with password and TOTP.
    restricted: bool = False

    @property
    def actor(self) -> Actor:
        return Actor.operator(self.operator_id, self.client_address, self.user_agent)

    def has_any(self, roles: frozenset[Role]) -> bool:
        return bool(self.roles & roles)


def allow(roles: frozenset[Role], *, while_enrolling_passkey: bool = False) -> dict[str, Any]:
    """``opt`` for an operator endpoint: the roles that may call it, and whether a restricted
    session (one that must enrol a passkey first) may."""
    if while_enrolling_passkey:
        return {ROLES_OPT: roles, WHILE_ENROLLING_PASSKEY_OPT: True}
    return {ROLES_OPT: roles}


def _bearer(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    header = connection.headers.get("authorization")
    if header is None:
        return None
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else None


async def operator_guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    if connection.scope.get("method") == "OPTIONS":
        return  # Litestar's own CORS pre-flight handler: it runs no endpoint code.
    connection.state.operator = await authorize(connection, handler, _bearer(connection), SessionChannel.API)


async def authorize(
    connection: ASGIConnection[Any, Any, Any, Any],
    handler: BaseRouteHandler,
    token: str | None,
    channel: SessionChannel,
) -> OperatorPrincipal:
    """The operator whose session ``token`` is, if the session and their roles allow ``handler``
    (its ``opt``); the one check of the API and of the console (service.console), whichever way
    the token came."""
    principal = await authenticate(connection, handler, token, channel)
    await ensure_allowed(connection, handler, principal)
    return principal


async def authenticate(
    connection: ASGIConnection[Any, Any, Any, Any],
    handler: BaseRouteHandler,
    token: str | None,
    channel: SessionChannel,
) -> OperatorPrincipal:
    """The operator whose live session ``token`` is, signed in through ``channel`` (Unauthenticated
    otherwise); not yet whether the session and their roles allow ``handler``: that is
    ``ensure_allowed``, which must follow."""
    _roles_of(handler)
    runtime: Runtime = connection.app.state.runtime
    if token is None or not looks_like_token(token):
        raise _unauthenticated()
    row = await store.resolve_session(
        runtime.database.pool, token_digest(token), runtime.settings.operator_session_idle_timeout
    )
    if row is None:
        raise _unauthenticated()
    if row.channel is not channel:
        # A console cookie's token sent as a bearer token (or the reverse): someone copied it.
        details = {"session_id": str(row.id), "channel": row.channel.value, "presented_to": channel.value}
        actor = Actor.anonymous(client_address(connection), user_agent(connection))
        await runtime.audit.append_alone(
            AuditEntry(actor, "operator.session_wrong_channel", "operator", str(row.operator_id), details)
        )
        raise _unauthenticated()
    if row.stale:
        await store.touch_session(runtime.database.pool, row.id)
    return OperatorPrincipal(
        session_id=row.id,
        operator_id=row.operator_id,
        roles=frozenset(row.roles),
        expires_at=row.expires_at,
        client_address=client_address(connection),
        user_agent=user_agent(connection),
        signed_in_with=row.signed_in_with,
        restricted=runtime.settings.operator_require_passkey and row.signed_in_with is not store.SignedInWith.PASSKEY,
    )


async def ensure_allowed(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler, principal: OperatorPrincipal
) -> None:
    """Forbidden, audited, unless the session may reach the handler (a restricted one only what
    ``while_enrolling_passkey`` marks) and the operator's roles include one it declares."""
    runtime: Runtime = connection.app.state.runtime
    if principal.restricted and not handler.opt.get(WHILE_ENROLLING_PASSKEY_OPT, False):
        await _denied(runtime, principal, connection, handler, "passkey_required")
        raise Forbidden("passkey_required", "Sign in with a passkey first (enrol one if you have none)")
    if not principal.has_any(_roles_of(handler)):
        await _denied(runtime, principal, connection, handler)
        raise Forbidden("role_not_allowed", "Your operator roles do not allow this")


def _roles_of(handler: BaseRouteHandler) -> frozenset[Role]:
    allowed: frozenset[Role] | None = handler.opt.get(ROLES_OPT)
    if allowed is None:
        raise RuntimeError(f"operator endpoint {handler.handler_name} declares no roles")
    return allowed


async def _denied(
    runtime: Runtime,
    principal: OperatorPrincipal,
    connection: ASGIConnection[Any, Any, Any, Any],
    handler: BaseRouteHandler,
    reason: str | None = None,
) -> None:
    details = {"method": str(connection.scope.get("method", "")), "path": connection.scope["path"]}
    if reason is not None:
        details["reason"] = reason
    await runtime.audit.append_alone(
        AuditEntry(principal.actor, "operator.access_denied", "endpoint", handler.handler_name, details)
    )


def _unauthenticated() -> Unauthenticated:
    return Unauthenticated("unauthenticated", "Sign in as an operator first", challenge=True)


def provide_operator(request: Request[Any, Any, Any]) -> OperatorPrincipal:
    principal: OperatorPrincipal = request.state.operator
    return principal
