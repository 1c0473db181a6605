"""argon2id in a thread pool sized to the cores: the pool is the limiter, so a burst of
sign-ins queues for CPU instead of starving the event loop or exhausting memory
(each hash holds ``memory_kib`` while it runs)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import statistics
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from service.observability.metrics import PASSWORD_HASH_SECONDS
from service.settings import Argon2Parameters
from verification.passwords import check_password


@dataclass(frozen=True)
class Verification:
    matches: bool
    needs_rehash: bool = False


def _lower_thread_priority() -> None:
    # Hashing is throughput work; request handling on the event loop is latency work.
    # A small nice value keeps whoami answering quickly while registrations saturate the CPU.
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 5)


def argon2_hasher(params: Argon2Parameters) -> argon2.PasswordHasher:
    return argon2.PasswordHasher(
        time_cost=params.time_cost,
        memory_cost=params.memory_kib,
        parallelism=params.parallelism,
        hash_len=32,
        salt_len=16,
        type=argon2.Type.ID,
    )


class PasswordHasher:
    def __init__(self, params: Argon2Parameters, concurrency: int) -> None:
        self.params = params
        self._argon2 = argon2_hasher(params)
        self._pool = ThreadPoolExecutor(
            max_workers=concurrency, thread_name_prefix="argon2", initializer=_lower_thread_priority
        )
        # Hashed in the pool as soon as the hasher exists, so the first unknown identifier costs
        # one verification like every later one (hashing on first use would cost two, and show).
        self._dummy = self._pool.submit(self._hash, secrets.token_urlsafe(16))

    def _hash(self, password: str) -> str:
        started = time.perf_counter()
        try:
            return self._argon2.hash(password)
        finally:
            PASSWORD_HASH_SECONDS.labels("hash").observe(time.perf_counter() - started)

    def _verify(self, phc: str, password: str) -> Verification:
        started = time.perf_counter()
        try:
            self._argon2.verify(phc, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return Verification(matches=False)
        finally:
            PASSWORD_HASH_SECONDS.labels("verify").observe(time.perf_counter() - started)
        return Verification(matches=True, needs_rehash=self._argon2.check_needs_rehash(phc))

    def _check_and_hash(self, password: str, personal: Sequence[str]) -> str:
        return self._hash(check_password(password, personal))

    async def hash_new(self, password: str, personal: Sequence[str] = ()) -> str:
        """Apply the password rules and hash, in one trip to the pool (both are CPU work).
        Raises verification.errors.InvalidValue when the password is refused."""
        return await asyncio.get_running_loop().run_in_executor(self._pool, self._check_and_hash, password, personal)

    async def hash(self, password: str) -> str:
        return await asyncio.get_running_loop().run_in_executor(self._pool, self._hash, password)

    async def verify(self, phc: str, password: str) -> Verification:
        return await asyncio.get_running_loop().run_in_executor(self._pool, self._verify, phc, password)

    async def verify_unknown(self, password: str) -> Verification:
        """Spend the same time as a real verification, for identifiers that match no account."""
        await self.verify(await asyncio.wrap_future(self._dummy), password)
        return Verification(matches=False)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


@dataclass(frozen=True)
class Calibration:
    params: Argon2Parameters
    median_ms: float


def time_parameters(params: Argon2Parameters, rounds: int = 5) -> float:
    hasher = argon2_hasher(params)
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        hasher.hash("calibration-password")
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def calibrate(target_ms: float, memory_kib: int, parallelism: int, rounds: int = 5) -> Calibration:
    """Like Kratos' `hashers argon2 calibrate`: keep memory and lanes, raise iterations until one
    hash takes about ``target_ms``, and return the setting closest to the target."""
    best: Calibration | None = None
    for time_cost in range(1, 64):
        params = Argon2Parameters(memory_kib=memory_kib, time_cost=time_cost, parallelism=parallelism)
        measured = Calibration(params, time_parameters(params, rounds))
        if best is None or abs(measured.median_ms - target_ms) < abs(best.median_ms - target_ms):
            best = measured
        if measured.median_ms >= target_ms:
            break
    assert best is not None
    return best
