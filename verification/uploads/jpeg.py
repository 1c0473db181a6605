"""The structure of a JPEG file, read without decoding it (ITU-T T.81, Annex B).

The markers are walked from SOI to EOI: segments with a length, standalone markers (TEM, RST0-7), fill bytes
(any number of 0xFF before a marker), and the entropy-coded data after each SOS, skipped to the next marker.
The frame header (SOF) gives the size, the number of components and the sample precision (8 bits; 12-bit
frames are refused), which are checked against the limits the moment they are read, so a file declaring a huge
image is refused before the rest of it is looked at. A file that ends before EOI is
truncated and refused: libjpeg would decode it with a warning and grey in the missing rows. Bytes after EOI
(camera trailers, a second picture of an MPO, anything appended) are not part of the image and are cut off.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from verification.errors import InvalidValue
from verification.uploads.limits import UploadLimits, check_decoded_size, check_image_size, corrupt

SOI, EOI, SOS, TEM = 0xD8, 0xD9, 0xDA, 0x01
RESTARTS = range(0xD0, 0xD8)
# Start-of-frame markers: 0xC0-0xCF except DHT (C4), JPG (C8) and DAC (CC).
FRAME_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
# Baseline, extended sequential and progressive Huffman: what cameras, phones and scanners write. Lossless,
# hierarchical and arithmetic-coded frames are refused rather than handed to rarely exercised decoder paths.
SUPPORTED_FRAMES = frozenset({0xC0, 0xC1, 0xC2})
PROGRESSIVE = 0xC2
# 12-bit samples (allowed in extended sequential frames) are for medical imaging, not cameras or scanners.
SAMPLE_PRECISION = 8
# In entropy-coded data 0xFF is followed by 0x00 (a stuffed byte) or a restart marker; anything else is the next
# marker, perhaps after fill bytes, which the marker loop skips. (Written as ``\xff+[^...\xff]`` the pattern is
# twenty times slower.)
_NEXT_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7]")


@dataclass(frozen=True, slots=True)
class JpegLayout:
    width: int
    height: int
    decoded_bytes: int  # the peak memory of decoding it (limits.decoded_bytes)
    end: int  # offset just after EOI


def read_jpeg(data: bytes, limits: UploadLimits) -> JpegLayout:
    """Walk the markers of ``data`` (which starts with SOI) and return its declared size; raise InvalidValue."""
    size: tuple[int, int] | None = None
    needed = 0
    scanned = False
    position = 2
    length_of_data = len(data)
    while True:
        if position >= length_of_data or data[position] != 0xFF:
            raise corrupt()
        while position < length_of_data and data[position] == 0xFF:
            position += 1
        if position >= length_of_data:
            raise corrupt()
        marker = data[position]
        position += 1
        if marker == EOI:
            if size is None or not scanned:
                raise corrupt()
            return JpegLayout(width=size[0], height=size[1], decoded_bytes=needed, end=position)
        if marker == TEM or marker in RESTARTS:
            continue
        if marker in (0x00, SOI) or position + 2 > length_of_data:
            raise corrupt()
        length = int.from_bytes(data[position : position + 2], "big")
        if length < 2 or position + length > length_of_data:
            raise corrupt()
        if marker in FRAME_MARKERS:
            if size is not None:
                raise corrupt()
            width, height, components = _frame(marker, data[position + 2 : position + length])
            size = (width, height)
            check_image_size(width, height, limits)
            # A progressive decode keeps every component's DCT coefficients, two bytes each, until the last scan.
            sample_bytes = 2 if marker == PROGRESSIVE else 1
            needed = check_decoded_size(width, height, components, sample_bytes, limits)
        position += length
        if marker == SOS:
            if size is None:
                raise corrupt()
            scanned = True
            found = _NEXT_MARKER.search(data, position)
            if found is None:
                raise corrupt()
            position = found.start()


def _frame(marker: int, segment: bytes) -> tuple[int, int, int]:
    """Width, height and number of components of a frame header."""
    if marker not in SUPPORTED_FRAMES or (segment and segment[0] != SAMPLE_PRECISION):
        raise InvalidValue("upload_type_not_allowed", "This kind of JPEG is not supported; please upload a photo.")
    if len(segment) < 6:
        raise corrupt()
    height = int.from_bytes(segment[1:3], "big")
    width = int.from_bytes(segment[3:5], "big")
    components = segment[5]
    # A height of 0 defers it to a DNL marker after the first scan; nothing we accept writes that.
    if width == 0 or height == 0 or components not in (1, 3, 4) or len(segment) != 6 + 3 * components:
        raise corrupt()
    return width, height, components
