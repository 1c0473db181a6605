"""HTTP for contact verification codes."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, post
from litestar.params import FromPath, JSONBody

from service.accounts.states import AccountState
from service.contacts.codes import ContactKind
from service.contacts.verification import request_code, verify_contact
from service.http.dependencies import CurrentRuntime, SignedIn
from service.http.rate_limits import RateLimitGroup
from service.http.schemas import RequestBody
from service.sessions.auth import AWAITING_GUARDIAN, FOR_VERIFICATION


class CodeSubmission(RequestBody):
    code: Annotated[str, msgspec.Meta(min_length=1, max_length=16, pattern=r"^[0-9 ]+$")]


class CodeSent(msgspec.Struct):
    sent_to: ContactKind
    expires_in_seconds: int


class ContactVerified(msgspec.Struct):
    verified: ContactKind
    account_state: AccountState


class ContactController(Controller):
    path = "/v1/contacts"
    tags = ["contacts"]
    # A minor proves their contacts while the guardian decides: the registration code would
    # otherwise expire before the account could use it.
    opt = {**FOR_VERIFICATION, **AWAITING_GUARDIAN}

    @post(
        "/{kind:str}/code",
        status_code=202,
        summary="Send a new one-time code to the contact",
        opt={"rate_limit": RateLimitGroup.CODES},
    )
    async def send(self, runtime: CurrentRuntime, principal: SignedIn, kind: FromPath[ContactKind]) -> CodeSent:
        await request_code(runtime, principal, kind)
        return CodeSent(kind, 600)

    @post(
        "/{kind:str}/verify",
        status_code=200,
        summary="Prove ownership of the contact with its code",
        opt={"rate_limit": RateLimitGroup.CODES},
    )
    async def verify(
        self, runtime: CurrentRuntime, principal: SignedIn, kind: FromPath[ContactKind], data: JSONBody[CodeSubmission]
    ) -> ContactVerified:
        state = await verify_contact(runtime, principal, kind, data.code.replace(" ", ""))
        return ContactVerified(kind, state)
