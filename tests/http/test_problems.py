"""Bad input gets RFC 9457 problem details with stable codes, and writes nothing."""

from __future__ import annotations

import json

import asyncpg
import httpx
import pytest

from tests.helpers import audit_keys, registration

PROBLEM = "application/problem+json"


async def assert_nothing_written(db: asyncpg.Connection) -> None:
    for table in ("accounts", "contacts", "sessions", "courier_messages", "pgqueuer", "audit_log"):
        assert await db.fetchval(f"SELECT count(*) FROM {table}") == 0, table  # noqa: S608
    # The only data key is the one the audit trail made at start-up for client addresses.
    assert await db.fetchval("SELECT count(*) FROM data_keys WHERE owner_id <> ALL($1::uuid[])", audit_keys()) == 0


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b'{"display_name": "x"', 400, "malformed_body"),
        (b"\xff\xfe not json", 400, "malformed_body"),
        (b"[]", 422, "validation_failed"),
        (b"", 422, "validation_failed"),
    ],
)
async def test_unreadable_bodies(
    client: httpx.AsyncClient, db: asyncpg.Connection, body: bytes, status: int, code: str
) -> None:
    response = await client.post("/v1/registrations", content=body, headers={"content-type": "application/json"})
    assert response.status_code == status
    assert response.headers["content-type"].startswith(PROBLEM)
    problem = response.json()
    assert problem["code"] == code and problem["status"] == status
    assert problem["request_id"] == response.headers["x-request-id"]
    assert "Traceback" not in response.text
    await assert_nothing_written(db)


async def test_nul_bytes_are_refused_field_by_field(client: httpx.AsyncClient, db: asyncpg.Connection) -> None:
    response = await client.post("/v1/registrations", json=registration(display_name="Bruce\u0000Lee"))
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "display_name", "code": "invalid_characters", "message": "contains characters that are not allowed"}
    ]
    await assert_nothing_written(db)


async def test_unknown_fields_are_refused(client: httpx.AsyncClient, db: asyncpg.Connection) -> None:
    response = await client.post("/v1/registrations", json=registration(is_admin=True))
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "is_admin", "code": "unknown_field", "message": "unknown field"}]
    await assert_nothing_written(db)


async def test_missing_and_out_of_range_fields(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/registrations", json=registration(display_name=None))
    assert response.json()["errors"][0]["field"] == "display_name"
    assert response.json()["errors"][0]["code"] == "required"
    response = await client.post("/v1/registrations", json=registration(display_name="x" * 201))
    assert response.status_code == 422
    assert response.json()["errors"][0] == {
        "field": "display_name",
        "code": "out_of_range",
        "message": "Expected `str` of length <= 200",
    }
    response = await client.post("/v1/contacts/email/verify", json={"code": "1" * 40})
    assert response.status_code in {401, 422}


async def test_oversized_bodies_are_refused_before_parsing(client: httpx.AsyncClient, db: asyncpg.Connection) -> None:
    huge = b'{"display_name": "' + b"a" * (2 * 1024 * 1024) + b'"}'
    response = await client.post("/v1/registrations", content=huge, headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.json()["code"] == "body_too_large"
    await assert_nothing_written(db)


async def test_unknown_routes_and_methods(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/nothing-here")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    response = await client.put("/v1/registrations", json={})
    assert response.status_code == 405 and response.json()["code"] == "method_not_allowed"


async def test_a_failure_after_some_writes_leaves_nothing(client: httpx.AsyncClient, db: asyncpg.Connection) -> None:
    # The second registration collides with the first on the phone number, inside the
    # transaction (after key, account and e-mail rows were written): all of it is rolled back.
    first = await client.post("/v1/registrations", json=registration())
    assert first.status_code == 201
    before = {
        t: await db.fetchval(f"SELECT count(*) FROM {t}")  # noqa: S608
        for t in ("accounts", "contacts", "data_keys", "sessions")
    }
    await db.execute("DELETE FROM sessions")  # keep the pre-check from seeing the phone first
    await db.execute("UPDATE contacts SET address_index = address_index WHERE kind = 'phone'")
    second = await client.post("/v1/registrations", json=registration(email="other@example.com", username="other_user"))
    assert second.status_code == 409
    assert second.json()["errors"][0]["field"] == "phone"
    after = {
        t: await db.fetchval(f"SELECT count(*) FROM {t}")  # noqa: S608
        for t in ("accounts", "contacts", "data_keys")
    }
    assert after == {t: before[t] for t in after}


@pytest.mark.parametrize(
    ("field", "value"),
    [("birth_date", 1e400), ("birth_date", 99999999999999999999999999), ("password", -1), ("phone", 1.5)],
)
async def test_numbers_where_they_do_not_belong_or_out_of_range(
    client: httpx.AsyncClient, db: asyncpg.Connection, field: str, value: object
) -> None:
    body = json.dumps(registration(**{field: value}), allow_nan=True).encode()
    response = await client.post("/v1/registrations", content=body, headers={"content-type": "application/json"})
    assert response.status_code in {400, 422}, response.text
    problem = response.json()
    assert problem["code"] in {"validation_failed", "malformed_body"}
    if problem["code"] == "validation_failed":
        assert problem["errors"][0]["field"] == field
    await assert_nothing_written(db)
