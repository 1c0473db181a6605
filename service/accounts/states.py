"""The account state machine, as data. Later capabilities add rows, not branches."""

from __future__ import annotations

from enum import StrEnum


class AccountState(StrEnum):
    PENDING_VERIFICATION = "pending_verification"
    # A minor whose guardian has not consented yet: only a status check works.
    AWAITING_GUARDIAN = "awaiting_guardian"
    ACTIVE = "active"
    # False information or abuse: sessions ended; sign-in gives a session limited to seeing the
    # reason, appealing and exercising data rights (see RESTRICTED).
    SUSPENDED = "suspended"
    TERMINATED = "terminated"
    # Cancelled by its holder; erased when the cooling-off period ends unless they keep it.
    CANCELLATION_PENDING = "cancellation_pending"
    # Personal data gone: the data key destroyed, identifiers freed, a tombstone left.
    ERASED = "erased"


class AccountEvent(StrEnum):
    REGISTERED = "registered"
    REGISTERED_AS_MINOR = "registered_as_minor"
    # Like reinstatement: active if a contact is verified, pending otherwise.
    GUARDIAN_CONSENTED = "guardian_consented"
    GUARDIAN_CONSENTED_UNVERIFIED = "guardian_consented_unverified"
    CONTACT_VERIFIED = "contact_verified"
    SUSPENDED = "suspended"
    # Back to where the account was: active if a contact is verified, pending otherwise.
    REINSTATED = "reinstated"
    REINSTATED_UNVERIFIED = "reinstated_unverified"
    TERMINATED = "terminated"
    # A minor's data collected without a guardian's consent.
    ERASED_WITHOUT_CONSENT = "erased_without_consent"
    CANCELLATION_REQUESTED = "cancellation_requested"
    # Kept after all: back to active, or pending if no contact is verified.
    CANCELLATION_WITHDRAWN = "cancellation_withdrawn"
    CANCELLATION_WITHDRAWN_UNVERIFIED = "cancellation_withdrawn_unverified"
    ERASED = "erased"
    # An erasure re-applied to a database restored from a backup taken before it.
    ERASURE_REPLAYED = "erasure_replayed"


class IllegalTransition(Exception):
    def __init__(self, state: AccountState | None, event: AccountEvent) -> None:
        super().__init__(f"{event} is not allowed in state {state}")
        self.state = state
        self.event = event


# (state before, event) -> state after. A missing pair is an illegal transition.
TRANSITIONS: dict[tuple[AccountState | None, AccountEvent], AccountState] = {
    (None, AccountEvent.REGISTERED): AccountState.PENDING_VERIFICATION,
    (None, AccountEvent.REGISTERED_AS_MINOR): AccountState.AWAITING_GUARDIAN,
    (AccountState.AWAITING_GUARDIAN, AccountEvent.CONTACT_VERIFIED): AccountState.AWAITING_GUARDIAN,
    (AccountState.AWAITING_GUARDIAN, AccountEvent.GUARDIAN_CONSENTED): AccountState.ACTIVE,
    (AccountState.AWAITING_GUARDIAN, AccountEvent.GUARDIAN_CONSENTED_UNVERIFIED): AccountState.PENDING_VERIFICATION,
    (AccountState.AWAITING_GUARDIAN, AccountEvent.TERMINATED): AccountState.TERMINATED,
    (AccountState.AWAITING_GUARDIAN, AccountEvent.ERASED_WITHOUT_CONSENT): AccountState.ERASED,
    (AccountState.SUSPENDED, AccountEvent.ERASED_WITHOUT_CONSENT): AccountState.ERASED,
    (AccountState.ACTIVE, AccountEvent.CANCELLATION_REQUESTED): AccountState.CANCELLATION_PENDING,
    (AccountState.PENDING_VERIFICATION, AccountEvent.CANCELLATION_REQUESTED): AccountState.CANCELLATION_PENDING,
    (AccountState.CANCELLATION_PENDING, AccountEvent.CANCELLATION_WITHDRAWN): AccountState.ACTIVE,
    (
        AccountState.CANCELLATION_PENDING,
        AccountEvent.CANCELLATION_WITHDRAWN_UNVERIFIED,
    ): AccountState.PENDING_VERIFICATION,
    (AccountState.CANCELLATION_PENDING, AccountEvent.CONTACT_VERIFIED): AccountState.CANCELLATION_PENDING,
    (AccountState.CANCELLATION_PENDING, AccountEvent.ERASED): AccountState.ERASED,
    (AccountState.CANCELLATION_PENDING, AccountEvent.TERMINATED): AccountState.TERMINATED,
    (AccountState.PENDING_VERIFICATION, AccountEvent.CONTACT_VERIFIED): AccountState.ACTIVE,
    (AccountState.ACTIVE, AccountEvent.CONTACT_VERIFIED): AccountState.ACTIVE,
    (AccountState.SUSPENDED, AccountEvent.CONTACT_VERIFIED): AccountState.SUSPENDED,
    (AccountState.PENDING_VERIFICATION, AccountEvent.SUSPENDED): AccountState.SUSPENDED,
    (AccountState.ACTIVE, AccountEvent.SUSPENDED): AccountState.SUSPENDED,
    (AccountState.SUSPENDED, AccountEvent.REINSTATED): AccountState.ACTIVE,
    (AccountState.SUSPENDED, AccountEvent.REINSTATED_UNVERIFIED): AccountState.PENDING_VERIFICATION,
    (AccountState.PENDING_VERIFICATION, AccountEvent.TERMINATED): AccountState.TERMINATED,
    (AccountState.ACTIVE, AccountEvent.TERMINATED): AccountState.TERMINATED,
    (AccountState.SUSPENDED, AccountEvent.TERMINATED): AccountState.TERMINATED,
    # A restored backup may hold the account in any state it had before its erasure.
    **{(state, AccountEvent.ERASURE_REPLAYED): AccountState.ERASED for state in AccountState},
}


def next_state(state: AccountState | None, event: AccountEvent) -> AccountState:
    try:
        return TRANSITIONS[(state, event)]
    except KeyError:
        raise IllegalTransition(state, event) from None


# States whose holder may sign in (terminated, and later states, are absent on purpose).
CAN_SIGN_IN = frozenset(
    {
        AccountState.PENDING_VERIFICATION,
        AccountState.ACTIVE,
        AccountState.SUSPENDED,
        AccountState.AWAITING_GUARDIAN,
        AccountState.CANCELLATION_PENDING,
    }
)
# States whose sessions reach only the endpoints marked as allowed while restricted.
RESTRICTED = frozenset({AccountState.SUSPENDED, AccountState.CANCELLATION_PENDING})
