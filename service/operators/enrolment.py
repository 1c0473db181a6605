"""Creating operators and their enrolment: a one-time code, then a password and a TOTP secret.

The code is shown once (by `idv operators create` or to the admin who created the operator)
and stored only as a digest. TOTP is not optional: enrolment ends only when a code from the
new secret is confirmed.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime

import pyotp

from service.audit import Actor, AuditEntry
from service.http.problems import ProblemError, invalid_field
from service.operators import store
from service.operators.roles import Role
from service.operators.schemas import EnrolmentFactor, NewOperator
from service.runtime import Runtime
from service.sessions.tokens import token_digest
from service.totp.factor import STEP_SECONDS, matching_step
from verification.contacts import email_key, normalize_email
from verification.errors import InvalidValue


def _invalid_enrolment() -> ProblemError:
    return ProblemError(404, "enrolment_invalid", "This enrolment code is unknown, used or expired")


async def create_operator(runtime: Runtime, email: str, roles: list[Role], creator: Actor) -> NewOperator:
    try:
        address = normalize_email(email)
    except InvalidValue as exc:
        raise invalid_field("email", exc.code, exc.message) from None
    code = secrets.token_urlsafe(24)
    operator_id = uuid.uuid4()
    expires_at = datetime.now(UTC) + runtime.settings.operator_enrolment_lifetime
    async with runtime.database.transaction() as conn:
        cipher = await runtime.vault.create_key(conn, operator_id)
        created = await store.insert(
            conn,
            operator_id=operator_id,
            email=cipher.seal_text("operator.email", address),
            email_index=runtime.vault.blind_index.digest("operator.email", email_key(address)),
            roles=sorted({role.value for role in roles}),
            enrolment_digest=token_digest(code),
            enrolment_expires_at=expires_at,
            created_by=f"{creator.kind.value}:{creator.id}",
        )
        if not created:
            raise ProblemError(409, "operator_exists", "An operator with this e-mail address exists")
        await runtime.audit.append(
            conn,
            AuditEntry(
                creator,
                "operator.created",
                "operator",
                str(operator_id),
                {"roles": ",".join(sorted(r.value for r in roles))},
            ),
        )
    return NewOperator(operator_id, code, expires_at)


async def begin_enrolment(runtime: Runtime, code: str, password: str, actor: Actor) -> EnrolmentFactor:
    try:
        password_hash = await runtime.passwords.hash_new(password)
    except InvalidValue as exc:
        raise invalid_field("password", exc.code, exc.message) from None
    secret = pyotp.random_base32(length=32)
    async with runtime.database.transaction() as conn:
        row = await store.by_enrolment(conn, token_digest(code))
        if row is None:
            raise _invalid_enrolment()
        cipher = runtime.vault.open_wrapped(row["id"], row["master_key_id"], row["wrapped_key"])
        await store.set_pending_factors(conn, row["id"], password_hash, cipher.seal_text("operator.totp", secret))
        email = cipher.open_text("operator.email", row["email"])
        await runtime.audit.append(conn, AuditEntry(actor, "operator.enrolment_started", "operator", str(row["id"])))
    uri = pyotp.TOTP(secret, interval=STEP_SECONDS).provisioning_uri(
        name=email, issuer_name=f"{runtime.settings.public_name} operators"
    )
    return EnrolmentFactor(secret, uri)


async def confirm_enrolment(runtime: Runtime, code: str, totp_code: str, actor: Actor) -> None:
    async with runtime.database.transaction() as conn:
        row = await store.by_enrolment(conn, token_digest(code))
        if row is None:
            raise _invalid_enrolment()
        if row["totp_secret"] is None:
            raise ProblemError(409, "enrolment_not_started", "Choose a password and get the TOTP secret first")
        cipher = runtime.vault.open_wrapped(row["id"], row["master_key_id"], row["wrapped_key"])
        step = matching_step(cipher.open_text("operator.totp", row["totp_secret"]), totp_code)
        if step is None:
            raise ProblemError(400, "invalid_second_factor", "The code from the authenticator app is wrong")
        await store.complete_enrolment(conn, row["id"], step)
        await runtime.audit.append(conn, AuditEntry(actor, "operator.enrolled", "operator", str(row["id"])))
