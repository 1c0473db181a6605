"""Turning bytes or files into the 8-bit BGR pixel arrays the face engine works on.

Uploads are screened first (`verification.uploads`: format, structure, declared size); this only decodes.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from verification.errors import InvalidValue

ImageBGR = npt.NDArray[np.uint8]


def decode_image(data: bytes) -> ImageBGR:
    """Decode a JPEG or PNG into 3-channel BGR (alpha dropped, grey expanded); InvalidValue when it cannot."""
    buffer = np.frombuffer(data, dtype=np.uint8)
    image = cv2.imdecode(buffer, cv2.IMREAD_COLOR) if buffer.size else None
    if image is None:
        raise InvalidValue("image_unreadable", "the image could not be read; send a JPEG or PNG photo")
    return np.ascontiguousarray(image, dtype=np.uint8)


def read_image(path: Path) -> ImageBGR:
    """Read an image file (tools and tests; the service decodes uploads with decode_image)."""
    return decode_image(path.read_bytes())
