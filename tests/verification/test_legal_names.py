"""Legal names: what is folded into the document form, what is refused and why."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verification.errors import InvalidValue
from verification.legal_names import (
    ERROR_CODES,
    MAX_CHINESE,
    MAX_LATIN,
    MIDDLE_DOT,
    normalize_legal_name,
)

PROPERTY = settings(max_examples=300, database=None, deadline=None)


@pytest.mark.parametrize(
    ("typed", "legal"),
    [
        ("张三", "张三"),
        ("  欧阳娜娜 ", "欧阳娜娜"),
        ("阿卜杜拉·买买提", "阿卜杜拉·买买提"),
        ("阿卜杜拉\u30fb买买提", "阿卜杜拉·买买提"),  # katakana middle dot, offered by Japanese-style IMEs
        ("阿卜杜拉\uff65买买提", "阿卜杜拉·买买提"),  # its half-width form
        ("阿卜杜拉\u2022买买提", "阿卜杜拉·买买提"),  # bullet
        ("阿卜杜拉\u2027买买提", "阿卜杜拉·买买提"),  # hyphenation point
        ("阿卜杜拉\uff0e买买提", "阿卜杜拉·买买提"),  # full-width full stop
        ("阿卜杜拉.买买提", "阿卜杜拉·买买提"),
        ("阿卜杜拉 · 买买提", "阿卜杜拉·买买提"),
        ("爱新觉罗·溥仪", "爱新觉罗·溥仪"),
        ("迪丽热巴·迪力木拉提", "迪丽热巴·迪力木拉提"),
        ("王〇", "王〇"),
        ("\U00020bb7大", "\U00020bb7大"),  # an Extension B character (𠮷), as in some surnames
        ("\U00031350明", "\U00031350明"),  # Extension H: newer than this Python's Unicode database
        ("\uf900三", "豈三"),  # a compatibility ideograph, unified by NFC
        ("Zhang San", "Zhang San"),
        ("Anne-Marie O\u2019Neil", "Anne-Marie O'Neil"),
        ("Anne\u2013Marie", "Anne-Marie"),
        ("Jean - Luc", "Jean-Luc"),
        ("José  Álvarez", "José Álvarez"),
        ("Jose\u0301", "José"),  # a decomposed accent, composed by NFC
        ("Nguye\u0302\u0303n", "Nguyễn"),
        ("Ｊｏｈｎ　Ｓｍｉｔｈ", "John Smith"),  # full-width letters and space from a Chinese input method
        ("d\u02bcArtagnan", "d'Artagnan"),
        ("Ødegård", "Ødegård"),
        ("Li", "Li"),
        ("MÜLLER-LÜDENSCHEIDT", "MÜLLER-LÜDENSCHEIDT"),
    ],
)
def test_names_are_folded_into_their_document_form(typed: str, legal: str) -> None:
    assert normalize_legal_name(typed) == legal


ERROR_CASES = [
    ("", "too_short"),
    ("   ", "too_short"),
    ("张", "too_short"),
    ("J", "too_short"),
    ("张" * (MAX_CHINESE + 1), "too_long"),
    ("a" * (MAX_LATIN + 1), "too_long"),
    ("a" * 1000, "too_long"),
    ("张三3", "invalid_characters"),
    ("John2", "invalid_characters"),
    ("张三\u2167", "invalid_characters"),  # a Roman numeral
    ("张\u200b三", "invalid_characters"),  # zero-width space
    ("张\x00三", "invalid_characters"),
    ("张\ue000三", "invalid_characters"),  # private use
    ("John_Smith", "invalid_characters"),
    ("John@Smith", "invalid_characters"),
    ("张三!", "invalid_characters"),
    ("张-三", "invalid_characters"),
    ("张'三", "invalid_characters"),
    ("张\u0301三", "invalid_characters"),  # a stray accent in a Chinese name
    ("\u0301Emile", "invalid_characters"),
    ("John F. Kennedy", "invalid_characters"),
    ("Иван Петров", "unsupported_script"),
    ("محمد", "unsupported_script"),
    ("さくら", "unsupported_script"),
    ("张三Li", "mixed_scripts"),
    ("Li 张三", "mixed_scripts"),
    ("张 三", "misplaced_separator"),
    ("·阿卜杜拉", "misplaced_separator"),
    ("阿卜杜拉·", "misplaced_separator"),
    ("阿卜杜拉··买买提", "misplaced_separator"),
    ("阿卜杜拉・·买买提", "misplaced_separator"),
    ("-Anne", "misplaced_separator"),
    ("Anne-", "misplaced_separator"),
    ("Anne--Marie", "misplaced_separator"),
    ("O''Neil", "misplaced_separator"),
    ("O' Neil", "misplaced_separator"),
    ("'Neil", "misplaced_separator"),
    ("- -", "no_letters"),
    ("·", "no_letters"),
]


@pytest.mark.parametrize(("typed", "code"), ERROR_CASES)
def test_refusals_say_why(typed: str, code: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        normalize_legal_name(typed)
    assert caught.value.code == code
    assert caught.value.message


def test_every_error_code_is_reached() -> None:
    assert {code for _, code in ERROR_CASES} == ERROR_CODES


def test_length_limits_are_inclusive() -> None:
    assert normalize_legal_name("张" * MAX_CHINESE) == "张" * MAX_CHINESE
    assert normalize_legal_name("a" * MAX_LATIN) == "a" * MAX_LATIN


# --- properties -------------------------------------------------------------------------------------------------

ideographs = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
chinese_parts = st.text(ideographs, min_size=1, max_size=6)
chinese_names = st.lists(chinese_parts, min_size=1, max_size=4).map(MIDDLE_DOT.join).filter(lambda n: 2 <= len(n) <= 30)
latin_words = st.text(st.sampled_from(list("abcdefghijklmnopqrstuvwxyzABCÉÖÑçøß")), min_size=1, max_size=10)
latin_names = (
    st.lists(st.tuples(latin_words, st.sampled_from([" ", "-", "'"])), min_size=1, max_size=5)
    .map(lambda parts: "".join(word + separator for word, separator in parts)[:-1])
    .filter(lambda n: len(n) >= 2)
)


@PROPERTY
@given(st.one_of(chinese_names, latin_names))
def test_well_formed_names_are_kept_as_they_are(name: str) -> None:
    assert normalize_legal_name(name) == name


@PROPERTY
@given(st.text(st.sampled_from(list("张三阿买提·・.- 'JohnÉé\u0301\u30003x")), max_size=12))
def test_normalizing_twice_changes_nothing(typed: str) -> None:
    try:
        legal = normalize_legal_name(typed)
    except InvalidValue:
        return
    assert normalize_legal_name(legal) == legal
