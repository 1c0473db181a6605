"""Detection and embedding through the real models, and the start-up self-test."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from tests.arrange.photos import photo
from verification.face.engine import FaceEngine
from verification.face.geometry import DetectedFace
from verification.face.images import ImageBGR
from verification.face.matching import Embedding
from verification.face.models import LoadedModels
from verification.face.selftest import MIN_COSINE, SelfTestError, run_self_test


def test_the_self_test_reproduces_the_opencv_4_reference(engine: FaceEngine) -> None:
    assert engine.self_test() >= MIN_COSINE


def test_embeddings_are_128_unit_length_float32(engine: FaceEngine) -> None:
    image = photo("obama.jpg")
    (face,) = engine.detect(image)
    embedding = engine.embed(image, face)

    assert embedding.shape == (128,)
    assert embedding.dtype == np.float32
    assert float(np.linalg.norm(embedding)) == pytest.approx(1.0, abs=1e-5)


def test_a_large_photo_is_detected_downscaled_with_coordinates_in_the_full_image(models: LoadedModels) -> None:
    image = photo("obama.jpg")  # 910x1137
    full = FaceEngine(models, max_side=2000).detect(image)
    downscaled = FaceEngine(models, max_side=640).detect(image)  # found at 0.56x

    assert len(full) == len(downscaled) == 1
    # Within 10 px (4 % of the face's width): YuNet's own precision at the lower resolution, not a mapping error.
    assert tuple(downscaled[0].box) == pytest.approx(tuple(full[0].box), abs=10)
    for ours, reference in zip(downscaled[0].landmarks, full[0].landmarks, strict=True):
        assert ours == pytest.approx(reference, abs=10)


def test_the_same_frame_size_twice_gives_the_same_detection(engine: FaceEngine) -> None:
    image = photo("person_b_1.jpg")
    assert engine.detect(image) == engine.detect(image.copy())


def test_a_tiny_or_wrongly_typed_image_is_handled(engine: FaceEngine) -> None:
    assert engine.detect(np.zeros((8, 8, 3), dtype=np.uint8)) == []
    with pytest.raises(ValueError, match="8-bit BGR"):
        engine.detect(np.zeros((64, 64), dtype=np.uint8))
    with pytest.raises(ValueError, match="8-bit BGR"):
        engine.detect(np.zeros((64, 64, 3), dtype=np.float32))


def test_a_reencoded_photo_embeds_almost_identically(engine: FaceEngine) -> None:
    image = photo("obama2.jpg")
    ok, png = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 80])
    assert ok
    again = cv2.imdecode(png, cv2.IMREAD_COLOR)
    (first,) = engine.detect(image)
    (second,) = engine.detect(again)

    assert float(engine.embed(image, first) @ engine.embed(again, second)) > 0.95


def test_a_face_that_fills_the_frame_is_found(engine: FaceEngine) -> None:
    """YuNet alone scores faces this large below its threshold; the coarse pass finds them."""
    image = photo("person_c_1.jpg")
    (face,) = engine.detect(image)
    x, y, width, height = (round(v) for v in face.box)
    margin = width // 4
    crop = image[max(0, y - margin) : y + height + margin, max(0, x - margin) : x + width + margin]
    scale = 650 / width
    selfie = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)

    found = engine.detect(selfie)
    assert len(found) == 1
    assert found[0].box.width > 0.6 * selfie.shape[1]
    assert float(engine.embed(selfie, found[0]) @ engine.embed(image, face)) > 0.9


def test_the_self_test_fails_when_the_embeddings_drift(engine: FaceEngine) -> None:
    class Drifted:
        """The real engine with half of every embedding's signs flipped, as a broken preprocessing would."""

        def detect(self, image: ImageBGR) -> list[DetectedFace]:
            return engine.detect(image)

        def embed(self, image: ImageBGR, face: DetectedFace) -> Embedding:
            vector = engine.embed(image, face).copy()
            vector[::2] *= -1
            return vector

    with pytest.raises(SelfTestError, match="cosine"):
        run_self_test(Drifted())  # type: ignore[arg-type]
