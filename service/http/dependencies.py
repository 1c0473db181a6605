"""Names of the dependencies handlers ask for, declared explicitly as Litestar 3 requires."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.di import NamedDependency

from service.audit import Actor
from service.http.clients import client_address, user_agent
from service.runtime import Runtime
from service.sessions.sessions import Principal

CurrentRuntime = NamedDependency[Runtime]
SignedIn = NamedDependency[Principal]
# ``actor``: the signed-in person as the audit trail records them, with the client they act from.
# (Operators act through their principal: `OperatorPrincipal.actor`.)
Acting = NamedDependency[Actor]


async def provide_actor(request: Request[Any, Any, Any], principal: SignedIn) -> Actor:
    return Actor.user(principal.account_id, client_address(request), user_agent(request))
