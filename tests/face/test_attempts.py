"""Face attempts are bounded per account, atomically, and past the bound point to document review."""

from __future__ import annotations

import asyncio

import asyncpg
import httpx

from service.runtime import Runtime
from tests.arrange.photos import photo
from tests.face.arrange import answer, challenge, jpeg, ready


async def test_parallel_challenges_past_the_daily_bound_are_refused(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    me = await ready(client, runtime)
    assert runtime.settings.face_challenges_per_day == 5
    responses = await asyncio.gather(*(client.post("/v1/me/verifications/face", headers=me) for _ in range(12)))
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201] * 5 + [429] * 7
    refused = next(response for response in responses if response.status_code == 429)
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["code"] == "face_challenges_exhausted"
    assert "/v1/me/verifications/document-review" in refused.json()["detail"]
    assert 0 < int(refused.headers["retry-after"]) <= 86400
    assert await db.fetchval("SELECT count(*) FROM face_verifications") == 5


async def test_failed_answers_in_a_row_send_the_person_to_document_review(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    me = await ready(client, runtime)
    assert runtime.settings.face_failures_in_a_row == 3
    document, still = jpeg(photo("obama.jpg")), jpeg(photo("obama2.jpg"))
    for _ in range(3):
        issued = await challenge(client, db, me)
        # A still photo held up: the frames do not move, the answer fails.
        failed = await answer(client, me, issued, document, [[still, still], [still]])
        assert failed.status_code == 200 and failed.json()["status"] == "rejected"
    refused = await client.post("/v1/me/verifications/face", headers=me)
    assert refused.status_code == 409 and refused.json()["code"] == "face_attempts_exhausted"
    assert "/v1/me/verifications/document-review" in refused.json()["detail"]


async def test_parallel_answers_cannot_exceed_the_failures_in_a_row(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    """Two failures, then two challenges answered at once: only one of them is judged."""
    me = await ready(client, runtime)
    document, still = jpeg(photo("obama.jpg")), jpeg(photo("obama2.jpg"))
    for _ in range(2):
        failed = await answer(client, me, await challenge(client, db, me), document, [[still, still], [still]])
        assert failed.json()["status"] == "rejected"
    first = await challenge(client, db, me)
    # Issuing the second challenge expired the first; reopen it, as if both were open at once.
    await db.execute("UPDATE face_verifications SET status = 'challenged' WHERE status = 'expired'")
    second = await challenge(client, db, me)
    await db.execute("UPDATE face_verifications SET status = 'challenged' WHERE status = 'expired'")
    results = await asyncio.gather(
        answer(client, me, first, document, [[still, still], [still]]),
        answer(client, me, second, document, [[still, still], [still]]),
    )
    judged = [result for result in results if result.status_code == 200]
    refused = [result for result in results if result.status_code == 409]
    assert len(judged) == 1 and len(refused) == 1, [result.text for result in results]
    # Refused by the bound, or (had it waited until the first was decided) as a challenge its case closed.
    assert refused[0].json()["code"] in {"face_attempts_exhausted", "challenge_used"}
    assert (await client.post("/v1/me/verifications/face", headers=me)).json()["code"] == "face_attempts_exhausted"
