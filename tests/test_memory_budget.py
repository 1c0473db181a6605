"""The decode memory budget: work runs only while its estimate fits, first come first served; a request that
cannot fit in time is refused; memory comes back when the work ends, not when its request gives up."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from service.memory_budget import MemoryBudget, MemoryBudgetExhausted


@pytest.fixture
def pool() -> Iterator[ThreadPoolExecutor]:
    executor = ThreadPoolExecutor(max_workers=4)
    yield executor
    executor.shutdown(wait=True)


async def test_work_waits_until_its_memory_fits_and_the_sum_never_exceeds_the_capacity(
    pool: ThreadPoolExecutor,
) -> None:
    budget = MemoryBudget(capacity=100, patience=5)
    release = threading.Event()
    observed: list[int] = []

    def work() -> int:
        observed.append(budget.in_use)
        release.wait(5)
        return budget.in_use

    first = asyncio.create_task(budget.run(pool, 60, work))
    second = asyncio.create_task(budget.run(pool, 60, work))  # 120 > 100: waits for the first
    third = asyncio.create_task(budget.run(pool, 30, work))  # would fit, but waits its turn behind the second
    await asyncio.sleep(0.1)
    assert observed == [60] and budget.in_use == 60
    release.set()
    await asyncio.gather(first, second, third)
    assert max(observed) <= 100 and budget.in_use == 0


async def test_work_that_cannot_fit_in_time_is_refused(pool: ThreadPoolExecutor) -> None:
    budget = MemoryBudget(capacity=100, patience=0.2)
    release = threading.Event()
    holder = asyncio.create_task(budget.run(pool, 100, release.wait, 5))
    await asyncio.sleep(0.05)
    with pytest.raises(MemoryBudgetExhausted):
        await budget.run(pool, 1, lambda: None)
    release.set()
    await holder
    assert budget.in_use == 0
    assert await budget.run(pool, 100, lambda: "fits again") == "fits again"


async def test_memory_comes_back_when_the_thread_finishes_not_when_the_request_is_cancelled(
    pool: ThreadPoolExecutor,
) -> None:
    budget = MemoryBudget(capacity=100, patience=5)
    release = threading.Event()
    request = asyncio.create_task(budget.run(pool, 80, release.wait, 5))
    await asyncio.sleep(0.05)
    request.cancel()  # the client went away; the decode goes on in its thread
    with pytest.raises(asyncio.CancelledError):
        await request
    assert budget.in_use == 80
    release.set()
    for _ in range(100):
        if budget.in_use == 0:
            break
        await asyncio.sleep(0.01)
    assert budget.in_use == 0


async def test_a_waiting_request_that_is_cancelled_takes_nothing(pool: ThreadPoolExecutor) -> None:
    budget = MemoryBudget(capacity=100, patience=5)
    release = threading.Event()
    holder = asyncio.create_task(budget.run(pool, 100, release.wait, 5))
    await asyncio.sleep(0.05)
    waiting = asyncio.create_task(budget.run(pool, 50, lambda: None))
    await asyncio.sleep(0.05)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    release.set()
    await holder
    assert budget.in_use == 0


async def test_work_larger_than_the_budget_is_a_programming_error(pool: ThreadPoolExecutor) -> None:
    with pytest.raises(ValueError, match="can never fit"):
        await MemoryBudget(capacity=100, patience=1).run(pool, 101, lambda: None)
