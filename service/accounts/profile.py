"""Reading and changing one's own profile."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from service.accounts import store
from service.accounts.masking import mask_birth_date, mask_email, mask_phone
from service.accounts.reasons import HOW_TO_APPEAL, appealable, next_step, user_message
from service.accounts.registration import identifier_taken
from service.accounts.schemas import Profile, ProfileChanges, QualificationInForce, Restriction, Suspension
from service.accounts.states import AccountEvent, AccountState
from service.contacts import store as contacts
from service.errors import FieldChecks, NotFound
from service.face import store as faces
from service.face.assurance import face_verified_by
from service.i18n.catalogues import in_request_language
from service.i18n.languages import Language
from service.lifecycle import store as cancellations
from service.qualifications import store as qualifications
from service.runtime import Runtime
from service.vault.labels import IndexPurpose, VaultField
from verification.names import normalize_display_name
from verification.usernames import normalize_username, username_key

# Fields fixed at registration: changing them goes through a correction request that an
# operator reviews, so the original stays on record.
LOCKED_FIELDS = ("birth_date",)
# States the profile explains -> the event whose reason it gives. For a restriction that is the
# last one placed: coming back to it from a suspension or a kept cancellation gives no new reason.
EXPLAINED_BY = {AccountState.SUSPENDED: AccountEvent.SUSPENDED, AccountState.RESTRICTED: AccountEvent.RESTRICTED}


async def read_profile(runtime: Runtime, account_id: UUID) -> Profile:
    async with runtime.database.connection() as conn:
        row = await store.fetch_profile(conn, account_id)
        state = row.state if row is not None else None
        cause = EXPLAINED_BY.get(state) if state else None
        limited = await store.latest_event(conn, account_id, cause) if cause else None
        qualified = await qualifications.in_force(conn, account_id)
        erase_after = await cancellations.open_erase_after(conn, account_id)
        face = await faces.verified_in_force(conn, account_id)
    if row is None:
        raise NotFound("account_not_found", "No such account")
    cipher = runtime.vault.open_wrapped(account_id, row.master_key_id, row.wrapped_key)
    email = cipher.open_optional(VaultField.CONTACT_EMAIL, row.email)
    phone = cipher.open_optional(VaultField.CONTACT_PHONE, row.phone)
    return Profile(
        account_id=account_id,
        state=row.state,
        display_name=cipher.open_text(VaultField.ACCOUNT_DISPLAY_NAME, row.display_name),
        username=cipher.open_optional(VaultField.ACCOUNT_USERNAME, row.username),
        email=mask_email(email) if email else None,
        email_verified=row.email_verified_at is not None,
        phone=mask_phone(phone) if phone else None,
        phone_verified=row.phone_verified_at is not None,
        birth_date=mask_birth_date(cipher.open_text(VaultField.ACCOUNT_BIRTH_DATE, row.birth_date)),
        totp_enabled=row.totp_enabled,
        created_at=row.created_at,
        locked_fields=list(LOCKED_FIELDS),
        preferred_language=Language(row.preferred_language or runtime.settings.default_language),
        suspension=_suspension(limited) if limited and state is AccountState.SUSPENDED else None,
        restriction=_restriction(limited) if limited and state is AccountState.RESTRICTED else None,
        erasure_planned_at=erase_after,
        # As whoami tells it: nothing proved is vouched for while an operator doubts the account.
        face_verification=face_verified_by(face.decided_by, face.liveness_method, face.pad_certified, face.decided_at)
        if face is not None and not row.in_doubt
        else None,
        qualifications=[
            QualificationInForce(
                q.id,
                cipher.open_text(VaultField.QUALIFICATION_ORGANIZATION_NAME, q.organization_name),
                cipher.open_text(VaultField.QUALIFICATION_JOB_TITLE, q.job_title),
                q.valid_until,
            )
            for q in qualified
        ],
    )


# Restricting and suspending always record a reason; the column is nullable for other events.
def _restriction(row: store.StateChange) -> Restriction:
    message = in_request_language(user_message(row.reason_code))
    return Restriction(reason_code=row.reason_code or "", message=message, since=row.at)


def _suspension(row: store.StateChange) -> Suspension:
    return Suspension(
        reason_code=row.reason_code or "",
        message=in_request_language(user_message(row.reason_code)),
        since=row.at,
        case_id=row.case_id,
        # Only a suspension an appeal can undo points to one: a minor without a guardian has no case.
        how_to_appeal=in_request_language(HOW_TO_APPEAL) if appealable(row.reason_code) else None,
        next_step=in_request_language(next_step(row.reason_code)),
    )


async def change_profile(runtime: Runtime, account_id: UUID, changes: ProfileChanges) -> Profile:
    checks = FieldChecks()
    if changes.birth_date is not None:
        checks.problem("birth_date", "field_locked", "the birth date is fixed at registration; ask for a correction")
    display_name = username = None
    if changes.display_name:
        display_name = checks.check("display_name", normalize_display_name, changes.display_name)
    if changes.username:
        username = checks.check("username", normalize_username, changes.username)
    checks.raise_if_any()
    index = runtime.vault.blind_index
    username_index = index.digest(IndexPurpose.USERNAME, username_key(username)) if username else None
    try:
        async with runtime.database.transaction() as conn:
            cipher = await runtime.vault.open(conn, account_id)
            previous = index.previous_digest(IndexPurpose.USERNAME, username_key(username)) if username else None
            if previous is not None and await contacts.taken_under_previous_key(conn, previous, [], account_id):
                raise identifier_taken("username")
            await store.update_profile(
                conn,
                account_id,
                display_name=cipher.seal(VaultField.ACCOUNT_DISPLAY_NAME, display_name) if display_name else None,
                username=cipher.seal(VaultField.ACCOUNT_USERNAME, username) if username else None,
                username_index=username_index,
                preferred_language=changes.preferred_language.value if changes.preferred_language else None,
            )
    except asyncpg.UniqueViolationError:
        raise identifier_taken("username") from None
    return await read_profile(runtime, account_id)
