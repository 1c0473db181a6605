"""The floor whoami is compared with: Litestar + asyncpg reading one row by primary key.

BENCH_DSN=postgresql://... python bench/bare_app.py PORT
"""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from uuid import UUID

import asyncpg
import msgspec
import uvicorn
from litestar import Litestar, get
from litestar.datastructures import State
from litestar.exceptions import NotFoundException


class Row(msgspec.Struct):
    id: UUID
    state: str


@asynccontextmanager
async def lifespan(app: Litestar) -> AsyncIterator[None]:
    app.state.pool = await asyncpg.create_pool(os.environ["BENCH_DSN"], min_size=2, max_size=10)
    try:
        yield
    finally:
        await app.state.pool.close()


@get("/accounts/{account_id:uuid}")
async def read(state: State, account_id: UUID) -> Row:
    row = await state.pool.fetchrow("SELECT id, state FROM accounts WHERE id = $1", account_id)
    if row is None:
        raise NotFoundException()
    return Row(row["id"], row["state"])


@get("/health/live")
async def live() -> str:
    return "live"


app = Litestar([read, live], lifespan=[lifespan], logging_config=None)

if __name__ == "__main__":
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=int(sys.argv[1]),
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level="warning",
    )
