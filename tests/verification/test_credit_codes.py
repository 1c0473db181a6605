"""Unified social credit codes: real codes of each authority found in public sources, constructed codes where
none was found, every refusal, and properties over generated codes.

The final check character of constructed codes comes from python-stdnum (``cn.uscc.calc_check_digit``), which
computes it correctly for any alphabet character even though its ``validate`` refuses codes that begin with a
letter. Nothing independent computes GB 11714's organization-code check; the real codes below, all of which
carry a valid one, are what vouch for ours.
"""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from stdnum.cn import uscc

from verification.credit_codes import (
    ALPHABET,
    ERROR_CODES,
    NATIONAL_REGION,
    ORGANIZATION_TYPES,
    CreditCode,
    credit_code_check_character,
    organization_code_check_character,
    parse_credit_code,
)
from verification.errors import InvalidValue
from verification.identity_numbers import MAINLAND_PROVINCES

PROPERTY = settings(max_examples=400, database=None, deadline=None)


def build(prefix: str, organization_body: str) -> str:
    """A code from authority, type and region (8 characters) and an 8-character organization-code body."""
    assert len(prefix) == 8 and len(organization_body) == 8
    body = prefix + organization_body + organization_code_check_character(organization_body)
    return body + uscc.calc_check_digit(body)


# Real codes and where they were found. All are published by or about the organization they identify.
REAL_CODES = {
    # 1: institutional establishment (机构编制)
    "121200004013590816": "python-stdnum's test suite ('found online')",
    "12100000400009127B": "北京理工大学, buyer tax number in a public reimbursement tool",
    "12440300455752807L": "an institution on Tsinghua's Shenzhen campus, invoice details in a public repository",
    "12440600MB2C07549J": "a public institution in Foshan, reported as valid in xbeginagain/generator issue #2",
    # 5: civil affairs (民政)
    "53100000500021676K": "北京理工大学教育基金会, buyer tax number in a public reimbursement tool",
    "53100000500019795A": "China Social Welfare Foundation, its profile page copied into a public repository",
    "51100000500002862F": "中国自动化学会, buyer tax number checked by a public OA system",
    "51100000500009247D": "中国复合材料工业协会, in a public deployment's organization data",
    "51100000500012681T": "中国医疗保健国际交流促进会, invoice title in a public repository",
    "53640000MJX173672F": "a foundation registered in Ningxia, in wbximy-common's tests",
    # 9: industry and commerce (工商, now market regulation)
    "91350100M000100Y43": "the example printed in GB 32100-2015 (as cited by bluesky335/IDCheck)",
    "914403001922038216": "华为技术有限公司 (bluesky335/IDCheck)",
    "91110108795101314G": "谷歌信息技术（中国）有限公司 (bluesky335/IDCheck)",
    "9135020026015919XW": "厦门象屿集团有限公司 (bluesky335/IDCheck)",
    "91310000MA1K35Y38P": "锤子科贸（上海）有限公司 (bluesky335/IDCheck)",
    "91110000600037341L": "python-stdnum's documentation",
    "91620105L015101280": "python-stdnum's test suite",
    "9144030071526726XG": "python-stdnum's test suite",
    "91340600MA2PBM9HXD": "python-stdnum's test suite",
    "92340603MA2PBN17X5": "an individual business (个体工商户), python-stdnum's test suite",
    "92141127MA0KD1Y64A": "an individual business, queryable at cods.org.cn (jaywcjlove/regexp-example issue #23)",
}

# No real code of these authorities could be found in public sources, so these are constructed with the
# check computations; each stands for the kind of organization named.
CONSTRUCTED = {
    "A1": build("A1110000", "MA01B2C3"),  # an army public institution registered in Beijing
    "N1": build("N1330782", "MF2K8D4A"),  # a group-level rural collective, Yiwu
    "N2": build("N2440106", "MF1234X7"),  # a village collective, Guangzhou Tianhe
    "N3": build("N3510112", "MG09H3J2"),  # a township collective, Chengdu Longquanyi
    "Y1": build("Y1100000", "MB0A1234"),  # other, national level
    "G1": build("G1310000", "MA1FL0R2"),  # a foreign NGO's representative office, Shanghai
    "J1": build("J1320505", "MC2E5F71"),  # an owners' assembly, Suzhou
    "Q1": build("Q1350582", "MD1A2B3C"),  # a county-level federation of returned overseas Chinese, Jinjiang
    "31": build("31110000", "E0001752"),  # a law firm, Beijing
    "81": build("81420100", "MG8EXA12"),  # a grassroots trade union, Wuhan
}


