"""Decoding and re-encoding of uploaded images, so that only pixels are kept.

Every function here runs ``inspect_upload`` first, so the decoder only ever sees a JPEG or PNG whose declared size is
within the limits and whose structure is complete; other formats OpenCV would happily decode (BMP, TIFF, WebP,
JPEG 2000, ...) never reach it, and OpenCV's own size limits (OPENCV_IO_MAX_IMAGE_PIXELS, 2^30 by default) are
never what stops a large image. The decoded size must then agree with the declared one (either way round: the
decoder applies the EXIF orientation).

``sanitize_image`` re-encodes in the uploaded format (JPEG at quality 92, PNG losslessly), which drops every
piece of metadata (EXIF with GPS positions, XMP, ICC profiles, comments, text chunks) and every byte after the
image. The pixels are upright: the EXIF orientation is applied before the EXIF is dropped. Transparency is
dropped too (a PNG's alpha channel is discarded, not composited).

16-bit PNGs are accepted: they are decoded straight to 8-bit BGR (libpng strips each row to 8 bits as it is
read, so no 16-bit image is ever held: a 16-bit RGBA PNG peaks at the same memory as an 8-bit one of its size),
and scanners that write 48-bit colour would otherwise be refused for nothing a reviewer can see. Their cost is
still counted at two bytes a sample (``limits.decoded_bytes``), so a 16-bit image must be smaller to pass.

``avatar_image`` does the same to the centre square of the image, scaled down to a profile picture's size.

All three are CPU-bound and synchronous, and pure: call them from a worker thread. OpenCV releases the GIL while it
decodes and encodes. Decoding peaks at ``UploadInfo.decoded_bytes`` (a 25-megapixel colour image: some 150 MB),
refused above ``UploadLimits.max_decoded_bytes``; bound the sum of those running at once (the service does, with
``service.memory_budget``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import cv2
import numpy as np
import numpy.typing as npt

from verification.uploads.inspection import UploadInfo, UploadKind, inspect_for_decoding
from verification.uploads.limits import UploadLimits, corrupt

IMAGE_KINDS = frozenset({UploadKind.JPEG, UploadKind.PNG})
JPEG_QUALITY = 92
PNG_COMPRESSION = 3  # zlib level: most of level 9's size for a fraction of its time


@dataclass(frozen=True, slots=True)
class SanitizedImage:
    data: bytes
    kind: UploadKind
    width: int  # upright, after the EXIF orientation
    height: int


def decode_image(data: bytes, limits: UploadLimits) -> npt.NDArray[np.uint8]:
    """The upright pixels of a JPEG or PNG upload as a height x width x 3 BGR array; raise InvalidValue."""
    return _decode(data, limits)[1]


def sanitize_image(data: bytes, limits: UploadLimits) -> SanitizedImage:
    """A JPEG or PNG upload re-encoded from its pixels alone; raise InvalidValue."""
    info, pixels = _decode(data, limits)
    return _encode(info.kind, pixels)


def avatar_image(data: bytes, limits: UploadLimits, side: int) -> SanitizedImage:
    """A JPEG or PNG upload as a square picture: its centre, scaled down to at most ``side`` pixels a side,
    re-encoded from its pixels alone in the uploaded format; raise InvalidValue."""
    info, pixels = _decode(data, limits)
    height, width = pixels.shape[:2]
    edge = min(width, height)
    top, left = (height - edge) // 2, (width - edge) // 2
    square = pixels[top : top + edge, left : left + edge]
    if edge > side:
        # INTER_AREA averages the pixels each output pixel covers: no aliasing when shrinking.
        square = cast("npt.NDArray[np.uint8]", cv2.resize(square, (side, side), interpolation=cv2.INTER_AREA))
    return _encode(info.kind, np.ascontiguousarray(square))


def _encode(kind: UploadKind, pixels: npt.NDArray[np.uint8]) -> SanitizedImage:
    if kind is UploadKind.JPEG:
        encoded_ok, encoded = cv2.imencode(".jpg", pixels, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    else:
        encoded_ok, encoded = cv2.imencode(".png", pixels, [cv2.IMWRITE_PNG_COMPRESSION, PNG_COMPRESSION])
    if not encoded_ok:
        raise RuntimeError(f"OpenCV could not encode a decoded {kind.name} image")
    height, width = pixels.shape[:2]
    return SanitizedImage(data=encoded.tobytes(), kind=kind, width=width, height=height)


def _decode(data: bytes, limits: UploadLimits) -> tuple[UploadInfo, npt.NDArray[np.uint8]]:
    inspection = inspect_for_decoding(data, IMAGE_KINDS, limits)
    info = inspection.info
    try:
        # IMREAD_COLOR_BGR (IMREAD_COLOR) converts any depth and channel count to 8-bit BGR and applies the EXIF
        # orientation; IMREAD_UNCHANGED would do neither.
        pixels = cv2.imdecode(np.frombuffer(inspection.decodable, dtype=np.uint8), cv2.IMREAD_COLOR_BGR)
    except cv2.error:
        raise corrupt() from None
    if (
        not isinstance(pixels, np.ndarray)
        or pixels.dtype != np.uint8
        or pixels.ndim != 3
        or pixels.shape[2] != 3
        or (pixels.shape[1], pixels.shape[0]) not in ((info.width, info.height), (info.height, info.width))
    ):
        raise corrupt()
    return info, cast("npt.NDArray[np.uint8]", pixels)
