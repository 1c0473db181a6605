"""E-mail addresses and mobile numbers, checked by the libraries that know their rules."""

from __future__ import annotations

import email_validator
import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

from verification.errors import InvalidValue

_MOBILE_TYPES = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}


def normalize_email(value: str) -> str:
    """Syntax per RFC 5321/5322 and IDNA; no DNS query (registration must not depend on it)."""
    try:
        result = email_validator.validate_email(value.strip(), check_deliverability=False, allow_smtputf8=True)
    except email_validator.EmailNotValidError as exc:
        raise InvalidValue("invalid_email", f"not a valid e-mail address: {exc}") from None
    normalized: str = result.normalized
    return normalized


def email_key(email: str) -> str:
    """The form used for uniqueness and sign-in: addresses differing only in case are one."""
    return email.casefold()


def normalize_mobile(value: str, default_region: str) -> str:
    """A valid mobile number in E.164 (+8613812345678). A number without +country code is read
    in ``default_region``."""
    try:
        number = phonenumbers.parse(value.strip(), default_region)
    except NumberParseException:
        raise InvalidValue("invalid_phone", "not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidValue("invalid_phone", "not a valid phone number for its country")
    if phonenumbers.number_type(number) not in _MOBILE_TYPES:
        raise InvalidValue("not_mobile", "must be a mobile number (codes are sent by SMS)")
    formatted: str = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    return formatted


def looks_like_email(identifier: str) -> bool:
    return "@" in identifier


def looks_like_phone(identifier: str) -> bool:
    stripped = identifier.strip().replace(" ", "").replace("-", "")
    return stripped.startswith("+") or stripped.isdigit()
