"""Rights requests a person answers: tracked with a due date, worked by privacy officers, refused
only with written reasons the requester reads; overdue ones show in the metrics."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx

from service.runtime import Runtime
from tests.arrange.operators import claim_and_decide
from tests.arrange.people import ready_for_real_name
from tests.helpers import enrolled_operator


async def test_a_request_is_due_in_15_days_and_a_refusal_comes_with_reasons(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    _, me = await ready_for_real_name(client, runtime)
    filed = await client.post(
        "/v1/me/requests",
        json={"kind": "deletion", "statement": "Please delete the photos of my old qualification documents."},
        headers=me,
    )
    assert filed.status_code == 201, filed.text
    request = filed.json()
    assert (request["case_type"], request["state"]) == ("data_subject_request", "in_review")
    due = datetime.fromisoformat(request["due_at"])
    assert timedelta(days=14, hours=23) < due - datetime.now(UTC) <= timedelta(days=15)

    # Only privacy officers work them, from the queue sorted by due date.
    reviewer = await enrolled_operator(runtime, client, "reviewer")
    assert (await client.get(f"/v1/operator/cases/{request['case_id']}", headers=reviewer.headers)).status_code == 403
    officer = await enrolled_operator(runtime, client, "privacy_officer")
    queue = await client.get(
        "/v1/operator/cases", params={"case_type": "data_subject_request"}, headers=officer.headers
    )
    assert [c["case_id"] for c in queue.json()] == [request["case_id"]]

    case_id = request["case_id"]
    await client.post(f"/v1/operator/cases/{case_id}/claim", headers=officer.headers)
    bare = await client.post(
        f"/v1/operator/cases/{case_id}/decision",
        json={"decision": "reject", "reason_code": "request_unfounded"},
        headers=officer.headers,
    )
    assert bare.status_code == 422 and bare.json()["errors"][0]["code"] == "reasons_required"
    reasons = "Those photos are kept for three years under the qualification rules (section 4)."
    refused = await client.post(
        f"/v1/operator/cases/{case_id}/decision",
        json={"decision": "reject", "reason_code": "request_unfounded", "note": reasons},
        headers=officer.headers,
    )
    assert refused.status_code == 200, refused.text
    (answered,) = (await client.get("/v1/me/requests", headers=me)).json()
    assert (answered["state"], answered["explanation"], answered["due_at"]) == ("rejected", reasons, None)
    assert answered["can_appeal"] is True


async def test_overdue_requests_show_in_the_metrics(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    _, me = await ready_for_real_name(client, runtime)
    body = {"kind": "objection", "statement": "I object to the automated decision on my face check."}
    filed = (await client.post("/v1/me/requests", json=body, headers=me)).json()
    metrics = (await client.get("/metrics")).text
    assert 'idv_cases_overdue{case_type="data_subject_request"} 0.0' in metrics
    await db.execute(
        "UPDATE review_cases SET due_at = now() - interval '1 day' WHERE id = $1", uuid.UUID(filed["case_id"])
    )
    metrics = (await client.get("/metrics")).text
    assert 'idv_cases_overdue{case_type="data_subject_request"} 1.0' in metrics


async def test_an_objection_names_only_ones_own_case(client: httpx.AsyncClient, runtime: Runtime) -> None:
    _, me = await ready_for_real_name(client, runtime)
    body = {"kind": "objection", "statement": "Please have a person look at this.", "about_case_id": str(uuid.uuid4())}
    assert (await client.post("/v1/me/requests", json=body, headers=me)).status_code == 404
    approved = await client.post(
        "/v1/me/requests", json={"kind": "other", "statement": "Tell me who received my data."}, headers=me
    )
    officer = await enrolled_operator(runtime, client, "privacy_officer")
    await claim_and_decide(client, officer, approved.json()["case_id"], "approve", "request_fulfilled")
    (done,) = (await client.get("/v1/me/requests", headers=me)).json()
    assert done["state"] == "approved" and done["message"] == "Your request was carried out."
