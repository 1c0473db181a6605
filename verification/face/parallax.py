"""Does the face move like a head or like a picture? The nose tip's parallax against the plane of the
eyes and mouth corners.

A printed or displayed photo is flat: however it is tilted, turned, zoomed or rotated in front of the
camera, all its points move by one homography (a plane seen through a pinhole). Four points fix a
homography, so the two eyes and two mouth corners of the neutral frame, mapped onto those of a later
frame, predict exactly where a flat picture's nose tip must appear. A real head's nose tip stands
some 0.5 inter-eye distances in front of that plane, so when the head turns or nods it lands away from
the prediction. That offset, read as an angle the same way `geometry` reads yaw and pitch, is the part
of the turn (or nod) that depth made: `depth_motion`. A flat picture has none, up to landmark noise.

Measured on shared/faces: between independent real photos of one person whose estimated yaw differs
by 15° or more (obama, 6 ordered pairs, 21-29°), the depth-made turn is 20-29°; on 80 frames of flat
prints of each photo (tilted ±30° and ±45° sideways, ±45° forward, rotated 20°, zoomed 1.3x) it stays
within 16.3° (the landmarks wander on a squashed face), and below 15° for all but two. So a turn counts
from 15° and counts with margin from 20°. `python -m verification.face.attacks` prints the depth-made turn
of each attack kind's best frame beside its error rates.

What it does not catch, by design of the measure: a mirrored photo (mirroring a turned face shows real
depth), a picture whose nose was warped sideways, or a still re-rendered through a 3-D head. Mirrors
and near-copies of the neutral frame are `reuse`'s; the rest is why only checks passed with margin may
verify without a person looking (see `liveness`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from verification.face.geometry import Landmarks, Point, orientation

Matrix = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class DepthMotion:
    yaw: float  # degrees of the yaw change that the picture plane cannot explain (sign as geometry's yaw)
    pitch: float  # likewise for pitch


def homography(source: list[Point], target: list[Point]) -> Matrix | None:
    """The 3x3 homography taking four source points onto four target points; None when degenerate."""
    rows: list[list[float]] = []
    values: list[float] = []
    for (x, y), (u, v) in zip(source, target, strict=True):
        rows.append([x, y, 1.0, 0.0, 0.0, 0.0, -u * x, -u * y])
        rows.append([0.0, 0.0, 0.0, x, y, 1.0, -v * x, -v * y])
        values.extend((u, v))
    system = np.asarray(rows, dtype=np.float64)
    if abs(float(np.linalg.det(system))) < 1e-9:
        return None
    solution = np.linalg.solve(system, np.asarray(values, dtype=np.float64))
    return np.append(solution, 1.0).reshape(3, 3)


def project(matrix: Matrix, point: Point) -> Point | None:
    x, y, w = matrix @ np.asarray([point[0], point[1], 1.0])
    if abs(w) < 1e-9:
        return None
    return (float(x / w), float(y / w))


def planar_nose(reference: Landmarks, moved: Landmarks) -> Point | None:
    """Where the nose tip of a flat picture of `reference` would be in `moved`; None if degenerate."""
    source = [reference.right_eye, reference.left_eye, reference.mouth_right, reference.mouth_left]
    target = [moved.right_eye, moved.left_eye, moved.mouth_right, moved.mouth_left]
    matrix = homography(source, target)
    return project(matrix, reference.nose_tip) if matrix is not None else None


def depth_motion(reference: Landmarks, moved: Landmarks) -> DepthMotion:
    """The yaw and pitch change from `reference` to `moved` that a flat picture could not make."""
    flat = planar_nose(reference, moved)
    if flat is None:
        return DepthMotion(0.0, 0.0)
    yaw, pitch, _ = orientation(moved)
    flat_yaw, flat_pitch, _ = orientation(moved._replace(nose_tip=flat))
    return DepthMotion(yaw - flat_yaw, pitch - flat_pitch)
