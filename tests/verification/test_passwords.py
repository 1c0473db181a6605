"""The password rules, one at a time."""

from __future__ import annotations

import pytest

from verification.errors import InvalidValue
from verification.passwords import check_password

PERSONAL = ["Zhang Wei", "zhangwei88", "zhang.wei@example.com", "+8613812345678", "19880514", "1988"]


@pytest.mark.parametrize(
    "password",
    [
        "correct horse battery staple",
        "violet-harbour-tractor-91",
        "我的密码是一首很长的诗",
        "Tr0ub4dor&3-x",
        "mX9#qL2$vB7!",
        "zhangwei-rides-9-blue-kites",  # personal words, but not most of it
    ],
)
def test_long_or_unpredictable_passwords_pass(password: str) -> None:
    assert check_password(password, PERSONAL)


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("1234567", "password_too_short"),
        ("a" * 129, "password_too_long"),
        ("password", "password_too_common"),
        ("Password123!", "password_too_common"),
        ("p@ssw0rd", "password_too_common"),
        ("iloveyou2024", "password_too_common"),
        ("Elephant1", "password_too_common"),
        ("Summer2024!", "password_too_common"),
        ("aaaaaaaaaa", "password_too_common"),
        ("abababab", "password_too_common"),
        ("xyzxyzxyzxyz", "password_too_common"),
        ("stuvwxyz", "password_too_common"),
        ("hgfedcba", "password_too_common"),
        ("98765432", "password_too_common"),
        ("abcdefghij", "password_too_common"),
        ("qwertyuiop", "password_too_common"),
        ("lkjhgfdsa", "password_too_common"),
        ("1qaz2wsx3edc", "password_too_common"),
        ("zhangwei88!", "password_contains_personal_info"),
        ("ZhangWei1988", "password_contains_personal_info"),
        ("13812345678x", "password_contains_personal_info"),
        ("zh4ngw3i88", "password_contains_personal_info"),
        ("idv-idv-idv", "password_contains_personal_info"),
    ],
)
def test_weak_passwords_are_refused(password: str, code: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        check_password(password, PERSONAL)
    assert caught.value.code == code


def test_unicode_forms_are_normalized() -> None:
    assert check_password("ｖｉｏｌｅｔ-ｈａｒｂｏｕｒ-９１") == "violet-harbour-91"
