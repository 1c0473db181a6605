"""A process-wide budget of memory for work that allocates a lot at once (decoding uploaded images).

A request reserves the memory its work is estimated to take at its peak and waits, first come first served,
until that fits beside the work already running; if it has not fitted after ``patience`` seconds it is refused
(``MemoryBudgetExhausted``: the caller answers 503) rather than queued without end. The memory is given back
when the work itself finishes, not when the request stops waiting for it: a worker thread cannot be cancelled,
and what it allocated is in use until it returns. So the sum of the estimates of the work running never exceeds
the capacity, whatever the clients do.

Face decoding could share the same budget (``Runtime.decode_memory``): the estimate is
``verification.uploads.decoded_bytes``.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import TypeVar

T = TypeVar("T")


class MemoryBudgetExhausted(Exception):
    """The work did not fit within the budget in time."""


class MemoryBudget:
    def __init__(self, capacity: int, patience: float) -> None:
        if capacity < 1 or patience < 0:
            raise ValueError("a memory budget needs a positive capacity and a patience of at least 0")
        self.capacity = capacity
        self.patience = patience
        self.in_use = 0
        self._waiting: collections.deque[tuple[int, asyncio.Future[None]]] = collections.deque()

    async def run(self, executor: Executor, cost: int, work: Callable[..., T], *args: object) -> T:
        """``work(*args)`` on ``executor`` once ``cost`` bytes fit; raise MemoryBudgetExhausted if they did not."""
        await self._reserve(cost)
        loop = asyncio.get_running_loop()
        try:
            future: Future[T] = executor.submit(work, *args)
        except BaseException:
            self._give_back(cost)
            raise

        def finished(_: Future[T]) -> None:
            # Runs in the worker thread (or here, if the work was cancelled before it started).
            with contextlib.suppress(RuntimeError):  # the loop closed: nothing is left to hand memory to
                loop.call_soon_threadsafe(self._give_back, cost)

        future.add_done_callback(finished)
        return await asyncio.wrap_future(future)

    async def _reserve(self, cost: int) -> None:
        if cost > self.capacity:
            raise ValueError(f"work of {cost} bytes can never fit a budget of {self.capacity}")
        if not self._waiting and self.in_use + cost <= self.capacity:
            self.in_use += cost
            return
        entry = (cost, asyncio.get_running_loop().create_future())
        self._waiting.append(entry)
        try:
            async with asyncio.timeout(self.patience):
                await entry[1]
        except BaseException as exc:
            if entry[1].done() and not entry[1].cancelled():
                self._give_back(cost)  # granted just as the wait ended
            else:
                if entry in self._waiting:
                    self._waiting.remove(entry)
                self._grant()  # those behind it may fit now
            if isinstance(exc, TimeoutError):
                raise MemoryBudgetExhausted from None
            raise

    def _give_back(self, cost: int) -> None:
        self.in_use -= cost
        self._grant()

    def _grant(self) -> None:
        # First come, first served: a large reservation is not overtaken for ever by small ones.
        while self._waiting and self.in_use + self._waiting[0][0] <= self.capacity:
            cost, waiter = self._waiting.popleft()
            if waiter.cancelled():  # its request is leaving; it takes nothing
                continue
            self.in_use += cost
            waiter.set_result(None)
