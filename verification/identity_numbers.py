"""Identity numbers of natural persons for real-name verification.

Three documents share one 18-character layout and one check character, so one parser serves them all:

* the resident identity card (居民身份证): GB 11643-1999, 公民身份号码;
* the residence permit for Hong Kong, Macao and Taiwan residents (港澳台居民居住证, issued since 2018): the
  same layout with the address code fixed at 810000 (Hong Kong), 820000 (Macao) or 830000 (Taiwan);
* the 2023 foreign permanent resident identity card (外国人永久居留身份证, issued since 1 December 2023).

    position  resident card / permit            foreign permanent resident card
    1-6       address code (GB/T 2260)          '9', issuing province (2 digits), nationality (3 digits)
    7-14      birth date YYYYMMDD               birth date YYYYMMDD
    15-17     sequence; 17th odd = male         sequence; 17th odd = male
    18        ISO 7064 MOD 11-2 over 1-17: 0-9 or X

The foreign card's layout is the National Immigration Administration's announcement of the 2023 card and
its "机读信息规则 (2023版)": 18 characters (17 digits and a check character) replacing the 15-character 2017
number, first digit 9 so it cannot be a citizen's number (those begin 1-8), the 3-letter nationality turned into
the GB/T 2659 (ISO 3166-1) numeric code, and the same MOD 11-2 check as GB 11643. The field split above (a
3-digit sequence whose last digit carries sex, as in GB 11643) is how every implementation we could read it from
splits it; the announcement's own table was not available to us. The nationality code is returned, not checked
against a country list: GB/T 2659 changes, and the check character already catches typing errors.

Only the province part of an address code is refused when unknown. A card keeps the code of the county where it
was first issued, counties are renamed, merged and abolished, and no table of every code ever used is at hand;
refusing a real person's number costs more than the check character leaves to catch.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from types import MappingProxyType
from typing import Literal

from verification.birth_dates import MAX_AGE_YEARS, age_on
from verification.errors import InvalidValue

Sex = Literal["male", "female"]

LENGTH = 18


class IdDocumentType(StrEnum):
    RESIDENT_ID_CARD = "resident_id_card"
    HMT_RESIDENCE_PERMIT = "hmt_residence_permit"
    FOREIGN_PERMANENT_RESIDENT = "foreign_permanent_resident"


_DOCUMENT_LABELS = {
    IdDocumentType.RESIDENT_ID_CARD: "resident identity card",
    IdDocumentType.HMT_RESIDENCE_PERMIT: "residence permit for Hong Kong, Macao and Taiwan residents",
    IdDocumentType.FOREIGN_PERMANENT_RESIDENT: "foreign permanent resident identity card",
}

# Province-level codes of GB/T 2260. 71 (Taiwan) is in the standard although no card is known to carry it;
# it is accepted because the standard allows it. 81 and 82 appear on cards only as the permit codes below.
PROVINCES: Mapping[str, str] = MappingProxyType(
    {
        "11": "北京市",
        "12": "天津市",
        "13": "河北省",
        "14": "山西省",
        "15": "内蒙古自治区",
        "21": "辽宁省",
        "22": "吉林省",
        "23": "黑龙江省",
        "31": "上海市",
        "32": "江苏省",
        "33": "浙江省",
        "34": "安徽省",
        "35": "福建省",
        "36": "江西省",
        "37": "山东省",
        "41": "河南省",
        "42": "湖北省",
        "43": "湖南省",
        "44": "广东省",
        "45": "广西壮族自治区",
        "46": "海南省",
        "50": "重庆市",
        "51": "四川省",
        "52": "贵州省",
        "53": "云南省",
        "54": "西藏自治区",
        "61": "陕西省",
        "62": "甘肃省",
        "63": "青海省",
        "64": "宁夏回族自治区",
        "65": "新疆维吾尔自治区",
        "71": "台湾省",
        "81": "香港特别行政区",
        "82": "澳门特别行政区",
    }
)
MAINLAND_PROVINCES = frozenset(code for code in PROVINCES if code < "70")
_RESIDENT_CARD_PROVINCES = MAINLAND_PROVINCES | {"71"}

# 830000 is not a GB/T 2260 code: the permit regulations (港澳台居民居住证申领发放办法, 2018) assign it.
PERMIT_REGIONS: Mapping[str, str] = MappingProxyType(
    {"810000": "香港特别行政区", "820000": "澳门特别行政区", "830000": "台湾地区"}
)

ERROR_CODES = frozenset(
    {
        "wrong_length",
        "invalid_characters",
        "wrong_check_character",
        "unknown_region",
        "wrong_document_type",
        "invalid_birth_date",
        "birth_date_in_future",
        "implausible_age",
        "invalid_sex",
    }
)

_SHAPE = re.compile(r"[0-9]{17}[0-9X]", re.ASCII)
_BODY = re.compile(r"[0-9]{17}", re.ASCII)
_CHECK_CHARACTERS = "0123456789X"
# Far longer than any spaced-out number, short enough that normalizing a hostile value costs nothing.
_MAX_INPUT = 64


@dataclass(frozen=True, repr=False)
class IdentityNumber:
    number: str
    document_type: IdDocumentType
    birth_date: date
    sex: Sex
    # Address code of a card or permit; for the foreign card, the issuing province padded to six digits.
    region_code: str
    # GB/T 2659 numeric nationality code, on the foreign card only.
    nationality_code: str | None = None

    @property
    def region_name(self) -> str:
        """For operators: the most precise place name known for the region code (see ``describe_region``)."""
        if self.document_type is IdDocumentType.HMT_RESIDENCE_PERMIT:
            return PERMIT_REGIONS[self.region_code]
        return describe_region(self.region_code) or PROVINCES[self.region_code[:2]]

    def __repr__(self) -> str:
        # Instances end up in logs and tracebacks; the full number and birth date must not.
        return f"IdentityNumber({mask_identity_number(self.number)!r}, {self.document_type.value})"


@dataclass(frozen=True)
class Mismatch:
    """A declared value the identity number contradicts. Both fields are named so that each can carry the
    error: the person may have mistyped either one."""

    fields: tuple[str, str]
    code: str
    message: str


def mod11_2_check_character(body: str) -> str:
    """The check character (ISO 7064 MOD 11-2) for the first 17 digits."""
    if not _BODY.fullmatch(body):
        raise ValueError("a MOD 11-2 body is 17 digits")
    # The weights are 2^(17-i) mod 11 and 13 = 2 (mod 11), so the weighted sum is 2 * int(body, 13) mod 11: one
    # C-level conversion instead of a Python loop, as python-stdnum does. The check makes the total 1 (mod 11).
    return _CHECK_CHARACTERS[(1 - 2 * int(body, 13)) % 11]


def compact_identity_number(value: str) -> str:
    """The number as printed: full-width digits folded (NFKC), spaces dropped, a lower-case x made X."""
    return "".join(unicodedata.normalize("NFKC", value).split()).upper()


def parse_identity_number(value: str, today: date, document_type: IdDocumentType | None = None) -> IdentityNumber:
    """Parse and check a number; with ``document_type``, also require that document's kind of number.

    Typing errors are reported before structural ones: a number whose check character fails is most likely
    mistyped, and then its region or birth date says nothing."""
    if len(value) > _MAX_INPUT:
        raise InvalidValue("wrong_length", f"an identity number has {LENGTH} characters")
    number = compact_identity_number(value)
    if len(number) != LENGTH:
        raise InvalidValue("wrong_length", f"an identity number has {LENGTH} characters")
    if not _SHAPE.fullmatch(number):
        raise InvalidValue("invalid_characters", "an identity number is 17 digits followed by a digit or X")
    if number[17] != mod11_2_check_character(number[:17]):
        raise InvalidValue("wrong_check_character", "the identity number has a typing error: please check it")

    found, region_code, nationality_code = _classify(number)
    if document_type is not None and found != document_type:
        raise InvalidValue(
            "wrong_document_type",
            f"this is the number of a {_DOCUMENT_LABELS[found]}, not of a {_DOCUMENT_LABELS[document_type]}",
        )
    return IdentityNumber(
        number=number,
        document_type=found,
        birth_date=_birth_date(number, today),
        sex="male" if (ord(number[16]) - 48) % 2 else "female",
        region_code=region_code,
        nationality_code=nationality_code,
    )


def _classify(number: str) -> tuple[IdDocumentType, str, str | None]:
    if number[0] == "9":
        province = number[1:3]
        if province not in MAINLAND_PROVINCES:
            raise InvalidValue("unknown_region", "the issuing province in the identity number does not exist")
        return IdDocumentType.FOREIGN_PERMANENT_RESIDENT, province + "0000", number[3:6]
    address = number[:6]
    if address in PERMIT_REGIONS:
        return IdDocumentType.HMT_RESIDENCE_PERMIT, address, None
    if address[:2] not in _RESIDENT_CARD_PROVINCES:
        raise InvalidValue("unknown_region", "the region code in the identity number does not exist")
    return IdDocumentType.RESIDENT_ID_CARD, address, None


def _birth_date(number: str, today: date) -> date:
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise InvalidValue("invalid_birth_date", "the birth date in the identity number is not a real date") from None
    if born > today:
        raise InvalidValue("birth_date_in_future", "the birth date in the identity number is in the future")
    if age_on(born, today) > MAX_AGE_YEARS:
        raise InvalidValue(
            "implausible_age", f"the birth date in the identity number is more than {MAX_AGE_YEARS} years ago"
        )
    return born


def check_consistency(
    identity: IdentityNumber,
    declared_birth_date: date | None,
    declared_sex: str | None,
    *,
    id_number_field: str = "id_number",
    birth_date_field: str = "birth_date",
    sex_field: str = "sex",
) -> list[Mismatch]:
    """What the person declared against what the number encodes; undeclared values are not compared.

    ``declared_sex`` is 'male' or 'female' (any case); anything else raises InvalidValue("invalid_sex"), since
    the number encodes only those two and a comparison would be meaningless."""
    mismatches: list[Mismatch] = []
    if declared_birth_date is not None and declared_birth_date != identity.birth_date:
        mismatches.append(
            Mismatch(
                (birth_date_field, id_number_field),
                "birth_date_mismatch",
                "the birth date does not match the one in the identity number",
            )
        )
    if declared_sex is not None:
        sex = declared_sex.strip().casefold()
        if sex not in ("male", "female"):
            raise InvalidValue("invalid_sex", "sex must be 'male' or 'female'")
        if sex != identity.sex:
            mismatches.append(
                Mismatch((sex_field, id_number_field), "sex_mismatch", "the sex does not match the identity number")
            )
    return mismatches


def mask_identity_number(number: str) -> str:
    """For operator views: the first and last four characters ('1101**********002X'), which locate a record
    without disclosing the birth date. A value too short to keep both ends is masked whole."""
    shown = compact_identity_number(number[:_MAX_INPUT])
    if len(shown) <= 8:
        return "*" * len(shown)
    return shown[:4] + "*" * (len(shown) - 8) + shown[-4:]


# GB/T 2260 names prefecture-level placeholders that are not places.
_NOT_PLACES = ("市辖区", "县", "省直辖县级行政单位", "省直辖行政单位", "自治区直辖县级行政单位")


def describe_region(code: str) -> str | None:
    """The place a GB/T 2260 code names, province first ('广东省深圳市南山区'), under the latest name the code
    carried; None for a code not in python-stdnum's table. A display aid, not evidence of birthplace."""
    if len(code) != 6 or code[:2] not in PROVINCES:
        return None
    names = _county_names()
    if code not in names and code[2:] != "0000":
        return None
    parts = [PROVINCES[code[:2]]]
    if code[2:4] != "00":
        prefecture = names.get(code[:4] + "00")
        if prefecture and prefecture not in _NOT_PLACES:
            parts.append(prefecture)
        if code[4:] != "00":
            parts.append(names[code])
    return "".join(parts)


@functools.cache
def _county_names() -> dict[str, str]:
    """Six-digit code to its latest name, from python-stdnum's copy of GB/T 2260 (loaded on first use: it
    takes a tenth of a second, and only operator views need it)."""
    from stdnum import numdb

    names: dict[str, str] = {}
    # numdb documents ``prefixes`` as [length, low, high, properties, children]; provinces have two-digit
    # prefixes whose children are the four remaining digits.
    for length, low, high, _, children in numdb.get("cn/loc").prefixes:
        if length != 2 or low != high:
            continue
        for child_length, child_low, child_high, properties, _ in children:
            county = properties.get("county")
            if child_length == 4 and child_low == child_high and county:
                names[low + child_low] = _latest_name(county)
    return names


def _latest_name(history: str) -> str:
    # "[1983-1989]南头区办事处,[1990-]南山区": names in order, each with the years it was used.
    return history.split(",")[-1].rpartition("]")[2]
