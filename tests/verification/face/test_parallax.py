"""The depth-made part of a move, on hand-made landmarks with known geometry."""

from __future__ import annotations

import math

import numpy as np
import pytest

from verification.face.geometry import NOSE_DEPTH_PER_EYE_DISTANCE, Landmarks
from verification.face.parallax import depth_motion, homography, project

FRONTAL = Landmarks((-50.0, 0.0), (50.0, 0.0), (0.0, 57.0), (-40.0, 100.0), (40.0, 100.0))


def _through(matrix: np.ndarray, marks: Landmarks) -> Landmarks:
    points = []
    for point in marks:
        projected = project(matrix, point)
        assert projected is not None
        points.append(projected)
    return Landmarks(*points)


@pytest.mark.parametrize(
    "matrix",
    [
        np.array([[0.7, 0.0, 20.0], [0.0, 1.0, 5.0], [0.0015, 0.0, 1.0]]),  # a print turned about its vertical axis
        np.array([[1.0, 0.0, 0.0], [0.0, 0.75, 0.0], [0.0, -0.002, 1.0]]),  # tilted about its horizontal axis
        np.array([[0.94, -0.34, 0.0], [0.34, 0.94, 0.0], [0.0, 0.0, 1.0]]),  # rotated 20 degrees
        np.array([[1.3, 0.0, -30.0], [0.0, 1.3, -30.0], [0.0, 0.0, 1.0]]),  # zoomed
    ],
)
def test_any_view_of_a_flat_picture_has_no_depth_made_motion(matrix: np.ndarray) -> None:
    moved = depth_motion(FRONTAL, _through(matrix, FRONTAL))
    assert moved.yaw == pytest.approx(0.0, abs=1e-6)
    assert moved.pitch == pytest.approx(0.0, abs=1e-6)


def test_a_nose_off_the_plane_is_a_depth_made_turn() -> None:
    """A head turned 25° to its left: the eyes and mouth foreshorten, the nose swings across the face."""
    angle = math.radians(25)
    turned = Landmarks(
        (-50.0 * math.cos(angle), 0.0),
        (50.0 * math.cos(angle), 0.0),
        (100 * NOSE_DEPTH_PER_EYE_DISTANCE * math.sin(angle), 57.0),
        (-40.0 * math.cos(angle), 100.0),
        (40.0 * math.cos(angle), 100.0),
    )
    moved = depth_motion(FRONTAL, turned)
    assert moved.yaw == pytest.approx(25.0, abs=1e-6)
    assert moved.pitch == pytest.approx(0.0, abs=1e-6)


def test_four_points_fix_the_homography() -> None:
    source = [(0.0, 0.0), (1.0, 0.0), (0.0, 1.0), (1.0, 1.0)]
    target = [(10.0, 10.0), (30.0, 12.0), (8.0, 40.0), (33.0, 45.0)]
    matrix = homography(source, target)
    assert matrix is not None
    for point, expected in zip(source, target, strict=True):
        assert project(matrix, point) == pytest.approx(expected)
    assert homography(source, [(0.0, 0.0)] * 4) is None
