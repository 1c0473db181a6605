"""Safe handling of uploaded files: identity and qualification documents (JPEG, PNG, PDF) and face images.

An upload is judged by its bytes, never by its file name or declared content type, and checked before anything
decodes it: size in bytes first, then the kind by magic bytes, then the image size its header declares and the
memory decoding it would take at its channels and bit depth (so a decompression bomb, a small file declaring a
huge image, is refused in microseconds), then its structure.

Images are then decoded by OpenCV and re-encoded from their pixels (``sanitize_image``), which drops all
metadata, or handed to the face pipeline as pixels (``decode_image``). PDFs are screened, not re-rendered: see
``verification.uploads.pdf`` for what the screen looks for and what it cannot promise. They are kept as
uploaded and shown only to operators, never to the public.

Everything here is synchronous and pure; decoding is CPU-bound and belongs in a worker thread.
"""

from verification.uploads.images import IMAGE_KINDS, SanitizedImage, avatar_image, decode_image, sanitize_image
from verification.uploads.inspection import UploadInfo, UploadKind, inspect_upload, screening_memory, sniff_kind
from verification.uploads.limits import UploadLimits, decoded_bytes

ERROR_CODES = frozenset(
    {
        "upload_empty",
        "upload_too_large",
        "upload_type_not_allowed",
        "upload_corrupt",
        "image_too_many_pixels",
        "image_too_small",
        "image_too_large",
        "pdf_encrypted",
        "pdf_active_content",
        "pdf_unsupported",
        "pdf_too_many_pages",
    }
)

__all__ = [
    "ERROR_CODES",
    "IMAGE_KINDS",
    "SanitizedImage",
    "UploadInfo",
    "UploadKind",
    "UploadLimits",
    "avatar_image",
    "decode_image",
    "decoded_bytes",
    "inspect_upload",
    "sanitize_image",
    "screening_memory",
    "sniff_kind",
]
