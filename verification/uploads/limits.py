"""How big an upload may be, and the checks of an image's declared size that every format shares."""

from __future__ import annotations

from dataclasses import dataclass

from verification.errors import InvalidValue

MIB = 1024 * 1024
BGR_SAMPLES = 3  # what every decode here ends as: 8-bit BGR


@dataclass(frozen=True, slots=True)
class UploadLimits:
    """Bounds on one upload. The defaults suit photos of identity documents and faces from phone cameras.

    ``max_pixels`` and ``max_side`` bound what a header may declare; ``max_decoded_bytes`` bounds the memory the
    decode will take at its peak (``decoded_bytes``), which also depends on the file's channels and bit depth.
    ``max_pdf_pages`` is enforced on an approximate page count (see ``pdf``).
    """

    max_bytes: int = 10 * MIB
    max_pixels: int = 40_000_000
    max_side: int = 10_000
    min_side: int = 64
    max_pdf_pages: int = 50
    max_decoded_bytes: int = 256 * MIB

    def __post_init__(self) -> None:
        for name in ("max_bytes", "max_pixels", "max_side", "min_side", "max_pdf_pages", "max_decoded_bytes"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be positive")
        if self.min_side > self.max_side:
            raise ValueError("min_side must not exceed max_side")


def decoded_bytes(width: int, height: int, samples_per_pixel: int, bytes_per_sample: int) -> int:
    """The memory decoding an image to 8-bit BGR and re-encoding it takes at its peak, from its header alone.

    Decoding: the decoder's own image at the file's channels and depth (``samples_per_pixel`` x
    ``bytes_per_sample``: a 16-bit RGBA PNG is 8 bytes a pixel, a progressive JPEG keeps 2-byte DCT coefficients
    for each component), then the BGR image, and the copy of it OpenCV's Python binding hands back. Re-encoding:
    the BGR image and the encoded file twice (OpenCV's buffer and its copy), which for a PNG of noise is as large
    as the image, so three BGR images. Measured with OpenCV 5.0 (see the tests): any PNG or baseline JPEG peaks at
    two BGR images while decoding, a progressive 4:4:4 JPEG at its coefficients plus one. libpng and libjpeg
    convert row by row, so the first term is an upper bound rather than what they hold; it is counted so that a
    decoder that expands the whole image first still fits.
    """
    pixels = width * height
    decoding = pixels * samples_per_pixel * bytes_per_sample + 2 * pixels * BGR_SAMPLES
    return max(decoding, 3 * pixels * BGR_SAMPLES)


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


def check_decoded_size(
    width: int, height: int, samples_per_pixel: int, bytes_per_sample: int, limits: UploadLimits
) -> int:
    """``decoded_bytes`` of an image whose declared size passed ``check_image_size``; refuse it above the limit."""
    needed = decoded_bytes(width, height, samples_per_pixel, bytes_per_sample)
    if needed > limits.max_decoded_bytes:
        # In megapixels at 8 bits a channel in RGB, the usual case, so the advice can be followed.
        megapixels = limits.max_decoded_bytes / decoded_bytes(1, 1, 3, 1) / 1_000_000
        raise InvalidValue(
            "image_too_large",
            f"The image takes too much memory to check: at most about {megapixels:.0f} megapixels in colour at 8 "
            "bits a channel; please upload a smaller image, or save it with 8 bits a channel.",
        )
    return needed


def corrupt() -> InvalidValue:
    """The error for a file whose structure is broken or truncated; never says where, to echo nothing."""
    return InvalidValue("upload_corrupt", "The file is damaged or incomplete; please upload it again.")
