"""What refusing bad input costs, each against a floor measured in the same run on the same core.

    .venv/bin/python bench/screening.py [--rounds 5]

Prints, for the password rules (`verification.passwords.check_password` on a strong password with six
personal values) and for refusing a crafted PDF of 10 MiB (`inspect_upload` on a body of `/J` names and no
objects, refused by its missing trailer), the median time per call over alternating rounds, the median time
of a floor measured beside it, and their ratio. The floors: the least a password check must do (normalize
and case-fold it); the argon2id hash at the production defaults that registration computes anyway (the
rules should be a rounding error next to it); one pass over the PDF's bytes (the refusal should not read
the whole file). Ratios, not absolute times, are what compare across machines and
loads. This is a benchmark, not a test: it asserts nothing and prints what it measured.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
import unicodedata
from collections.abc import Callable

import argon2

from verification.errors import InvalidValue
from verification.passwords import check_password
from verification.uploads import UploadKind, UploadLimits, inspect_upload

PASSWORD = "violet-harbour-tractor-91"
PERSONAL = ["Zhang Wei", "zhangwei88", "zhang.wei@example.com", "+8613812345678", "19880514", "1988"]
LIMITS = UploadLimits()
PDF_ONLY = frozenset({UploadKind.PDF})


def per_call(call: Callable[[], object], calls: int) -> float:
    started = time.perf_counter()
    for _ in range(calls):
        call()
    return (time.perf_counter() - started) / calls


def compare(check: Callable[[], object], floor: Callable[[], object], calls: int, rounds: int) -> tuple[float, float]:
    """Median seconds per call of ``check`` and of ``floor``, measured in alternating rounds."""
    check(), floor()  # warm caches and lazy imports outside the measurement
    checks, floors = [], []
    for _ in range(rounds):
        checks.append(per_call(check, calls))
        floors.append(per_call(floor, calls))
    return statistics.median(checks), statistics.median(floors)


def password_check() -> object:
    return check_password(PASSWORD, PERSONAL)


def password_floor() -> object:
    return unicodedata.normalize("NFKC", PASSWORD).casefold()


# The production defaults of IDV_ARGON2_MEMORY_KIB, IDV_ARGON2_TIME_COST and IDV_ARGON2_PARALLELISM.
PRODUCTION_HASHER = argon2.PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1, type=argon2.Type.ID)


def password_hash() -> object:
    return PRODUCTION_HASHER.hash(PASSWORD)


CRAFTED_PDF = b"%PDF-1.7\n" + b"/J" * (LIMITS.max_bytes // 2 - 100) + b"\n%%EOF\n"


def pdf_refusal() -> object:
    try:
        inspect_upload(CRAFTED_PDF, PDF_ONLY, LIMITS)
    except InvalidValue as refused:
        return refused.code
    raise AssertionError("the crafted PDF was accepted")


def pdf_floor() -> object:
    return CRAFTED_PDF.count(b" obj")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    rounds = parser.parse_args().rounds
    rows = [
        ("password rules", "normalize + casefold", password_check, password_floor, 2000),
        ("password rules", "argon2id hash (production)", password_check, password_hash, 20),
        ("crafted 10 MiB PDF refused", "one pass over its bytes", pdf_refusal, pdf_floor, 3),
    ]
    print(f"python {platform.python_version()} on {platform.machine()}; medians of {rounds} alternating rounds")
    print(f"{'check':<28}{'ms/call':>10}  {'floor':<28}{'ms/call':>10}{'ratio':>10}")
    for label, floor_label, check, floor, calls in rows:
        checked, floored = compare(check, floor, calls, rounds)
        print(f"{label:<28}{checked * 1e3:>10.4g}  {floor_label:<28}{floored * 1e3:>10.4g}{checked / floored:>10.3g}")


if __name__ == "__main__":
    main()
