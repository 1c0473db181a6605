"""Request and response bodies of consents."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec

from service.accounts.schemas import Version
from service.consents.purposes import ConsentPurpose
from service.http.schemas import RequestBody
from service.i18n.languages import Language
from service.policies.catalog import PolicyKind


class GrantRequest(RequestBody):
    """The version of the purpose's notice the person was shown; it must be the current one."""

    version: Version
    # The language of the notice's text the person was shown; without it, the request's language.
    language: Language | None = None


class ConsentState(msgspec.Struct):
    purpose: ConsentPurpose
    notice: PolicyKind
    granted: bool
    granted_version: str | None
    current_version: str | None
    # Granted, but the notice changed since: a minor change only notifies, a major one needs
    # the purpose granted again.
    update_available: bool
    regrant_required: bool
    required_for_service: bool
    sensitive: bool
    withdrawable: bool
    since: datetime | None


class ConsentEvent(msgspec.Struct):
    purpose: str
    policy_version: str
    policy_sha256: str
    action: str
    channel: str
    by_guardian: bool
    actor_account_id: UUID
    at: datetime
    # The language of the text agreed to (policy_sha256 is that text's); None before it was recorded.
    policy_language: str | None = None


class ConsentOverview(msgspec.Struct):
    consent_required: bool
    purposes: list[ConsentState]
    history: list[ConsentEvent]
