"""Failed password attempts, counted per person-and-address, per person and per address in one
statement.

An attempt is *reserved* before the password is checked: the counters go up first, and only a
success takes them back down. So parallel guesses cannot slip past the limit: each one must win
its row updates, and once a subject's free attempts are spent the same statement moves its
``next_allowed_at`` into the future, which refuses every concurrent attempt behind it. A refused
reservation is rolled back whole, so being refused by one counter costs nothing on the others.

Three counters, because one is never right: a person guessed at from one address gets few free
attempts (the pair); a person guessed at from many addresses gets more (so distributed guessing
is bounded without letting one attacker lock the owner out from the owner's own address); an
address shared by many people behind NAT gets many, and counts failures only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

import asyncpg

from service.errors import RateLimited
from service.sessions import store
from service.vault import BlindIndex
from service.vault.labels import IndexPurpose

PAIR_FREE_ATTEMPTS = 5
PERSON_FREE_ATTEMPTS = 20
ADDRESS_FREE_ATTEMPTS = 100
# Failures older than this are forgotten.
FAILURE_MEMORY = timedelta(hours=1)


class AttemptsRefused(RateLimited):
    """429 too_many_attempts; ``by_address`` says whether the client's address is what is held
    back (anything else is the named person, whose lock sign-in hides: see sessions.sign_in)."""

    def __init__(self, seconds: int, *, by_address: bool) -> None:
        super().__init__(
            "too_many_attempts", "Too many failed attempts", f"Try again in {seconds} seconds.", retry_after=seconds
        )
        self.by_address = by_address


@dataclass(frozen=True)
class Subjects:
    pair: bytes
    person: bytes
    address: bytes


class SignInThrottle:
    def __init__(self, index: BlindIndex) -> None:
        self.index = index

    def subjects(self, person: str, address: str) -> Subjects:
        """``person`` is ``account:<id>`` for a known account, ``identifier:<key>`` otherwise."""
        return Subjects(
            pair=self.index.digest(IndexPurpose.THROTTLE, f"{person}|{address}"),
            person=self.index.digest(IndexPurpose.THROTTLE, person),
            address=self.index.digest(IndexPurpose.THROTTLE, f"address:{address}"),
        )

    async def reserve(self, conn: asyncpg.Connection, subjects: Subjects) -> None:
        """Count one attempt on every counter, or raise AttemptsRefused (the caller's transaction
        then rolls the partial counting back)."""
        keys = [subjects.pair, subjects.person, subjects.address]
        frees = [PAIR_FREE_ATTEMPTS, PERSON_FREE_ATTEMPTS, ADDRESS_FREE_ATTEMPTS]
        if await store.reserve_attempts(conn, keys, frees, FAILURE_MEMORY) == len(keys):
            return
        held = await store.held_back(conn, keys)
        seconds = max([1, *(math.ceil(float(wait)) for wait in held.values())])
        raise AttemptsRefused(seconds, by_address=subjects.address in held)

    async def person_just_locked(self, conn: asyncpg.Connection, subjects: Subjects) -> bool:
        """Whether the failure just counted used up the person's free attempts (from every address):
        the moment their owner is locked out, and so the moment to tell them (once per lock)."""
        return await store.free_attempts_just_spent(conn, subjects.person)

    async def succeeded(self, conn: asyncpg.Connection, subjects: Subjects) -> None:
        """Clear the person's counters; take back only this attempt from the address's (a sprayer
        with one valid account must not be able to wipe it)."""
        await store.clear_attempts(conn, [subjects.pair, subjects.person])
        await store.take_back_attempt(conn, subjects.address)
