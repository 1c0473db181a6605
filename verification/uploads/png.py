"""The structure of a PNG file, read without decoding it (PNG, third edition, sections 5 and 11).

IHDR must come first; its size, and the memory decoding it takes given its colour type and bit depth, are
checked against the limits as soon as it is read, before any other chunk is looked at. Every chunk's length,
type and CRC are then checked up to IEND; a file without IEND is truncated. The decoder is handed a copy holding
only the chunks it needs (IHDR, PLTE, eXIf for the orientation, IDAT, IEND): text and compressed text chunks,
ICC profiles, APNG frames and anything unknown never reach libpng, so neither can a zTXt or iCCP decompression
bomb.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from verification.uploads.limits import UploadLimits, check_decoded_size, check_image_size, corrupt

SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_CHUNK_LENGTH = 2**31 - 1
# Colour type -> allowed bit depths (table 11.1).
BIT_DEPTHS = {0: (1, 2, 4, 8, 16), 2: (8, 16), 3: (1, 2, 4, 8), 4: (8, 16), 6: (8, 16)}
KNOWN_CRITICAL = frozenset({b"IHDR", b"PLTE", b"IDAT", b"IEND"})
FOR_DECODER = frozenset({b"IHDR", b"PLTE", b"eXIf", b"IDAT", b"IEND"})
PALETTE = 3
# Colour type -> samples a pixel once decoded by libpng: a palette expands to RGB, or RGBA with a tRNS chunk.
SAMPLES = {0: 1, 2: 3, 3: 4, 4: 2, 6: 4}


@dataclass(frozen=True, slots=True)
class PngLayout:
    width: int
    height: int
    decoded_bytes: int  # the peak memory of decoding it (limits.decoded_bytes)
    decodable: bytes  # the signature and the chunks the decoder needs, nothing else


def read_png(data: bytes, limits: UploadLimits) -> PngLayout:
    """Check the chunk structure of ``data`` (which starts with the signature); raise InvalidValue."""
    position = len(SIGNATURE)
    header = _chunk_at(data, position)
    if header is None or header[0] != b"IHDR" or header[2] - header[1] != 13:
        raise corrupt()
    fields = data[header[1] : header[2]]
    width = int.from_bytes(fields[0:4], "big")
    height = int.from_bytes(fields[4:8], "big")
    bit_depth, colour_type, compression, filtering, interlace = fields[8:13]
    if not (0 < width <= MAX_CHUNK_LENGTH and 0 < height <= MAX_CHUNK_LENGTH):
        raise corrupt()
    if bit_depth not in BIT_DEPTHS.get(colour_type, ()) or compression or filtering or interlace > 1:
        raise corrupt()
    check_image_size(width, height, limits)
    # Sub-byte depths are expanded to a byte a sample; 16-bit samples are two bytes.
    needed = check_decoded_size(width, height, SAMPLES[colour_type], 2 if bit_depth == 16 else 1, limits)

    kept = [SIGNATURE, data[position : header[3]]]
    seen: set[bytes] = {b"IHDR"}
    position = header[3]
    while True:
        chunk = _chunk_at(data, position)
        if chunk is None:
            raise corrupt()
        kind, start, end, after = chunk
        critical = not kind[0] & 0x20
        if kind == b"IHDR" or (critical and kind not in KNOWN_CRITICAL):
            raise corrupt()
        if kind == b"PLTE" and b"IDAT" in seen:
            raise corrupt()
        if kind in FOR_DECODER and not (kind == b"eXIf" and kind in seen):
            kept.append(data[position:after])
        seen.add(kind)
        position = after
        if kind == b"IEND":
            if end != start or b"IDAT" not in seen or (colour_type == PALETTE and b"PLTE" not in seen):
                raise corrupt()
            return PngLayout(width=width, height=height, decoded_bytes=needed, decodable=b"".join(kept))


def _chunk_at(data: bytes, position: int) -> tuple[bytes, int, int, int] | None:
    """The chunk at ``position`` as (type, data start, data end, next position), or None if it is malformed."""
    if position + 12 > len(data):
        return None
    length = int.from_bytes(data[position : position + 4], "big")
    kind = data[position + 4 : position + 8]
    start = position + 8
    end = start + length
    if length > MAX_CHUNK_LENGTH or end + 4 > len(data) or not kind.isalpha():
        return None
    if zlib.crc32(memoryview(data)[position + 4 : end]) != int.from_bytes(data[end : end + 4], "big"):
        return None
    return kind, start, end, end + 4
