"""HTTP for one's consents: see them, grant a purpose, withdraw it."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody

from service.consents import ledger
from service.consents.purposes import ConsentPurpose
from service.consents.schemas import ConsentOverview, GrantRequest
from service.http.dependencies import Acting, CurrentRuntime, SignedIn
from service.i18n.languages import Language, request_language
from service.sessions.auth import SELF_SERVICE, WHILE_RESTRICTED


class ConsentController(Controller):
    path = "/v1/me/consents"
    tags = ["consents"]

    @get("/", summary="What one has agreed to, now and in the past", opt=SELF_SERVICE)
    async def overview(self, runtime: CurrentRuntime, principal: SignedIn) -> ConsentOverview:
        async with runtime.database.connection() as conn:
            return await ledger.overview(conn, runtime.policies, principal.account_id)

    @post(
        "/{purpose:str}",
        status_code=200,
        summary="Grant a purpose against the current version of its notice",
        opt=SELF_SERVICE,
    )
    async def grant(
        self,
        runtime: CurrentRuntime,
        principal: SignedIn,
        actor: Acting,
        purpose: FromPath[ConsentPurpose],
        data: JSONBody[GrantRequest],
    ) -> ConsentOverview:
        async with runtime.database.transaction() as conn:
            shown = data.language or request_language.get() or Language(runtime.settings.default_language)
            await ledger.grant(
                conn,
                runtime.policies,
                runtime.audit,
                principal.account_id,
                purpose,
                data.version,
                actor,
                language=shown.value,
            )
        async with runtime.database.connection() as conn:
            return await ledger.overview(conn, runtime.policies, principal.account_id)

    @post(
        "/{purpose:str}/withdraw",
        status_code=200,
        summary="Withdraw a purpose; processing relying on it stops",
        opt=WHILE_RESTRICTED,
    )
    async def withdraw(
        self,
        runtime: CurrentRuntime,
        principal: SignedIn,
        actor: Acting,
        purpose: FromPath[ConsentPurpose],
    ) -> ConsentOverview:
        async with runtime.database.transaction() as conn:
            await ledger.withdraw(conn, runtime.policies, runtime.audit, principal.account_id, purpose, actor)
        async with runtime.database.connection() as conn:
            return await ledger.overview(conn, runtime.policies, principal.account_id)
