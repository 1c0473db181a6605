"""The erasure job acts on every cancellation it can and is stopped by none: a terminated account
is erased too (its records held, its identity bar kept), an account in a state the erasure may not
act on is set aside with an outcome, audited and reported, and an error on one account leaves the
others, and export expiry, to run."""

from __future__ import annotations

import uuid

import asyncpg
import httpx
import pytest

from service.accounts.states import AccountState
from service.jobs.catalog import scheduled_jobs
from service.lifecycle.cancellation import ERASABLE, erase_due
from service.runtime import Runtime
from tests.arrange.consents import grant
from tests.arrange.lifecycle import cancel_now_due, ready_export, terminate
from tests.arrange.people import ZHANG_SAN, person


async def _run_erasure_job(runtime: Runtime) -> None:
    """What the schedule runs every ten minutes."""
    (job,) = [job for job in scheduled_jobs(runtime) if job.name == "lifecycle.erase_due"]
    await job.run()


async def _state(db: asyncpg.Connection, account_id: uuid.UUID) -> str:
    state: str = await db.fetchval("SELECT state FROM accounts WHERE id = $1", account_id)
    return state


async def test_a_terminated_account_is_erased_and_does_not_stop_later_erasures(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    terminated, terminated_me = await person(client, runtime, identity=ZHANG_SAN)
    await cancel_now_due(client, db, terminated_me, ago=60)
    await terminate(client, runtime, terminated, "false_information")
    assert await _state(db, terminated) == "terminated"
    later, later_me = await person(client, runtime)
    await cancel_now_due(client, db, later_me)
    bystander, _ = await person(client, runtime)
    export = await ready_export(db, bystander)

    await _run_erasure_job(runtime)

    # The person asked to be erased: termination does not veto it, and nobody behind waits.
    assert await _state(db, terminated) == "erased"
    assert await _state(db, later) == "erased"
    assert await db.fetchval("SELECT status FROM data_exports WHERE id = $1", export) == "expired"
    # The records of what was done stay under the legal hold, minimized; the bar keeps its own time.
    held = await db.fetchrow(
        "SELECT status, id_number_index FROM real_name_verifications WHERE account_id = $1", terminated
    )
    assert held is not None and (held["status"], held["id_number_index"]) == ("withdrawn", b"")
    assert (
        await db.fetchval("SELECT count(*) FROM identity_bars WHERE barred_until > now() + interval '1000 days'") == 1
    )
    _, newcomer = await person(client, runtime)
    await grant(client, newcomer, "identity_data")
    barred = await client.post("/v1/me/verifications/real-name", json=ZHANG_SAN, headers=newcomer)
    assert (barred.status_code, barred.json()["code"]) == (403, "identity_barred")


@pytest.mark.parametrize("state", list(AccountState))
async def test_a_due_cancellation_in_every_account_state_is_erased_or_settled_and_stops_nothing(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection, owner_db: asyncpg.Connection, state: str
) -> None:
    odd, odd_me = await person(client, runtime)
    await cancel_now_due(client, db, odd_me, ago=60)
    # However it got there (a later transition, a restored backup, a hand edit), the account is now
    # in ``state`` with its cancellation due, picked first.
    await owner_db.execute("UPDATE accounts SET state = $2 WHERE id = $1", odd, state)
    later, later_me = await person(client, runtime)
    await cancel_now_due(client, db, later_me)
    export = await ready_export(db, later)

    await _run_erasure_job(runtime)

    assert await _state(db, later) == "erased"
    assert await db.fetchval("SELECT status FROM data_exports WHERE id = $1", export) == "expired"
    settled = await db.fetchrow(
        "SELECT outcome, outcome_reason, erased_at FROM cancellations WHERE account_id = $1", odd
    )
    assert settled is not None
    skipped = await db.fetchval(
        "SELECT count(*) FROM audit_log WHERE action = 'account.erasure_skipped' AND target_id = $1", str(odd)
    )
    metrics = (await client.get("/metrics")).text
    if state in ERASABLE:
        assert await _state(db, odd) == "erased"
        assert (settled["outcome"], skipped) == ("erased", 0)
    elif state == AccountState.ERASED:
        assert (settled["outcome"], settled["erased_at"], skipped) == ("already_erased", None, 1)
        assert await db.fetchval("SELECT count(*) FROM erasure_ledger WHERE account_id = $1", odd) == 0
    else:
        # Not the erasure's to act on: left as it is, recorded, audited and reported.
        assert await _state(db, odd) == state
        assert (settled["outcome"], settled["outcome_reason"], skipped) == ("set_aside", f"account_{state}", 1)
        assert f'idv_erasures_stuck{{reason="account_{state}"}} 1.0' in metrics
    assert 'idv_erasures_stuck{reason="error"} 0.0' in metrics

    # Settled once: the next run picks nothing and audits nothing again.
    assert await erase_due(runtime) == 0
    again = await db.fetchval(
        "SELECT count(*) FROM audit_log WHERE action = 'account.erasure_skipped' AND target_id = $1", str(odd)
    )
    assert again == skipped


async def test_an_erasure_that_fails_stops_neither_the_others_nor_export_expiry(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection, owner_db: asyncpg.Connection
) -> None:
    failing, failing_me = await person(client, runtime)
    await cancel_now_due(client, db, failing_me, ago=60)
    later, later_me = await person(client, runtime)
    await cancel_now_due(client, db, later_me)
    bystander, _ = await person(client, runtime)
    export = await ready_export(db, bystander)
    # A real error from the database, half-way through the first erasure.
    await owner_db.execute(
        """CREATE FUNCTION refuse_this_erasure() RETURNS trigger LANGUAGE plpgsql AS
           $$ BEGIN RAISE EXCEPTION 'this account''s erasure fails'; END $$"""
    )
    await owner_db.execute(
        f"""CREATE TRIGGER refuse_this_erasure BEFORE UPDATE ON accounts FOR EACH ROW
            WHEN (OLD.id = '{failing}') EXECUTE FUNCTION refuse_this_erasure()"""
    )

    await _run_erasure_job(runtime)

    assert await _state(db, later) == "erased"
    assert await db.fetchval("SELECT status FROM data_exports WHERE id = $1", export) == "expired"
    # Nothing half-done: the failed account is whole, its data key there, its failure recorded.
    assert await _state(db, failing) == "cancellation_pending"
    assert await db.fetchval("SELECT wrapped_key IS NOT NULL FROM data_keys WHERE owner_id = $1", failing)
    attempt = await db.fetchrow(
        "SELECT outcome, failed_attempts, last_error FROM cancellations WHERE account_id = $1", failing
    )
    assert attempt is not None and tuple(attempt) == (None, 1, "RaiseError")
    assert 'idv_erasures_stuck{reason="error"} 1.0' in (await client.get("/metrics")).text

    # Once the cause is fixed, the next run erases it.
    await owner_db.execute("DROP TRIGGER refuse_this_erasure ON accounts")
    await _run_erasure_job(runtime)
    assert await _state(db, failing) == "erased"
    assert 'idv_erasures_stuck{reason="error"} 0.0' in (await client.get("/metrics")).text
