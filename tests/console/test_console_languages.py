"""The console's pages in the operator's language: Accept-Language, else IDV_DEFAULT_LANGUAGE
(Chinese here), as the API answers; the security frame stays the same in both."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from service.console.security import CONTENT_SECURITY_POLICY
from service.runtime import Runtime
from service.settings import Settings, load_settings
from tests.arrange.cases import case_in_review
from tests.arrange.console import console_sign_in, enrolled_for_console
from tests.conftest import environment_for_tests

ZH = {"accept-language": "zh-CN,zh;q=0.9,en;q=0.8"}
EN = {"accept-language": "en-GB,en;q=0.9"}
HAN = range(0x4E00, 0xA000)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(environment_for_tests(tmp_path / "state", IDV_DEFAULT_LANGUAGE="zh-CN"))


def _has_chinese(text: str) -> bool:
    return any(ord(c) in HAN for c in text)


def _assert_page_in(response: httpx.Response, language: str) -> None:
    assert response.status_code == 200, response.text
    assert f'<html lang="{language}">' in response.text
    assert response.headers["content-language"] == language
    assert "accept-language" in response.headers["vary"].lower()
    # The strict policy is the same whatever the language.
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY


async def test_the_sign_in_page_in_chinese_and_in_english(client: httpx.AsyncClient) -> None:
    chinese = await client.get("/console/sign-in", headers=ZH)
    _assert_page_in(chinese, "zh-CN")
    assert "审核员登录" in chinese.text and "使用通行密钥登录" in chinese.text
    assert "Operator sign-in" not in chinese.text
    # passkeys.js says what went wrong in the page's words (the error box's data attributes).
    assert 'data-not-used="未使用通行密钥。"' in chinese.text
    english = await client.get("/console/sign-in", headers=EN)
    _assert_page_in(english, "en")
    assert "Operator sign-in" in english.text and not _has_chinese(english.text)
    # The form is the same form: names, CSRF field, actions.
    for marker in ('name="email"', 'name="password"', 'name="totp_code"', 'name="csrf_token"', 'href="/console/enrol"'):
        assert marker in chinese.text and marker in english.text


async def test_a_failed_sign_in_says_so_in_the_operators_language(client: httpx.AsyncClient) -> None:
    page = await client.get("/console/sign-in", headers=ZH)
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    form = {"csrf_token": token, "email": "nobody@example.com", "password": "wrong-password", "totp_code": "000000"}
    refused = await client.post("/console/sign-in", data=form, headers=ZH)
    assert refused.status_code == 401
    assert "电子邮箱、密码或验证码错误。" in refused.text and 'lang="zh-CN"' in refused.text


async def test_the_queue_and_a_case_in_chinese_and_in_english(client: httpx.AsyncClient, runtime: Runtime) -> None:
    case_id = await case_in_review(client, runtime)
    operator = await enrolled_for_console(runtime, client, "reviewer")
    assert (await console_sign_in(client, operator)).status_code == 303
    chinese = await client.get("/console/queue", headers=ZH)
    _assert_page_in(chinese, "zh-CN")
    assert "审核队列" in chinese.text and "案件类型" in chinese.text and "退出登录" in chinese.text
    # The navigation, translated where it is shown.
    assert '<a href="/console/queue" aria-current="page">队列</a>' in chinese.text
    # Codes stay codes: the case types and states in the filters are values, not words.
    assert 'value="unassigned"' in chinese.text and 'name="case_type"' in chinese.text
    english = await client.get("/console/queue", headers=EN)
    _assert_page_in(english, "en")
    assert "Review queue" in english.text and not _has_chinese(english.text)
    case_zh = await client.get(f"/console/cases/{case_id}", headers=ZH)
    _assert_page_in(case_zh, "zh-CN")
    assert "证据（已脱敏）" in case_zh.text and "历史" in case_zh.text
    case_en = await client.get(f"/console/cases/{case_id}", headers=EN)
    # (The person's masked name may be Chinese: a value, not a word of the page.)
    assert "Evidence (masked)" in case_en.text and "证据" not in case_en.text and "历史" not in case_en.text


async def test_an_error_page_is_in_the_operators_language(client: httpx.AsyncClient, runtime: Runtime) -> None:
    operator = await enrolled_for_console(runtime, client, "reviewer")
    assert (await console_sign_in(client, operator)).status_code == 303
    # A reviewer does not read the operators' page: a domain error, titled in the catalogue's words.
    chinese = await client.get("/console/operators", headers=ZH)
    english = await client.get("/console/operators", headers=EN)
    assert chinese.status_code == english.status_code == 403
    assert 'lang="zh-CN"' in chinese.text and "返回" in chinese.text
    assert 'lang="en"' in english.text and not _has_chinese(english.text)


@pytest.mark.parametrize(
    "header",
    [
        "",
        "fr-FR, de;q=0.5",
        ";;;,,,==",
        "en;q=abc",
        "x" * 100_000,
        "de," * 5_000 + "en",
        "\u00e9\u00e8-\u00ff",
        "zh-CN;q=0, en;q=0",
    ],
)
async def test_a_garbage_or_huge_accept_language_falls_back_to_the_default(
    client: httpx.AsyncClient, header: str
) -> None:
    response = await client.get("/console/sign-in", headers={"accept-language": header.encode("latin-1")})  # type: ignore[dict-item]
    _assert_page_in(response, "zh-CN")
    assert "审核员登录" in response.text
