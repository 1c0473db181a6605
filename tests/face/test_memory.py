"""One answer, the largest the API accepts, grows the process by at most 300 MiB.

Measured as the process's peak resident set (VmHWM) during the answer, after resetting the peak
(`/proc/self/clear_refs`, Linux), against the resident set just before it. A first answer of the
same size warms up everything that stays (the face workers' engines, allocator arenas).
"""

from __future__ import annotations

import re
from pathlib import Path

import asyncpg
import cv2
import httpx
import pytest

from service.face.schemas import MAX_BODY_BYTES
from service.runtime import Runtime
from tests.arrange.photos import photo
from tests.face.arrange import answer, challenge, jpeg, ready

MIB = 1024 * 1024
LIMIT = 300 * MIB
ACTIONS = ["turn_right", "move_closer", "look_up", "turn_left"]


def _status(field: str) -> int:
    match = re.search(rf"^{field}:\s+(\d+) kB$", Path("/proc/self/status").read_text(), re.MULTILINE)
    assert match is not None
    return int(match.group(1)) * 1024


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _largest_answer() -> tuple[str, list[list[str]]]:
    """The document and 4 actions x 6 frames, every image just under 16 megapixels (3600 x 4440)."""

    def large(name: str, quality: int) -> str:
        return jpeg(cv2.resize(photo(name), (3600, 4440), interpolation=cv2.INTER_LINEAR), quality)

    names = ["obama.jpg", "obama2.jpg", "obama4.jpg", "obama3.jpg"]
    frames = [[large(names[i], 40 + j) for j in range(6)] for i in range(4)]
    return large("obama3.jpg", 60), frames


@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="needs Linux's /proc/self/clear_refs")
async def test_the_largest_answer_grows_the_process_by_at_most_300_mib(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    me = await ready(client, runtime)
    document, frames = _largest_answer()
    assert sum(len(f) for action in frames for f in action) + len(document) < MAX_BODY_BYTES - 4096
    warm = await answer(client, me, await challenge(client, db, me, ACTIONS), document, frames)
    assert warm.status_code == 200, warm.text

    issued = await challenge(client, db, me, ACTIONS)
    if not _reset_peak():
        pytest.skip("cannot reset the peak resident set here")
    before = _status("VmRSS")
    answered = await answer(client, me, issued, document, frames)
    peak = _status("VmHWM")
    assert answered.status_code == 200, answered.text
    growth = peak - before
    print(f"one answer of 25 images of 16 MP: peak growth {growth / MIB:.0f} MiB")
    assert growth <= LIMIT, f"{growth / MIB:.0f} MiB"
