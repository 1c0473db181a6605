"""Is this photo good enough to compare a face on? Reasons a person can act on when it is not.

Checked on the detections of one photo, in this order:

- `no_face`, `multiple_faces`: exactly one face must be found (nothing else is checked otherwise).
- `face_too_small` ("come closer"): the box is narrower than 80 px. SFace reads a 112x112 crop that spans
  about 1.45 box widths, so below ~77 px the crop is upsampled and detail is made up, not seen. The
  sharpness check is skipped for such a face: on a few dozen pixels it measures the upsampling.
- `blurred` ("hold still, clean the lens"): contrast-normalized variance of the Laplacian on the face box
  resized to 112x112, `1000 · var(Laplacian) / var(pixels)`. Dividing by the pixel variance keeps a dim or
  low-contrast face (dark skin, soft light) from reading as blurred. Sharp photos in shared/faces measure
  132-505; the same photos blurred with a Gaussian of sigma 1.5 px at that scale measure 15-64; the
  threshold, 80, sits between.
- `too_dark`, `too_bright` ("find more, less light"): mean luma (Rec. 601) of the central 60 % of the face
  box below 50 or above 215. Well-lit photos in shared/faces measure 80-180; darkened to 30 % they measure
  24-54, and lifted by +110 levels 189-237. The dark limit is kept low on purpose: mean luma also follows
  skin tone, and a well-lit darker face must not be refused for it. Calibrate on a demographically broad set
  before raising it.
- `pose_not_frontal` ("look at the camera"): estimated |yaw| above 30° or |pitch| above 25° (see
  `geometry`; the estimates are coarse, so the limits are generous: SFace still matches well within them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import cv2
import numpy as np
import numpy.typing as npt

from verification.face.geometry import Box, DetectedFace, HeadPose, estimate_pose
from verification.face.images import ImageBGR

SHARPNESS_SIZE = (112, 112)

Gray = npt.NDArray[np.uint8]


class QualityIssue(StrEnum):
    NO_FACE = "no_face"
    MULTIPLE_FACES = "multiple_faces"
    FACE_TOO_SMALL = "face_too_small"
    BLURRED = "blurred"
    TOO_DARK = "too_dark"
    TOO_BRIGHT = "too_bright"
    POSE_NOT_FRONTAL = "pose_not_frontal"


@dataclass(frozen=True, slots=True)
class QualityConfig:
    min_face_width: float = 80.0  # pixels of the original image
    min_sharpness: float = 80.0  # 1000 · var(Laplacian) / var(pixels) on the face resized to 112x112
    min_luminance: float = 50.0  # mean luma, 0-255, central face region
    max_luminance: float = 215.0
    max_abs_yaw: float = 30.0  # degrees, estimated
    max_abs_pitch: float = 25.0  # degrees, estimated


DEFAULT_QUALITY = QualityConfig()


@dataclass(frozen=True, slots=True)
class FaceMeasurements:
    face_width: float
    sharpness: float | None  # None when the face is too small to measure it
    luminance: float
    pose: HeadPose


@dataclass(frozen=True, slots=True)
class QualityReport:
    face_count: int
    face: DetectedFace | None  # the one face, when exactly one was found
    measurements: FaceMeasurements | None
    issues: tuple[QualityIssue, ...] = field(default=())

    @property
    def passed(self) -> bool:
        return not self.issues


def assess_quality(
    image: ImageBGR, faces: Sequence[DetectedFace], config: QualityConfig = DEFAULT_QUALITY
) -> QualityReport:
    """Check the photo and its detections; the report lists every issue found (none when it passed)."""
    if not faces:
        return QualityReport(face_count=0, face=None, measurements=None, issues=(QualityIssue.NO_FACE,))
    if len(faces) > 1:
        return QualityReport(face_count=len(faces), face=None, measurements=None, issues=(QualityIssue.MULTIPLE_FACES,))
    face = faces[0]
    measured = measure_face(image, face, config)
    issues: list[QualityIssue] = []
    if measured.face_width < config.min_face_width:
        issues.append(QualityIssue.FACE_TOO_SMALL)
    if measured.sharpness is not None and measured.sharpness < config.min_sharpness:
        issues.append(QualityIssue.BLURRED)
    if measured.luminance < config.min_luminance:
        issues.append(QualityIssue.TOO_DARK)
    elif measured.luminance > config.max_luminance:
        issues.append(QualityIssue.TOO_BRIGHT)
    if abs(measured.pose.yaw) > config.max_abs_yaw or abs(measured.pose.pitch) > config.max_abs_pitch:
        issues.append(QualityIssue.POSE_NOT_FRONTAL)
    return QualityReport(face_count=1, face=face, measurements=measured, issues=tuple(issues))


def measure_face(image: ImageBGR, face: DetectedFace, config: QualityConfig = DEFAULT_QUALITY) -> FaceMeasurements:
    height, width = image.shape[:2]
    gray: Gray = np.asarray(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), dtype=np.uint8)
    region = _crop(gray, face.box)
    center = _crop(gray, _shrink(face.box, 0.6))
    luminance = float(center.mean()) if center.size else float(region.mean()) if region.size else 0.0
    sharpness = None
    if face.box.width >= config.min_face_width and region.size:
        sharpness = laplacian_sharpness(region)
    return FaceMeasurements(
        face_width=face.box.width,
        sharpness=sharpness,
        luminance=luminance,
        pose=estimate_pose(face, (width, height)),
    )


def laplacian_sharpness(gray_region: Gray) -> float:
    """1000 · var(Laplacian) / var(pixels) of a grey region resized to 112x112 (0 for a flat region)."""
    pixels = cv2.resize(gray_region, SHARPNESS_SIZE, interpolation=cv2.INTER_AREA).astype(np.float32)
    variance = float(pixels.var())
    if variance < 1.0:
        return 0.0
    return 1000.0 * float(cv2.Laplacian(pixels, cv2.CV_32F).var()) / variance


def _shrink(box: Box, factor: float) -> Box:
    width, height = box.width * factor, box.height * factor
    return Box(box.x + (box.width - width) / 2, box.y + (box.height - height) / 2, width, height)


def _crop(gray: Gray, box: Box) -> Gray:
    height, width = gray.shape[:2]
    x0, y0 = max(int(box.x), 0), max(int(box.y), 0)
    x1, y1 = min(int(box.x + box.width), width), min(int(box.y + box.height), height)
    return gray[y0:y1, x0:x1] if x1 > x0 and y1 > y0 else gray[0:0, 0:0]
