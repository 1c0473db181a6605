"""The audit trail: who did what, to which pseudonymous target, from where; hash-chained."""

from service.audit.entries import Actor, ActorKind, AuditEntry, record_digest
from service.audit.trail import AuditTrail

__all__ = ["Actor", "ActorKind", "AuditEntry", "AuditTrail", "record_digest"]
