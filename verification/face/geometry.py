"""What a detected face looks like, and where the head points, from YuNet's box and five landmarks.

YuNet gives a box and five points: the eyes, the nose tip and the mouth corners. The head pose is
estimated from where the nose tip sits between them, measured in the face's own frame (the eye line
is the x axis, so a tilted head, roll, does not read as a turn):

- yaw: the nose tip's offset from the eye midpoint along the eye line, per inter-eye distance. On a
  head turned by yaw θ, seen from afar, that offset is (d / e) · tan θ, where d is how far the nose tip
  stands in front of the eyes and e the inter-eye distance; d / e ≈ 0.5 on a generic adult head.
- pitch: where the nose tip sits between the eye line (0) and the mouth line (1). It is about 0.57 on
  a face looking straight ahead (0.51-0.61 on the photos in shared/faces), and falls by about
  0.4 · tan φ when the head looks up by φ (the nose tip stands about 0.4 eye-to-mouth distances in front
  of the eye-mouth plane).

So the angles are estimates through a generic head, good to several degrees, not a measurement: the
liveness challenge compares them with the same person's own neutral frame, where the person-specific
part largely cancels, and the quality check only uses them to catch a clearly turned head. Yaw is the
stronger cue of the two: the landmarks follow a turn well and a nod less so.

Left and right are the subject's, as YuNet names them: in an unmirrored camera image the subject's right
eye is on the image's left. A client that mirrors its preview must send the unmirrored frame, or turns
read the wrong way round.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

Point = tuple[float, float]

# Generic-head constants (see the module docstring).
NOSE_DEPTH_PER_EYE_DISTANCE = 0.5
FRONTAL_NOSE_POSITION = 0.57
NOSE_DEPTH_PER_EYE_MOUTH_DISTANCE = 0.4


class Box(NamedTuple):
    x: float
    y: float
    width: float
    height: float


class Landmarks(NamedTuple):
    right_eye: Point
    left_eye: Point
    nose_tip: Point
    mouth_right: Point
    mouth_left: Point


@dataclass(frozen=True, slots=True)
class DetectedFace:
    """One face found by YuNet, in the pixel coordinates of the image it was found in."""

    box: Box
    landmarks: Landmarks
    score: float

    @classmethod
    def from_yunet(cls, row: Sequence[float] | npt.NDArray[np.float32], scale: float = 1.0) -> DetectedFace:
        """From one row of YuNet's output (x, y, w, h, 5 x (x, y), score); coordinates divided by scale."""
        values = [float(v) for v in row]
        if len(values) != 15:
            raise ValueError(f"a YuNet face row has 15 values, got {len(values)}")
        coords = [v / scale for v in values[:14]]
        points = [(coords[i], coords[i + 1]) for i in range(4, 14, 2)]
        return cls(box=Box(*coords[:4]), landmarks=Landmarks(*points), score=values[14])

    def to_yunet(self) -> npt.NDArray[np.float32]:
        """The 1x15 row OpenCV's FaceRecognizerSF.alignCrop expects."""
        flat = [*self.box, *(c for point in self.landmarks for c in point), self.score]
        return np.asarray([flat], dtype=np.float32)


@dataclass(frozen=True, slots=True)
class HeadPose:
    yaw: float  # degrees; positive: turned to the subject's left (nose toward the image's right)
    pitch: float  # degrees; positive: looking up
    roll: float  # degrees; positive: eye line turned clockwise in the image
    size: float  # face size relative to the image: sqrt(box area / image area)


def _sub(a: Point, b: Point) -> Point:
    return (a[0] - b[0], a[1] - b[1])


def _dot(a: Point, b: Point) -> float:
    return a[0] * b[0] + a[1] * b[1]


def _midpoint(a: Point, b: Point) -> Point:
    return ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)


def interocular_distance(landmarks: Landmarks) -> float:
    return math.dist(landmarks.right_eye, landmarks.left_eye)


def relative_size(box: Box, image_size: tuple[int, int]) -> float:
    """sqrt(box area / image area): grows as the face comes closer, whatever the frame's resolution."""
    width, height = image_size
    return math.sqrt(max(box.width, 0.0) * max(box.height, 0.0) / (width * height))


def overlap(a: Box, b: Box) -> float:
    """Intersection over union of two boxes, 0 to 1."""
    width = min(a.x + a.width, b.x + b.width) - max(a.x, b.x)
    height = min(a.y + a.height, b.y + b.height) - max(a.y, b.y)
    if width <= 0 or height <= 0:
        return 0.0
    intersection = width * height
    return intersection / (a.width * a.height + b.width * b.height - intersection)


def estimate_pose(face: DetectedFace, image_size: tuple[int, int]) -> HeadPose:
    """Yaw, pitch and roll in degrees (estimates, see the module docstring) and relative size."""
    yaw, pitch, roll = orientation(face.landmarks)
    return HeadPose(yaw=yaw, pitch=pitch, roll=roll, size=relative_size(face.box, image_size))


def orientation(marks: Landmarks) -> tuple[float, float, float]:
    """Yaw, pitch and roll in degrees from the five landmarks alone (see `estimate_pose`)."""
    eye_vector = _sub(marks.left_eye, marks.right_eye)
    eye_distance = max(math.hypot(*eye_vector), 1e-6)
    along = (eye_vector[0] / eye_distance, eye_vector[1] / eye_distance)  # unit vector, right eye -> left eye
    down = (-along[1], along[0])  # unit vector perpendicular to the eye line, toward the mouth
    eye_mid = _midpoint(marks.right_eye, marks.left_eye)
    nose = _sub(marks.nose_tip, eye_mid)
    mouth = _sub(_midpoint(marks.mouth_right, marks.mouth_left), eye_mid)

    yaw_offset = _dot(nose, along) / eye_distance
    yaw = math.degrees(math.atan(yaw_offset / NOSE_DEPTH_PER_EYE_DISTANCE))

    eye_to_mouth = max(_dot(mouth, down), 1e-6)
    nose_position = _dot(nose, down) / eye_to_mouth
    pitch = math.degrees(math.atan((FRONTAL_NOSE_POSITION - nose_position) / NOSE_DEPTH_PER_EYE_MOUTH_DISTANCE))

    roll = math.degrees(math.atan2(eye_vector[1], eye_vector[0]))
    return yaw, pitch, roll
