"""One's own profile: masked on reading, only unlocked fields change."""

from __future__ import annotations

import httpx

from tests.helpers import bearer, register


async def test_profile_masks_contact_details_and_birth_date(client: httpx.AsyncClient) -> None:
    auth = bearer((await register(client))["session"]["token"])
    profile = (await client.get("/v1/me", headers=auth)).json()
    assert profile["display_name"] == "李小龙"
    assert profile["username"] == "bruce_lee"
    assert profile["email"] == "br***@example.com"
    assert profile["phone"] == "+86138****5678"
    assert profile["birth_date"] == "1990-**-**"
    assert profile["locked_fields"] == ["birth_date"]
    assert profile["email_verified"] is False


async def test_unlocked_fields_change_and_locked_ones_do_not(client: httpx.AsyncClient) -> None:
    auth = bearer((await register(client))["session"]["token"])
    changed = await client.patch("/v1/me", json={"display_name": "  Bruce   Lee ", "username": "dragon"}, headers=auth)
    assert changed.status_code == 200
    assert changed.json()["display_name"] == "Bruce Lee"
    assert changed.json()["username"] == "dragon"

    locked = await client.patch("/v1/me", json={"birth_date": "1991-01-01", "display_name": "X Y"}, headers=auth)
    assert locked.status_code == 422
    assert locked.json()["errors"][0]["code"] == "field_locked"
    assert (await client.get("/v1/me", headers=auth)).json()["display_name"] == "Bruce Lee"

    contact = await client.patch("/v1/me", json={"email": "new@example.com"}, headers=auth)
    assert contact.status_code == 422 and contact.json()["errors"][0]["code"] == "unknown_field"


async def test_a_taken_username_is_refused(client: httpx.AsyncClient) -> None:
    await register(client, username="taken_name", email="a@example.com", phone=None)
    auth = bearer((await register(client, email="b@example.com", phone=None))["session"]["token"])
    response = await client.patch("/v1/me", json={"username": "Taken_Name"}, headers=auth)
    assert response.status_code == 409 and response.json()["errors"][0]["field"] == "username"
