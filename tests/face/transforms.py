"""Geometric transformations of real photos, to stand in for a person moving in front of a camera.

A head turning or nodding is simulated by reprojecting the photo through a generic head: every pixel gets
a depth (a smooth bulge over the face box, plus a nose that stands 0.45 inter-eye distances in front of
the eyes, as on an adult head) and is rotated with it about the head's centre, seen from afar. That is a
real 3D geometric transformation of the real pixels: the nose moves across the face, the far side
foreshortens. A flat tilt of the whole photo (a printed photo turned in front of the camera) is a planar
perspective warp, also here, and moves the landmarks much less. Moving closer is a zoom about the face.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import numpy.typing as npt

from verification.face.geometry import DetectedFace
from verification.face.images import ImageBGR

Depth = npt.NDArray[np.float32]


def _depth(shape: tuple[int, ...], face: DetectedFace) -> tuple[Depth, float, float]:
    height, width = shape[:2]
    box, marks = face.box, face.landmarks
    center_x, center_y = box.x + box.width / 2, box.y + box.height / 2
    eye_distance = math.dist(marks.right_eye, marks.left_eye)
    xs, ys = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    head = (
        0.6
        * box.width
        * np.exp(-(((xs - center_x) / (0.6 * box.width)) ** 2 + ((ys - center_y) / (0.75 * box.height)) ** 2))
    )
    nose_x, nose_y = marks.nose_tip
    nose = (
        0.45
        * eye_distance
        * np.exp(-(((xs - nose_x) / (0.3 * eye_distance)) ** 2 + ((ys - nose_y) / (0.3 * eye_distance)) ** 2))
    )
    return (head + nose).astype(np.float32), center_x, center_y


def _rotate(image: ImageBGR, face: DetectedFace, degrees: float, axis: str) -> ImageBGR:
    depth, center_x, center_y = _depth(image.shape, face)
    angle = math.radians(degrees)
    height, width = image.shape[:2]
    xs, ys = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    source_x, source_y = xs.copy(), ys.copy()
    # Output pixel p shows the source point s with s + displacement(s) = p; solved by fixed-point iteration.
    for _ in range(10):
        z = cv2.remap(depth, source_x, source_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        if axis == "yaw":
            source_x = (center_x + ((xs - center_x) - z * math.sin(angle)) / math.cos(angle)).astype(np.float32)
        else:
            source_y = (center_y + ((ys - center_y) + z * math.sin(angle)) / math.cos(angle)).astype(np.float32)
    return cv2.remap(image, source_x, source_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def turn_head(image: ImageBGR, face: DetectedFace, degrees: float) -> ImageBGR:
    """Positive: the person turns to their own left (the nose moves toward the image's right)."""
    return _rotate(image, face, degrees, "yaw")


def nod_head(image: ImageBGR, face: DetectedFace, degrees: float) -> ImageBGR:
    """Positive: the person looks up."""
    return _rotate(image, face, degrees, "pitch")


def move_closer(image: ImageBGR, face: DetectedFace, factor: float) -> ImageBGR:
    """Zoom about the face's centre by `factor`, keeping the frame size (the camera came closer)."""
    center_x = face.box.x + face.box.width / 2
    center_y = face.box.y + face.box.height / 2
    matrix = np.float32([[factor, 0, (1 - factor) * center_x], [0, factor, (1 - factor) * center_y]])
    height, width = image.shape[:2]
    return cv2.warpAffine(image, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def tilt_photo(image: ImageBGR, degrees: float, distance: float = 0.8) -> ImageBGR:
    """A flat photo turned about its vertical axis in front of a pinhole camera `distance` image sides away."""
    height, width = image.shape[:2]
    center_x, center_y = width / 2, height / 2
    camera = distance * max(width, height)
    angle = math.radians(degrees)
    corners = np.float32([[0, 0], [width, 0], [width, height], [0, height]])
    projected = []
    for x, y in corners:
        dx, dy = x - center_x, y - center_y
        depth = camera + dx * math.sin(angle)
        projected.append([center_x + camera * dx * math.cos(angle) / depth, center_y + camera * dy / depth])
    matrix = cv2.getPerspectiveTransform(corners, np.float32(projected))
    return cv2.warpPerspective(image, matrix, (width, height), borderMode=cv2.BORDER_REPLICATE)


def side_by_side(left: ImageBGR, right: ImageBGR) -> ImageBGR:
    """Two photos next to each other, the right one scaled to the left one's height."""
    height = left.shape[0]
    scaled = cv2.resize(right, (round(right.shape[1] * height / right.shape[0]), height), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(np.hstack([left, scaled]))
