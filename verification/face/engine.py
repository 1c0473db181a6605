"""Face detection (YuNet) and face embedding (SFace) on OpenCV, one engine per worker thread.

OpenCV 5.0's `FaceRecognizerSF.feature()` fails on this SFace file (an assertion in the new DNN engine
about unnamed inputs), so the recognizer runs as a plain `cv2.dnn` network fed by name ("data"), with
the preprocessing `feature()` used: the 112x112 crop from `FaceRecognizerSF.alignCrop`, RGB order,
scale 1 and no mean. The graph normalizes by itself (its first layers subtract 127.5 and multiply by
1/128); feeding it normalized pixels or BGR gives a different vector. Checked against OpenCV 4.12's
`feature()` on every photo in shared/faces: cosine 0.9997 or more (int8 kernels differ in rounding).

Not thread-safe: OpenCV's detector and networks keep per-call state. The pool gives each worker thread
its own engine.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from verification.face.geometry import DetectedFace, overlap
from verification.face.images import ImageBGR
from verification.face.matching import Embedding
from verification.face.models import LoadedModels
from verification.face.selftest import run_self_test

EMBEDDING_SIZE = 128
SFACE_INPUT = "data"
SFACE_SIZE = (112, 112)
# Images are downscaled so their longer side is at most this before detection: YuNet's cost grows with
# the pixel count (about 30 ms at 640x800, 160 ms at 1280x1600 on one core), and a face that matters for
# verification is still at least 80 px wide after it. Coordinates are mapped back to the full image, and
# embeddings are taken from the full-resolution pixels.
DEFAULT_MAX_SIDE = 1280
# YuNet scores faces wider than about 350 px of its input below 0.9 (0.70-0.78 at 600 px on the photos of
# shared/faces), so a selfie whose face fills the frame would go unseen. A second, coarse pass at 0.4x
# (a sixth of the first pass's cost) finds those; its faces that overlap none of the first pass's are added.
COARSE_FACTOR = 0.4
SAME_FACE_OVERLAP = 0.3
# OpenCV Zoo's defaults for YuNet.
DEFAULT_SCORE_THRESHOLD = 0.9
NMS_THRESHOLD = 0.3
TOP_K = 5000
MIN_SIDE = 16


class FaceEngine:
    def __init__(
        self,
        models: LoadedModels,
        *,
        max_side: int = DEFAULT_MAX_SIDE,
        score_threshold: float = DEFAULT_SCORE_THRESHOLD,
    ) -> None:
        if max_side < MIN_SIDE:
            raise ValueError(f"max_side must be at least {MIN_SIDE}")
        no_config = np.empty(0, dtype=np.uint8)
        self.max_side = max_side
        self.model_version = models.version
        # OpenCV 5 warns on every load that the new DNN engine ignores the (default) target: not news.
        previous = cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
        try:
            # One detector per pass, so that each keeps its input size from call to call.
            self._fine = _Detector(models, score_threshold)
            self._coarse = _Detector(models, score_threshold)
            self._aligner = cv2.FaceRecognizerSF.create("onnx", models.recognizer, no_config)
            self._recognizer = cv2.dnn.readNetFromONNX(models.recognizer)
        finally:
            cv2.utils.logging.setLogLevel(previous)

    def detect(self, image: ImageBGR) -> list[DetectedFace]:
        """Every face YuNet finds, best score first, in the coordinates of `image`."""
        _check_image(image)
        height, width = image.shape[:2]
        if min(height, width) < MIN_SIDE:
            return []
        scale = min(1.0, self.max_side / max(height, width))
        faces = self._fine.find(image, scale)
        if min(height, width) * scale * COARSE_FACTOR >= MIN_SIDE:
            for face in self._coarse.find(image, scale * COARSE_FACTOR):
                if all(overlap(face.box, found.box) < SAME_FACE_OVERLAP for found in faces):
                    faces.append(face)
        return sorted(faces, key=lambda face: face.score, reverse=True)

    def align(self, image: ImageBGR, face: DetectedFace) -> ImageBGR:
        """The 112x112 crop SFace reads: the face turned upright and scaled by its landmarks."""
        _check_image(image)
        return np.asarray(self._aligner.alignCrop(image, face.to_yunet()), dtype=np.uint8)

    def embed(self, image: ImageBGR, face: DetectedFace, aligned: ImageBGR | None = None) -> Embedding:
        """The face's 128-d SFace embedding, L2-normalized (float32); `aligned` when `align` already ran."""
        if aligned is None:
            aligned = self.align(image, face)
        blob = cv2.dnn.blobFromImage(aligned, 1.0, SFACE_SIZE, (0.0, 0.0, 0.0), swapRB=True, crop=False)
        self._recognizer.setInput(blob, SFACE_INPUT)
        vector = np.asarray(self._recognizer.forward(), dtype=np.float32).reshape(-1)
        if vector.size != EMBEDDING_SIZE:
            raise RuntimeError(f"SFace returned {vector.size} values, expected {EMBEDDING_SIZE}")
        norm = float(np.linalg.norm(vector))
        if norm == 0.0 or not math.isfinite(norm):
            raise RuntimeError("SFace returned a zero or non-finite embedding")
        normalized: Embedding = (vector / norm).astype(np.float32)
        return normalized

    def self_test(self) -> float:
        """Run the start-up self-test (see `selftest`); the cosine to the reference, or SelfTestError."""
        return run_self_test(self)


class _Detector:
    """One YuNet instance, run on an image resized by a given scale."""

    def __init__(self, models: LoadedModels, score_threshold: float) -> None:
        self._size = (320, 320)
        self._yunet = cv2.FaceDetectorYN.create(
            "onnx", models.detector, np.empty(0, dtype=np.uint8), self._size, score_threshold, NMS_THRESHOLD, TOP_K
        )

    def find(self, image: ImageBGR, scale: float) -> list[DetectedFace]:
        height, width = image.shape[:2]
        if scale < 1.0:
            size = (max(1, round(width * scale)), max(1, round(height * scale)))
            resized = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        else:
            size, resized = (width, height), image
        if size != self._size:
            self._yunet.setInputSize(size)
            self._size = size
        # None when nothing was found, whatever the stubs say.
        rows: object = self._yunet.detect(resized)[1]
        if rows is None:
            return []
        return [DetectedFace.from_yunet(row, scale) for row in np.asarray(rows, dtype=np.float32)]


def _check_image(image: ImageBGR) -> None:
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError("expected an 8-bit BGR image of shape (height, width, 3)")
