"""Identity numbers: published and constructed examples, every refusal, and properties over generated numbers.

Constructed numbers get their check character from python-stdnum (``cn.ric.calc_check_digit``), an
implementation independent of the one under test.
"""

from __future__ import annotations

import unicodedata
from datetime import date, timedelta

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from stdnum.cn import ric

from verification.errors import InvalidValue
from verification.identity_numbers import (
    ERROR_CODES,
    MAINLAND_PROVINCES,
    PERMIT_REGIONS,
    IdDocumentType,
    IdentityNumber,
    Mismatch,
    check_consistency,
    describe_region,
    mask_identity_number,
    mod11_2_check_character,
    parse_identity_number,
)

TODAY = date(2026, 3, 15)
# The earliest birth date still within 130 years of TODAY.
EARLIEST = date(TODAY.year - 131, TODAY.month, TODAY.day) + timedelta(days=1)
RESIDENT = IdDocumentType.RESIDENT_ID_CARD
PERMIT = IdDocumentType.HMT_RESIDENCE_PERMIT
FOREIGN = IdDocumentType.FOREIGN_PERMANENT_RESIDENT

# Hypothesis keeps no example database here: the repository is shared and the tests must leave nothing behind.
PROPERTY = settings(max_examples=400, database=None, deadline=None)


def with_check(body: str) -> str:
    """A 17-digit body and the check character python-stdnum computes for it."""
    assert len(body) == 17
    return body + ric.calc_check_digit(body + "0")


def digits(when: date) -> str:
    return when.strftime("%Y%m%d")


# GB 11643-1999's own sample number, printed in countless references: Beijing Chaoyang, 31 December 1949, female.
SAMPLE = "11010519491231002X"


@pytest.mark.parametrize(
    ("value", "document_type", "birth_date", "sex", "region_code", "region_name"),
    [
        (SAMPLE, RESIDENT, date(1949, 12, 31), "female", "110105", "北京市朝阳区"),
        ("11010519491231002x", RESIDENT, date(1949, 12, 31), "female", "110105", "北京市朝阳区"),
        ("１１０１０５ １９４９１２３１ ００２ｘ", RESIDENT, date(1949, 12, 31), "female", "110105", "北京市朝阳区"),
        (" 110105 19491231 002X\n", RESIDENT, date(1949, 12, 31), "female", "110105", "北京市朝阳区"),
        # python-stdnum's documentation example.
        ("360426199101010071", RESIDENT, date(1991, 1, 1), "male", "360426", "江西省九江市德安县"),
        # Constructed: a county renamed since (the latest name is shown), a leap day, a municipality's county.
        (with_check("44030519880229002"), RESIDENT, date(1988, 2, 29), "female", "440305", "广东省深圳市南山区"),
        (with_check("46900120000229123"), RESIDENT, date(2000, 2, 29), "male", "469001", "海南省五指山市"),
        # Constructed: a county missing from the table keeps its province.
        (with_check("13999919700101001"), RESIDENT, date(1970, 1, 1), "male", "139999", "河北省"),
        # Constructed residence permits, one per region code.
        (with_check("81000019900101123"), PERMIT, date(1990, 1, 1), "male", "810000", "香港特别行政区"),
        (with_check("82000019951231004"), PERMIT, date(1995, 12, 31), "female", "820000", "澳门特别行政区"),
        (with_check("83000020010704035"), PERMIT, date(2001, 7, 4), "male", "830000", "台湾地区"),
    ],
)
def test_numbers_parse_into_what_they_encode(
    value: str, document_type: IdDocumentType, birth_date: date, sex: str, region_code: str, region_name: str
) -> None:
    identity = parse_identity_number(value, TODAY)
    assert identity.number == unicodedata.normalize("NFKC", "".join(value.split())).upper()
    assert identity.document_type is document_type
    assert identity.birth_date == birth_date
    assert identity.sex == sex
    assert identity.region_code == region_code
    assert identity.region_name == region_name
    assert identity.nationality_code is None


def test_foreign_permanent_resident_numbers_carry_province_and_nationality() -> None:
    # Constructed (no real number is published): issued in Shanghai (31) to a US citizen (840), born
    # 29 February 1980, sequence 013 (odd: male).
    number = with_check("93184019800229013")
    identity = parse_identity_number(number, TODAY, FOREIGN)
    assert identity.document_type is FOREIGN
    assert (identity.region_code, identity.region_name, identity.nationality_code) == ("310000", "上海市", "840")
    assert (identity.birth_date, identity.sex) == (date(1980, 2, 29), "male")
    female = parse_identity_number(with_check("94427619921103208"), TODAY)  # Guangdong, Germany (276)
    assert (female.region_name, female.nationality_code, female.sex) == ("广东省", "276", "female")


def test_the_published_sample_is_what_stdnum_also_accepts() -> None:
    assert ric.is_valid(SAMPLE)
    assert mod11_2_check_character(SAMPLE[:17]) == "X"


def test_a_requested_document_type_must_match() -> None:
    assert parse_identity_number(SAMPLE, TODAY, RESIDENT).number == SAMPLE
    permit = with_check("81000019900101123")
    assert parse_identity_number(permit, TODAY, PERMIT).document_type is PERMIT


