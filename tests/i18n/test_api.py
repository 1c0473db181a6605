"""Languages over the API: problems follow Accept-Language, a person's language is chosen at
registration and changed with PATCH /v1/me, and their messages come in it."""

from __future__ import annotations

import uuid

import httpx
import pytest

from service.runtime import Runtime
from tests.arrange.contacts import verify_email
from tests.helpers import STRONG_PASSWORD, bearer, enrolled_operator, latest_code, outbox, registration

ZH = {"accept-language": "zh-CN,zh;q=0.9,en;q=0.8"}
EN = {"accept-language": "en-GB,en;q=0.9"}


def _someone(**overrides: str | None) -> dict[str, object]:
    suffix = uuid.uuid4().hex[:8]
    fields: dict[str, str | None] = {"email": f"{suffix}@example.com", "username": f"u_{suffix}", "phone": None}
    return registration(**(fields | overrides))


async def _messages_to(runtime: Runtime, recipient: str) -> list[dict[str, str]]:
    await runtime.courier.deliver_queued()
    return [m for m in outbox(runtime) if m["to"] == recipient]


async def test_a_bad_email_in_chinese_gets_a_chinese_field_message(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/registrations", json=_someone(email="not-an-email"), headers=ZH)
    assert response.status_code == 422
    assert response.headers["content-language"] == "zh-CN"
    body = response.json()
    assert body["code"] == "validation_failed" and body["title"] == "请求中有字段无效"
    [problem] = body["errors"]
    assert problem["field"] == "email" and problem["code"] == "invalid_email"
    assert problem["message"].startswith("不是有效的邮箱地址")


async def test_the_same_mistake_in_english_keeps_codes_and_changes_only_the_words(client: httpx.AsyncClient) -> None:
    chinese = await client.post("/v1/registrations", json=_someone(email="not-an-email"), headers=ZH)
    english = await client.post("/v1/registrations", json=_someone(email="not-an-email"), headers=EN)
    assert english.headers["content-language"] == "en"
    assert english.json()["title"] == "The request has invalid fields"
    assert english.json()["errors"][0]["message"].startswith("not a valid e-mail address")
    strip = [{k: v for k, v in e.items() if k != "message"} for e in english.json()["errors"]]
    assert strip == [{k: v for k, v in e.items() if k != "message"} for e in chinese.json()["errors"]]


async def test_framework_problems_are_translated_too(client: httpx.AsyncClient) -> None:
    unknown = await client.get("/v1/nowhere", headers=ZH)
    assert unknown.status_code == 404 and unknown.json()["title"] == "未找到"
    missing = await client.post("/v1/registrations", json={"display_name": "李雷"}, headers=ZH)
    assert missing.status_code == 422
    assert {e["message"] for e in missing.json()["errors"]} == {"此字段为必填项"}
    too_long = await client.post("/v1/registrations", json=_someone(display_name="李" * 201), headers=ZH)
    assert too_long.json()["errors"] == [
        {"field": "display_name", "code": "out_of_range", "message": "应为长度不超过 200 的 `str`"}
    ]
    anonymous = await client.get("/v1/me", headers=ZH)
    assert anonymous.status_code == 401 and anonymous.headers["content-language"] == "zh-CN"
    assert anonymous.json()["title"] != "Sign in first" and anonymous.json()["code"]


@pytest.mark.parametrize(
    "header",
    [
        "x" * 20_000,
        "zh-CN;q=0.9," * 2_000,
        "en;q=nan",
        "en;q=1e309",
        "en;q=-1",
        "zh;q=0.5;;;;q===",
        "\u00ff\u00fe;q=1",
        ";,;,;,",
        "*;q=0",
        "en-US;q=0.8, zh-CN;q=0.8",
    ],
)
async def test_malformed_accept_language_never_fails_the_request(client: httpx.AsyncClient, header: str) -> None:
    response = await client.post(
        "/v1/registrations",
        json=_someone(email="not-an-email"),
        headers={"accept-language": header.encode("latin-1")},
    )
    assert response.status_code == 422
    assert response.headers["content-language"] in {"zh-CN", "en"}
    whoami = await client.get("/v1/sessions/whoami", headers={"accept-language": header.encode("latin-1")})
    assert whoami.status_code == 401


async def test_a_phone_code_arrives_as_a_chinese_sms_with_the_signature(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    phone = "+8613900001111"
    body = _someone(phone=phone, email=None)
    registered = await client.post("/v1/registrations", json=body, headers=ZH)
    assert registered.status_code == 201, registered.text
    code = await latest_code(runtime, "sms", phone)
    [sms] = await _messages_to(runtime, phone)
    signature = runtime.settings.sms_signature
    assert sms["body"] == f"【{signature}】您的验证码是 {code}，10 分钟内有效。请勿泄露给他人。"
    me = await client.get("/v1/me", headers=bearer(registered.json()["session"]["token"]) | ZH)
    assert me.json()["preferred_language"] == "zh-CN"


async def test_an_english_person_gets_english_messages_whatever_the_request_says(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    body = _someone()
    registered = await client.post("/v1/registrations", json=body, headers=EN)
    me = bearer(registered.json()["session"]["token"])
    email = str(body["email"])
    await verify_email(client, runtime, me, email)
    [code_message] = await _messages_to(runtime, email)
    assert code_message["subject"] == "Your verification code"
    # A notice caused by a request in Chinese still goes in the person's own language.
    changed = await client.post(
        "/v1/me/password",
        json={"current_password": STRONG_PASSWORD, "new_password": "quiet-lantern-orchard-58"},
        headers=me | ZH,
    )
    assert changed.status_code == 204, changed.text
    notice = (await _messages_to(runtime, email))[-1]
    assert notice["subject"] == "Your password was changed"
    assert "every other session was signed out" in notice["body"]


async def test_a_person_changes_their_language_and_their_next_messages_follow(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    body = _someone()
    registered = await client.post("/v1/registrations", json=body, headers=EN)
    me = bearer(registered.json()["session"]["token"])
    email = str(body["email"])
    await verify_email(client, runtime, me, email)
    assert (await client.get("/v1/me", headers=me)).json()["preferred_language"] == "en"

    changed = await client.patch("/v1/me", json={"preferred_language": "zh-CN"}, headers=me)
    assert changed.status_code == 200 and changed.json()["preferred_language"] == "zh-CN"
    await client.post(
        "/v1/me/password",
        json={"current_password": STRONG_PASSWORD, "new_password": "quiet-lantern-orchard-58"},
        headers=me,
    )
    notice = (await _messages_to(runtime, email))[-1]
    assert notice["subject"] == "您的密码已修改"

    refused = await client.patch("/v1/me", json={"preferred_language": "fr"}, headers=me | ZH)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "preferred_language"
    assert refused.json()["errors"][0]["message"] == "不是允许的取值之一"
    assert (await client.get("/v1/me", headers=me)).json()["preferred_language"] == "zh-CN"


async def test_a_language_chosen_at_registration_wins_over_the_header(client: httpx.AsyncClient) -> None:
    registered = await client.post("/v1/registrations", json=_someone(preferred_language="en"), headers=ZH)
    me = bearer(registered.json()["session"]["token"])
    assert (await client.get("/v1/me", headers=me)).json()["preferred_language"] == "en"
    plain = await client.post("/v1/registrations", json=_someone())
    mine = bearer(plain.json()["session"]["token"])
    # No header: the service's default (the suite sets IDV_DEFAULT_LANGUAGE=en).
    assert (await client.get("/v1/me", headers=mine)).json()["preferred_language"] == "en"


async def test_another_persons_language_is_not_theirs_to_change(client: httpx.AsyncClient) -> None:
    first = await client.post("/v1/registrations", json=_someone(), headers=ZH)
    second = await client.post("/v1/registrations", json=_someone(), headers=ZH)
    one, other = (bearer(r.json()["session"]["token"]) for r in (first, second))
    await client.patch("/v1/me", json={"preferred_language": "en"}, headers=one)
    assert (await client.get("/v1/me", headers=other)).json()["preferred_language"] == "zh-CN"
    assert (await client.get("/v1/me", headers=one)).json()["preferred_language"] == "en"


async def test_operators_read_the_reason_codes_in_their_language(client: httpx.AsyncClient, runtime: Runtime) -> None:
    reviewer = await enrolled_operator(runtime, client, "reviewer")
    chinese = await client.get("/v1/operator/cases/reason-codes", headers=reviewer.headers | ZH)
    english = await client.get("/v1/operator/cases/reason-codes", headers=reviewer.headers | EN)
    by_code = {r["code"]: r for r in chinese.json()}
    assert [r["code"] for r in chinese.json()] == [r["code"] for r in english.json()]
    assert by_code["document_unreadable"]["internal"] == "证件图片模糊、被裁切、反光或不完整。"
    assert by_code["document_unreadable"]["user_message"] == "我们无法识别您的证件，请上传更清晰的照片。"
    assert {r["code"]: r for r in english.json()}["document_unreadable"]["internal"].startswith("Document image")


async def test_every_answer_says_its_language_and_caches_keep_one_per_language(client: httpx.AsyncClient) -> None:
    policies = await client.get("/v1/policies", headers=ZH)
    assert policies.headers["content-language"] == "zh-CN"
    assert "Accept-Language" in policies.headers.get_list("vary")
    problem = await client.get("/v1/me", headers=EN)
    assert problem.headers.get_list("content-language") == ["en"]
    assert (await client.get("/v1/policies")).headers["content-language"] == "en"  # the suite's default
