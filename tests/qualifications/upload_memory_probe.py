"""Run as a separate process by test_qualifications: uploads one file several times at once to the service in
this process and prints, as JSON, the answers and how far the process's resident memory rose above what it was
before (VmHWM after the burst, reset first through /proc/self/clear_refs, minus VmRSS before).

    python -m tests.qualifications.upload_memory_probe DATABASE_URL QUALIFICATION_ID TOKEN FILE COUNT

Settings come from the environment (the test passes the same keys as its own service).
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import httpx

from service.app import create_asgi
from service.runtime import Runtime
from service.settings import load_settings


def _kib(field: str) -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field))


async def main(database_url: str, qualification_id: str, token: str, path: str, count: int) -> None:
    settings = load_settings()
    data = Path(path).read_bytes()
    headers = {"authorization": f"Bearer {token}", "content-type": "image/png"}
    async with Runtime.open(settings, database_url, apply_migrations=False) as runtime:
        transport = httpx.ASGITransport(app=create_asgi(settings, runtime=runtime), client=("203.0.113.10", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="https://idv.test", timeout=120) as client:
            warm = await client.get("/v1/me/qualifications", headers=headers)  # everything imported and connected
            assert warm.status_code == 200, warm.text
            with open("/proc/self/clear_refs", "w") as refs:
                refs.write("5")
            before = _kib("VmRSS:")
            url = f"/v1/me/qualifications/{qualification_id}/documents"
            answers = await asyncio.gather(*(client.post(url, content=data, headers=headers) for _ in range(count)))
            growth = _kib("VmHWM:") - before
    codes = [answer.json().get("code") if answer.status_code >= 400 else None for answer in answers]
    print(json.dumps({"statuses": [a.status_code for a in answers], "codes": codes, "growth_kib": growth}))


if __name__ == "__main__":
    url, qid, token, file, count = sys.argv[1:]
    asyncio.run(main(url, qid, token, file, int(count)))
