"""Turning bytes or files into the 8-bit BGR pixel arrays the face engine works on.

Uploads are screened first (`verification.uploads`: format, structure, declared size). Face images are
then decoded small: the face engine detects on at most 1280 px a side and reads faces through a
112x112 crop, so keeping a 16-megapixel frame at full size (48 MB of pixels, 25 of them in one answer)
buys nothing. Before decoding, the header's size and bit depth give what the decoder will allocate,
and an image whose pixels would take more than `MAX_DECODED_BYTES` is refused; a JPEG is decoded
straight at 1/2, 1/4 or 1/8 of its size by libjpeg's scaled decoding when that still leaves at least
`max_side`, and whatever is still larger is shrunk at once. So one face image costs at most a few
megabytes once decoded, and the decoder's own peak stays bounded by the header check.
"""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from verification.errors import InvalidValue
from verification.uploads.images import IMAGE_KINDS
from verification.uploads.inspection import UploadKind, inspect_for_decoding
from verification.uploads.limits import UploadLimits, corrupt

ImageBGR = npt.NDArray[np.uint8]

# Longest side a face image is kept at (the detector's working size; see engine.DEFAULT_MAX_SIDE).
FACE_MAX_SIDE = 1280
# What a decoder may allocate for one image's pixels: 16 megapixels of 8-bit colour, or fewer deeper ones.
MAX_DECODED_BYTES = 16_000_000 * 3
# PNG colour type -> samples per pixel.
_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
_REDUCED = ((8, cv2.IMREAD_REDUCED_COLOR_8), (4, cv2.IMREAD_REDUCED_COLOR_4), (2, cv2.IMREAD_REDUCED_COLOR_2))


def decode_image(data: bytes) -> ImageBGR:
    """Decode a JPEG or PNG into 3-channel BGR (alpha dropped, grey expanded); InvalidValue when it cannot.

    For tools and tests on trusted files; the service decodes uploads with `decode_face_image`."""
    buffer = np.frombuffer(data, dtype=np.uint8)
    image = cv2.imdecode(buffer, cv2.IMREAD_COLOR) if buffer.size else None
    if image is None:
        raise InvalidValue("image_unreadable", "the image could not be read; send a JPEG or PNG photo")
    return np.ascontiguousarray(image, dtype=np.uint8)


def read_image(path: Path) -> ImageBGR:
    """Read an image file (tools and tests; the service decodes uploads with decode_face_image)."""
    return decode_image(path.read_bytes())


def decoded_bytes(data: bytes, kind: UploadKind, width: int, height: int) -> int:
    """What the decoder allocates for the pixels, from the header: size, channels and bit depth."""
    if kind is UploadKind.PNG:
        depth, colour = data[24], data[25]  # IHDR comes first (checked by the inspection)
        return width * height * max(3, _PNG_CHANNELS.get(colour, 4)) * (2 if depth > 8 else 1)
    return width * height * 3 * (2 if _jpeg_precision(data) > 8 else 1)


def _jpeg_precision(data: bytes) -> int:
    """The sample precision of the JPEG's frame header (8, or 12 for 12-bit JPEG); 8 if not found."""
    position = 2
    while position + 4 < len(data) and data[position] == 0xFF:
        marker = data[position + 1]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            return data[position + 4]
        position += 2 + int.from_bytes(data[position + 2 : position + 4], "big")
    return 8


def decode_face_image(data: bytes, limits: UploadLimits, max_side: int = FACE_MAX_SIDE) -> ImageBGR:
    """The upright pixels of a JPEG or PNG upload, at most `max_side` on the longer side; InvalidValue."""
    inspection = inspect_for_decoding(data, IMAGE_KINDS, limits)
    info = inspection.info
    assert info.width is not None and info.height is not None  # an image kind has a size
    if decoded_bytes(data, info.kind, info.width, info.height) > MAX_DECODED_BYTES:
        raise InvalidValue(
            "image_too_many_pixels",
            "The image is too large to decode; send an 8-bit JPEG or PNG of at most 16 megapixels.",
        )
    factor, flags = 1, cv2.IMREAD_COLOR_BGR
    if info.kind is UploadKind.JPEG:
        longer = max(info.width, info.height)
        factor, flags = next(((f, m) for f, m in _REDUCED if longer / f >= max_side), (1, cv2.IMREAD_COLOR_BGR))
    try:
        # Whatever the EXIF orientation does, the size check below accepts either way round.
        pixels = cv2.imdecode(np.frombuffer(inspection.decodable, dtype=np.uint8), flags)
    except cv2.error:
        raise corrupt() from None
    expected = (math.ceil(info.width / factor), math.ceil(info.height / factor))
    if (
        not isinstance(pixels, np.ndarray)
        or pixels.dtype != np.uint8
        or pixels.ndim != 3
        or pixels.shape[2] != 3
        or (pixels.shape[1], pixels.shape[0]) not in (expected, expected[::-1])
    ):
        raise corrupt()
    height, width = pixels.shape[:2]
    scale = max_side / max(height, width)
    if scale < 1.0:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        pixels = cv2.resize(pixels, size, interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(pixels, dtype=np.uint8)
