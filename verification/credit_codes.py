"""Unified social credit codes (统一社会信用代码) of organizations, GB 32100-2015.

    position  meaning
    1         registration authority (登记管理部门)
    2         organization type within that authority (机构类别)
    3-8       region of the registering authority: GB/T 2260, or 100000 for a national authority
    9-17      organization code (主体标识码) per GB 11714-1997: 8 characters and its own mod-11 check character
    18        check character over 1-17 (GB/T 17710 / ISO 7064 style): weights 3^(i-1) mod 31, alphabet below

All 18 characters come from 0-9 and the capital letters except I, O, Z, S and V. Authorities and types may be
letters: python-stdnum 2.2's ``cn.uscc`` insists on digits in positions 1-8 and so refuses real codes such as
those of rural collective economic organizations (N...), hence this module.

The authority and type tables are GB 32100-2015's as since extended: codes 1-9, A, N and Y with their types are
the table published with the standard (as reproduced across the Chinese web); G, J and Q, and the types 36, 54,
55 and 82, were assigned later and are taken from secondary sources (open-source validators that list them).
Codes outside both are refused; a real one refused here means the table needs the newer assignment.

Known gap: some codes issued in Fujian's pilot before the standard was final (for example 91350100M0001TGQXM)
fail the standard's check character. They are refused as mistyped; the caller should offer manual review.
"""

from __future__ import annotations

import operator
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from verification.errors import InvalidValue
from verification.identity_numbers import PROVINCES, describe_region

LENGTH = 18
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
NATIONAL_REGION = "100000"

ERROR_CODES = frozenset(
    {
        "wrong_length",
        "invalid_characters",
        "wrong_check_character",
        "unknown_registration_authority",
        "unknown_organization_type",
        "unknown_region",
        "wrong_organization_code_check",
    }
)

REGISTRATION_AUTHORITIES: Mapping[str, str] = MappingProxyType(
    {
        "1": "机构编制",
        "2": "外交",
        "3": "司法行政",
        "4": "文化",
        "5": "民政",
        "6": "旅游",
        "7": "宗教",
        "8": "工会",
        "9": "工商（市场监管）",
        "A": "中央军委改革和编制办公室",
        "G": "公安",  # later assignment
        "J": "住房和城乡建设",  # later assignment
        "N": "农业农村",
        "Q": "侨联",  # later assignment
        "Y": "其他",
    }
)

# (authority, type) -> type name.
ORGANIZATION_TYPES: Mapping[tuple[str, str], str] = MappingProxyType(
    {
        ("1", "1"): "机关",
        ("1", "2"): "事业单位",
        ("1", "3"): "中央编办直接管理机构编制的群众团体",
        ("1", "9"): "其他",
        ("2", "1"): "外国常驻新闻机构",
        ("2", "9"): "其他",
        ("3", "1"): "律师执业机构",
        ("3", "2"): "公证处",
        ("3", "3"): "基层法律服务所",
        ("3", "4"): "司法鉴定机构",
        ("3", "5"): "仲裁委员会",
        ("3", "6"): "商事调解组织",  # later assignment
        ("3", "9"): "其他",
        ("4", "1"): "外国在华文化中心",
        ("4", "9"): "其他",
        ("5", "1"): "社会团体",
        ("5", "2"): "民办非企业单位",
        ("5", "3"): "基金会",
        ("5", "4"): "村民委员会",  # later assignment
        ("5", "5"): "居民委员会",  # later assignment
        ("5", "9"): "其他",
        ("6", "1"): "外国政府旅游部门常驻代表机构",
        ("6", "2"): "港澳台地区旅游部门常驻内地（大陆）代表机构",
        ("6", "9"): "其他",
        ("7", "1"): "宗教活动场所",
        ("7", "2"): "宗教院校",
        ("7", "9"): "其他",
        ("8", "1"): "基层工会",
        ("8", "2"): "非法人工会组织",  # later assignment
        ("8", "9"): "其他",
        ("9", "1"): "企业",
        ("9", "2"): "个体工商户",
        ("9", "3"): "农民专业合作社",
        ("A", "1"): "军队事业单位",
        ("A", "9"): "其他",
        ("G", "1"): "境外非政府组织代表机构",
        ("G", "9"): "其他",
        ("J", "1"): "业主大会",
        ("J", "9"): "其他",
        ("N", "1"): "组级集体经济组织",
        ("N", "2"): "村级集体经济组织",
        ("N", "3"): "乡镇级集体经济组织",
        ("N", "9"): "其他",
        ("Q", "1"): "区县级侨联组织",
        ("Q", "2"): "乡镇级侨联组织",
        ("Q", "3"): "村级侨联组织",
        ("Q", "9"): "其他",
        ("Y", "1"): "其他",
    }
)

