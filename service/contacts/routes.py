"""HTTP for contact verification codes, and for a signed-in person's own contacts."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, delete, get, patch, post
from litestar.params import FromPath, JSONBody

from service.accounts.states import AccountState
from service.contacts.changes import (
    OwnContact,
    add_contact,
    choose_notice_recipient,
    list_contacts,
    remove_contact,
    resend_code,
    verify_addition,
)
from service.contacts.codes import CODE_TTL, ContactKind
from service.contacts.verification import request_code, verify_contact
from service.http.clients import client_address
from service.http.dependencies import Acting, CurrentRuntime, SignedIn
from service.http.problems import ProblemError
from service.http.rate_limits import RateLimitGroup
from service.http.schemas import NO_CONTROL_CHARACTERS, RequestBody
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


# An e-mail address (RFC 5321 allows 320 characters with its domain) or a mobile number.
Address = Annotated[str, msgspec.Meta(min_length=3, max_length=320, pattern=NO_CONTROL_CHARACTERS)]
Password = Annotated[str, msgspec.Meta(min_length=1, max_length=1024, pattern=NO_CONTROL_CHARACTERS)]


class ContactView(msgspec.Struct):
    id: UUID
    kind: ContactKind
    masked_address: str
    verified: bool
    receives_notices: bool

    @classmethod
    def of(cls, contact: OwnContact) -> ContactView:
        return cls(contact.id, contact.kind, contact.masked_address, contact.verified, contact.receives_notices)


class ContactList(msgspec.Struct):
    contacts: list[ContactView]


class NewContact(RequestBody):
    kind: ContactKind
    address: Address


class ContactRemoval(RequestBody):
    """The password again, and the TOTP code when a second factor is enrolled."""

    password: Password
    totp_code: Annotated[str, msgspec.Meta(pattern=r"^[0-9]{6}$")] | None = None


class ContactChange(RequestBody):
    receives_notices: bool


class OwnContactsController(Controller):
    path = "/v1/me/contacts"
    tags = ["contacts"]

    @get("/", summary="The signed-in person's contacts, masked, and the addresses waiting for their code")
    async def list(self, runtime: CurrentRuntime, principal: SignedIn) -> ContactList:
        return ContactList([ContactView.of(c) for c in await list_contacts(runtime, principal)])

    @post(
        "/",
        status_code=201,
        summary="Add an e-mail or mobile number: usable once the code sent to it is entered",
        opt={"rate_limit": RateLimitGroup.REGISTRATION},
    )
    async def add(self, runtime: CurrentRuntime, principal: SignedIn, data: JSONBody[NewContact]) -> ContactView:
        return ContactView.of(await add_contact(runtime, principal, data.kind, data.address))

    @post(
        "/{contact_id:uuid}/code",
        status_code=202,
        summary="Send a new code to an address being added",
        opt={"rate_limit": RateLimitGroup.CODES},
    )
    async def send(self, runtime: CurrentRuntime, principal: SignedIn, contact_id: FromPath[UUID]) -> CodeSent:
        kind = await resend_code(runtime, principal, contact_id)
        return CodeSent(kind, int(CODE_TTL.total_seconds()))

    @post(
        "/{contact_id:uuid}/verify",
        status_code=200,
        summary="Prove an address being added with its code: it becomes the contact of its kind",
        opt={"rate_limit": RateLimitGroup.CODES},
    )
    async def verify(
        self,
        runtime: CurrentRuntime,
        principal: SignedIn,
        actor: Acting,
        contact_id: FromPath[UUID],
        data: JSONBody[CodeSubmission],
    ) -> ContactView:
        code = data.code.replace(" ", "")
        return ContactView.of(await verify_addition(runtime, principal, contact_id, code, actor))

    @patch("/{contact_id:uuid}", summary="Choose the verified contact that receives notices")
    async def change(
        self, runtime: CurrentRuntime, principal: SignedIn, contact_id: FromPath[UUID], data: JSONBody[ContactChange]
    ) -> ContactList:
        if not data.receives_notices:
            # Notices always go somewhere: choose another contact instead.
            raise ProblemError(422, "choose_another_contact", "Choose the contact that should receive notices")
        return ContactList([ContactView.of(c) for c in await choose_notice_recipient(runtime, principal, contact_id)])

    @delete(
        "/{contact_id:uuid}",
        status_code=204,
        summary="Remove a contact after re-entering the password (and TOTP code); never the last verified one",
        opt={"rate_limit": RateLimitGroup.SIGN_IN},
    )
    async def remove(
        self,
        request: Request[Any, Any, Any],
        runtime: CurrentRuntime,
        principal: SignedIn,
        actor: Acting,
        contact_id: FromPath[UUID],
        data: JSONBody[ContactRemoval],
    ) -> None:
        await remove_contact(
            runtime, principal, contact_id, data.password, data.totp_code, client_address(request), actor
        )
