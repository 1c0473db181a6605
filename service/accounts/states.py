"""The account state machine, as data. Later capabilities add rows, not branches."""

from __future__ import annotations

from enum import StrEnum


class AccountState(StrEnum):
    PENDING_VERIFICATION = "pending_verification"
    ACTIVE = "active"


class AccountEvent(StrEnum):
    REGISTERED = "registered"
    CONTACT_VERIFIED = "contact_verified"


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
}


def next_state(state: AccountState | None, event: AccountEvent) -> AccountState:
    try:
        return TRANSITIONS[(state, event)]
    except KeyError:
        raise IllegalTransition(state, event) from None


# States whose holder may sign in (later states, such as suspended, are absent on purpose).
CAN_SIGN_IN = frozenset({AccountState.PENDING_VERIFICATION, AccountState.ACTIVE})
