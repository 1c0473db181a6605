"""Pose estimates from five landmarks, on hand-made faces with known geometry."""

from __future__ import annotations

import math

import numpy as np
import pytest

from verification.face.geometry import (
    NOSE_DEPTH_PER_EYE_DISTANCE,
    NOSE_DEPTH_PER_EYE_MOUTH_DISTANCE,
    Box,
    DetectedFace,
    Landmarks,
    estimate_pose,
    overlap,
    relative_size,
)

IMAGE = (640, 480)


def face(
    nose: tuple[float, float] = (0.0, 0.57), rotate: float = 0.0, at: tuple[float, float] = (320, 200)
) -> DetectedFace:
    """A face with eyes 100 px apart and the mouth 100 px below them; `nose` in those units from the eye midpoint."""
    points = {
        "right_eye": (-0.5, 0.0),
        "left_eye": (0.5, 0.0),
        "nose_tip": nose,
        "mouth_right": (-0.4, 1.0),
        "mouth_left": (0.4, 1.0),
    }
    cos, sin = math.cos(math.radians(rotate)), math.sin(math.radians(rotate))

    def place(x: float, y: float) -> tuple[float, float]:
        return (at[0] + 100 * (x * cos - y * sin), at[1] + 100 * (x * sin + y * cos))

    landmarks = Landmarks(**{name: place(*point) for name, point in points.items()})
    return DetectedFace(box=Box(at[0] - 100, at[1] - 100, 200, 240), landmarks=landmarks, score=0.95)


def test_a_frontal_face_has_no_yaw_or_pitch() -> None:
    pose = estimate_pose(face(), IMAGE)
    assert pose.yaw == pytest.approx(0.0, abs=1e-6)
    assert pose.pitch == pytest.approx(0.0, abs=1e-6)
    assert pose.roll == pytest.approx(0.0, abs=1e-6)


def test_the_nose_toward_the_left_eye_is_a_turn_to_the_left() -> None:
    offset = NOSE_DEPTH_PER_EYE_DISTANCE * math.tan(math.radians(30))
    assert estimate_pose(face(nose=(offset, 0.57)), IMAGE).yaw == pytest.approx(30.0)
    assert estimate_pose(face(nose=(-offset, 0.57)), IMAGE).yaw == pytest.approx(-30.0)


def test_the_nose_closer_to_the_eyes_is_looking_up() -> None:
    rise = NOSE_DEPTH_PER_EYE_MOUTH_DISTANCE * math.tan(math.radians(20))
    assert estimate_pose(face(nose=(0.0, 0.57 - rise)), IMAGE).pitch == pytest.approx(20.0)
    assert estimate_pose(face(nose=(0.0, 0.57 + rise)), IMAGE).pitch == pytest.approx(-20.0)


@pytest.mark.parametrize("roll", [-40.0, 15.0, 90.0])
def test_a_tilted_head_reads_as_roll_not_as_a_turn(roll: float) -> None:
    upright = estimate_pose(face(nose=(0.2, 0.5)), IMAGE)
    tilted = estimate_pose(face(nose=(0.2, 0.5), rotate=roll), IMAGE)
    assert tilted.roll == pytest.approx(roll)
    assert (tilted.yaw, tilted.pitch) == pytest.approx((upright.yaw, upright.pitch))


def test_relative_size_grows_with_the_face_not_with_the_resolution() -> None:
    assert relative_size(Box(0, 0, 64, 48), (640, 480)) == pytest.approx(0.1)
    assert relative_size(Box(0, 0, 128, 96), (1280, 960)) == pytest.approx(0.1)
    assert relative_size(Box(0, 0, 128, 96), (640, 480)) == pytest.approx(0.2)


def test_a_yunet_row_round_trips_and_scales_back_to_the_full_image() -> None:
    row = np.arange(15, dtype=np.float32)
    row[14] = 0.9
    detected = DetectedFace.from_yunet(row, scale=0.5)
    assert detected.box == (0.0, 2.0, 4.0, 6.0)
    assert detected.landmarks.nose_tip == (16.0, 18.0)
    assert detected.score == pytest.approx(0.9)
    back = detected.to_yunet()
    assert back.shape == (1, 15)
    assert back[0, :14] == pytest.approx(row[:14] * 2)


def test_a_row_of_the_wrong_length_is_refused() -> None:
    with pytest.raises(ValueError, match="15 values"):
        DetectedFace.from_yunet([1.0, 2.0])


def test_overlap_is_intersection_over_union() -> None:
    assert overlap(Box(0, 0, 10, 10), Box(0, 0, 10, 10)) == 1.0
    assert overlap(Box(0, 0, 10, 10), Box(5, 0, 10, 10)) == pytest.approx(50 / 150)
    assert overlap(Box(0, 0, 10, 10), Box(10, 10, 5, 5)) == 0.0
