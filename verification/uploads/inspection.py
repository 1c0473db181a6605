"""What an upload is, judged by its bytes alone, and whether it may be kept."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from verification.errors import InvalidValue
from verification.uploads.jpeg import read_jpeg
from verification.uploads.limits import MIB, UploadLimits
from verification.uploads.pdf import SCREEN_MEMORY, screen_pdf
from verification.uploads.png import SIGNATURE as PNG_SIGNATURE
from verification.uploads.png import read_png


class UploadKind(StrEnum):
    JPEG = "jpeg"
    PNG = "png"
    PDF = "pdf"

    @property
    def media_type(self) -> str:
        return _MEDIA_TYPES[self]


_MEDIA_TYPES = {UploadKind.JPEG: "image/jpeg", UploadKind.PNG: "image/png", UploadKind.PDF: "application/pdf"}
_MAGIC = ((UploadKind.JPEG, b"\xff\xd8\xff"), (UploadKind.PNG, PNG_SIGNATURE), (UploadKind.PDF, b"%PDF-"))


@dataclass(frozen=True, slots=True)
class UploadInfo:
    kind: UploadKind
    byte_size: int
    width: int | None  # as the header declares it, before any EXIF rotation; None for a PDF
    height: int | None
    decoded_bytes: int | None = None  # an image's peak memory while decoding (limits.decoded_bytes); None for a PDF


@dataclass(frozen=True, slots=True)
class Inspection:
    info: UploadInfo
    decodable: bytes | memoryview  # what a decoder is given: an image without trailing bytes or extra chunks


def sniff_kind(data: bytes) -> UploadKind | None:
    """The kind of file ``data`` is by its leading magic bytes; never by a file name or a declared type."""
    for kind, magic in _MAGIC:
        if data.startswith(magic):
            return kind
    return None


def inspect_upload(data: bytes, allowed: frozenset[UploadKind], limits: UploadLimits) -> UploadInfo:
    """Check an upload without decoding it; raise InvalidValue with the first problem found.

    In order: empty (``upload_empty``), larger than ``limits.max_bytes`` (``upload_too_large``), not one of
    ``allowed`` (``upload_type_not_allowed``), then by kind: an image's declared size (``image_too_many_pixels``,
    ``image_too_small``), the memory decoding it would take (``image_too_large``) and structure
    (``upload_corrupt``), a PDF's screen (see ``verification.uploads.pdf``).
    """
    return inspect_for_decoding(data, allowed, limits).info


def screening_memory(data: bytes, allowed: frozenset[UploadKind], limits: UploadLimits) -> int:
    """The memory screening ``data`` (``inspect_upload``, then decoding an image) takes at its peak.

    Known before any of that runs: an image's from its header (``UploadInfo.decoded_bytes``) and twice its size
    (the structure check copies the chunks the decoder is given), a PDF's from the screen's own bounds. Raises
    InvalidValue for what is refused already: size, kind, an image's declared size, the memory it would take,
    its structure; a PDF's screen is not run.
    """
    kind = _kind(data, allowed, limits)
    if kind is UploadKind.PDF:
        return SCREEN_MEMORY
    decoded = inspect_for_decoding(data, allowed, limits).info.decoded_bytes
    assert decoded is not None  # every image has it
    return decoded + 2 * len(data)


def inspect_for_decoding(data: bytes, allowed: frozenset[UploadKind], limits: UploadLimits) -> Inspection:
    """``inspect_upload``, keeping what the image decoder should be given."""
    kind = _kind(data, allowed, limits)
    if kind is UploadKind.JPEG:
        jpeg = read_jpeg(data, limits)
        info = UploadInfo(kind, len(data), jpeg.width, jpeg.height, jpeg.decoded_bytes)
        return Inspection(info=info, decodable=memoryview(data)[: jpeg.end])
    if kind is UploadKind.PNG:
        png = read_png(data, limits)
        info = UploadInfo(kind, len(data), png.width, png.height, png.decoded_bytes)
        return Inspection(info=info, decodable=png.decodable)
    screen_pdf(data, limits)
    return Inspection(info=UploadInfo(kind=kind, byte_size=len(data), width=None, height=None), decodable=data)


def _kind(data: bytes, allowed: frozenset[UploadKind], limits: UploadLimits) -> UploadKind:
    if not data:
        raise InvalidValue("upload_empty", "The file is empty.")
    if len(data) > limits.max_bytes:
        raise InvalidValue("upload_too_large", f"The file is too large: at most {_describe_bytes(limits.max_bytes)}.")
    kind = sniff_kind(data)
    if kind is None or kind not in allowed:
        raise InvalidValue(
            "upload_type_not_allowed", f"This type of file is not accepted; please upload {_describe_kinds(allowed)}."
        )
    return kind


def _describe_bytes(size: int) -> str:
    for unit, factor in (("MiB", MIB), ("KiB", 1024)):
        if size >= factor and size % factor == 0:
            return f"{size // factor} {unit}"
    return f"{size:,} bytes"


def _describe_kinds(kinds: frozenset[UploadKind]) -> str:
    names = [kind.name for kind in UploadKind if kind in kinds]
    if len(names) <= 1:
        return names[0] if names else "another file"
    return ", ".join(names[:-1]) + " or " + names[-1]
