"""Capture times of an answer's frames: out of order or repeated is refused, an implausible length
goes to review. The bounds are settings, not measurements (we have no real capture sessions)."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.settings import SettingsError, load_settings
from tests.conftest import environment_for_tests
from verification.face.timing import (
    CaptureBounds,
    CaptureDoubt,
    CaptureOrderIssue,
    OrderProblem,
    capture_doubts,
    order_problems,
)

BOUNDS = CaptureBounds(min_ms=1000, max_ms=120_000)


def test_frames_in_capture_order_have_no_problem() -> None:
    assert order_problems([[0, 400], [1900], [3200, 3300]]) == []


def test_a_repeated_time_or_a_frame_before_the_one_before_is_named() -> None:
    assert order_problems([[0, 400], [400]]) == [OrderProblem(1, 0, CaptureOrderIssue.REPEATED)]
    assert order_problems([[0, 900], [500, 1200]]) == [OrderProblem(1, 0, CaptureOrderIssue.OUT_OF_ORDER)]
    # A frame is compared with the latest time before it, so one early frame is the only one named.
    assert order_problems([[100, 50, 200]]) == [OrderProblem(0, 1, CaptureOrderIssue.OUT_OF_ORDER)]


def test_a_capture_too_short_or_too_long_is_doubted_not_refused() -> None:
    assert capture_doubts([[0, 700], [2400]], BOUNDS) == ()
    assert capture_doubts([[0, 100], [300]], BOUNDS) == (CaptureDoubt.TOO_SHORT,)
    assert capture_doubts([[0, 60_000], [180_000]], BOUNDS) == (CaptureDoubt.TOO_LONG,)


def test_the_bounds_are_settings_checked_at_start_up(tmp_path: Path) -> None:
    settings = load_settings(environment_for_tests(tmp_path))
    assert (settings.face_capture_min_ms, settings.face_capture_max_ms) == (1000, 120_000)
    with pytest.raises(SettingsError, match="IDV_FACE_CAPTURE_MIN_MS must be under"):
        load_settings(environment_for_tests(tmp_path, IDV_FACE_CAPTURE_MIN_MS="5000", IDV_FACE_CAPTURE_MAX_MS="5000"))