@pytest.mark.parametrize("code", sorted(REAL_CODES))
def test_real_codes_are_accepted(code: str) -> None:
    parsed = parse_credit_code(code)
    assert parsed.code == code
    assert (parsed.registration_authority, parsed.organization_type) == (code[0], code[1])
    assert (parsed.region_code, parsed.organization_code) == (code[2:8], code[8:17])
    assert parsed.registration_authority_name and parsed.organization_type_name and parsed.region_name


@pytest.mark.parametrize(("prefix", "code"), sorted(CONSTRUCTED.items()))
def test_codes_of_every_authority_are_accepted_letters_included(prefix: str, code: str) -> None:
    parsed = parse_credit_code(code)
    assert parsed.registration_authority + parsed.organization_type == prefix
    assert parsed.organization_type_name == ORGANIZATION_TYPES[(prefix[0], prefix[1])]


def test_stdnum_refuses_letter_prefixed_codes_that_are_valid() -> None:
    """Why this module exists: python-stdnum 2.2 agrees on the digit-prefixed codes but not on these."""
    assert all(uscc.is_valid(code) for code in REAL_CODES)
    letter_prefixed = [code for code in CONSTRUCTED.values() if not code[0].isdigit()]
    assert letter_prefixed
    assert not any(uscc.is_valid(code) for code in letter_prefixed)
    assert all(uscc.calc_check_digit(code) == code[17] for code in letter_prefixed)


def test_parsed_fields_name_what_the_code_says() -> None:
    assert parse_credit_code("914403001922038216") == CreditCode(
        code="914403001922038216",
        registration_authority="9",
        registration_authority_name="工商（市场监管）",
        organization_type="1",
        organization_type_name="企业",
        region_code="440300",
        organization_code="192203821",
    )
    assert parse_credit_code("914403001922038216").region_name == "广东省深圳市"
    university = parse_credit_code("12100000400009127B")
    assert (university.organization_type_name, university.region_code) == ("事业单位", NATIONAL_REGION)
    assert university.region_name == "国家级"
    village = parse_credit_code(CONSTRUCTED["N2"])
    assert (village.registration_authority_name, village.organization_type_name) == ("农业农村", "村级集体经济组织")


@pytest.mark.parametrize(
    "typed",
    ["91350100m000100y43", "9135 0100 M000 100Y 43", " 91350100M000100Y43\t", "９１３５０１００Ｍ０００１００Ｙ４３"],
)
def test_case_spaces_and_width_are_forgiven(typed: str) -> None:
    assert parse_credit_code(typed).code == "91350100M000100Y43"


def test_early_fujian_pilot_codes_are_refused_as_mistyped() -> None:
    """A known gap, kept visible: these real codes (bluesky335/IDCheck) predate the standard's check character."""
    for code in ("91350100M0001TGQXM", "91350211M0000XUF46", "91350203M0001FUE2P"):
        with pytest.raises(InvalidValue) as caught:
            parse_credit_code(code)
        assert caught.value.code == "wrong_check_character"


def with_final_check(body: str) -> str:
    return body + uscc.calc_check_digit(body)


ERROR_CASES = [
    ("", "wrong_length"),
    ("91350100M000100Y4", "wrong_length"),
    ("91350100M000100Y433", "wrong_length"),
    ("9" * 65, "wrong_length"),
    ("91350100-M000100Y43", "wrong_length"),
    ("91350100M000100YI3", "invalid_characters"),  # I is not used
    ("91350100M000100O43", "invalid_characters"),
    ("91350100M000100Z43", "invalid_characters"),
    ("91350100M000100S43", "invalid_characters"),
    ("91350100M000100V43", "invalid_characters"),
    ("91350100M000100Y4!", "invalid_characters"),
    ("91350100M000100Y44", "wrong_check_character"),
    ("91350100M000010Y43", "wrong_check_character"),  # two adjacent characters swapped
    ("A1110000600037341L", "wrong_check_character"),
    (with_final_check("B1110000MA01B2C34"), "unknown_registration_authority"),
    (with_final_check("01110000MA01B2C34"), "unknown_registration_authority"),
    (with_final_check("94110000MA01B2C34"), "unknown_organization_type"),
    (with_final_check("Y2110000MA01B2C34"), "unknown_organization_type"),
    (with_final_check("9A110000MA01B2C34"), "unknown_organization_type"),
    (with_final_check("91990000MA01B2C3" + organization_code_check_character("MA01B2C3")), "unknown_region"),
    (with_final_check("91000000MA01B2C3" + organization_code_check_character("MA01B2C3")), "unknown_region"),
    (with_final_check("911A0000MA01B2C3" + organization_code_check_character("MA01B2C3")), "unknown_region"),
    (with_final_check("91440300192203820"), "wrong_organization_code_check"),  # Huawei's, its 17th changed
    (with_final_check("91350100M000100Y0"), "wrong_organization_code_check"),
]


