"""Validation throughput for each identifier type, measured in one run on one core.

    .venv/bin/python bench/validation.py [--iterations 200000]

Prints, for resident identity card numbers, residence permits for Hong Kong, Macao and Taiwan residents, foreign
permanent resident card numbers, unified social credit codes and legal names: microseconds per validation and
validations per second, and python-stdnum's own validators for the two identifiers it has, for comparison.

Each type cycles through 1,000 distinct valid inputs generated from a fixed seed, a fifth of them typed the way
people type them (spaced, lower-case, full-width), so that the figures cover the whole parse rather than one
cached path. The loop's own cost is included in every figure. This is a benchmark, not a test: it asserts
nothing and prints what it measured.
"""

from __future__ import annotations

import argparse
import itertools
import platform
import random
import time
from collections.abc import Callable
from datetime import date, timedelta

from stdnum.cn import ric, uscc

from verification.credit_codes import (
    ALPHABET,
    ORGANIZATION_TYPES,
    credit_code_check_character,
    organization_code_check_character,
    parse_credit_code,
)
from verification.identity_numbers import (
    MAINLAND_PROVINCES,
    PERMIT_REGIONS,
    describe_region,
    mod11_2_check_character,
    parse_identity_number,
)
from verification.legal_names import normalize_legal_name

TODAY = date(2026, 3, 15)
SAMPLES = 1000
SEED = 20260315

SURNAMES = ["王", "李", "张", "刘", "陈", "杨", "欧阳", "司马", "阿卜杜拉", "爱新觉罗"]
GIVEN_NAMES = ["伟", "芳", "娜娜", "秀英", "敏", "静", "买买提", "溥仪", "子涵", "浩然"]
LATIN_WORDS = ["Anne", "Marie", "O'Neil", "José", "Álvarez", "Zhang", "Wei", "Müller", "Nguyễn", "Smith"]


def typed(value: str, rng: random.Random) -> str:
    """Most people type a number as printed; some space it out, lower-case it or type full-width."""
    roll = rng.random()
    if roll < 0.07:
        return " ".join(value[i : i + 6] for i in range(0, len(value), 6))
    if roll < 0.14:
        return value.lower()
    if roll < 0.2:
        return "".join(chr(ord(c) + 0xFEE0) for c in value)
    return value


def identity_numbers(rng: random.Random, head: Callable[[], str]) -> list[str]:
    earliest = TODAY - timedelta(days=365 * 100)
    numbers = []
    for _ in range(SAMPLES):
        born = earliest + timedelta(days=rng.randrange(365 * 100))
        body = head() + born.strftime("%Y%m%d") + f"{rng.randrange(1000):03d}"
        numbers.append(typed(body + mod11_2_check_character(body), rng))
    return numbers


def county(rng: random.Random, provinces: list[str]) -> str:
    """A county-level code that exists, as real numbers carry."""
    while True:
        code = rng.choice(provinces) + f"{rng.randrange(10000):04d}"
        if code[4:] != "00" and describe_region(code):
            return code


def credit_codes(rng: random.Random) -> list[str]:
    pairs = sorted(ORGANIZATION_TYPES)
    provinces = sorted(MAINLAND_PROVINCES)
    codes = []
    for _ in range(SAMPLES):
        authority, kind = rng.choice(pairs)
        region = rng.choice(provinces) + f"{rng.randrange(10000):04d}"
        organization = "".join(rng.choice(ALPHABET) for _ in range(8))
        body = authority + kind + region + organization + organization_code_check_character(organization)
        codes.append(typed(body + credit_code_check_character(body), rng))
    return codes


def legal_names(rng: random.Random) -> list[str]:
    names = []
    for _ in range(SAMPLES):
        if rng.random() < 0.7:
            name = rng.choice(SURNAMES) + rng.choice(GIVEN_NAMES)
            if rng.random() < 0.1:
                name = rng.choice(GIVEN_NAMES) + "·" + rng.choice(SURNAMES)
        else:
            name = " ".join(rng.choice(LATIN_WORDS) for _ in range(rng.randint(2, 3)))
        names.append(name)
    return names


def measure(validate: Callable[[str], object], inputs: list[str], iterations: int) -> float:
    """Seconds per validation."""
    for value in inputs:  # warm-up, and proof that every input is valid
        validate(value)
    values = itertools.islice(itertools.cycle(inputs), iterations)
    started = time.perf_counter()
    for value in values:
        validate(value)
    return (time.perf_counter() - started) / iterations


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--iterations", type=int, default=200_000)
    iterations = parser.parse_args().iterations
    rng = random.Random(SEED)
    provinces = sorted(MAINLAND_PROVINCES)
    resident = identity_numbers(rng, lambda: county(rng, provinces))
    permits = identity_numbers(rng, lambda: rng.choice(sorted(PERMIT_REGIONS)))
    foreign = identity_numbers(rng, lambda: "9" + rng.choice(provinces) + f"{rng.randrange(1, 900):03d}")
    codes = credit_codes(rng)
    names = legal_names(rng)
    # python-stdnum takes neither full-width input nor letter-led codes, and refuses a county code for people
    # born before the county was created: compare on the inputs it accepts.
    stdnum_resident = [n for n in resident if ric.is_valid(n)]
    stdnum_codes = [c for c in codes if uscc.is_valid(c)]

    def identity(value: str) -> object:
        return parse_identity_number(value, TODAY)

    rows = [
        ("resident identity card number", identity, resident),
        ("HK/Macao/Taiwan residence permit number", identity, permits),
        ("foreign permanent resident card number", identity, foreign),
        ("unified social credit code", parse_credit_code, codes),
        ("legal name", normalize_legal_name, names),
        ("  python-stdnum cn.ric.validate (resident)", ric.validate, stdnum_resident),
        ("  python-stdnum cn.uscc.validate (digit-led)", uscc.validate, stdnum_codes),
    ]
    print(f"python {platform.python_version()} on {platform.machine()}; {iterations} validations per row")
    print(f"{'identifier':<46}{'us/validation':>14}{'validations/s':>16}")
    for label, validate, inputs in rows:
        seconds = measure(validate, inputs, iterations)
        print(f"{label:<46}{seconds * 1e6:>14.2f}{1 / seconds:>16,.0f}")


if __name__ == "__main__":
    main()
