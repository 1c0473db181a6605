"""Start-up self-test: one vendored photo through detection, alignment and embedding, against a stored result.

The photo, `selftest_astronaut.png`, is a 144x144 crop (no resampling) around the face of scikit-image's
`skimage.data.astronaut()` (Eileen Collins, NASA photograph, public domain; the same file as
shared/faces/astronaut.png). The stored box and embedding were computed with OpenCV 4.12's own SFace
pipeline (`FaceDetectorYN.detect`, `FaceRecognizerSF.alignCrop` and `FaceRecognizerSF.feature`), the
reference implementation that OpenCV 5.0's `feature()` can no longer run on this model file; our pipeline
reproduces it to a cosine of 0.9997 or better on every photo in shared/faces. The embedding is L2-normalized and
rounded to 4 decimals (the rounding alone costs less than 1e-4 of cosine).

A failure means the models, OpenCV or our preprocessing changed behaviour: the service must not make face
decisions with it.
"""

from __future__ import annotations

import math
from importlib.resources import files
from typing import TYPE_CHECKING

import numpy as np

from verification.errors import InvalidValue
from verification.face.geometry import Box
from verification.face.images import decode_image
from verification.face.matching import cosine_similarity

if TYPE_CHECKING:
    from verification.face.engine import FaceEngine

IMAGE_NAME = "selftest_astronaut.png"
EXPECTED_BOX = Box(x=27.95, y=17.78, width=88.54, height=110.98)
MAX_BOX_ERROR_PX = 3.0
MIN_COSINE = 0.99
# SFace embedding of the photo, L2-normalized, by OpenCV 4.12 FaceRecognizerSF.feature().
REFERENCE_EMBEDDING = """
 0.0203 -0.1200  0.0857  0.1549  0.0041  0.0434  0.0863  0.0443  0.0296  0.0822 -0.0433  0.0563
-0.0553  0.0341  0.0183  0.0311  0.1275  0.0811 -0.0032 -0.1192  0.0764 -0.0286 -0.0594  0.0879
-0.0294  0.0259 -0.1107 -0.0453  0.0068  0.1372  0.0443 -0.0011  0.0039  0.0383  0.0615  0.0533
-0.0777  0.1340  0.0436  0.0779  0.0153 -0.1856 -0.2846 -0.1574 -0.0463 -0.0394  0.1107  0.0820
 0.0446  0.1112  0.0170 -0.0936 -0.0950  0.0398 -0.2323  0.0088 -0.1707 -0.0360 -0.0360  0.1289
-0.0606  0.0338 -0.2587  0.0654 -0.0091  0.0074  0.0138  0.0352  0.1438 -0.0163  0.2159 -0.1023
 0.1189 -0.1120  0.0425 -0.1276  0.0514  0.0233 -0.0174 -0.0047 -0.1288  0.0710 -0.0366  0.1184
 0.0224 -0.1948  0.0940 -0.0416 -0.1239 -0.0452 -0.1297  0.0081 -0.0236 -0.0130  0.1015  0.0202
-0.0138 -0.0072  0.0210  0.0422 -0.0161 -0.0480  0.0435  0.0277 -0.0023 -0.1450  0.0547  0.0209
 0.0540 -0.1170 -0.0427  0.0743 -0.1204  0.0217  0.0408 -0.0040  0.0117  0.0306 -0.0125 -0.0152
 0.1496 -0.0988  0.0146  0.0319  0.1502 -0.0860 -0.1399 -0.0197
"""


class SelfTestError(RuntimeError):
    """The face pipeline does not reproduce its reference result."""


def run_self_test(engine: FaceEngine) -> float:
    """Detect, align and embed the vendored photo; return the cosine to the reference or raise SelfTestError."""
    try:
        image = decode_image(files("verification.face").joinpath(IMAGE_NAME).read_bytes())
    except (OSError, InvalidValue) as exc:
        raise SelfTestError(f"the self-test photo {IMAGE_NAME} cannot be read") from exc
    faces = engine.detect(image)
    if len(faces) != 1:
        raise SelfTestError(f"the self-test photo should show exactly one face, the detector found {len(faces)}")
    box = faces[0].box
    error = max(abs(a - b) for a, b in zip(box, EXPECTED_BOX, strict=True))
    if error > MAX_BOX_ERROR_PX:
        raise SelfTestError(f"the self-test face box {tuple(round(v, 1) for v in box)} is off by {error:.1f} px")
    reference = np.asarray(REFERENCE_EMBEDDING.split(), dtype=np.float32)
    cosine = cosine_similarity(engine.embed(image, faces[0]), reference)
    if not math.isfinite(cosine) or cosine < MIN_COSINE:
        raise SelfTestError(f"the self-test embedding has cosine {cosine:.4f} to the reference, below {MIN_COSINE}")
    return cosine
