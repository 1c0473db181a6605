"""Exporting everything held about a person: re-authenticated, built by a job, sealed, downloadable
until it expires; the archive holds the person's own data in clear and nobody else's."""

from __future__ import annotations

import json
import uuid

import asyncpg
import httpx
import msgspec

from service.rights.exports import BuildExport, build
from service.runtime import Runtime
from tests.helpers import STRONG_PASSWORD, enrolled_operator, register
from tests.lifecycle.test_cancellation import PERSON, _verified_person


async def test_an_export_holds_everything_about_the_person_and_expires(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    account_id, me = await _verified_person(client, runtime)
    other = await register(client, email="someone.else@example.com", username="someone_else", phone=None)
    admin = await enrolled_operator(runtime, client, "admin")
    shop = {"name": "Shop", "kind": "relying_party", "webhook_url": "https://shop.example.com/idv", "secret": "A" * 44}
    recipient = (await client.post("/v1/operator/recipients", json=shop, headers=admin.headers)).json()
    disclosure = {"account_id": str(account_id), "categories": ["contact"]}
    await client.post(
        f"/v1/operator/recipients/{recipient['recipient_id']}/disclosures", json=disclosure, headers=admin.headers
    )
    wrong = await client.post("/v1/me/exports", json={"password": "not-the-password"}, headers=me)
    assert wrong.status_code == 403

    requested = await client.post("/v1/me/exports", json={"password": STRONG_PASSWORD}, headers=me)
    assert requested.status_code == 202 and requested.json()["status"] == "preparing"
    export_id = requested.json()["export_id"]
    url = f"/v1/me/exports/{export_id}/archive"
    assert (await client.get(url, headers=me)).status_code == 404  # not ready yet
    payload = await db.fetchval("SELECT payload FROM pgqueuer WHERE entrypoint = 'rights.build_export'")
    await build(runtime, msgspec.json.decode(payload, type=BuildExport).export_id)

    stored = await db.fetchval("SELECT archive FROM data_exports WHERE id = $1", uuid.UUID(export_id))
    assert PERSON["email"].encode() not in stored  # sealed at rest
    downloaded = await client.get(url, headers=me)
    assert downloaded.status_code == 200
    assert downloaded.headers["content-disposition"].startswith("attachment")
    archive = json.loads(downloaded.content)
    assert archive["format"] == "idv-export/1"
    assert archive["account"]["account_id"] == str(account_id)
    assert (archive["account"]["display_name"], archive["account"]["birth_date"]) == ("李小龙", "1949-12-31")
    assert {c["kind"]: c["address"] for c in archive["contacts"]} == {
        "email": PERSON["email"],
        "phone": PERSON["phone"],
    }
    (verification,) = archive["real_name_verifications"]
    assert (verification["legal_name"], verification["id_number"], verification["status"]) == (
        "张三",
        "11010519491231002X",
        "verified",
    )
    assert {c["purpose"] for c in archive["consents"]} >= {"terms_of_service", "privacy_policy", "identity_data"}
    assert [c["case_type"] for c in archive["cases"]] == ["real_name"]
    assert [(d["recipient"], d["categories"]) for d in archive["disclosures"]] == [("Shop", ["contact"])]
    assert archive["sessions"] and archive["state_history"][0]["to_state"] == "pending_verification"
    assert other["account_id"] not in downloaded.text and "someone.else" not in downloaded.text

    await db.execute("UPDATE data_exports SET expires_at = now() - interval '1 second'")
    assert (await client.get(url, headers=me)).status_code == 404
