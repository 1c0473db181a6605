"""Every capability of the service, one manifest each (service.manifest), in one list.

The app's routes (service.app), the worker's jobs and schedules (service.jobs.catalog), what a
case's decision does (cases.outcomes), which open cases a consent's withdrawal ends
(consents.effects), and what the export, the erasure, the legal hold and retention act on
(lifecycle.personal_data) are all read from this list; the erasure's steps run in the order of
ERASURE_ORDER. A new capability, a verification method
for one, is a folder with a ``capability.py`` and one line here; tests/test_capabilities.py fails
when a folder, a route, a job or a case type is left out.

Importing this module registers the manifests with the packages that cannot import them (they are
used by the capabilities): cases, consents and lifecycle. The app, the worker and the command line
import it before anything runs.
"""

from __future__ import annotations

from service.accounts.capability import CAPABILITY as ACCOUNTS
from service.audit.capability import CAPABILITY as AUDIT
from service.avatars.capability import CAPABILITY as AVATARS
from service.cases import catalogue, outcomes
from service.cases.capability import CAPABILITY as CASES
from service.cases.catalogue import CaseType
from service.consents import effects
from service.consents.capability import CAPABILITY as CONSENTS
from service.consents.purposes import ConsentPurpose
from service.console.capability import CAPABILITY as CONSOLE
from service.contacts.capability import CAPABILITY as CONTACTS
from service.corrections.capability import CAPABILITY as CORRECTIONS
from service.courier.capability import CAPABILITY as COURIER
from service.document_review.capability import CAPABILITY as DOCUMENT_REVIEW
from service.documents.capability import CAPABILITY as DOCUMENTS
from service.face.capability import CAPABILITY as FACE
from service.guardians.capability import CAPABILITY as GUARDIANS
from service.lifecycle import personal_data
from service.lifecycle.capability import CAPABILITY as LIFECYCLE
from service.manifest import Capability
from service.observability.capability import CAPABILITY as OBSERVABILITY
from service.operators.capability import CAPABILITY as OPERATORS
from service.passkeys.capability import CAPABILITY as PASSKEYS
from service.policies.capability import CAPABILITY as POLICIES
from service.qualifications.capability import CAPABILITY as QUALIFICATIONS
from service.realname.capability import CAPABILITY as REALNAME
from service.recipients.capability import CAPABILITY as RECIPIENTS
from service.restrictions.capability import CAPABILITY as RESTRICTIONS
from service.rights.capability import CAPABILITY as RIGHTS
from service.sessions.capability import CAPABILITY as SESSIONS
from service.termination.capability import CAPABILITY as TERMINATION
from service.tokens.capability import CAPABILITY as TOKENS
from service.totp.capability import CAPABILITY as TOTP
from service.vault.capability import CAPABILITY as VAULT

# The order is the order of the personal-data archive's sections and of the erasure's statements.
CAPABILITIES: tuple[Capability, ...] = (
    OBSERVABILITY,
    POLICIES,
    ACCOUNTS,
    CONTACTS,
    COURIER,
    SESSIONS,
    TOKENS,
    TOTP,
    PASSKEYS,
    AVATARS,
    OPERATORS,
    CONSENTS,
    AUDIT,
    CASES,
    REALNAME,
    CORRECTIONS,
    DOCUMENTS,
    QUALIFICATIONS,
    FACE,
    DOCUMENT_REVIEW,
    GUARDIANS,
    LIFECYCLE,
    RIGHTS,
    TERMINATION,
    RESTRICTIONS,
    RECIPIENTS,
    CONSOLE,
    VAULT,
)

# The order in which the capabilities' erasure steps (their manifests' ``erase``) run, each in the
# erasure's one transaction (lifecycle.erasure); every capability with a step is here, once. It is
# the order the erasure ran in before the manifests declared its steps (README "Cancellation and
# erasure"): biometric keys first, then the registry's statements, open cases expired and evidence
# deleted, guardianships ended, and the account's own data with its data key last, after every
# step that may still act on the account as it was.
ERASURE_ORDER: tuple[Capability, ...] = (FACE, LIFECYCLE, CASES, GUARDIANS, ACCOUNTS)

# Folders under service/ that are not capabilities: what the capabilities are built on. They have
# no routes, jobs, case types or personal data of their own (tests/test_capabilities.py).
FOUNDATIONS = frozenset({"database", "http", "i18n", "jobs", "passwords"})


def _register(capabilities: tuple[Capability, ...], erasure_order: tuple[Capability, ...]) -> None:
    # In the order of CaseType, as the catalogue listed them before the manifests declared them.
    order = list(CaseType)
    declarations = sorted(
        (declaration for capability in capabilities for declaration in capability.case_types),
        key=lambda declaration: order.index(declaration.case_type),
    )
    catalogue.CASE_TYPES.fill((declaration.case_type, declaration.spec) for declaration in declarations)
    outcomes.OUTCOMES.fill(
        (declaration.case_type, declaration.outcome) for declaration in declarations if declaration.outcome
    )
    effects.CASES_RELYING_ON.fill(
        (
            purpose,
            tuple(declaration.case_type for declaration in declarations if declaration.relies_on is purpose),
        )
        for purpose in ConsentPurpose
        if any(declaration.relies_on is purpose for declaration in declarations)
    )
    personal_data.register(entry for capability in capabilities for entry in capability.personal_data)
    erasing = [capability.name for capability in capabilities if capability.erase is not None]
    ordered = [capability.name for capability in erasure_order]
    if sorted(erasing) != sorted(ordered) or len(set(ordered)) != len(ordered):
        raise RuntimeError(f"ERASURE_ORDER must list each capability with an erasure step once: {erasing}")
    personal_data.register_erasure_steps(
        (capability.name, capability.erase) for capability in erasure_order if capability.erase is not None
    )


_register(CAPABILITIES, ERASURE_ORDER)
