"""The account state machine, as data. Later capabilities add rows, not branches."""

from __future__ import annotations

from enum import StrEnum


class AccountState(StrEnum):
    PENDING_VERIFICATION = "pending_verification"
    # A minor whose guardian has not consented yet: only a status check works.
    AWAITING_GUARDIAN = "awaiting_guardian"
    ACTIVE = "active"
    # An operator's reversible measure while something is checked: sessions live on, but reach only
    # verification, appeals and data rights. Lifted by an operator.
    RESTRICTED = "restricted"
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
    # Back to where the account was: restricted if it was, else active if a contact is verified,
    # pending otherwise (the same three ways back after a restriction or a cancellation).
    REINSTATED = "reinstated"
    REINSTATED_UNVERIFIED = "reinstated_unverified"
    REINSTATED_RESTRICTED = "reinstated_restricted"
    RESTRICTED = "restricted"
    RESTRICTION_LIFTED = "restriction_lifted"
    RESTRICTION_LIFTED_UNVERIFIED = "restriction_lifted_unverified"
    TERMINATED = "terminated"
    # A minor's data collected without a guardian's consent.
    ERASED_WITHOUT_CONSENT = "erased_without_consent"
    CANCELLATION_REQUESTED = "cancellation_requested"
    # Kept after all: back to active, or pending if no contact is verified.
    CANCELLATION_WITHDRAWN = "cancellation_withdrawn"
    CANCELLATION_WITHDRAWN_UNVERIFIED = "cancellation_withdrawn_unverified"
    CANCELLATION_WITHDRAWN_RESTRICTED = "cancellation_withdrawn_restricted"
    ERASED = "erased"
    # Registered but never verified within IDV_UNVERIFIED_ACCOUNT_LIFETIME: erased, its identifiers freed.
    UNVERIFIED_EXPIRED = "unverified_expired"
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
    (
        AccountState.CANCELLATION_PENDING,
        AccountEvent.CANCELLATION_WITHDRAWN_RESTRICTED,
    ): AccountState.RESTRICTED,
    (AccountState.CANCELLATION_PENDING, AccountEvent.CONTACT_VERIFIED): AccountState.CANCELLATION_PENDING,
    (AccountState.CANCELLATION_PENDING, AccountEvent.ERASED): AccountState.ERASED,
    (AccountState.CANCELLATION_PENDING, AccountEvent.TERMINATED): AccountState.TERMINATED,
    # Termination does not withdraw the holder's request to be erased: when the cooling-off ends the
    # account is erased too, its records under the legal hold, its identity bar kept for its own time.
    (AccountState.TERMINATED, AccountEvent.ERASED): AccountState.ERASED,
    (AccountState.PENDING_VERIFICATION, AccountEvent.CONTACT_VERIFIED): AccountState.ACTIVE,
    (AccountState.PENDING_VERIFICATION, AccountEvent.UNVERIFIED_EXPIRED): AccountState.ERASED,
    (AccountState.ACTIVE, AccountEvent.CONTACT_VERIFIED): AccountState.ACTIVE,
    (AccountState.SUSPENDED, AccountEvent.CONTACT_VERIFIED): AccountState.SUSPENDED,
    (AccountState.PENDING_VERIFICATION, AccountEvent.SUSPENDED): AccountState.SUSPENDED,
    (AccountState.ACTIVE, AccountEvent.SUSPENDED): AccountState.SUSPENDED,
    (AccountState.SUSPENDED, AccountEvent.REINSTATED): AccountState.ACTIVE,
    (AccountState.SUSPENDED, AccountEvent.REINSTATED_UNVERIFIED): AccountState.PENDING_VERIFICATION,
    (AccountState.SUSPENDED, AccountEvent.REINSTATED_RESTRICTED): AccountState.RESTRICTED,
    (AccountState.ACTIVE, AccountEvent.RESTRICTED): AccountState.RESTRICTED,
    (AccountState.PENDING_VERIFICATION, AccountEvent.RESTRICTED): AccountState.RESTRICTED,
    (AccountState.RESTRICTED, AccountEvent.RESTRICTION_LIFTED): AccountState.ACTIVE,
    (AccountState.RESTRICTED, AccountEvent.RESTRICTION_LIFTED_UNVERIFIED): AccountState.PENDING_VERIFICATION,
    (AccountState.RESTRICTED, AccountEvent.CONTACT_VERIFIED): AccountState.RESTRICTED,
    (AccountState.RESTRICTED, AccountEvent.SUSPENDED): AccountState.SUSPENDED,
    (AccountState.RESTRICTED, AccountEvent.CANCELLATION_REQUESTED): AccountState.CANCELLATION_PENDING,
    (AccountState.RESTRICTED, AccountEvent.TERMINATED): AccountState.TERMINATED,
    (AccountState.PENDING_VERIFICATION, AccountEvent.TERMINATED): AccountState.TERMINATED,
    (AccountState.ACTIVE, AccountEvent.TERMINATED): AccountState.TERMINATED,
    (AccountState.SUSPENDED, AccountEvent.TERMINATED): AccountState.TERMINATED,
    # A restored backup may hold the account in any state it had before its erasure.
    **{(state, AccountEvent.ERASURE_REPLAYED): AccountState.ERASED for state in AccountState},
}


