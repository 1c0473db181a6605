"""Where a registration's CPU goes, under the same load as bench/registration.py.

    .venv/bin/python bench/registration_cpu.py [--seconds 15]

Runs `idv serve` on an embedded PostgreSQL, drives registrations with wrk, and reads CPU time
from /proc before and after: the service's event loop thread, its other threads (the argon2id
hashing pool), and every PostgreSQL process, each divided by the registrations made. With both
cores saturated, what is left of cores x seconds is wrk and the kernel. Prints; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import time
from pathlib import Path

from registration import _count_accounts, embedded_setting, ensure_wrk, raw_argon2_rate, serving_registrations, wrk

from service.settings import Argon2Parameters

TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(stat: Path) -> float:
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def service_threads(pid: int) -> tuple[float, float]:
    """(event loop thread, all other threads) CPU seconds."""
    main = other = 0.0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            used = _cpu_seconds(task / "stat")
        except FileNotFoundError:
            continue
        if task.name == str(pid):
            main += used
        else:
            other += used
    return main, other


def postgres_cpu() -> float:
    pids = subprocess.run(["pgrep", "-x", "postgres"], capture_output=True, text=True).stdout.split()
    total = 0.0
    for pid in pids:
        try:
            total += _cpu_seconds(Path(f"/proc/{pid}/stat"))
        except FileNotFoundError:
            continue
    return total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=15)
    seconds = parser.parse_args().seconds
    cores = os.cpu_count() or 1
    ensure_wrk()
    with embedded_setting() as setting, serving_registrations(setting) as (server, script):
        time.sleep(2)
        pid = server.process.pid
        before = asyncio.run(_count_accounts(setting.dsn))
        loop0, pool0 = service_threads(pid)
        pg0 = postgres_cpu()
        started = time.monotonic()
        wrk(server.url, seconds, cores * 4, script=script)
        elapsed = time.monotonic() - started
        loop1, pool1 = service_threads(pid)
        pg1 = postgres_cpu()
        made = asyncio.run(_count_accounts(setting.dsn)) - before
    hash_rate = raw_argon2_rate(Argon2Parameters(), cores, seconds)

    def per(value: float) -> float:
        return value / made * 1000

    available = cores * elapsed
    accounted = (loop1 - loop0) + (pool1 - pool0) + (pg1 - pg0)
    print(f"registrations: {made} in {elapsed:.1f} s = {made / elapsed:.1f}/s")
    print(f"CPU available per registration ({cores} cores): {per(available):6.2f} ms")
    print(f"  hashing threads:                      {per(pool1 - pool0):6.2f} ms")
    print(f"  raw argon2id hash alone:              {cores / hash_rate * 1000:6.2f} ms  ({hash_rate:.1f} hashes/s)")
    print(f"  event loop thread:                    {per(loop1 - loop0):6.2f} ms")
    print(f"  PostgreSQL:                           {per(pg1 - pg0):6.2f} ms")
    print(f"  the rest (wrk, kernel, idle):         {per(available - accounted):6.2f} ms")


if __name__ == "__main__":
    main()
