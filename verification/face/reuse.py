"""Is this frame a picture we have already seen? The document's portrait, or another frame, sent again.

Two signatures per face, both cheap:

- the SFace embedding: the cosine between two photos of one face taken apart is 0.60-0.81 on the
  independent photos of shared/faces, while a re-encode of one photo scores 0.99 and a zoom, blur,
  rotation or mirror of it 0.88-0.98 (measured with `python -m verification.face.attacks`);
- the aligned face's pixels: the 112x112 crop SFace reads, grey, blurred and shrunk to 32x32, compared
  by normalized cross-correlation, directly and mirrored. Independent photos of one person measure
  -0.13 to 0.56 (impostors at most 0.63); a re-encode 0.999, blur or JPEG of one photo 0.85-0.999, a zoom
  0.80-0.98, a mirror 0.84-0.99.

And one per frame: the whole frame, grey, blurred and shrunk to 32x32. Two camera frames taken while
a head moves differ; the same picture sent twice (even recompressed) does not.

Last, whether a frame is the neutral frame's picture bent into shape: a 128x128 grey patch around each
face, the neutral patch warped onto the other by dense optical flow (DIS), and what is left, as mean
absolute difference per standard deviation of the patch (`warp_residual`). A tilted, warped or
re-rendered still leaves 0.02-0.22 on the photos of shared/faces (`python -m verification.face.attacks`),
independent real photos of one person 0.50-1.68. Consecutive frames of a real capture session have not
been measured (we have none), so this never rejects: a turn whose frames are all within 0.30 of a
warped neutral frame goes to an operator.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from verification.face.geometry import Box
from verification.face.images import ImageBGR
from verification.face.matching import Embedding, cosine_similarity

Thumbnail = npt.NDArray[np.float32]
THUMBNAIL = (32, 32)


@dataclass(frozen=True, slots=True)
class ReuseConfig:
    # The same picture: either signature above these. Calibrated on shared/faces controls: genuine
    # photo pairs at most 0.81 (cosine) and 0.56 (pixels), re-encodes 0.99 and 0.999.
    same_picture_cosine: float = 0.90
    same_picture_pixels: float = 0.85
    # Whole frames whose thumbnails differ by less than this (mean absolute difference, 0-255) are one.
    same_frame_difference: float = 1.5
    # A face whose patch a warp of the neutral patch explains to within this is a bent picture.
    warped_picture_residual: float = 0.30


DEFAULT_REUSE = ReuseConfig()


# The blur's scale is a fraction of the image's shorter side; it is applied after shrinking the image so
# that this side is at most this long (blurring a whole 1280 px frame at that scale cost 125 ms, more than
# detecting its face, for a 32x32 result that the shrinking barely changes).
THUMBNAIL_WORK_SIDE = 256


def thumbnail(image: ImageBGR) -> Thumbnail:
    """Grey, blurred and shrunk to 32x32 (float32): what survives recompression and resizing."""
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    height, width = grey.shape[:2]
    factor = THUMBNAIL_WORK_SIDE / min(height, width)
    if factor < 1.0:
        size = (max(1, round(width * factor)), max(1, round(height * factor)))
        grey = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
        height, width = grey.shape[:2]
    grey = grey.astype(np.float32)
    sigma = max(1.0, min(height, width) / 64)
    small = cv2.resize(cv2.GaussianBlur(grey, (0, 0), sigma), THUMBNAIL, interpolation=cv2.INTER_AREA)
    return np.asarray(small, dtype=np.float32)


def _correlation(a: Thumbnail, b: Thumbnail) -> float:
    a, b = a - a.mean(), b - b.mean()
    norm = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float((a * b).sum()) / norm if norm > 0 else 1.0


def pixel_similarity(a: Thumbnail, b: Thumbnail) -> float:
    """Normalized cross-correlation of two aligned-face thumbnails, the larger of direct and mirrored."""
    return max(_correlation(a, b), _correlation(a, np.ascontiguousarray(b[:, ::-1])))


Patch = npt.NDArray[np.uint8]
PATCH = 128


def face_patch(image: ImageBGR, box: Box) -> Patch:
    """A PATCH x PATCH grey square around the face box (1.4 times its larger side), not rotated."""
    center_x, center_y = box.x + box.width / 2, box.y + box.height / 2
    scale = PATCH / (1.4 * max(box.width, box.height, 1.0))
    matrix = np.array(
        [[scale, 0, PATCH / 2 - center_x * scale], [0, scale, PATCH / 2 - center_y * scale]], dtype=np.float32
    )
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    return np.asarray(
        cv2.warpAffine(grey, matrix, (PATCH, PATCH), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REPLICATE),
        dtype=np.uint8,
    )


def warp_residual(neutral: Patch, other: Patch) -> float:
    """What remains of `other` once the neutral patch (or its mirror) is warped onto it by dense optical
    flow: mean absolute difference per standard deviation, on the central 3/4 of the patch."""
    # Not in OpenCV's type stubs; one per call (cheap at this size), since it keeps state between calls.
    flow_engine = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)  # type: ignore[attr-defined]
    xs, ys = np.meshgrid(np.arange(PATCH, dtype=np.float32), np.arange(PATCH, dtype=np.float32))
    target = cv2.GaussianBlur(other.astype(np.float32), (0, 0), 1.0)
    inner = slice(PATCH // 8, PATCH - PATCH // 8)
    spread = float(target[inner, inner].std()) + 1e-6
    best = float("inf")
    for source in (neutral, np.ascontiguousarray(neutral[:, ::-1])):
        flow = flow_engine.calc(other, source, None)  # for each pixel of `other`, where it is in `source`
        warped = cv2.remap(
            source, xs + flow[..., 0], ys + flow[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )
        difference = np.abs(cv2.GaussianBlur(warped.astype(np.float32), (0, 0), 1.0) - target)[inner, inner]
        best = min(best, float(difference.mean()) / spread)
    return best


@dataclass(frozen=True, slots=True)
class FaceSignature:
    embedding: Embedding
    face: Thumbnail  # of the aligned 112x112 crop
    frame: Thumbnail  # of the whole image
    patch: Patch  # around the face box, for `warp_residual`


def same_picture(a: FaceSignature, b: FaceSignature, config: ReuseConfig = DEFAULT_REUSE) -> bool:
    """Both faces come from one picture (re-encoded, zoomed, blurred, rotated or mirrored at most)."""
    return (
        cosine_similarity(a.embedding, b.embedding) >= config.same_picture_cosine
        or pixel_similarity(a.face, b.face) >= config.same_picture_pixels
    )


def warped_picture(neutral: FaceSignature, other: FaceSignature, config: ReuseConfig = DEFAULT_REUSE) -> bool:
    """`other` is the neutral frame's picture bent, tilted, re-rendered or mirrored (see the module)."""
    return same_picture(neutral, other, config) or warp_residual(neutral.patch, other.patch) < (
        config.warped_picture_residual
    )


def same_frame(a: FaceSignature, b: FaceSignature, config: ReuseConfig = DEFAULT_REUSE) -> bool:
    """The two frames are one image (sent twice, perhaps recompressed): nothing moved between them."""
    if a.frame.shape != b.frame.shape:
        return False
    return float(np.abs(a.frame - b.frame).mean()) < config.same_frame_difference