# Events that put an account in doubt (True) or take the doubt away (False); every other event
# leaves it as it was. Doubt is a fact of the account, not of its state: a restricted account that
# asks to cancel, or is suspended and reinstated, is in doubt until an operator lifts it, and while
# it is in doubt nothing it proved earlier is vouched for (whoami).
DOUBT: dict[AccountEvent, bool] = {
    AccountEvent.RESTRICTED: True,
    AccountEvent.SUSPENDED: True,
    AccountEvent.REINSTATED_RESTRICTED: True,
    AccountEvent.CANCELLATION_WITHDRAWN_RESTRICTED: True,
    AccountEvent.RESTRICTION_LIFTED: False,
    AccountEvent.RESTRICTION_LIFTED_UNVERIFIED: False,
    AccountEvent.REINSTATED: False,
    AccountEvent.REINSTATED_UNVERIFIED: False,
}


def states_allowing(event: AccountEvent) -> frozenset[AccountState]:
    """The states from which the event is allowed: what a command checks before it starts."""
    return frozenset(state for (state, allowed), _ in TRANSITIONS.items() if allowed is event and state is not None)


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
        AccountState.RESTRICTED,
        AccountState.SUSPENDED,
        AccountState.AWAITING_GUARDIAN,
        AccountState.CANCELLATION_PENDING,
    }
)
# Leaving a state for where the account was: (state left, state returned to) -> event. The account
# returns to restricted if it was restricted before, else to active or pending verification by
# whether a contact is verified (accounts.transitions.way_back).
WAYS_BACK: dict[tuple[AccountState, AccountState], AccountEvent] = {
    (AccountState.SUSPENDED, AccountState.RESTRICTED): AccountEvent.REINSTATED_RESTRICTED,
    (AccountState.SUSPENDED, AccountState.ACTIVE): AccountEvent.REINSTATED,
    (AccountState.SUSPENDED, AccountState.PENDING_VERIFICATION): AccountEvent.REINSTATED_UNVERIFIED,
    (AccountState.CANCELLATION_PENDING, AccountState.RESTRICTED): AccountEvent.CANCELLATION_WITHDRAWN_RESTRICTED,
    (AccountState.CANCELLATION_PENDING, AccountState.ACTIVE): AccountEvent.CANCELLATION_WITHDRAWN,
    (AccountState.CANCELLATION_PENDING, AccountState.PENDING_VERIFICATION): (
        AccountEvent.CANCELLATION_WITHDRAWN_UNVERIFIED
    ),
    (AccountState.RESTRICTED, AccountState.ACTIVE): AccountEvent.RESTRICTION_LIFTED,
    (AccountState.RESTRICTED, AccountState.PENDING_VERIFICATION): AccountEvent.RESTRICTION_LIFTED_UNVERIFIED,
}