def test_birth_dates_at_the_edges_of_the_range() -> None:
    assert parse_identity_number(with_check("110105" + digits(TODAY) + "001"), TODAY).birth_date == TODAY
    assert parse_identity_number(with_check("110105" + digits(EARLIEST) + "001"), TODAY).birth_date == EARLIEST


ERROR_CASES = [
    ("", None, "wrong_length"),
    ("11010519491231002", None, "wrong_length"),
    ("11010519491231002X1", None, "wrong_length"),
    ("110105491231002", None, "wrong_length"),  # a first-generation 15-digit number
    ("110105-19491231-002X", None, "wrong_length"),  # hyphens are not spaces
    ("1" * 65, None, "wrong_length"),
    ("11010519491231002Y", None, "invalid_characters"),
    ("1101051949123100X2", None, "invalid_characters"),
    ("11010519491231002\u0663", None, "invalid_characters"),  # an Arabic-Indic digit: NFKC leaves it alone
    ("110105194912310021", None, "wrong_check_character"),
    ("11010519491231003X", None, "wrong_check_character"),
    (with_check("00010519491231002"), None, "unknown_region"),
    (with_check("72010519491231002"), None, "unknown_region"),
    (with_check("81010019900101123"), None, "unknown_region"),  # 81 outside the permit code 810000
    (with_check("84000019900101123"), None, "unknown_region"),
    (with_check("98084019800101013"), None, "unknown_region"),  # a foreign card from province 80
    (with_check("97184019800101013"), None, "unknown_region"),  # ... or from Taiwan (71)
    (with_check("11010519990229001"), None, "invalid_birth_date"),  # 1999 is not a leap year
    (with_check("11010519901301001"), None, "invalid_birth_date"),
    (with_check("11010519900100001"), None, "invalid_birth_date"),
    (with_check("11010500000101001"), None, "invalid_birth_date"),
    (with_check("110105" + digits(TODAY + timedelta(days=1)) + "001"), None, "birth_date_in_future"),
    (with_check("11010521000101001"), None, "birth_date_in_future"),
    (with_check("110105" + digits(EARLIEST - timedelta(days=1)) + "001"), None, "implausible_age"),
    (with_check("11010518000101001"), None, "implausible_age"),
    (SAMPLE, PERMIT, "wrong_document_type"),
    (SAMPLE, FOREIGN, "wrong_document_type"),
    (with_check("81000019900101123"), RESIDENT, "wrong_document_type"),
    (with_check("93184019800229013"), RESIDENT, "wrong_document_type"),
]


@pytest.mark.parametrize(("value", "document_type", "code"), ERROR_CASES)
def test_refusals_say_why(value: str, document_type: IdDocumentType | None, code: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        parse_identity_number(value, TODAY, document_type)
    assert caught.value.code == code
    assert caught.value.message


def test_every_error_code_is_reached() -> None:
    reached = {code for _, _, code in ERROR_CASES} | {"invalid_sex"}  # invalid_sex: see the consistency tests
    assert reached == ERROR_CODES


def test_consistent_declarations_raise_nothing() -> None:
    identity = parse_identity_number(SAMPLE, TODAY)
    assert check_consistency(identity, date(1949, 12, 31), "female") == []
    assert check_consistency(identity, date(1949, 12, 31), " Female ") == []
    assert check_consistency(identity, None, None) == []


def test_mismatches_name_both_fields() -> None:
    identity = parse_identity_number(SAMPLE, TODAY)
    assert check_consistency(identity, date(1949, 12, 30), "male") == [
        Mismatch(
            ("birth_date", "id_number"),
            "birth_date_mismatch",
            "the birth date does not match the one in the identity number",
        ),
        Mismatch(("sex", "id_number"), "sex_mismatch", "the sex does not match the identity number"),
    ]
    [renamed] = check_consistency(
        identity, date(1950, 1, 1), None, id_number_field="document_number", birth_date_field="born"
    )
    assert renamed.fields == ("born", "document_number")


def test_a_declared_sex_the_number_cannot_encode_is_refused() -> None:
    identity = parse_identity_number(SAMPLE, TODAY)
    with pytest.raises(InvalidValue) as caught:
        check_consistency(identity, None, "unspecified")
    assert caught.value.code == "invalid_sex"


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        (SAMPLE, "1101**********002X"),
        ("11010519491231002x", "1101**********002X"),
        ("110105 19491231 002X", "1101**********002X"),
        (with_check("93184019800229013"), "9318**********" + with_check("93184019800229013")[-4:]),
        ("12345678", "********"),
        ("", ""),
    ],
)
def test_masking_keeps_four_characters_at_each_end(value: str, masked: str) -> None:
    assert mask_identity_number(value) == masked


