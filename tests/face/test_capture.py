"""One continuous capture per action, as far as it can be honestly enforced: enough frames for each action
(`IDV_FACE_MIN_FRAMES_PER_ACTION`, short captures to review), and the same person in every frame (a spliced-in
other person is rejected). Genuine answers are different real photos of one person (see `test_face_api`); the
splice is what an attacker would do: another real person's photo sent as one action's frame."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import httpx
import msgspec
import pytest

from service.runtime import Runtime
from service.settings import SettingsError, load_settings
from tests.arrange.photos import photo
from tests.conftest import environment_for_tests
from tests.face.arrange import DOCUMENT, answer, challenge, jpeg, live_frames, ready
from verification.face.timing import CaptureDoubt, frame_count_doubts


def test_an_action_with_fewer_frames_than_the_minimum_is_doubted() -> None:
    assert frame_count_doubts([2, 1], 1) == ()
    assert frame_count_doubts([3, 3, 3], 3) == ()
    assert frame_count_doubts([3, 2, 3], 3) == (CaptureDoubt.TOO_FEW_FRAMES,)


def test_the_minimum_is_a_setting_no_answer_could_exceed(tmp_path: Path) -> None:
    environment = environment_for_tests(tmp_path / "state")
    assert load_settings(environment).face_min_frames == 1
    assert load_settings({**environment, "IDV_FACE_MIN_FRAMES_PER_ACTION": "6"}).face_min_frames == 6
    with pytest.raises(SettingsError, match="IDV_FACE_MIN_FRAMES_PER_ACTION must be between 1 and 6"):
        load_settings({**environment, "IDV_FACE_MIN_FRAMES_PER_ACTION": "7"})  # an action holds 6 frames at most


async def test_a_capture_shorter_than_the_minimum_goes_to_review_not_to_rejection(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    me = await ready(client, runtime)
    configured = runtime.settings
    runtime.settings = msgspec.structs.replace(configured, face_min_frames=2)
    try:
        # The genuine answer gives move_closer one frame only.
        answered = await answer(client, me, await challenge(client, db, me), jpeg(photo(DOCUMENT)), live_frames())
    finally:
        runtime.settings = configured
    assert answered.status_code == 200, answered.text
    assert answered.json()["status"] == "in_review"
    assert "too_few_frames" in answered.json()["reason_codes"]


async def test_another_real_person_spliced_into_an_action_is_rejected_with_the_reason(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    me = await ready(client, runtime)
    spliced = live_frames()
    spliced[1].insert(0, jpeg(photo("person_b_1.jpg")))  # someone else steps in for the move closer
    answered = await answer(client, me, await challenge(client, db, me), jpeg(photo(DOCUMENT)), spliced)
    assert answered.status_code == 200, answered.text
    assert answered.json()["status"] == "rejected"
    assert "face_changed" in answered.json()["reason_codes"]
