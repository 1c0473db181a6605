"""SQL for review cases, their evidence, their history and staged decisions."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg
import msgspec

from service.audit.entries import ActorKind
from service.cases.catalogue import CaseType
from service.cases.records import (
    Case,
    CaseHistoryEvent,
    EvidenceItem,
    QueueCount,
    QueuePosition,
    StagedDecision,
    SubjectCase,
)
from service.cases.schemas import AutomatedResult
from service.cases.states import CaseEvent, CaseState, DecisionKind

CASE_COLUMNS = """id, case_type, subject_account_id, state, priority, due_at, assignee_id,
    subject_is_child, parent_case_id, appealed_case_type, excluded_operator_ids, resubmissions, evidence_version,
    automated_results::text AS automated_results, reason_code, created_at, updated_at, closed_at"""


def _case(row: asyncpg.Record) -> Case:
    return Case(
        id=row["id"],
        case_type=CaseType(row["case_type"]),
        subject_account_id=row["subject_account_id"],
        state=CaseState(row["state"]),
        priority=row["priority"],
        due_at=row["due_at"],
        assignee_id=row["assignee_id"],
        subject_is_child=row["subject_is_child"],
        parent_case_id=row["parent_case_id"],
        appealed_case_type=CaseType(row["appealed_case_type"]) if row["appealed_case_type"] else None,
        excluded_operator_ids=tuple(row["excluded_operator_ids"]),
        resubmissions=row["resubmissions"],
        evidence_version=row["evidence_version"],
        automated_results=msgspec.json.decode(row["automated_results"], type=list[AutomatedResult]),
        reason_code=row["reason_code"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        closed_at=row["closed_at"],
    )


def _evidence_item(row: asyncpg.Record) -> EvidenceItem:
    return EvidenceItem(name=row["name"], value=row["value"], masked=row["masked"], version=row["version"])


async def insert(
    conn: asyncpg.Connection,
    *,
    case_id: UUID,
    case_type: str,
    subject_account_id: UUID,
    state: str,
    priority: int,
    due_at: datetime,
    subject_is_child: bool,
    parent_case_id: UUID | None,
    appealed_case_type: str | None,
    excluded_operator_ids: list[UUID],
    automated_results: str,
) -> None:
    await conn.execute(
        """INSERT INTO review_cases (id, case_type, subject_account_id, state, priority, due_at, subject_is_child,
                                     parent_case_id, excluded_operator_ids, automated_results, appealed_case_type)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11)""",
        case_id,
        case_type,
        subject_account_id,
        state,
        priority,
        due_at,
        subject_is_child,
        parent_case_id,
        excluded_operator_ids,
        automated_results,
        appealed_case_type,
    )


async def lock(conn: asyncpg.Connection, case_id: UUID) -> Case | None:
    row = await conn.fetchrow(
        f"SELECT {CASE_COLUMNS} FROM review_cases WHERE id = $1 FOR UPDATE",  # noqa: S608 - constant columns
        case_id,
    )
    return None if row is None else _case(row)


async def fetch(conn: asyncpg.Connection, case_id: UUID) -> Case | None:
    row = await conn.fetchrow(
        f"SELECT {CASE_COLUMNS} FROM review_cases WHERE id = $1",  # noqa: S608 - constant columns
        case_id,
    )
    return None if row is None else _case(row)


async def set_state(conn: asyncpg.Connection, case_id: UUID, state: str, reason_code: str | None, closed: bool) -> None:
    await conn.execute(
        """UPDATE review_cases
           SET state = $2, reason_code = $3, updated_at = now(),
               closed_at = CASE WHEN $4 THEN now() ELSE NULL END,
               assignee_id = CASE WHEN $4 THEN NULL ELSE assignee_id END
           WHERE id = $1""",
        case_id,
        state,
        reason_code,
        closed,
    )


async def add_event(
    conn: asyncpg.Connection,
    *,
    case_id: UUID,
    from_state: str | None,
    to_state: str,
    event: str,
    actor_type: str,
    actor_id: str,
    reason_code: str | None,
    note: bytes | None,
) -> None:
    await conn.execute(
        """INSERT INTO review_case_events (case_id, from_state, to_state, event, actor_type, actor_id,
                                           reason_code, note)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""",
        case_id,
        from_state,
        to_state,
        event,
        actor_type,
        actor_id,
        reason_code,
        note,
    )


async def events(conn: asyncpg.Connection, case_id: UUID) -> list[CaseHistoryEvent]:
    rows = await conn.fetch(
        """SELECT from_state, to_state, event, actor_type, actor_id, reason_code, note, at
           FROM review_case_events WHERE case_id = $1 ORDER BY id""",
        case_id,
    )
    return [
        CaseHistoryEvent(
            from_state=CaseState(row["from_state"]) if row["from_state"] else None,
            to_state=CaseState(row["to_state"]),
            event=CaseEvent(row["event"]),
            actor_type=ActorKind(row["actor_type"]),
            actor_id=row["actor_id"],
            reason_code=row["reason_code"],
            note=row["note"],
            at=row["at"],
        )
        for row in rows
    ]


async def final_note(conn: asyncpg.Connection, case_id: UUID) -> bytes | None:
    """The note of the event that closed the case."""
    note: bytes | None = await conn.fetchval(
        """SELECT e.note FROM review_case_events e JOIN review_cases c ON c.id = e.case_id
           WHERE e.case_id = $1 AND e.to_state = c.state ORDER BY e.id DESC LIMIT 1""",
        case_id,
    )
    return note


async def deciders(conn: asyncpg.Connection, case_id: UUID) -> list[UUID]:
    """Operators who took or staged a decision on the case."""
    rows = await conn.fetch(
        """SELECT DISTINCT actor_id::uuid AS id FROM review_case_events
           WHERE case_id = $1 AND actor_type = 'operator'
           UNION SELECT staged_by FROM staged_decisions WHERE case_id = $1""",
        case_id,
    )
    return [row["id"] for row in rows]


async def put_evidence(
    conn: asyncpg.Connection, case_id: UUID, items: list[tuple[str, bytes, str]], version: int
) -> None:
    await conn.executemany(
        """INSERT INTO review_case_evidence (case_id, name, value, masked, version) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (case_id, name) DO UPDATE
           SET value = excluded.value, masked = excluded.masked, version = excluded.version""",
        [(case_id, name, value, masked, version) for name, value, masked in items],
    )


async def drop_evidence_except(conn: asyncpg.Connection, case_id: UUID, names: list[str]) -> None:
    await conn.execute(
        "DELETE FROM review_case_evidence WHERE case_id = $1 AND name <> ALL($2::text[])", case_id, names
    )


async def bump_evidence_version(conn: asyncpg.Connection, case_id: UUID) -> int:
    version: int = await conn.fetchval(
        "UPDATE review_cases SET evidence_version = evidence_version + 1, updated_at = now() "
        "WHERE id = $1 RETURNING evidence_version",
        case_id,
    )
    return version


async def evidence(conn: asyncpg.Connection, case_id: UUID) -> list[EvidenceItem]:
    rows = await conn.fetch(
        "SELECT name, value, masked, version FROM review_case_evidence WHERE case_id = $1 ORDER BY name", case_id
    )
    return [_evidence_item(row) for row in rows]


async def evidence_item(conn: asyncpg.Connection, case_id: UUID, name: str) -> EvidenceItem | None:
    row = await conn.fetchrow(
        "SELECT name, value, masked, version FROM review_case_evidence WHERE case_id = $1 AND name = $2",
        case_id,
        name,
    )
    return None if row is None else _evidence_item(row)


async def set_automated_results(conn: asyncpg.Connection, case_id: UUID, results: str) -> None:
    await conn.execute(
        "UPDATE review_cases SET automated_results = $2::jsonb, updated_at = now() WHERE id = $1", case_id, results
    )


async def count_resubmission(conn: asyncpg.Connection, case_id: UUID) -> None:
    await conn.execute("UPDATE review_cases SET resubmissions = resubmissions + 1 WHERE id = $1", case_id)


async def assign(conn: asyncpg.Connection, case_id: UUID, operator_id: UUID | None) -> None:
    await conn.execute(
        "UPDATE review_cases SET assignee_id = $2, updated_at = now() WHERE id = $1", case_id, operator_id
    )


async def stage(
    conn: asyncpg.Connection,
    *,
    staged_id: UUID,
    case_id: UUID,
    decision: str,
    reason_code: str,
    note: bytes | None,
    staged_by: UUID,
    evidence_version: int,
) -> None:
    await conn.execute(
        """INSERT INTO staged_decisions (id, case_id, decision, reason_code, note, staged_by, evidence_version)
           VALUES ($1, $2, $3, $4, $5, $6, $7)""",
        staged_id,
        case_id,
        decision,
        reason_code,
        note,
        staged_by,
        evidence_version,
    )


async def pending_staged(conn: asyncpg.Connection, case_id: UUID) -> StagedDecision | None:
    row = await conn.fetchrow(
        """SELECT id, decision, reason_code, note, staged_by, evidence_version, staged_at
           FROM staged_decisions WHERE case_id = $1 AND status = 'pending' FOR UPDATE""",
        case_id,
    )
    if row is None:
        return None
    return StagedDecision(
        id=row["id"],
        decision=DecisionKind(row["decision"]),
        reason_code=row["reason_code"],
        note=row["note"],
        staged_by=row["staged_by"],
        evidence_version=row["evidence_version"],
        staged_at=row["staged_at"],
    )


async def resolve_staged(conn: asyncpg.Connection, staged_id: UUID, status: str, resolved_by: str) -> None:
    await conn.execute(
        """UPDATE staged_decisions SET status = $2, resolved_by = $3, resolved_at = now()
           WHERE id = $1 AND status = 'pending'""",
        staged_id,
        status,
        resolved_by,
    )


def queue_statement(*, open_only: bool, any_open_state: bool = False, after: bool = False) -> str:
    """Asked for open states only, the query names `closed_at IS NULL`, which lets it walk the partial index
    on open cases (review_cases_queue_idx: priority, due_at, id) in order and stop at the limit, never reading
    a closed case (tests/cases/test_queue_plan.py). A closed state asked for by name reads closed cases.

    Asked for any open state, it does not also filter on the state: a case is closed exactly when it is in a
    closed state (`set_state`), and the planner, taking the two conditions as independent, would expect a
    fraction of the open cases squared and read and sort them all instead of walking the index.

    ``after``: the page starts past a position ($8, $9, $10), a row comparison in the ORDER BY's own
    columns, which the index takes as where its scan starts (a separate statement, so that a prepared
    plan never weighs a position that is absent)."""
    only_open = "closed_at IS NULL AND" if open_only else ""
    by_state = "$2::text[] IS NOT NULL" if any_open_state else "state = ANY($2::text[])"
    past = "AND (priority, due_at, id) > ($8::smallint, $9::timestamptz, $10::uuid)" if after else ""
    return f"""SELECT {CASE_COLUMNS} FROM review_cases
            WHERE {only_open} coalesce(appealed_case_type, case_type) = ANY($1::text[])
              AND ($7::text IS NULL OR case_type = $7) AND {by_state}
              AND ($3::timestamptz IS NULL OR due_at < $3)
              AND ($4::uuid IS NULL OR assignee_id = $4)
              AND (NOT $5 OR assignee_id IS NULL) {past}
            ORDER BY priority, due_at, id LIMIT $6"""  # noqa: S608 - constant columns and predicates


async def queue(
    conn: asyncpg.Connection,
    *,
    workable_types: list[str],
    case_type: str | None,
    states: list[str],
    due_before: datetime | None,
    assignee: UUID | None,
    unassigned: bool,
    limit: int,
    open_only: bool,
    any_open_state: bool = False,
    after: QueuePosition | None = None,
) -> list[Case]:
    """The first `limit` cases by priority, due time and id, past ``after`` if given (see `queue_statement`)."""
    position = () if after is None else (after.priority, after.due_at, after.id)
    rows = await conn.fetch(
        queue_statement(open_only=open_only, any_open_state=any_open_state, after=after is not None),
        workable_types,
        states,
        due_before,
        assignee,
        unassigned,
        limit,
        case_type,
        *position,
    )
    return [_case(row) for row in rows]


async def for_subject(conn: asyncpg.Connection, account_id: UUID) -> list[SubjectCase]:
    rows = await conn.fetch(
        f"""SELECT {CASE_COLUMNS},
                   (SELECT a.id FROM review_cases a WHERE a.parent_case_id = c.id AND a.case_type = 'appeal')
                       AS appeal_case_id
            FROM review_cases c WHERE subject_account_id = $1 ORDER BY created_at DESC""",  # noqa: S608
        account_id,
    )
    return [SubjectCase(_case(row), row["appeal_case_id"]) for row in rows]


async def appeal_of(conn: asyncpg.Connection, case_id: UUID) -> UUID | None:
    appeal_id: UUID | None = await conn.fetchval(
        "SELECT id FROM review_cases WHERE parent_case_id = $1 AND case_type = 'appeal'", case_id
    )
    return appeal_id


async def set_due(conn: asyncpg.Connection, case_id: UUID, due_at: datetime) -> None:
    await conn.execute("UPDATE review_cases SET due_at = $2 WHERE id = $1", case_id, due_at)


async def lock_overdue(
    conn: asyncpg.Connection, states: list[str], limit: int, *, below_top_priority: bool = False
) -> list[UUID]:
    rows = await conn.fetch(
        """SELECT id FROM review_cases
           WHERE closed_at IS NULL AND state = ANY($1::text[]) AND due_at < now() AND (NOT $3 OR priority > 1)
           ORDER BY due_at LIMIT $2 FOR UPDATE SKIP LOCKED""",
        states,
        limit,
        below_top_priority,
    )
    return [row["id"] for row in rows]


async def escalate(conn: asyncpg.Connection, case_ids: list[UUID]) -> list[UUID]:
    rows = await conn.fetch(
        """UPDATE review_cases SET priority = 1, updated_at = now()
           WHERE id = ANY($1::uuid[]) AND priority > 1 RETURNING id""",
        case_ids,
    )
    return [row["id"] for row in rows]


async def open_of_subject(conn: asyncpg.Connection, account_id: UUID, case_types: list[str]) -> list[UUID]:
    rows = await conn.fetch(
        """SELECT id FROM review_cases
           WHERE subject_account_id = $1 AND case_type = ANY($2::text[]) AND closed_at IS NULL
           ORDER BY created_at""",
        account_id,
        case_types,
    )
    return [row["id"] for row in rows]


async def erase_evidence_of_subject(conn: asyncpg.Connection, account_id: UUID, case_types: list[str]) -> int:
    """Delete the evidence (images, templates, values) of the subject's cases of these types;
    the cases and their decisions stay."""
    result: str = await conn.execute(
        """DELETE FROM review_case_evidence e USING review_cases c
           WHERE e.case_id = c.id AND c.subject_account_id = $1 AND c.case_type = ANY($2::text[])""",
        account_id,
        case_types,
    )
    return int(result.split()[-1])


async def overdue_by_type(conn: asyncpg.Connection) -> list[tuple[str, int]]:
    """Every case type with its number of open cases past due (zero included, so gauges fall)."""
    rows = await conn.fetch(
        """SELECT t.case_type, count(c.id) AS overdue
           FROM unnest($1::text[]) AS t(case_type)
           LEFT JOIN review_cases c ON c.case_type = t.case_type AND c.closed_at IS NULL AND c.due_at < now()
           GROUP BY t.case_type""",
        [case_type.value for case_type in CaseType],
    )
    return [(row["case_type"], row["overdue"]) for row in rows]


async def open_counts(conn: asyncpg.Connection, workable_types: list[str]) -> list[QueueCount]:
    """Open cases per type among those visible (an appeal counts under its own type), with how many
    are past due and how many nobody has claimed."""
    rows = await conn.fetch(
        """SELECT case_type, count(*) AS open, count(*) FILTER (WHERE due_at < now()) AS overdue,
                  count(*) FILTER (WHERE assignee_id IS NULL) AS unassigned
           FROM review_cases
           WHERE closed_at IS NULL AND coalesce(appealed_case_type, case_type) = ANY($1::text[])
           GROUP BY case_type ORDER BY case_type""",
        workable_types,
    )
    return [QueueCount(CaseType(r["case_type"]), r["open"], r["overdue"], r["unassigned"]) for r in rows]
