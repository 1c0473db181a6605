"""How big an upload may be, and the one check of an image's declared size that every format shares."""

from __future__ import annotations

from dataclasses import dataclass

from verification.errors import InvalidValue

MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class UploadLimits:
    """Bounds on one upload. The defaults suit photos of identity documents and faces from phone cameras.

    ``max_pixels`` bounds the memory a decode may take: 40 megapixels decode to 120 MB of BGR pixels, before the
    decoder's own buffers. ``max_pdf_pages`` is enforced on an approximate page count (see ``pdf``).
    """

    max_bytes: int = 10 * MIB
    max_pixels: int = 40_000_000
    max_side: int = 10_000
    min_side: int = 64
    max_pdf_pages: int = 50

    def __post_init__(self) -> None:
        for name in ("max_bytes", "max_pixels", "max_side", "min_side", "max_pdf_pages"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be positive")
        if self.min_side > self.max_side:
            raise ValueError("min_side must not exceed max_side")


def check_image_size(width: int, height: int, limits: UploadLimits) -> None:
    """Refuse an image by the size its header declares, before anything allocates memory for its pixels."""
    if width > limits.max_side or height > limits.max_side or width * height > limits.max_pixels:
        raise InvalidValue(
            "image_too_many_pixels",
            f"The image is too large: at most {limits.max_pixels:,} pixels and {limits.max_side:,} pixels a side.",
        )
    if width < limits.min_side or height < limits.min_side:
        raise InvalidValue(
            "image_too_small", f"The image is too small: at least {limits.min_side} pixels on each side."
        )


def corrupt() -> InvalidValue:
    """The error for a file whose structure is broken or truncated; never says where, to echo nothing."""
    return InvalidValue("upload_corrupt", "The file is damaged or incomplete; please upload it again.")
