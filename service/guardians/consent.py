"""A guardian consenting for a minor.

The guardian must be a real-name verified adult: their age comes from the verified ID's birth
date, never from what they declared. The consent goes to the minor's ledger with the guardian as
the actor. For a child (the profile's child band) the relationship is confirmed by operators
first (a case, with four eyes for children's data) and the account waits until then.
"""

from __future__ import annotations

import uuid
from datetime import date
from uuid import UUID

import asyncpg

from service.accounts import store as accounts
from service.accounts.profile import read_profile
from service.accounts.schemas import Profile
from service.accounts.states import AccountEvent, AccountState
from service.accounts.transitions import move
from service.audit import Actor, AuditEntry
from service.audit.entries import DetailValue
from service.cases.cases import conclude_checks, open_case
from service.cases.catalogue import CaseType
from service.cases.schemas import Evidence
from service.cases.states import CaseEvent
from service.consents.ledger import grant
from service.consents.purposes import PURPOSES, ConsentPurpose
from service.errors import Conflict, Forbidden, NotFound
from service.guardians import store
from service.guardians.invitations import invitation_digests
from service.guardians.schemas import GuardianConsentRequest, GuardianshipView, Scope
from service.guardians.store import GuardianshipState
from service.runtime import Runtime
from service.sessions.sessions import Principal
from service.vault.labels import VaultField
from verification.ages import AgeBand

PURPOSES_FOR_SCOPE = {
    Scope.ACCOUNT: ConsentPurpose.GUARDIAN_CONSENT,
    Scope.IDENTITY_DATA: ConsentPurpose.IDENTITY_DATA,
    Scope.BIOMETRIC: ConsentPurpose.BIOMETRIC,
}


async def _guardian_is_verified_adult(runtime: Runtime, conn: asyncpg.Connection, principal: Principal) -> None:
    if principal.state is not AccountState.ACTIVE or not principal.real_name_verified:
        raise Forbidden("guardian_not_verified", "A guardian must have an active, real-name verified account")
    sealed = await store.verified_birth_date(conn, principal.account_id)
    cipher = await runtime.vault.open(conn, principal.account_id)
    born = date.fromisoformat(cipher.open_text(VaultField.REALNAME_BIRTH_DATE, sealed)) if sealed else None
    if born is None or runtime.settings.age_profile.band(born, runtime.settings.today()) is not AgeBand.ADULT:
        raise Forbidden("guardian_not_adult", "A guardian must be an adult")


async def _minor_band(runtime: Runtime, conn: asyncpg.Connection, minor_id: UUID) -> AgeBand:
    profile = await accounts.fetch_profile(conn, minor_id)
    assert profile is not None
    cipher = await runtime.vault.open(conn, minor_id)
    born = date.fromisoformat(cipher.open_text(VaultField.ACCOUNT_BIRTH_DATE, profile.birth_date))
    return runtime.settings.age_profile.band(born, runtime.settings.today())


async def activate_minor(conn: asyncpg.Connection, minor_id: UUID, guardian_id: UUID) -> None:
    """The guardian's consent is complete: the minor's account leaves ``awaiting_guardian``."""
    if await accounts.lock_state(conn, minor_id) is not AccountState.AWAITING_GUARDIAN:
        return
    verified = await accounts.has_verified_contact(conn, minor_id)
    event = AccountEvent.GUARDIAN_CONSENTED if verified else AccountEvent.GUARDIAN_CONSENTED_UNVERIFIED
    await move(conn, minor_id, event, actor=f"user:{guardian_id}")