@pytest.mark.parametrize(("value", "code"), ERROR_CASES)
def test_refusals_say_why(value: str, code: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        parse_credit_code(value)
    assert caught.value.code == code
    assert caught.value.message


def test_every_error_code_is_reached() -> None:
    assert {code for _, code in ERROR_CASES} == ERROR_CODES


def test_the_organization_code_check_of_gb_11714() -> None:
    # Worked example: 'D2143569' gives weights sum 13*3 + 2*7 + 1*9 + 4*10 + 3*5 + 5*8 + 6*4 + 9*2 = 199,
    # 199 mod 11 = 1, 11 - 1 = 10, written X.
    assert organization_code_check_character("D2143569") == "X"
    assert organization_code_check_character("19220382") == "1"  # Huawei's
    assert organization_code_check_character("00000000") == "0"  # 11 is written 0


# --- properties -------------------------------------------------------------------------------------------------

prefixes = st.builds(
    lambda pair, region: pair[0] + pair[1] + region,
    st.sampled_from(sorted(ORGANIZATION_TYPES)),
    st.one_of(
        st.just(NATIONAL_REGION),
        st.builds(
            str.__add__, st.sampled_from(sorted(MAINLAND_PROVINCES)), st.text("0123456789", min_size=4, max_size=4)
        ),
    ),
)
organization_bodies = st.text(ALPHABET, min_size=8, max_size=8)
valid_codes = st.builds(build, prefixes, organization_bodies)


@PROPERTY
@given(valid_codes)
def test_valid_codes_round_trip(code: str) -> None:
    parsed = parse_credit_code(code)
    assert parsed.code == code
    assert parsed.registration_authority + parsed.organization_type + parsed.region_code == code[:8]
    assert parsed.organization_code == code[8:17]
    assert parse_credit_code(code.lower()).code == code


replacements = st.one_of(st.sampled_from(list(ALPHABET + "IOZSVabcxyz")), st.characters())


@PROPERTY
@given(valid_codes, st.integers(min_value=0, max_value=17), replacements)
def test_every_single_substitution_is_refused(code: str, position: int, replacement: str) -> None:
    """For a valid code C, a position i and a character c that is not another spelling of C[i] (after NFKC and
    upper-casing), replacing C[i] with c gives a code that is refused. The final check character alone
    guarantees it: the weights 3^i mod 31 are all non-zero modulo the prime 31 and two alphabet values differ
    by less than 31, so no substitution keeps the weighted sum; the next property asserts that arithmetic."""
    assume(unicodedata.normalize("NFKC", replacement).upper() != code[position])
    mutated = code[:position] + replacement + code[position + 1 :]
    with pytest.raises(InvalidValue):
        parse_credit_code(mutated)


@PROPERTY
@given(valid_codes, st.integers(min_value=0, max_value=17), st.sampled_from(list(ALPHABET)))
def test_no_single_substitution_keeps_the_check_character_valid(code: str, position: int, replacement: str) -> None:
    assume(replacement != code[position])
    mutated = code[:position] + replacement + code[position + 1 :]
    assert credit_code_check_character(mutated[:17]) != mutated[17]


@PROPERTY
@given(st.text(ALPHABET, min_size=17, max_size=17))
def test_the_check_character_agrees_with_stdnum(body: str) -> None:
    assert credit_code_check_character(body) == uscc.calc_check_digit(body)


def test_the_check_character_needs_seventeen_characters() -> None:
    with pytest.raises(ValueError, match="17 characters"):
        credit_code_check_character("9144030019220382")