_VALUES = {character: value for value, character in enumerate(ALPHABET)}
_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
_ORGANIZATION_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_MAX_INPUT = 64


@dataclass(frozen=True)
class CreditCode:
    code: str
    registration_authority: str
    registration_authority_name: str
    organization_type: str
    organization_type_name: str
    region_code: str
    organization_code: str

    @property
    def region_name(self) -> str:
        """For operators: where the registering authority sits."""
        if self.region_code == NATIONAL_REGION:
            return "国家级"
        return describe_region(self.region_code) or PROVINCES[self.region_code[:2]]


def credit_code_check_character(body: str) -> str:
    """The 18th character for the first 17 (which must come from ALPHABET)."""
    if len(body) != 17:
        raise ValueError("a credit code body has 17 characters")
    total = sum(map(operator.mul, map(_VALUES.__getitem__, body), _WEIGHTS))
    return ALPHABET[-total % 31]


def organization_code_check_character(body: str) -> str:
    """GB 11714-1997: the 9th character of an organization code for its first 8 (letters count 10-35)."""
    total = sum(int(character, 36) * weight for character, weight in zip(body, _ORGANIZATION_WEIGHTS, strict=True))
    check = 11 - total % 11
    return "X" if check == 10 else "0" if check == 11 else str(check)


def compact_credit_code(value: str) -> str:
    """The code as printed: full-width characters folded (NFKC), spaces dropped, letters in capitals."""
    return "".join(unicodedata.normalize("NFKC", value).split()).upper()


def parse_credit_code(value: str) -> CreditCode:
    """Parse and check a code; the final check character comes first, since a typing error makes every
    other finding meaningless."""
    if len(value) > _MAX_INPUT:
        raise InvalidValue("wrong_length", f"a unified social credit code has {LENGTH} characters")
    code = compact_credit_code(value)
    if len(code) != LENGTH:
        raise InvalidValue("wrong_length", f"a unified social credit code has {LENGTH} characters")
    if any(character not in _VALUES for character in code):
        raise InvalidValue(
            "invalid_characters", "a unified social credit code has digits and capital letters other than I, O, Z, S, V"
        )
    if code[17] != credit_code_check_character(code[:17]):
        raise InvalidValue(
            "wrong_check_character", "the unified social credit code has a typing error: please check it"
        )

    authority, kind, region, organization_code = code[0], code[1], code[2:8], code[8:17]
    authority_name = REGISTRATION_AUTHORITIES.get(authority)
    if authority_name is None:
        raise InvalidValue("unknown_registration_authority", "the code's registration authority does not exist")
    type_name = ORGANIZATION_TYPES.get((authority, kind))
    if type_name is None:
        raise InvalidValue("unknown_organization_type", "the code's organization type does not exist")
    if not region.isdigit() or (region != NATIONAL_REGION and region[:2] not in PROVINCES):
        raise InvalidValue("unknown_region", "the code's region does not exist")
    if organization_code[8] != organization_code_check_character(organization_code[:8]):
        raise InvalidValue("wrong_organization_code_check", "the organization code inside the code is not valid")
    return CreditCode(
        code=code,
        registration_authority=authority,
        registration_authority_name=authority_name,
        organization_type=kind,
        organization_type_name=type_name,
        region_code=region,
        organization_code=organization_code,
    )
