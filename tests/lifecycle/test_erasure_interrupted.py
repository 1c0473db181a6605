"""A worker killed in the middle of an erasure leaves nothing half-done, and the next run erases
everything. The kill is simulated by a step that fails at several points; the erasure's single
transaction is what is under test."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import httpx
import pytest

from service.accounts import capability as accounts
from service.guardians import capability as guardians
from service.lifecycle.cancellation import erase_due
from service.runtime import Runtime
from tests.arrange.cleartext import found_in_clear
from tests.arrange.people import PERSON, real_name_verified
from tests.helpers import STRONG_PASSWORD


class WorkerKilled(BaseException):
    """Like a cancellation or a lost process, not an error the job records and moves past (that is
    tests/lifecycle/test_erasure_job.py): the run ends here."""


def dies_after(step: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    async def run_then_die(*args: Any, **kwargs: Any) -> Any:
        await step(*args, **kwargs)
        raise WorkerKilled

    return run_then_die


# Points inside the erasure's steps, each run by its capability's manifest (``erase``).
STEPS = {"end_guardianships_of": guardians, "erase_personal_data": accounts}


@pytest.mark.parametrize("point", ["end_guardianships_of", "erase_personal_data"])
async def test_a_killed_erasure_is_undone_and_then_completed(
    point: str,
    client: httpx.AsyncClient,
    runtime: Runtime,
    db: asyncpg.Connection,
    owner_db: asyncpg.Connection,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    account_id, me = await real_name_verified(client, runtime)
    assert (await client.post("/v1/me/cancellation", json={"password": STRONG_PASSWORD}, headers=me)).status_code == 202
    await db.execute("UPDATE cancellations SET erase_after = now() - interval '1 second'")

    monkeypatch.setattr(STEPS[point], point, dies_after(getattr(STEPS[point], point)))
    with pytest.raises(WorkerKilled):
        await erase_due(runtime)
    # Nothing happened: the account, its contacts and its key are as they were.
    assert await db.fetchval("SELECT state FROM accounts WHERE id = $1", account_id) == "cancellation_pending"
    assert await db.fetchval("SELECT count(*) FROM contacts WHERE account_id = $1", account_id) == 2
    assert await db.fetchval("SELECT wrapped_key IS NOT NULL FROM data_keys WHERE owner_id = $1", account_id)
    assert await db.fetchval("SELECT count(*) FROM erasure_ledger") == 0

    monkeypatch.undo()
    assert await erase_due(runtime) == 1
    assert await db.fetchval("SELECT state FROM accounts WHERE id = $1", account_id) == "erased"
    assert await found_in_clear(owner_db, PERSON["email"]) == []
