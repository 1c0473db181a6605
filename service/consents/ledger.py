"""The consent ledger: granting, withdrawing, and what each account has agreed to.

Entries are only ever added; the state of a purpose is its latest entry. Processing that needs a
purpose asks ``require_consent`` first, in the transaction that processes, so a withdrawal takes
effect at once.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from uuid import UUID

import asyncpg

from service.audit import Actor, AuditEntry, AuditTrail
from service.consents import store
from service.consents.effects import apply_withdrawal_effects
from service.consents.purposes import PURPOSES, REQUIRED_PURPOSES, ConsentPurpose
from service.consents.schemas import ConsentEvent, ConsentOverview, ConsentState
from service.consents.store import ConsentAction
from service.errors import Conflict, Forbidden
from service.policies.catalog import ORIGINAL_LANGUAGE, PolicyCatalog, PolicyDocument


async def record_policy_acceptance(
    conn: asyncpg.Connection,
    account_id: UUID,
    documents: list[PolicyDocument],
    *,
    channel: str,
    actor_account_id: UUID | None = None,
    language: str = ORIGINAL_LANGUAGE,
) -> None:
    """Grant each document's purpose, one ledger entry per document, in one statement; each
    records the text shown: the version's in ``language`` where it has one."""
    shown = [d.in_language(language) for d in documents]
    await store.insert_grants(
        conn,
        account_id=account_id,
        purposes=[d.kind.value for d in shown],
        versions=[d.version for d in shown],
        sha256s=[d.sha256 for d in shown],
        channel=channel,
        actor_account_id=actor_account_id or account_id,
        languages=[d.language for d in shown],
    )


# Whoami asks on every request: the answer is kept per catalogue revision and day.
_required_memo: dict[tuple[int, date], tuple[list[str], list[str]]] = {}


def required_acceptances(catalog: PolicyCatalog) -> tuple[list[str], list[str]]:
    """(purpose, version) pairs, flattened, whose grant still satisfies each required purpose.
    Shared between callers: not to be changed."""
    key = (catalog.revision, datetime.now(UTC).date())
    kept = _required_memo.get(key)
    if kept is not None:
        return kept
    purposes: list[str] = []
    versions: list[str] = []
    for purpose in REQUIRED_PURPOSES:
        for version in catalog.acceptable_versions(PURPOSES[purpose].notice, key[1]):
            purposes.append(purpose.value)
            versions.append(version)
    if len(_required_memo) >= 16:
        _required_memo.clear()
    _required_memo[key] = (purposes, versions)
    return purposes, versions


def _state(catalog: PolicyCatalog, purpose: ConsentPurpose, latest: store.LatestConsent | None) -> ConsentState:
    spec = PURPOSES[purpose]
    in_effect = catalog.in_effect(spec.notice)
    current = in_effect[-1].version if in_effect else None
    granted = latest is not None and latest.action is ConsentAction.GRANTED
    version = latest.policy_version if granted and latest is not None else None
    acceptable = catalog.acceptable_versions(spec.notice)
    return ConsentState(
        purpose=purpose,
        notice=spec.notice,
        granted=granted,
        granted_version=version,
        current_version=current,
        update_available=granted and version != current,
        regrant_required=granted and version not in acceptable,
        required_for_service=spec.required,
        sensitive=spec.sensitive,
        withdrawable=spec.withdrawable,
        since=latest.at if latest is not None else None,
    )


async def overview(conn: asyncpg.Connection, catalog: PolicyCatalog, account_id: UUID) -> ConsentOverview:
    latest = await store.latest(conn, account_id)
    states = [
        _state(catalog, purpose, latest.get(purpose.value))
        for purpose in ConsentPurpose
        if not PURPOSES[purpose].guardian_only or purpose.value in latest
    ]
    history = [
        ConsentEvent(
            purpose=row.purpose,
            policy_version=row.policy_version,
            policy_sha256=row.policy_sha256,
            action=row.action,
            channel=row.channel,
            by_guardian=row.actor_account_id != account_id,
            actor_account_id=row.actor_account_id,
            at=row.at,
            policy_language=row.policy_language,
        )
        for row in await store.history(conn, account_id)
    ]
    required = any(s.required_for_service and (not s.granted or s.regrant_required) for s in states)
    return ConsentOverview(consent_required=required, purposes=states, history=history)