async def consent(
    runtime: Runtime, principal: Principal, body: GuardianConsentRequest, actor: Actor
) -> GuardianshipView:
    scopes = sorted(set(body.scopes) | {Scope.ACCOUNT})
    guardianship_id = uuid.uuid4()
    async with runtime.database.transaction() as conn:
        await _guardian_is_verified_adult(runtime, conn, principal)
        invitation = None
        # An invitation sent before a blind-index rotation was digested under the previous key.
        for digest in invitation_digests(runtime.vault.blind_index, body.invitation_code):
            invitation = invitation or await store.take_invitation(conn, digest)
        if invitation is None:
            raise NotFound("invitation_invalid", "This invitation code is not valid (used or expired?)")
        minor_id: UUID = invitation.minor_account_id
        if minor_id == principal.account_id:
            raise Forbidden("guardian_not_adult", "A guardian must be an adult")
        child = await _minor_band(runtime, conn, minor_id) is AgeBand.CHILD
        case_id = None
        if child:
            case = await open_case(
                conn,
                runtime.vault,
                case_type=CaseType.GUARDIAN_CONSENT,
                subject_account_id=minor_id,
                evidence=[
                    Evidence("guardian_account_id", str(principal.account_id), str(principal.account_id)),
                    Evidence("relationship", body.relationship.value, body.relationship.value),
                ],
                actor=actor,
                subject_is_child=True,
            )
            await conclude_checks(conn, case.id, CaseEvent.REFER, [], reason_code="checks_inconclusive")
            case_id = case.id
        inserted = await store.insert_guardianship(
            conn,
            guardianship_id=guardianship_id,
            minor_account_id=minor_id,
            guardian_account_id=principal.account_id,
            relationship=body.relationship,
            scopes=list(scopes),
            state=GuardianshipState.PENDING_REVIEW if child else GuardianshipState.ACTIVE,
            case_id=case_id,
        )
        if not inserted:
            raise Conflict("already_guardian", "You are already this minor's guardian")
        # The consent is the guardian's act, recorded now; for a child it takes effect once the
        # relationship is confirmed (and is withdrawn if it is not).
        for scope in scopes:
            purpose = PURPOSES_FOR_SCOPE[scope]
            version = runtime.policies.current(PURPOSES[purpose].notice).version
            await grant(conn, runtime.policies, runtime.audit, minor_id, purpose, version, actor, channel="guardian")
        if not child:
            await activate_minor(conn, minor_id, principal.account_id)
        details: dict[str, DetailValue] = {"minor": str(minor_id), "child": child, "relationship": body.relationship}
        await runtime.audit.append(
            conn, AuditEntry(actor, "guardian.consented", "account", str(principal.account_id), details)
        )
    return (await guardianships_of(runtime, principal.account_id))[0]


def _view(row: store.Guardianship) -> GuardianshipView:
    return GuardianshipView(
        guardianship_id=row.id,
        minor_account_id=row.minor_account_id,
        guardian_account_id=row.guardian_account_id,
        relationship=row.relationship,
        scopes=list(row.scopes),
        state=row.state,
        case_id=row.case_id,
        created_at=row.created_at,
    )


async def guardianships_of(runtime: Runtime, account_id: UUID) -> list[GuardianshipView]:
    async with runtime.database.connection() as conn:
        return [_view(row) for row in await store.involving(conn, account_id)]


async def ward_of(runtime: Runtime, principal: Principal, guardianship_id: UUID) -> UUID:
    """The minor of a guardianship in force that the caller is the guardian in."""
    async with runtime.database.connection() as conn:
        row = await store.lock_own_as_guardian(conn, guardianship_id, principal.account_id)
    if row is None or row.state is not GuardianshipState.ACTIVE:
        raise NotFound("guardianship_not_found", "No such guardianship in force")
    minor: UUID = row.minor_account_id
    return minor


async def minor_profile(runtime: Runtime, principal: Principal, guardianship_id: UUID) -> Profile:
    """What a guardian in force sees of the minor (the minor's own view: masked contacts)."""
    async with runtime.database.transaction() as conn:
        row = await store.lock_own_as_guardian(conn, guardianship_id, principal.account_id)
        if row is None or row.state is not GuardianshipState.ACTIVE:
            raise NotFound("guardianship_not_found", "No such guardianship in force")
        actor = Actor.user(principal.account_id)
        await runtime.audit.append(
            conn, AuditEntry(actor, "guardian.viewed_minor", "account", str(row.minor_account_id))
        )
    return await read_profile(runtime, row.minor_account_id)
