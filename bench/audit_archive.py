"""How long verifying and archiving the audit trail take per entry.

    .venv/bin/python bench/audit_archive.py [--entries 100000] [--writers 8]

Seeds ``--entries`` entries through the real linking trigger (one INSERT ... SELECT per writer, each
on a connection of its own, hence spread over chains; the details are short codes as the service
writes them), then times `idv audit verify`'s walk, archiving the month (as if it were 25 months
later), verifying the archive file offline, and verifying the (now empty) trail from the archived
heads. A benchmark, not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

from service.audit.archive import add_months, archive_months, verify_archive_file
from service.audit.chain import verify
from service.database import migrations
from service.database.embedded import EmbeddedPostgres
from service.database.local import prepare_embedded

SEED = """
INSERT INTO audit_log (chain, seq, at, actor_type, actor_id, action, target_type, target_id,
                       details, prev_hash, hash)
SELECT 0, 0, now(), 'system', 'bench', 'bench.entry', 'account', gen_random_uuid()::text,
       '{"event":"verify","from":"pending","reason_code":"bench","to":"active"}', '', ''
FROM generate_series(1, $1)
"""


async def measure(service_dsn: str, owner_dsn: str, out: Path, entries: int, writers: int) -> None:
    owner = await asyncpg.connect(owner_dsn)
    try:
        await migrations.migrate(owner, migrations.discover())
    finally:
        await owner.close()

    async def seed(n: int) -> None:
        conn = await asyncpg.connect(owner_dsn)
        try:
            await conn.execute(SEED, n)
        finally:
            await conn.close()

    started = time.perf_counter()
    await asyncio.gather(*(seed(entries // writers) for _ in range(writers)))
    print(f"seeded {entries // writers * writers} entries in {time.perf_counter() - started:.1f} s")

    service = await asyncpg.connect(service_dsn)
    owner = await asyncpg.connect(owner_dsn)
    try:
        started = time.perf_counter()
        report = await verify(service)
        took = time.perf_counter() - started
        print(f"verify: {report.entries} entries in {took:.2f} s, {took / report.entries * 1e6:.1f} µs per entry")

        this_month = datetime.now(UTC).date().replace(day=1)
        started = time.perf_counter()
        done = await archive_months(
            owner, out, add_months(this_month, 1), online_months=24, today=add_months(this_month, 25)
        )
        took = time.perf_counter() - started
        archived = done[0]
        size = archived.path.stat().st_size
        print(
            f"archive: {archived.entries} entries in {took:.2f} s, {took / archived.entries * 1e6:.1f} µs per entry; "
            f"file {size / 1e6:.1f} MB ({size / archived.entries:.0f} bytes per entry)"
        )

        started = time.perf_counter()
        check = verify_archive_file(archived.path)
        took = time.perf_counter() - started
        print(f"verify-archive: {check.entries} entries in {took:.2f} s, {took / check.entries * 1e6:.1f} µs per entry")

        started = time.perf_counter()
        after = await verify(service)
        print(f"verify after archiving: {after.entries} entries in {time.perf_counter() - started:.2f} s")
    finally:
        await service.close()
        await owner.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--writers", type=int, default=8)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="idv-bench-archive-"))
    scratch.chmod(0o755)
    server = EmbeddedPostgres(scratch / "pg").start()
    try:
        asyncio.run(prepare_embedded(server, "bench"))
        (scratch / "out").mkdir()
        asyncio.run(
            measure(server.service_dsn("bench"), server.dsn("bench"), scratch / "out", args.entries, args.writers)
        )
    finally:
        server.stop()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
