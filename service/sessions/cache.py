"""Resolved sessions kept in memory, so that whoami answers without a database round trip.

Keyed by the token's digest (never the token), bounded (least recently used goes first), and
each entry trusted for ``ttl`` at most. Whatever changes an answer (a session ending, the account's
state, doubt, contacts, TOTP, real name, face, document review, qualifications, consents) fires a
trigger that notifies ``CHANNEL`` with the account id (migration 0031); every process listens
(``service.database.listening``) and drops that account's entries, so a change on one replica is
refused by every other within the notification's delay. A (re)connection of the listener drops
everything (notifications sent while it was away are lost); the TTL bounds the rest.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from uuid import UUID

import asyncpg

if TYPE_CHECKING:
    from service.sessions.sessions import Principal

CHANNEL = "idv_sessions_changed"
# Drops remembered for answers being read meanwhile; an answer older than these is not kept.
DROPS_REMEMBERED = 1024


@dataclass
class CachedSession:
    principal: Principal
    # The consent pairs the answer was computed for: a published policy changes them.
    required: tuple[list[str], list[str]]
    cached_at: float  # monotonic
    # Activity as the database knows it (written at most once a minute, see sessions.resolve_session).
    last_seen_at: datetime


class SessionCache:
    def __init__(self, ttl: timedelta, max_entries: int) -> None:
        self.ttl = ttl.total_seconds()
        self.max_entries = max_entries
        self._entries: OrderedDict[bytes, CachedSession] = OrderedDict()
        self._by_account: dict[UUID, set[bytes]] = {}
        # Counts the drops, the latest of which are remembered (None: everything): an answer read
        # from the database before a drop of its account is not kept after it.
        self.generation = 0
        self._drops: deque[UUID | None] = deque(maxlen=DROPS_REMEMBERED)

    @property
    def enabled(self) -> bool:
        return self.ttl > 0 and self.max_entries > 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, digest: bytes, required: tuple[list[str], list[str]]) -> CachedSession | None:
        entry = self._entries.get(digest)
        if entry is None:
            return None
        if time.monotonic() - entry.cached_at >= self.ttl or entry.required != required:
            self._forget(digest)
            return None
        self._entries.move_to_end(digest)
        return entry

    def put(self, digest: bytes, entry: CachedSession, generation: int) -> None:
        """Keep ``entry`` unless something was dropped since ``generation`` (read before the query)."""
        if not self.enabled or self._dropped_since(generation, entry.principal.account_id):
            return
        self._forget(digest)
        self._entries[digest] = entry
        self._by_account.setdefault(entry.principal.account_id, set()).add(digest)
        while len(self._entries) > self.max_entries:
            self._forget(next(iter(self._entries)))

    def _dropped_since(self, generation: int, account_id: UUID) -> bool:
        missed = self.generation - generation
        if missed == 0:
            return False
        if missed > len(self._drops):
            return True
        return any(dropped is None or dropped == account_id for dropped in list(self._drops)[-missed:])

    def drop_digest(self, digest: bytes) -> None:
        entry = self._entries.get(digest)
        if entry is not None:
            self.drop_account(entry.principal.account_id)

    def drop_account(self, account_id: UUID) -> None:
        self.generation += 1
        self._drops.append(account_id)
        for digest in self._by_account.pop(account_id, set()):
            self._entries.pop(digest, None)

    def clear(self) -> None:
        self.generation += 1
        self._drops.append(None)
        self._entries.clear()
        self._by_account.clear()

    def _forget(self, digest: bytes) -> None:
        entry = self._entries.pop(digest, None)
        if entry is None:
            return
        digests = self._by_account.get(entry.principal.account_id)
        if digests is not None:
            digests.discard(digest)
            if not digests:
                del self._by_account[entry.principal.account_id]


class SessionCacheInvalidation:
    """The cache's subscription to the listener: drop an account when told, everything on (re)connection."""

    channel = CHANNEL

    def __init__(self, cache: SessionCache) -> None:
        self.cache = cache

    def notified(self, payload: str) -> bool:
        try:
            self.cache.drop_account(UUID(payload))
        except ValueError:
            self.cache.clear()
        return False

    async def resync(self, conn: asyncpg.Connection) -> None:
        self.cache.clear()
