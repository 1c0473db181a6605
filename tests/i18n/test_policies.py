"""Policies per language: one version, a text per language, and consents that record which text
the person was given (its language and sha256)."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime

import asyncpg
import httpx
import pytest

from service.policies.catalog import file_name_parts, repository_documents
from service.policies.publishing import publish_repository_documents
from service.runtime import Runtime
from tests.helpers import TERMS, bearer, enrolled_operator, registration

ZH = {"accept-language": "zh-CN"}
EN = {"accept-language": "en"}


def _someone() -> dict[str, object]:
    suffix = uuid.uuid4().hex[:8]
    return registration(email=f"{suffix}@example.com", username=f"u_{suffix}", phone=None)


def test_every_policy_version_of_the_repository_has_a_chinese_text_of_the_same_version() -> None:
    documents = repository_documents()
    originals = {(d.kind, d.version): d for d in documents if d.language == "en"}
    chinese = {(d.kind, d.version): d for d in documents if d.language == "zh-CN"}
    assert set(chinese) == set(originals)
    for key, text in chinese.items():
        assert (text.effective_at, text.major) == (originals[key].effective_at, originals[key].major)
        assert text.sha256 == hashlib.sha256(text.source.encode()).hexdigest() != originals[key].sha256


def test_a_translations_file_name_says_its_language() -> None:
    assert file_name_parts("privacy_policy@2026-11-01.zh-CN.md") == ("privacy_policy", "2026-11-01", "zh-CN")
    assert file_name_parts("privacy_policy@2026-11-01.2.md") == ("privacy_policy", "2026-11-01.2", "en")


async def test_policies_are_shown_in_the_language_asked_for(client: httpx.AsyncClient) -> None:
    chinese = {p["kind"]: p for p in (await client.get("/v1/policies", headers=ZH)).json()}
    english = {p["kind"]: p for p in (await client.get("/v1/policies", headers=EN)).json()}
    assert chinese["terms_of_service"]["title"] == "用户服务协议" and chinese["terms_of_service"]["language"] == "zh-CN"
    assert (
        english["terms_of_service"]["title"] == "Terms of Service" and english["terms_of_service"]["language"] == "en"
    )
    # The same version: a translation is not a new one.
    assert chinese["terms_of_service"]["version"] == english["terms_of_service"]["version"] == TERMS
    assert chinese["terms_of_service"]["sha256"] != english["terms_of_service"]["sha256"]
    assert chinese["terms_of_service"]["languages"] == ["en", "zh-CN"]
    text = (await client.get(f"/v1/policies/terms_of_service/{TERMS}", headers=ZH)).json()
    assert "真实、准确、完整" in text["content"] and text["sha256"] == chinese["terms_of_service"]["sha256"]
    # A language we do not have falls back to the published text.
    other = (await client.get(f"/v1/policies/terms_of_service/{TERMS}", headers={"accept-language": "fr"})).json()
    assert other["language"] in {"en", "zh-CN"} and other["content"]


async def test_a_consent_records_the_language_and_sha256_of_the_text_shown(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    shown = {p["kind"]: p["sha256"] for p in (await client.get("/v1/policies", headers=ZH)).json()}
    registered = await client.post("/v1/registrations", json=_someone(), headers=ZH)
    me = bearer(registered.json()["session"]["token"])
    overview = (await client.get("/v1/me/consents", headers=me)).json()
    assert {(e["purpose"], e["policy_language"], e["policy_sha256"]) for e in overview["history"]} == {
        ("terms_of_service", "zh-CN", shown["terms_of_service"]),
        ("privacy_policy", "zh-CN", shown["privacy_policy"]),
    }
    # A notice granted after reading it in English records the English text, whatever the account's language.
    notice = (await client.get("/v1/policies", headers=EN)).json()
    english = {p["kind"]: p for p in notice}["identity_data_notice"]
    granted = await client.post(
        "/v1/me/consents/identity_data", json={"version": english["version"], "language": "en"}, headers=me | ZH
    )
    assert granted.status_code == 200, granted.text
    last = granted.json()["history"][-1]
    assert (last["purpose"], last["policy_language"], last["policy_sha256"]) == (
        "identity_data",
        "en",
        english["sha256"],
    )
    account_id = uuid.UUID(registered.json()["account_id"])
    rows = await db.fetch("SELECT policy_language FROM consent_events WHERE account_id = $1 ORDER BY id", account_id)
    assert [r["policy_language"] for r in rows] == ["zh-CN", "zh-CN", "en"]


async def test_a_published_translation_cannot_be_rewritten(db: asyncpg.Connection, runtime: Runtime) -> None:
    # The service's role may not (and the table's trigger would refuse its owner too).
    with pytest.raises((asyncpg.InsufficientPrivilegeError, asyncpg.RaiseError)):
        await db.execute("UPDATE policy_translations SET source = 'changed' WHERE language = 'zh-CN'")
    # Starting again with the same texts is fine: nothing is published twice.
    async with runtime.database.transaction() as conn:
        await publish_repository_documents(conn)
    assert await db.fetchval("SELECT count(*) FROM policy_translations") == 5


async def test_an_admin_publishes_a_translation_which_is_not_a_new_version(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    admin = await enrolled_operator(runtime, client, "admin")
    today = datetime.now(UTC).date().isoformat()
    version = f"{today}.5"
    english = f"---\ntitle: Privacy Policy\neffective_at: {today}\nmajor: false\n---\n# Privacy\n\nMinor change.\n"
    chinese = f"---\ntitle: 隐私政策\neffective_at: {today}\nmajor: false\n---\n# 隐私政策\n\n小幅修订。\n"
    body = {"kind": "privacy_policy", "version": version, "source": english}
    assert (await client.post("/v1/operator/policies", json=body, headers=admin.headers)).status_code == 201

    translation = body | {"source": chinese, "language": "zh-CN"}
    published = await client.post("/v1/operator/policies", json=translation, headers=admin.headers | ZH)
    assert published.status_code == 201, published.text
    assert published.json()["languages"] == ["en", "zh-CN"] and published.json()["title"] == "隐私政策"
    again = await client.post("/v1/operator/policies", json=translation, headers=admin.headers | ZH)
    assert again.status_code == 409 and again.json()["title"] == "此版本已有该语言的文本"
    # Only a published version gets translations, and with its own date and weight.
    missing = translation | {"version": f"{today}.6"}
    assert (await client.post("/v1/operator/policies", json=missing, headers=admin.headers)).status_code == 404
    heavier = translation | {"source": chinese.replace("major: false", "major: true")}
    refused = await client.post("/v1/operator/policies", json=heavier, headers=admin.headers)
    assert refused.status_code == 422 and refused.json()["errors"][0]["code"] == "translation_differs"
    # Nobody is asked to agree again: the version is the same, and still minor.
    policies = {p["kind"]: p for p in (await client.get("/v1/policies", headers=ZH)).json()}
    assert policies["privacy_policy"]["version"] == version and policies["privacy_policy"]["title"] == "隐私政策"
    reviewer = await enrolled_operator(runtime, client, "reviewer")
    forbidden = await client.post("/v1/operator/policies", json=translation, headers=reviewer.headers)
    assert forbidden.status_code == 403
