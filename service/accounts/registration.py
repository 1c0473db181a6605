"""Registration: validate everything, hash the password off the loop, write it all at once."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

import asyncpg

from service.accounts import store
from service.accounts.schemas import RegistrationRequest
from service.accounts.states import AccountEvent, AccountState
from service.consents.ledger import record_policy_acceptance
from service.contacts import store as contacts
from service.contacts.codes import ContactKind, send_first_codes
from service.errors import Conflict, FieldChecks, FieldProblem, checking
from service.i18n.languages import Language
from service.policies.catalog import PolicyCatalog, PolicyKind
from service.runtime import Runtime
from service.sessions.sessions import NewSession, create_session
from service.vault import BlindIndex
from service.vault.labels import IndexPurpose, VaultField
from verification.ages import AgeBand
from verification.birth_dates import check_birth_date
from verification.contacts import email_key, normalize_email, normalize_mobile
from verification.names import normalize_display_name
from verification.usernames import normalize_username, username_key


@dataclass(frozen=True)
class ValidRegistration:
    display_name: str
    username: str | None
    email: str | None
    phone: str | None
    birth_date: date
    password: str

    def contacts(self) -> list[tuple[ContactKind, str]]:
        found = [(ContactKind.EMAIL, self.email), (ContactKind.PHONE, self.phone)]
        return [(kind, address) for kind, address in found if address is not None]

    def personal_words(self) -> list[str]:
        born = self.birth_date
        return [
            w
            for w in (
                self.display_name,
                self.username,
                self.email,
                self.phone,
                born.strftime("%Y%m%d"),
                born.strftime("%d%m%Y"),
                born.strftime("%m%d%Y"),
                str(born.year),
            )
            if w
        ]


@dataclass(frozen=True)
class Registered:
    account_id: uuid.UUID
    state: AccountState
    session: NewSession
    codes_sent_to: list[str]


def validate(body: RegistrationRequest, policies: PolicyCatalog, phone_region: str, today: date) -> ValidRegistration:
    """Check every field and report every problem at once (the password comes later)."""
    checks = FieldChecks()
    display_name = checks.check("display_name", normalize_display_name, body.display_name)
    username = checks.check("username", normalize_username, body.username) if body.username else None
    email = checks.check("email", normalize_email, body.email) if body.email else None
    phone = checks.check("phone", normalize_mobile, body.phone, phone_region) if body.phone else None
    checks.check("birth_date", check_birth_date, body.birth_date, today)
    if body.email is None and body.phone is None:
        checks.problem("email", "contact_required", "give an e-mail address or a mobile number")
    for field, policy, accepted in (
        ("accepted_terms_version", PolicyKind.TERMS_OF_SERVICE, body.accepted_terms_version),
        ("accepted_privacy_version", PolicyKind.PRIVACY_POLICY, body.accepted_privacy_version),
    ):
        current = policies.current(policy)
        if accepted != current.version:
            checks.problem(field, "policy_not_current", f"the current version is {current.version}")
    checks.raise_if_any()
    return ValidRegistration(
        display_name=str(display_name),
        username=username,
        email=email,
        phone=phone,
        birth_date=body.birth_date,
        password=body.password,
    )


# Registrations in these bands wait for a guardian's consent before anything else works.
GUARDED_BANDS = frozenset({AgeBand.GUARDED_MINOR, AgeBand.CHILD})


def _contact_index(index: BlindIndex, kind: ContactKind, address: str) -> bytes:
    return index.digest(IndexPurpose.contact(kind), email_key(address) if kind is ContactKind.EMAIL else address)


async def _taken_under_previous_key(
    conn: asyncpg.Connection, index: BlindIndex, valid: ValidRegistration, account_id: uuid.UUID
) -> str | None:
    username = index.previous_digest(IndexPurpose.USERNAME, username_key(valid.username)) if valid.username else None
    addresses = [
        (
            kind.value,
            index.previous_digest(IndexPurpose.contact(kind), email_key(a) if kind is ContactKind.EMAIL else a),
        )
        for kind, a in valid.contacts()
    ]
    return await contacts.taken_under_previous_key(
        conn, username, [(kind, digest) for kind, digest in addresses if digest is not None], account_id
    )


def identifier_taken(field: str) -> Conflict:
    # This does tell a caller that the address is registered; registration is rate limited per
    # address, and the alternative (pretending success) cannot return a working session.
    return Conflict(
        "identifier_taken",
        "Already registered",
        errors=[FieldProblem(field, "taken", f"this {field} is already registered")],
    )


# The unique constraints that mean "someone has this identifier"; any other is a fault.
IDENTIFIER_CONSTRAINTS = frozenset({"accounts_username_index_key", "contacts_address_unique"})


def _taken_field(error: asyncpg.UniqueViolationError) -> str:
    detail = str(error.detail or "")
    if error.constraint_name == "accounts_username_index_key":
        return "username"
    return "phone" if "(phone," in detail else "email"


async def register(
    runtime: Runtime,
    body: RegistrationRequest,
    *,
    client_address: str | None,
    user_agent: str | None,
    accepted_language: Language | None = None,
) -> Registered:
    """``accepted_language``: what the request's Accept-Language asked for, if it named one of ours."""
    settings = runtime.settings
    index = runtime.vault.blind_index
    # One date for the whole registration, in the service's zone: the birth date is checked and
    # the age band decided on the same day.
    today = settings.today()
    valid = validate(body, runtime.policies, settings.default_phone_region, today)
    with checking("password"):
        password_hash = await runtime.passwords.hash_new(valid.password, valid.personal_words())

    account_id = uuid.uuid4()
    # The person's language, and the one the policies they accepted were shown in.
    language = body.preferred_language or accepted_language or Language(settings.default_language)
    needs_guardian = settings.age_profile.band(valid.birth_date, today) in GUARDED_BANDS
    try:
        async with runtime.database.transaction() as conn:
            if index.rotating and (taken := await _taken_under_previous_key(conn, index, valid, account_id)):
                raise identifier_taken(taken)
            cipher = await runtime.vault.create_key(conn, account_id)
            state = await store.insert(
                conn,
                account_id=account_id,
                display_name=cipher.seal(VaultField.ACCOUNT_DISPLAY_NAME, valid.display_name),
                username=cipher.seal(VaultField.ACCOUNT_USERNAME, valid.username) if valid.username else None,
                username_index=index.digest(IndexPurpose.USERNAME, username_key(valid.username))
                if valid.username
                else None,
                birth_date=cipher.seal(VaultField.ACCOUNT_BIRTH_DATE, valid.birth_date.isoformat()),
                password_hash=password_hash,
                preferred_language=language.value,
                event=AccountEvent.REGISTERED_AS_MINOR if needs_guardian else AccountEvent.REGISTERED,
            )
            await contacts.insert_many(
                conn,
                account_id,
                [
                    (kind, cipher.seal(VaultField.contact(kind), address), _contact_index(index, kind, address))
                    for kind, address in valid.contacts()
                ],
            )
            await record_policy_acceptance(
                conn,
                account_id,
                [
                    runtime.policies.current(policy)
                    for policy in (PolicyKind.TERMS_OF_SERVICE, PolicyKind.PRIVACY_POLICY)
                ],
                channel="registration",
                language=language.value,
            )
            await send_first_codes(conn, index, cipher, valid.contacts())
            session = await create_session(
                conn,
                cipher,
                assurance=1,
                lifetime=settings.session_absolute_timeout,
                client_address=client_address,
                user_agent=user_agent,
            )
    except asyncpg.UniqueViolationError as exc:
        if exc.constraint_name not in IDENTIFIER_CONSTRAINTS:
            raise
        raise identifier_taken(_taken_field(exc)) from None
    return Registered(account_id, state, session, [kind.value for kind, _ in valid.contacts()])
