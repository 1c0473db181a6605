"""Face images are checked by their header before decoding, and kept small once decoded."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from tests.arrange.photos import photo
from verification.errors import InvalidValue
from verification.face.images import FACE_MAX_SIDE, decode_face_image
from verification.uploads import UploadLimits

LIMITS = UploadLimits(max_bytes=5 * 1024 * 1024, max_pixels=16_000_000, max_side=6000, min_side=64)


def encoded(image: np.ndarray, extension: str = ".jpg") -> bytes:
    ok, data = cv2.imencode(extension, image)
    assert ok
    return data.tobytes()


def test_a_large_photo_is_decoded_small_and_upright() -> None:
    large = cv2.resize(photo("obama.jpg"), (3000, 3750), interpolation=cv2.INTER_CUBIC)
    decoded = decode_face_image(encoded(large), LIMITS)
    assert max(decoded.shape[:2]) == FACE_MAX_SIDE
    assert decoded.shape[0] > decoded.shape[1]  # still portrait
    small = photo("person_b_1.jpg")
    assert decode_face_image(encoded(small), LIMITS).shape == small.shape


def test_a_deep_png_is_refused_by_its_header_before_decoding() -> None:
    deep = np.zeros((3000, 3000, 3), dtype=np.uint16)  # 54 MB of pixels once decoded
    with pytest.raises(InvalidValue) as refused:
        decode_face_image(encoded(deep, ".png"), LIMITS)
    assert refused.value.code == "image_too_many_pixels"
    shallow = np.zeros((3000, 3000, 3), dtype=np.uint8)
    assert max(decode_face_image(encoded(shallow, ".png"), LIMITS).shape) == FACE_MAX_SIDE


def test_a_photo_beyond_the_pixel_limit_is_refused() -> None:
    with pytest.raises(InvalidValue) as refused:
        decode_face_image(encoded(np.zeros((4100, 4100, 3), dtype=np.uint8)), LIMITS)
    assert refused.value.code == "image_too_many_pixels"
