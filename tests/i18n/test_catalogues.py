"""The catalogues: complete, with the placeholders of their English texts, and up to date with the
source; the negotiation of Accept-Language; messages rendered in both languages."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.courier.templates import TEMPLATES, Channel, render
from service.i18n.catalogues import placeholders, read_catalogue, translate
from service.i18n.extract import entries
from service.i18n.languages import Language, negotiate
from service.settings import SettingsError, load_settings
from tests.conftest import environment_for_tests

HAN = range(0x4E00, 0xA000)


def _has_chinese(text: str) -> bool:
    return any(ord(c) in HAN for c in text)


@pytest.mark.parametrize("language", list(Language))
def test_every_catalogue_entry_is_translated_with_the_same_placeholders(language: Language) -> None:
    problems = []
    for message in read_catalogue(language):
        if not message.id:
            continue
        assert isinstance(message.id, str) and isinstance(message.string, str), "no plural forms are used"
        if not message.string.strip():
            problems.append(f"untranslated: {message.context or ''} {message.id!r}")
        elif placeholders(message.id) != placeholders(message.string):
            problems.append(f"placeholders differ: {message.id!r} -> {message.string!r}")
        elif message.fuzzy:
            problems.append(f"fuzzy: {message.id!r}")
    assert problems == [], "\n".join(problems)


def test_the_chinese_catalogue_is_chinese() -> None:
    # Every text a person reads has Chinese words in it (codes and paths alone would be untranslated).
    english = [m.id for m in read_catalogue(Language.ZH_CN) if m.id and not _has_chinese(str(m.string))]
    assert english == []


@pytest.mark.parametrize("language", list(Language))
def test_every_text_of_the_source_is_in_the_catalogue(language: Language) -> None:
    """A new error, field message, reason or template without its translation fails here: run
    `python -m service.i18n.extract` and translate what it added."""
    catalogue = read_catalogue(language)
    missing = [(e.context, e.msgid) for e in entries() if catalogue.get(e.msgid, context=e.context) is None]
    assert missing == []
    stale = {(m.context, m.id) for m in catalogue if m.id} - {(e.context, e.msgid) for e in entries()}
    assert stale == set(), "texts no longer in the source: run `python -m service.i18n.extract`"


def test_the_check_of_placeholders_finds_a_missing_or_renamed_one() -> None:
    assert placeholders("Your code is {code}, valid {minutes} min") == ["code", "minutes"]
    assert placeholders("您的验证码是 {code}") != placeholders("Your code is {code}, valid {minutes} min")
    assert placeholders("%(count)d left, {name}") == ["count", "name"]
    assert placeholders("valid {minuten} Minuten") != placeholders("valid {minutes} minutes")


def test_texts_with_values_are_translated_with_their_values() -> None:
    assert translate("the current version is 2026-11-01", Language.ZH_CN) == "当前版本为 2026-11-01"
    # A value that is itself a text of ours (a field's name) is translated with it.
    assert translate("display name must have at most 200 characters", Language.ZH_CN) == "昵称最多 200 个字符"
    assert translate("the current version is 2026-11-01", Language.EN) == "the current version is 2026-11-01"
    # msgspec's messages are patterns of the catalogue too.
    assert translate("Expected `int`, got `str`", Language.ZH_CN) == "应为 `int` 类型，实际为 `str`"
    # What the catalogue does not have stays as it was, never an error.
    assert translate("Something {else} entirely", Language.ZH_CN) == "Something {else} entirely"


SAMPLE = {
    "service": "idv",
    "code": "123456",
    "minutes": "10",
    "hours": "24",
    "days": "7",
    "name": "YubiKey",
    "at": "2026-12-03T09:00+08:00",
    "device": "Firefox on Windows",
    "network": "203.0.113.0/24",
    "reason": "We found that information you gave us is not true.",
    "next_step": "",
    "erase_on": "2026-12-18",
    "news": "You are now an adult.",
    "contact": "mobile number",
    "address": "138****5678",
}


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_every_template_renders_in_both_languages(name: str) -> None:
    template = TEMPLATES[name]
    # Each of its variables, a sample value where there is one (a new template's codes and keys get "X1").
    variables = {v: SAMPLE.get(v, "X1") for v in placeholders(template.subject + template.body)}
    chinese = render(name, variables, Language.ZH_CN, signature="idv")
    english = render(name, variables, Language.EN, signature="idv")
    assert _has_chinese(chinese[0] + chinese[1]) and not _has_chinese(english[0] + english[1])
    if TEMPLATES[name].channel is Channel.SMS:
        assert chinese[1].startswith("【idv】") and english[1].startswith("【idv】")
    # The prose handed in (a reason, a contact's kind) is translated with the message.
    if "{reason}" in TEMPLATES[name].body:
        assert "我们发现您提供的信息不属实。" in chinese[1]
    if "{contact}" in TEMPLATES[name].body:
        assert "手机号码" in chinese[1]


def test_times_and_dates_are_written_as_their_reader_writes_them() -> None:
    _, chinese = render("passkey_added_sms", SAMPLE, Language.ZH_CN, signature="idv")
    _, english = render("passkey_added_sms", SAMPLE, Language.EN, signature="idv")
    assert "2026年12月3日 09:00（北京时间）" in chinese and "December 3, 2026 09:00 (UTC+08:00)" in english
    _, deletion = render("cancellation_requested_sms", SAMPLE, Language.ZH_CN, signature="idv")
    assert "2026年12月18日" in deletion
    # A message queued before times were ISO 8601 still goes out, as it was written.
    _, older = render("passkey_added_sms", SAMPLE | {"at": "2026-12-03 09:00 CST"}, Language.ZH_CN, signature="idv")
    assert "2026-12-03 09:00 CST" in older


def test_a_code_by_sms_is_what_a_chinese_reader_expects() -> None:
    _, body = render("verify_phone", SAMPLE, Language.ZH_CN, signature="某某科技")
    assert body == "【某某科技】您的验证码是 123456，10 分钟内有效。请勿泄露给他人。"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, Language.ZH_CN),
        ("", Language.ZH_CN),
        ("en", Language.EN),
        ("en-US,en;q=0.9", Language.EN),
        ("zh-CN,zh;q=0.9,en;q=0.8", Language.ZH_CN),
        ("zh-Hans-CN", Language.ZH_CN),
        ("zh-TW", Language.ZH_CN),
        ("fr-FR, en;q=0.5", Language.EN),
        ("en;q=0.2, zh;q=0.8", Language.ZH_CN),
        ("en;q=0, zh;q=0.1", Language.ZH_CN),
        ("fr, de", Language.ZH_CN),
        ("*", Language.ZH_CN),
        ("en;q=2", Language.ZH_CN),  # out of range: ignored
        ("en;q=abc", Language.ZH_CN),
        ("en;q=", Language.ZH_CN),
        ("en;q=0.5;q=1", Language.EN),
        (";;;,,,==", Language.ZH_CN),
        ("x" * 100_000, Language.ZH_CN),
        ("de," * 10_000 + "en", Language.ZH_CN),  # read only so far
    ],
)
def test_accept_language_is_negotiated(header: str | None, expected: Language) -> None:
    assert negotiate(header, Language.ZH_CN) is expected
    if expected is Language.ZH_CN and header and "zh" not in header:
        assert negotiate(header, Language.EN) is Language.EN


@given(st.text(max_size=2000))
def test_no_header_makes_negotiation_fail(header: str) -> None:
    assert negotiate(header, Language.EN) in Language


def test_the_sms_signature_and_the_default_language_are_settings(tmp_path: object) -> None:
    env = environment_for_tests(tmp_path, IDV_SMS_SIGNATURE="【某某科技】", IDV_DEFAULT_LANGUAGE="zh-CN")  # type: ignore[arg-type]
    settings = load_settings(env)
    assert settings.sms_signature == "某某科技" and settings.default_language == "zh-CN"
    assert load_settings(environment_for_tests(tmp_path, IDV_PUBLIC_NAME="Acme")).sms_signature == "Acme"  # type: ignore[arg-type]
    for bad in ("", "【】", "a】b", "x" * 17):
        with pytest.raises(SettingsError):
            load_settings(environment_for_tests(tmp_path, IDV_SMS_SIGNATURE=bad or " "))  # type: ignore[arg-type]
    with pytest.raises(SettingsError):
        load_settings(environment_for_tests(tmp_path, IDV_DEFAULT_LANGUAGE="fr"))  # type: ignore[arg-type]