async def has_consent(
    conn: asyncpg.Connection, catalog: PolicyCatalog, account_id: UUID, purpose: ConsentPurpose
) -> bool:
    latest = await store.latest(conn, account_id)
    state = _state(catalog, purpose, latest.get(purpose.value))
    return state.granted and not state.regrant_required


async def require_consent(
    conn: asyncpg.Connection, catalog: PolicyCatalog, account_id: UUID, purpose: ConsentPurpose
) -> None:
    """Refuse processing that needs ``purpose`` unless it is granted against an acceptable notice."""
    if not await has_consent(conn, catalog, account_id, purpose):
        raise Forbidden(
            "consent_missing",
            "This needs your separate consent first",
            f"grant '{purpose}' with POST /v1/me/consents/{purpose}",
        )


async def grant(
    conn: asyncpg.Connection,
    catalog: PolicyCatalog,
    audit: AuditTrail,
    account_id: UUID,
    purpose: ConsentPurpose,
    version: str,
    actor: Actor,
    *,
    channel: str = "api",
    language: str = ORIGINAL_LANGUAGE,
) -> None:
    """``language``: the language of the notice's text the person was shown."""
    if PURPOSES[purpose].guardian_only and channel != "guardian":
        raise Forbidden("guardian_only", "Only a guardian can give this consent, through a guardianship")
    notice = catalog.current(PURPOSES[purpose].notice)
    if version != notice.version:
        raise Conflict(
            "policy_not_current",
            "Consent is given to the current notice",
            f"the current version is {notice.version}",
        )
    await store.lock_account(conn, account_id)
    latest = (await store.latest(conn, account_id)).get(purpose.value)
    if latest is not None and latest.action is ConsentAction.GRANTED and latest.policy_version == version:
        return
    await store.insert(
        conn,
        account_id=account_id,
        purpose=purpose,
        version=notice.version,
        sha256=notice.in_language(language).sha256,
        action=ConsentAction.GRANTED,
        channel=channel,
        actor_account_id=UUID(actor.id) if actor.id else account_id,
        language=notice.in_language(language).language,
    )
    details = {"purpose": purpose.value, "version": notice.version}
    await audit.append(conn, AuditEntry(actor, "consent.granted", "account", str(account_id), details))


async def withdraw(
    conn: asyncpg.Connection,
    catalog: PolicyCatalog,
    audit: AuditTrail,
    account_id: UUID,
    purpose: ConsentPurpose,
    actor: Actor,
    *,
    channel: str = "api",
) -> None:
    if not PURPOSES[purpose].withdrawable:
        raise Conflict(
            "consent_not_withdrawable", "The terms and privacy policy are withdrawn by cancelling the account"
        )
    await store.lock_account(conn, account_id)
    latest = (await store.latest(conn, account_id)).get(purpose.value)
    if latest is None or latest.action is not ConsentAction.GRANTED:
        raise Conflict("consent_not_granted", "This purpose is not granted")
    document = catalog.find(PURPOSES[purpose].notice, latest.policy_version)
    await store.insert(
        conn,
        account_id=account_id,
        purpose=purpose,
        version=latest.policy_version,
        sha256=document.sha256 if document else "",
        action=ConsentAction.WITHDRAWN,
        channel=channel,
        actor_account_id=UUID(actor.id) if actor.id else account_id,
    )
    await apply_withdrawal_effects(conn, account_id, purpose)
    details = {"purpose": purpose.value, "version": latest.policy_version}
    await audit.append(conn, AuditEntry(actor, "consent.withdrawn", "account", str(account_id), details))