def test_repr_does_not_disclose_the_number() -> None:
    identity = parse_identity_number(SAMPLE, TODAY)
    assert "19491231" not in repr(identity)
    assert "1949" not in repr(identity)
    assert repr(identity) == "IdentityNumber('1101**********002X', resident_id_card)"


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("110000", "北京市"),
        ("110100", "北京市"),
        ("110105", "北京市朝阳区"),
        ("440300", "广东省深圳市"),
        ("440305", "广东省深圳市南山区"),
        ("110103", "北京市崇文区"),  # abolished in 2010, still on cards issued before
        ("139999", None),
        ("990000", None),
        ("1101", None),
    ],
)
def test_regions_are_described_for_operators(code: str, name: str | None) -> None:
    assert describe_region(code) == name


# --- properties -------------------------------------------------------------------------------------------------

birth_dates = st.dates(min_value=EARLIEST, max_value=TODAY)
sequences = st.integers(min_value=0, max_value=999).map(lambda n: f"{n:03d}")


@st.composite
def valid_numbers(draw: st.DrawFn, document_type: IdDocumentType | None = None) -> tuple[str, IdDocumentType, date]:
    """A valid number of the given type (any type if None): a real region, a date in range, a random sequence."""
    kind = document_type or draw(st.sampled_from(list(IdDocumentType)))
    born = draw(birth_dates)
    if kind is RESIDENT:
        province = draw(st.sampled_from(sorted(MAINLAND_PROVINCES | {"71"})))
        head = province + draw(st.text("0123456789", min_size=4, max_size=4))
    elif kind is PERMIT:
        head = draw(st.sampled_from(sorted(PERMIT_REGIONS)))
    else:
        province = draw(st.sampled_from(sorted(MAINLAND_PROVINCES)))
        head = "9" + province + draw(st.text("0123456789", min_size=3, max_size=3))
    return with_check(head + digits(born) + draw(sequences)), kind, born


@PROPERTY
@given(valid_numbers())
def test_valid_numbers_round_trip(generated: tuple[str, IdDocumentType, date]) -> None:
    number, kind, born = generated
    identity = parse_identity_number(number, TODAY, kind)
    assert identity.number == number
    assert identity.document_type is kind
    assert identity.birth_date == born
    assert identity.sex == ("male" if int(number[16]) % 2 else "female")
    assert identity.nationality_code == (number[3:6] if kind is FOREIGN else None)
    assert identity.region_name


@PROPERTY
@given(valid_numbers(), st.lists(st.integers(min_value=0, max_value=18), max_size=4))
def test_spaces_case_and_width_do_not_matter(generated: tuple[str, IdDocumentType, date], gaps: list[int]) -> None:
    number = generated[0]
    typed = number.lower()
    for gap in sorted(gaps, reverse=True):
        typed = typed[:gap] + " " + typed[gap:]
    wide = "".join(chr(ord(c) + 0xFEE0) for c in number)  # full-width forms of the same characters
    assert parse_identity_number(typed, TODAY).number == number
    assert parse_identity_number(wide, TODAY).number == number


replacements = st.one_of(st.sampled_from(list("0123456789Xx")), st.characters())


@PROPERTY
@given(valid_numbers(), st.integers(min_value=0, max_value=17), replacements)
def test_every_single_substitution_is_refused(
    generated: tuple[str, IdDocumentType, date], position: int, replacement: str
) -> None:
    """For a valid number N, a position i and a character c that is not another spelling of N[i] (after NFKC
    and upper-casing: 'x' and full-width digits spell 'X' and digits), replacing N[i] with c gives a number
    that is refused.

    A substitution could only be accepted if the check character of the result matched its first 17 characters
    (and its region and date stayed valid); MOD 11-2 rules that out for every single substitution, and the
    companion property below asserts exactly that part."""
    number = generated[0]
    assume(unicodedata.normalize("NFKC", replacement).upper() != number[position])
    mutated = number[:position] + replacement + number[position + 1 :]
    with pytest.raises(InvalidValue):
        parse_identity_number(mutated, TODAY)


@PROPERTY
@given(valid_numbers(), st.integers(min_value=0, max_value=17), st.sampled_from(list("0123456789X")))
def test_no_single_substitution_keeps_the_check_character_valid(
    generated: tuple[str, IdDocumentType, date], position: int, replacement: str
) -> None:
    number = generated[0]
    assume(replacement != number[position])
    mutated = number[:position] + replacement + number[position + 1 :]
    if "X" in mutated[:17]:
        return  # not a candidate number at all: refused as invalid_characters
    assert mod11_2_check_character(mutated[:17]) != mutated[17]


@PROPERTY
@given(st.text("0123456789", min_size=17, max_size=17))
def test_the_check_character_agrees_with_stdnum(body: str) -> None:
    assert mod11_2_check_character(body) == ric.calc_check_digit(body + "0")


def test_parsed_numbers_are_immutable() -> None:
    identity = parse_identity_number(SAMPLE, TODAY)
    assert isinstance(identity, IdentityNumber)
    with pytest.raises(AttributeError):
        identity.number = "x"  # type: ignore[misc]


@pytest.mark.parametrize("body", ["1101051949123100", "110105194912310021", "1101051949123100a", "11010519_91231002"])
def test_the_check_character_needs_seventeen_digits(body: str) -> None:
    # int(body, 13) would take letters a-c and underscores: the guard is what keeps them out.
    with pytest.raises(ValueError, match="17 digits"):
        mod11_2_check_character(body)
