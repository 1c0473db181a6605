"""The account state machine, as data. Later capabilities add rows, not branches."""

from __future__ import annotations

from enum import StrEnum


class AccountState(StrEnum):
    PENDING_VERIFICATION = "pending_verification"
    ACTIVE = "active"
    # False information or abuse: sessions ended; sign-in gives a session limited to seeing the
    # reason, appealing and exercising data rights (see RESTRICTED).
    SUSPENDED = "suspended"
    TERMINATED = "terminated"


class AccountEvent(StrEnum):
    REGISTERED = "registered"
    CONTACT_VERIFIED = "contact_verified"
    SUSPENDED = "suspended"
    # Back to where the account was: active if a contact is verified, pending otherwise.
    REINSTATED = "reinstated"
    REINSTATED_UNVERIFIED = "reinstated_unverified"
    TERMINATED = "terminated"


class IllegalTransition(Exception):
    def __init__(self, state: AccountState | None, event: AccountEvent) -> None:
        super().__init__(f"{event} is not allowed in state {state}")
        self.state = state
        self.event = event


# (state before, event) -> state after. A missing pair is an illegal transition.
TRANSITIONS: dict[tuple[AccountState | None, AccountEvent], AccountState] = {
    (None, AccountEvent.REGISTERED): AccountState.PENDING_VERIFICATION,
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
}


def next_state(state: AccountState | None, event: AccountEvent) -> AccountState:
    try:
        return TRANSITIONS[(state, event)]
    except KeyError:
        raise IllegalTransition(state, event) from None


# States whose holder may sign in (terminated, and later states, are absent on purpose).
CAN_SIGN_IN = frozenset({AccountState.PENDING_VERIFICATION, AccountState.ACTIVE, AccountState.SUSPENDED})
# States whose sessions reach only the endpoints marked as allowed while restricted.
RESTRICTED = frozenset({AccountState.SUSPENDED})
