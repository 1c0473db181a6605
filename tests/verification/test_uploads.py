"""Uploads: sniffing by magic bytes, limits read from headers before any decoding, truncation, metadata
stripped by re-encoding, EXIF orientation, PDF screening, and fuzzing that only InvalidValue ever escapes.

Every file is made here: images with cv2.imencode, and EXIF blocks, PNG chunks and PDFs by hand.
"""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import time
import zlib
from collections.abc import Callable
from functools import cache, partial
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verification.errors import InvalidValue
from verification.uploads import (
    ERROR_CODES,
    IMAGE_KINDS,
    UploadInfo,
    UploadKind,
    UploadLimits,
    decode_image,
    decoded_bytes,
    inspect_upload,
    pdf_process,
    sanitize_image,
    screening_memory,
    sniff_kind,
)
from verification.uploads import pdf as pdf_screen

LIMITS = UploadLimits()
ALL_KINDS = frozenset(UploadKind)
PDF_ONLY = frozenset({UploadKind.PDF})
FUZZ = settings(max_examples=150, database=None, deadline=None)
GPS_MARKER = b"GPS 39.9042N 116.4074E idv-marker"
RED, BLUE = (0, 0, 255), (255, 0, 0)


# Images


def two_tone(width: int = 128, height: int = 64) -> npt.NDArray[np.uint8]:
    """Left half red, right half blue: which way round it ends up shows how it was rotated."""
    pixels = np.zeros((height, width, 3), np.uint8)
    pixels[:, : width // 2] = RED
    pixels[:, width // 2 :] = BLUE
    return pixels


def encoded(extension: str, pixels: cv2.typing.MatLike, *params: int) -> bytes:
    ok, buffer = cv2.imencode(extension, pixels, list(params))
    assert ok
    return buffer.tobytes()


def jpeg(width: int = 128, height: int = 64, *params: int) -> bytes:
    return encoded(".jpg", two_tone(width, height), *params)


def png(width: int = 128, height: int = 64) -> bytes:
    return encoded(".png", two_tone(width, height))


def segment(marker: int, body: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(body) + 2) + body


def after_jfif(data: bytes, *segments: bytes) -> bytes:
    """``segments`` inserted after SOI and the JFIF APP0 segment, where a camera puts its Exif block."""
    assert data[2:4] == b"\xff\xe0"
    position = 4 + int.from_bytes(data[4:6], "big")
    return data[:position] + b"".join(segments) + data[position:]


def exif(*entries: tuple[int, int, bytes]) -> bytes:
    """An APP1 Exif segment: a big-endian TIFF header and IFD0 with ``(tag, type, value)`` entries."""
    after_ifd = 8 + 2 + 12 * len(entries) + 4
    ifd, extra = struct.pack(">H", len(entries)), b""
    for tag, kind, value in sorted(entries):
        count = len(value) // {2: 1, 3: 2, 4: 4}[kind]
        if len(value) <= 4:
            inline = value.ljust(4, b"\x00")
        else:
            inline = struct.pack(">I", after_ifd + len(extra))
            extra += value
        ifd += struct.pack(">HHI", tag, kind, count) + inline
    tiff = b"MM\x00\x2a" + struct.pack(">I", 8) + ifd + struct.pack(">I", 0) + extra
    return segment(0xE1, b"Exif\x00\x00" + tiff)


def orientation(value: int) -> tuple[int, int, bytes]:
    return 0x0112, 3, struct.pack(">H", value)


def description(text: bytes) -> tuple[int, int, bytes]:
    return 0x010E, 2, text + b"\x00"


def jpeg_markers(data: bytes) -> list[int]:
    """The markers of the segments before the first scan."""
    markers, position = [], 2
    while True:
        assert data[position] == 0xFF
        markers.append(data[position + 1])
        if data[position + 1] == 0xDA:
            return markers
        position += 2 + int.from_bytes(data[position + 2 : position + 4], "big")


def chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_chunks(data: bytes) -> list[bytes]:
    kinds, position = [], 8
    while position < len(data):
        length = int.from_bytes(data[position : position + 4], "big")
        kinds.append(data[position + 4 : position + 8])
        position += 12 + length
    return kinds


def after_ihdr(data: bytes, *chunks: bytes) -> bytes:
    return data[:33] + b"".join(chunks) + data[33:]


def png_declaring(width: int, height: int, depth: int = 8, colour: int = 2, *methods: int) -> bytes:
    """A PNG whose IHDR (with a valid CRC) declares ``width`` x ``height``, with a few bytes of IDAT.

    ``methods`` are compression, filter and interlace, 0 unless given."""
    header = struct.pack(">IIBBBBB", width, height, depth, colour, *(methods or (0, 0, 0)))
    idat = chunk(b"IDAT", zlib.compress(b"\x00" * 64))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + idat + chunk(b"IEND", b"")


@cache
def png_of_zeros(width: int, height: int, depth: int = 8, colour: int = 2, level: int = 1) -> bytes:
    """A real PNG of black pixels, its rows compressed by zlib as any encoder would: tiny for its size."""
    samples = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[colour]
    row = bytes(1 + (width * samples * depth + 7) // 8)  # filter byte 0, then the samples
    compressor = zlib.compressobj(level)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0))
    palette = chunk(b"PLTE", bytes(3)) if colour == 3 else b""
    return b"\x89PNG\r\n\x1a\n" + header + palette + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def with_frame_size(data: bytes, width: int, height: int) -> bytes:
    """A JPEG whose SOF0 declares another size; the scan data is left alone."""
    frame = data.index(b"\xff\xc0")
    return data[: frame + 5] + struct.pack(">HH", height, width) + data[frame + 9 :]


def never_decode(buffer: object, flags: int) -> None:
    pytest.fail("the decoder was called")


def refusal(call: Callable[[], object]) -> str:
    with pytest.raises(InvalidValue) as caught:
        call()
    assert caught.value.code in ERROR_CODES
    return caught.value.code


def is_colour(pixel: npt.NDArray[np.uint8], colour: tuple[int, int, int]) -> bool:
    return bool(np.all(np.abs(pixel.astype(int) - np.array(colour)) < 40))


# PDFs


def pdf(*objects: bytes, trailer: bytes = b"") -> bytes:
    """A PDF with ``objects`` numbered from 1, a cross-reference table and a trailer whose root is object 1."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R %s>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, trailer, xref)
    return bytes(out)


def stream(dictionary: bytes, data: bytes) -> bytes:
    return b"<< %s /Length %d >>\nstream\n%s\nendstream" % (dictionary, len(data), data)


def document(catalog: bytes = b"", *extra_objects: bytes, pages: int = 1, trailer: bytes = b"") -> bytes:
    """Catalog (1), page tree (2), ``pages`` pages (3...), then ``extra_objects``."""
    kids = b" ".join(b"%d 0 R" % (3 + index) for index in range(pages))
    return pdf(
        b"<< /Type /Catalog /Pages 2 0 R %s>>" % catalog,
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages),
        *[b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"] * pages,
        *extra_objects,
        trailer=trailer,
    )


def object_stream(objects: bytes, filter_name: bytes = b"/FlateDecode") -> bytes:
    content = b"10 0 " + objects
    data = zlib.compress(content) if filter_name == b"/FlateDecode" else content
    return stream(b"/Type /ObjStm /N 1 /First 5 /Filter %s" % filter_name, data)


def xref_stream_pdf(
    objects: dict[int, bytes], compressed: dict[int, tuple[int, int]], *, root: int = 1, base: bytes = b""
) -> bytes:
    """A PDF 1.5 file (or, after ``base``, an incremental update of it) as current writers make them: the
    ``objects`` written out, ``compressed`` (number -> object stream, index) only in an object stream, and a
    cross-reference stream listing both (with ``/Prev`` to the base's)."""
    out = bytearray(base or b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for number, body in sorted(objects.items()):
        offsets[number] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref_number = max([*objects, *compressed]) + 1
    offsets[xref_number] = len(out)
    numbers = sorted([*offsets, *compressed])
    rows = b"".join(
        struct.pack(">BIH", 1, offsets[n], 0) if n in offsets else struct.pack(">BIH", 2, *compressed[n])
        for n in numbers
    )
    index = b" ".join(b"%d 1" % n for n in numbers)
    prev = b""
    if base:
        prev = b"/Prev %d " % int(base.rsplit(b"startxref", 1)[1].split()[0])
    dictionary = b"/Type /XRef /Size %d /W [1 4 2] /Index [%s] /Root %d 0 R %s" % (xref_number + 1, index, root, prev)
    out += b"%d 0 obj\n%s\nendobj\n" % (xref_number, stream(dictionary, rows))
    out += b"startxref\n%d\n%%%%EOF\n" % offsets[xref_number]
    return bytes(out)


def packed(
    members: dict[int, bytes], header: Callable[[int, int], bytes] = lambda n, o: b"%d %d " % (n, o), *, flate: int = 1
) -> bytes:
    """An object stream holding ``members``, its header written by ``header``, compressed ``flate`` times over
    (``/Filter [/FlateDecode /FlateDecode]`` for two)."""
    head, body = b"", b""
    for number, member in members.items():
        head += header(number, len(body))
        body += member + b"\n"
    content = head + body
    for _ in range(flate):
        content = zlib.compress(content)
    filters = b"[%s]" % b" ".join([b"/FlateDecode"] * flate)
    return stream(b"/Type /ObjStm /N %d /First %d /Filter %s" % (len(members), len(head), filters), content)


CLEAN_PAGES = {2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>", 3: b"<< /Type /Page /Parent 2 0 R >>"}
JS_ACTION = b"<< /S /JavaScript /JS (app.alert(document.cookie)) >>"


def modern(catalog: bytes, members: dict[int, bytes], **packing: object) -> bytes:
    """Catalog 1 (written out), pages 2-3, and ``members`` compressed in object stream 4."""
    objects = {1: b"<< /Type /Catalog /Pages 2 0 R %s>>" % catalog, **CLEAN_PAGES, 4: packed(members, **packing)}
    return xref_stream_pdf(objects, {number: (4, index) for index, number in enumerate(members)})


# Sniffing and the order of checks


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (jpeg(), UploadKind.JPEG),
        (png(), UploadKind.PNG),
        (document(), UploadKind.PDF),
        (b"GIF89a" + bytes(20), None),
        (encoded(".bmp", two_tone()), None),
        (encoded(".tiff", two_tone()), None),
        (b"<html><script>alert(1)</script>", None),
        (b"", None),
        (b"\xff\xd8", None),
    ],
)
def test_kind_is_sniffed_from_magic_bytes(data: bytes, kind: UploadKind | None) -> None:
    assert sniff_kind(data) == kind


def test_a_pdf_named_or_declared_as_jpeg_is_a_pdf_and_refused_where_only_images_are_allowed() -> None:
    renamed = document()  # whatever name or Content-Type it came with, only the bytes are looked at
    assert sniff_kind(renamed) is UploadKind.PDF
    assert refusal(lambda: inspect_upload(renamed, IMAGE_KINDS, LIMITS)) == "upload_type_not_allowed"
    assert refusal(lambda: sanitize_image(renamed, LIMITS)) == "upload_type_not_allowed"
    assert refusal(lambda: decode_image(renamed, LIMITS)) == "upload_type_not_allowed"


def test_formats_opencv_would_decode_never_reach_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cv2, "imdecode", never_decode)
    for extension in (".bmp", ".tiff", ".webp", ".ppm"):
        other = encoded(extension, two_tone())
        assert refusal(partial(sanitize_image, other, LIMITS)) == "upload_type_not_allowed"


def test_an_empty_upload_is_refused() -> None:
    assert refusal(lambda: inspect_upload(b"", ALL_KINDS, LIMITS)) == "upload_empty"


def test_an_upload_over_the_byte_limit_is_refused_by_its_length_before_anything_else() -> None:
    # Just over the default 10 MiB: refused for its size whatever it claims to be, before its type is looked at.
    for magic in (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"%PDF-1.7\n", b"MZ"):
        oversized = magic + bytes(LIMITS.max_bytes + 1 - len(magic))
        started = time.perf_counter()
        assert refusal(partial(inspect_upload, oversized, ALL_KINDS, LIMITS)) == "upload_too_large"
        assert time.perf_counter() - started < 0.05


def test_the_byte_limit_is_inclusive_and_named_in_the_message() -> None:
    data = jpeg()
    assert inspect_upload(data, IMAGE_KINDS, UploadLimits(max_bytes=len(data))).byte_size == len(data)
    with pytest.raises(InvalidValue) as caught:
        inspect_upload(data, IMAGE_KINDS, UploadLimits(max_bytes=len(data) - 1))
    assert caught.value.code == "upload_too_large"
    assert f"{len(data) - 1:,} bytes" in caught.value.message
    with pytest.raises(InvalidValue) as caught:
        inspect_upload(bytes(LIMITS.max_bytes + 1), ALL_KINDS, LIMITS)
    assert "10 MiB" in caught.value.message


def test_the_type_refusal_names_what_is_allowed() -> None:
    with pytest.raises(InvalidValue) as caught:
        inspect_upload(b"GIF89a", IMAGE_KINDS, LIMITS)
    assert caught.value.message.endswith("please upload JPEG or PNG.")


def test_inspection_reports_kind_size_and_declared_dimensions() -> None:
    in_memory = decoded_bytes(128, 64, 3, 1)
    assert inspect_upload(jpeg(), IMAGE_KINDS, LIMITS) == UploadInfo(UploadKind.JPEG, len(jpeg()), 128, 64, in_memory)
    assert inspect_upload(png(), IMAGE_KINDS, LIMITS) == UploadInfo(UploadKind.PNG, len(png()), 128, 64, in_memory)
    assert inspect_upload(document(), PDF_ONLY, LIMITS) == UploadInfo(UploadKind.PDF, len(document()), None, None)


def test_limits_refuse_nonsense() -> None:
    with pytest.raises(ValueError, match="positive"):
        UploadLimits(max_bytes=0)
    with pytest.raises(ValueError, match="min_side"):
        UploadLimits(min_side=100, max_side=50)


# Decompression bombs and sizes, from the header alone


def test_a_png_declaring_100000_by_100000_pixels_is_refused_in_microseconds_without_decoding(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(cv2, "imdecode", never_decode)
    bomb = png_declaring(100_000, 100_000)
    assert len(bomb) < 100
    started = time.perf_counter()
    assert refusal(lambda: inspect_upload(bomb, IMAGE_KINDS, LIMITS)) == "image_too_many_pixels"
    assert time.perf_counter() - started < 0.05
    assert refusal(lambda: sanitize_image(bomb, LIMITS)) == "image_too_many_pixels"
    assert refusal(lambda: decode_image(bomb, LIMITS)) == "image_too_many_pixels"


def test_a_jpeg_declaring_60000_by_60000_pixels_is_refused_in_microseconds_without_decoding(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(cv2, "imdecode", never_decode)
    bomb = with_frame_size(jpeg(), 60_000, 60_000)
    started = time.perf_counter()
    assert refusal(lambda: inspect_upload(bomb, IMAGE_KINDS, LIMITS)) == "image_too_many_pixels"
    assert time.perf_counter() - started < 0.05
    assert refusal(lambda: sanitize_image(bomb, LIMITS)) == "image_too_many_pixels"


def test_the_size_is_checked_before_the_rest_of_the_file_so_a_truncated_bomb_is_still_a_bomb() -> None:
    bomb = with_frame_size(jpeg(), 60_000, 60_000)
    assert refusal(lambda: inspect_upload(bomb[: bomb.index(b"\xff\xda")], IMAGE_KINDS, LIMITS)) == (
        "image_too_many_pixels"
    )


@pytest.mark.parametrize(
    ("width", "height", "code"),
    [
        (10_001, 100, "image_too_many_pixels"),  # a side over max_side
        (100, 10_001, "image_too_many_pixels"),
        (7_000, 7_000, "image_too_many_pixels"),  # 49 megapixels: sides fine, area not
        (63, 500, "image_too_small"),
        (500, 63, "image_too_small"),
    ],
)
def test_declared_dimensions_are_held_to_the_limits(width: int, height: int, code: str) -> None:
    assert refusal(lambda: inspect_upload(png_declaring(width, height), IMAGE_KINDS, LIMITS)) == code
    assert refusal(lambda: inspect_upload(with_frame_size(jpeg(), width, height), IMAGE_KINDS, LIMITS)) == code


def test_declared_dimensions_at_the_limits_pass_the_header_check() -> None:
    limits = UploadLimits(max_pixels=128 * 64, max_side=128, min_side=64)
    assert inspect_upload(jpeg(), IMAGE_KINDS, limits).width == 128
    assert inspect_upload(png(), IMAGE_KINDS, limits).height == 64


def test_a_16_bit_png_of_6300_by_6300_pixels_is_refused_before_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    # The attack of issue 17: 40 megapixels (under max_pixels) of 16-bit colour, a megabyte of zlib-compressed
    # zeros; decoded it took some 225 MiB.
    bomb = png_of_zeros(6300, 6300, depth=16, colour=2)
    assert len(bomb) < 2 * 1024 * 1024
    monkeypatch.setattr(cv2, "imdecode", never_decode)
    started = time.perf_counter()
    assert refusal(lambda: inspect_upload(bomb, IMAGE_KINDS, LIMITS)) == "image_too_large"
    assert time.perf_counter() - started < 0.5  # the CRC of one chunk; nothing is inflated
    assert refusal(lambda: sanitize_image(bomb, LIMITS)) == "image_too_large"
    assert refusal(lambda: decode_image(bomb, LIMITS)) == "image_too_large"
    assert refusal(lambda: screening_memory(bomb, IMAGE_KINDS, LIMITS)) == "image_too_large"


@pytest.mark.parametrize(
    ("depth", "colour", "bytes_a_pixel"),
    [(8, 0, 1), (16, 0, 2), (8, 2, 3), (16, 2, 6), (8, 3, 4), (1, 3, 4), (8, 4, 2), (8, 6, 4), (16, 6, 8)],
)
def test_the_memory_of_a_png_counts_its_channels_and_bit_depth(depth: int, colour: int, bytes_a_pixel: int) -> None:
    data = png_of_zeros(1000, 1000, depth, colour)
    # The decoder's image and BGR twice, or BGR and a PNG of it twice while re-encoding, whichever is more.
    expected = 1000 * 1000 * max(bytes_a_pixel + 6, 9)
    limits = UploadLimits(max_decoded_bytes=expected)
    assert inspect_upload(data, IMAGE_KINDS, limits).decoded_bytes == expected
    assert screening_memory(data, IMAGE_KINDS, limits) == expected + 2 * len(data)
    assert refusal(lambda: inspect_upload(data, IMAGE_KINDS, UploadLimits(max_decoded_bytes=expected - 1))) == (
        "image_too_large"
    )


def test_a_progressive_jpeg_counts_its_coefficients() -> None:
    baseline = jpeg(640, 480)
    progressive = jpeg(640, 480, cv2.IMWRITE_JPEG_PROGRESSIVE, 1)
    assert inspect_upload(baseline, IMAGE_KINDS, LIMITS).decoded_bytes == 640 * 480 * (3 + 6)
    assert inspect_upload(progressive, IMAGE_KINDS, LIMITS).decoded_bytes == 640 * 480 * (3 * 2 + 6)
    limits = UploadLimits(max_decoded_bytes=640 * 480 * 9)
    inspect_upload(baseline, IMAGE_KINDS, limits)
    assert refusal(lambda: inspect_upload(progressive, IMAGE_KINDS, limits)) == "image_too_large"


def test_a_12_bit_jpeg_is_refused() -> None:
    data = jpeg(128, 64)
    frame = data.index(b"\xff\xc0")
    twelve_bit = data[: frame + 4] + b"\x0c" + data[frame + 5 :]
    assert refusal(lambda: inspect_upload(twelve_bit, IMAGE_KINDS, LIMITS)) == "upload_type_not_allowed"


MEASURE_PEAKS = """
import json, sys
import cv2, numpy as np
from verification.uploads import IMAGE_KINDS, UploadLimits, sanitize_image, screening_memory

def kib(field):
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field))

limits = UploadLimits(max_bytes=64 * 1024 * 1024)  # noise does not compress
results = {}
for path in sys.argv[1:]:
    data = open(path, "rb").read()
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")  # the high-water mark starts again from here
    before = kib("VmRSS:")
    sanitize_image(data, limits)
    peak = (kib("VmHWM:") - before) * 1024
    results[path] = {"peak": peak, "estimate": screening_memory(data, IMAGE_KINDS, limits)}
print(json.dumps(results))
"""


@pytest.mark.slow
def test_the_estimate_bounds_the_memory_decoding_really_takes(tmp_path: Path) -> None:
    gray = np.zeros((3000, 3000), np.uint8)
    colour = np.random.default_rng(7).integers(0, 255, (3000, 3000, 3), np.uint8)
    samples = {
        "png-8-gray": png_of_zeros(3000, 3000, 8, 0),
        "png-16-rgba": png_of_zeros(3000, 3000, 16, 6),
        "png-palette": png_of_zeros(3000, 3000, 8, 3),
        "png-noise": encoded(".png", colour),
        "jpeg-baseline": encoded(".jpg", colour),
        "jpeg-progressive-444": encoded(
            ".jpg",
            colour,
            cv2.IMWRITE_JPEG_PROGRESSIVE,
            1,
            cv2.IMWRITE_JPEG_SAMPLING_FACTOR,
            cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444,
        ),
        "jpeg-gray": encoded(".jpg", gray),
    }
    paths = []
    for name, data in samples.items():
        (tmp_path / name).write_bytes(data)
        paths.append(str(tmp_path / name))
    root = Path(__file__).resolve().parents[2]
    measured = subprocess.run([sys.executable, "-c", MEASURE_PEAKS, *paths], cwd=root, capture_output=True, timeout=120)
    assert measured.returncode == 0, measured.stderr.decode()
    print(measured.stdout.decode())
    for path, result in json.loads(measured.stdout).items():
        # The estimate is an upper bound, and not a wild one.
        assert result["peak"] <= result["estimate"] <= 4 * result["peak"], (path, result)


def test_the_decoded_size_must_agree_with_the_header(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cv2, "imdecode", lambda buffer, flags: np.zeros((200, 300, 3), np.uint8))
    assert refusal(lambda: sanitize_image(png(), LIMITS)) == "upload_corrupt"


def test_an_opencv_error_while_decoding_is_a_corrupt_upload(monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(buffer: object, flags: int) -> None:
        raise cv2.error("decoder failed")

    monkeypatch.setattr(cv2, "imdecode", explode)
    assert refusal(lambda: decode_image(jpeg(), LIMITS)) == "upload_corrupt"


# Structure: truncation and damage


@pytest.mark.parametrize("keep", [3, 20, 200, 0.5, -1, -2, -3])
def test_a_truncated_jpeg_is_refused(keep: float) -> None:
    data = jpeg()
    cut = data[: int(len(data) * keep)] if isinstance(keep, float) else data[:keep]
    assert refusal(lambda: inspect_upload(cut, IMAGE_KINDS, LIMITS)) == "upload_corrupt"
    assert refusal(lambda: sanitize_image(cut, LIMITS)) == "upload_corrupt"


@pytest.mark.parametrize("keep", [9, 20, 33, 50, 0.5, -1, -12])
def test_a_truncated_png_is_refused(keep: float) -> None:
    data = png()
    cut = data[: int(len(data) * keep)] if isinstance(keep, float) else data[:keep]
    assert refusal(lambda: inspect_upload(cut, IMAGE_KINDS, LIMITS)) == "upload_corrupt"
    assert refusal(lambda: sanitize_image(cut, LIMITS)) == "upload_corrupt"


@pytest.mark.parametrize(
    "magic", [b"\xff\xd8\xff", b"\xff\xd8\xff\xe0", b"\x89PNG\r\n\x1a\n", b"%PDF-1.4\n", b"%PDF-1.4\n%%EOF"]
)
def test_garbage_after_the_magic_bytes_is_refused(magic: bytes) -> None:
    garbage = bytes((index * 97 + 13) % 256 for index in range(4096))
    assert refusal(lambda: inspect_upload(magic + garbage, ALL_KINDS, LIMITS)) == "upload_corrupt"


def test_jpeg_structures_decoders_accept_are_accepted() -> None:
    for variant in (
        jpeg(128, 64, cv2.IMWRITE_JPEG_PROGRESSIVE, 1),
        jpeg(128, 64, cv2.IMWRITE_JPEG_RST_INTERVAL, 1),  # restart markers inside the scan
        jpeg()[:2] + b"\xff\xff\xff" + jpeg()[2:],  # fill bytes before a marker
        after_jfif(jpeg(), segment(0xFE, b"a comment"), segment(0xE2, b"ICC_PROFILE\x00" + bytes(100))),
        encoded(".jpg", cv2.cvtColor(two_tone(), cv2.COLOR_BGR2GRAY)),
    ):
        assert sanitize_image(variant, LIMITS).width == 128


@pytest.mark.parametrize(
    ("change", "code"),
    [
        pytest.param(lambda data: data.replace(b"\xff\xc0", b"\xff\xc3", 1), "upload_type_not_allowed", id="lossless"),
        pytest.param(
            lambda data: data.replace(b"\xff\xc0", b"\xff\xc9", 1), "upload_type_not_allowed", id="arithmetic"
        ),
        pytest.param(
            lambda data: with_frame_size(data, 128, 0), "upload_corrupt", id="height-deferred-to-a-dnl-marker"
        ),
        pytest.param(
            lambda data: data[:2] + data[data.index(b"\xff\xda") :], "upload_corrupt", id="a-scan-before-the-frame"
        ),
        pytest.param(lambda data: after_jfif(data, b"\x00"), "upload_corrupt", id="a-byte-where-a-marker-should-be"),
        pytest.param(lambda data: data[:2] + b"\xff\xd8" + data[2:], "upload_corrupt", id="a-second-soi"),
        pytest.param(
            lambda data: after_jfif(data, data[data.index(b"\xff\xc0") :][:19]), "upload_corrupt", id="two-frames"
        ),
        pytest.param(
            lambda data: data[:4] + b"\xff\xff" + data[6:], "upload_corrupt", id="a-segment-longer-than-the-file"
        ),
        pytest.param(lambda data: data[:4] + b"\x00\x01" + data[6:], "upload_corrupt", id="a-segment-length-below-2"),
    ],
)
def test_jpeg_structures_outside_the_standard_or_our_subset_are_refused(
    change: Callable[[bytes], bytes], code: str
) -> None:
    assert refusal(lambda: inspect_upload(change(jpeg()), IMAGE_KINDS, LIMITS)) == code


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda data: data[:-1] + bytes([data[-1] ^ 1]), id="a-crc-that-does-not-match"),
        pytest.param(lambda data: after_ihdr(data, chunk(b"ABCD", b"x")), id="an-unknown-critical-chunk"),
        pytest.param(lambda data: after_ihdr(data, chunk(b"IHDR", data[16:29])), id="a-second-ihdr"),
        pytest.param(lambda data: after_ihdr(data, chunk(b"te1t", b"x")), id="a-chunk-type-that-is-not-letters"),
        pytest.param(lambda data: data[:33] + data[data.index(b"IEND") - 4 :], id="no-idat"),
        pytest.param(lambda data: data[:-12] + chunk(b"IEND", b"x"), id="iend-with-data"),
        pytest.param(lambda data: data[:8] + data[33:], id="ihdr-not-first"),
        pytest.param(lambda data: png_declaring(100, 100, 8, 5), id="no-colour-type-5"),
        pytest.param(lambda data: png_declaring(100, 100, 16, 3), id="no-16-bit-palettes"),
        pytest.param(lambda data: png_declaring(100, 100, 8, 2, 1, 0, 0), id="compression-method-1"),
        pytest.param(lambda data: png_declaring(100, 100, 8, 2, 0, 0, 2), id="interlace-method-2"),
        pytest.param(lambda data: png_declaring(0, 100), id="zero-width"),
        pytest.param(lambda data: png_declaring(2**31, 100), id="width-over-2-31"),
    ],
)
def test_png_structures_outside_the_standard_are_refused(change: Callable[[bytes], bytes]) -> None:
    assert refusal(lambda: inspect_upload(change(png()), IMAGE_KINDS, LIMITS)) == "upload_corrupt"


def test_a_palette_png_without_a_palette_is_refused() -> None:
    header = struct.pack(">IIBBBBB", 64, 64, 8, 3, 0, 0, 0)
    no_palette = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(bytes(65 * 64)))
    assert refusal(lambda: inspect_upload(no_palette + chunk(b"IEND", b""), IMAGE_KINDS, LIMITS)) == "upload_corrupt"


# Sanitizing: only pixels survive


def test_sanitizing_a_jpeg_drops_exif_gps_comments_and_trailing_bytes() -> None:
    tagged = after_jfif(jpeg(), exif(description(GPS_MARKER)), segment(0xFE, b"COM " + GPS_MARKER))
    tagged += b"%PDF-1.4 trailing " + GPS_MARKER
    assert tagged.count(GPS_MARKER) == 3
    assert 0xE1 in jpeg_markers(tagged) and 0xFE in jpeg_markers(tagged)

    clean = sanitize_image(tagged, LIMITS)

    assert clean.kind is UploadKind.JPEG
    assert (clean.width, clean.height) == (128, 64)
    assert GPS_MARKER not in clean.data
    assert b"Exif" not in clean.data
    assert not {0xE1, 0xE2, 0xED, 0xFE} & set(jpeg_markers(clean.data))  # no Exif/XMP, ICC, IPTC or comment
    assert clean.data.endswith(b"\xff\xd9")
    assert sniff_kind(clean.data) is UploadKind.JPEG


def test_sanitizing_applies_the_exif_orientation_before_dropping_it() -> None:
    rotated = after_jfif(jpeg(128, 64), exif(orientation(6)))  # 6: rotate 90 degrees clockwise to display
    assert inspect_upload(rotated, IMAGE_KINDS, LIMITS).width == 128  # the header's size, as stored

    clean = sanitize_image(rotated, LIMITS)

    assert (clean.width, clean.height) == (64, 128)
    assert 0xE1 not in jpeg_markers(clean.data)
    pixels = decode_image(clean.data, LIMITS)  # no orientation left to apply: upright as it is
    assert pixels.shape == (128, 64, 3)
    assert is_colour(pixels[10, 32], RED)  # the left half is now on top
    assert is_colour(pixels[118, 32], BLUE)


def test_decode_image_is_upright_bgr_uint8() -> None:
    pixels = decode_image(after_jfif(jpeg(128, 64), exif(orientation(8))), LIMITS)  # 8: 90 degrees anticlockwise
    assert pixels.dtype == np.uint8
    assert pixels.shape == (128, 64, 3)
    assert is_colour(pixels[118, 32], RED)  # the left half is now at the bottom
    assert np.array_equal(decode_image(png(), LIMITS), two_tone())  # PNG is lossless


def test_sanitizing_a_png_drops_text_chunks_profiles_and_trailing_bytes() -> None:
    tagged = after_ihdr(
        png(),
        chunk(b"tEXt", b"Comment\x00" + GPS_MARKER),
        chunk(b"zTXt", b"Location\x00\x00" + zlib.compress(GPS_MARKER)),
        chunk(b"iTXt", b"XML:com.adobe.xmp\x00\x00\x00\x00\x00" + GPS_MARKER),
        chunk(b"iCCP", b"profile\x00\x00" + zlib.compress(bytes(200))),
        chunk(b"eXIf", exif(description(GPS_MARKER))[10:]),
    )
    tagged += b"trailing " + GPS_MARKER

    clean = sanitize_image(tagged, LIMITS)

    assert clean.kind is UploadKind.PNG
    assert GPS_MARKER not in clean.data
    assert set(png_chunks(clean.data)) <= {b"IHDR", b"IDAT", b"IEND"}
    assert np.array_equal(decode_image(clean.data, LIMITS), two_tone())


def test_sanitizing_a_png_applies_its_exif_orientation_too() -> None:
    rotated = after_ihdr(png(128, 64), chunk(b"eXIf", exif(orientation(6))[10:]))
    clean = sanitize_image(rotated, LIMITS)
    assert (clean.width, clean.height) == (64, 128)
    assert b"eXIf" not in clean.data


def test_sanitizing_converts_any_png_colour_type_to_bgr() -> None:
    source = two_tone()
    for pixels in (
        cv2.cvtColor(source, cv2.COLOR_BGR2GRAY),
        cv2.cvtColor(source, cv2.COLOR_BGR2BGRA),
        source.astype(np.uint16) * 257,
    ):
        clean = sanitize_image(encoded(".png", pixels), LIMITS)
        assert decode_image(clean.data, LIMITS).shape == (64, 128, 3)


# PDFs


def test_a_plain_pdf_is_accepted() -> None:
    info = inspect_upload(document(), PDF_ONLY, LIMITS)
    assert (info.kind, info.width, info.height) == (UploadKind.PDF, None, None)


def test_benign_pdf_features_are_accepted() -> None:
    image = stream(b"/Type /XObject /Subtype /Image /Width 8 /Height 8 /Filter /DCTDecode", jpeg(64, 64))
    contents = stream(b"/Filter /FlateDecode", zlib.compress(b"q 595 0 0 842 0 0 cm /Im1 Do Q"))
    for benign in (
        document(b"/OpenAction [3 0 R /Fit]"),  # opening at a page is not a script
        document(b"", image, contents),
        document(b"/AcroForm << /Fields [] >>"),
        document(b"/Names << /Dests 5 0 R >>", b"<< /Names [(a) [3 0 R /Fit]] >>"),
        document(b"", object_stream(b"<< /Type /Page /Parent 2 0 R >>")),
        b"%PDF-2.0\n" + document()[9:],
        document() + b"\n" + bytes(1000),  # padding after %%EOF
    ):
        inspect_upload(benign, PDF_ONLY, LIMITS)


def test_binary_stream_data_that_spells_short_names_by_chance_is_not_active_content() -> None:
    chance = b"\xff\xd8\xff\xe0" + bytes(range(256)) + b"/JS " + bytes(100) + b"/XFA]" + bytes(range(256))
    inspect_upload(document(b"", stream(b"/Subtype /Image /Filter /DCTDecode", chance)), PDF_ONLY, LIMITS)


@pytest.mark.parametrize(
    "truncated",
    [
        document()[:-7],  # no %%EOF
        document()[: len(document()) // 2],
        document().replace(b"%%EOF", b"%%EOX") + bytes(2000),
        b"%PDF-1.9\n" + document()[9:],  # no such version
        b"%PDF-3.0\n" + document()[9:],
        document(b"", b"<< /Length 9 >>\nstream\nunfinished"),  # no endstream
    ],
)
def test_a_truncated_or_misheaded_pdf_is_refused(truncated: bytes) -> None:
    assert refusal(lambda: inspect_upload(truncated, PDF_ONLY, LIMITS)) == "upload_corrupt"


@pytest.mark.parametrize(
    "active",
    [
        document(b"/OpenAction << /S /JavaScript /JS (app.alert(1)) >>"),
        document(b"/OpenAction << /S /J#61vaScript /J#53 (app.alert(1)) >>"),
        document(b"/OpenAction << /S /#4a#61#76#61#53#63#72#69#70#74 >>"),
        document(b"/OpenAction 5 0 R", b"<< /JS 6 0 R >>", stream(b"", b"app.alert(1)")),
        document(b"/Names << /JavaScript 5 0 R >>", b"<< /Names [(x) 6 0 R] >>"),
        document(b"/AA << /WC << /S /Launch /F (cmd.exe) >> >>"),
        document(b"/Names << /EmbeddedFiles 5 0 R >>", b"<< /Names [(a.exe) 6 0 R] >>"),
        document(b"", stream(b"/Type /EmbeddedFile", b"MZ payload")),
        document(b"/AcroForm << /Fields [] /XFA 5 0 R >>"),
        document(b"", b"<< /Type /Annot /Subtype /RichMedia >>"),
        document(b"/OpenAction << /S /SubmitForm /F (https://example.invalid) >>"),
        document(b"", object_stream(b"<< /S /JavaScript /JS (app.alert(1)) >>")),  # compressed out of sight
        document(b"", object_stream(b"<< /S /J#61vaScript >>")),
        document(b"", object_stream(b"<< /JS (app.alert(1)) >>", filter_name=b"[]")),  # uncompressed
        document(b"", stream(b"/Type /ObjStm /Filter /FlateDecode", zlib.compress(b"%comment\n10 0 << /JS (x) >>"))),
        document(b"", stream(b"/Filter /FlateDecode", zlib.compress(b"1 0 << /S /Launch >>"))),
    ],
)
def test_active_content_is_refused(active: bytes) -> None:
    assert refusal(lambda: inspect_upload(active, PDF_ONLY, LIMITS)) == "pdf_active_content"


def test_a_clean_pdf_with_object_streams_and_a_cross_reference_stream_is_accepted() -> None:
    clean = modern(b"/OpenAction [3 0 R /Fit] /Outlines 5 0 R", {5: b"<< /Type /Outlines /Count 0 >>"}, flate=2)
    inspect_upload(clean, PDF_ONLY, LIMITS)
    update = xref_stream_pdf({1: b"<< /Type /Catalog /Pages 2 0 R /Lang (zh-CN) >>"}, {}, base=clean)
    inspect_upload(update, PDF_ONLY, LIMITS)


def signed(number: int, offset: int) -> bytes:
    return b"+%d +%d " % (number, offset)


def hex_escaped(name: bytes) -> bytes:
    return b"/" + b"".join(b"#%02X" % byte for byte in name)


@pytest.mark.parametrize(
    "attack",
    [
        # Issue 17: the action in an object stream behind two Flate filters; the byte-level look saw no names.
        modern(b"/OpenAction 5 0 R", {5: JS_ACTION}, flate=2),
        # The object stream's header written "+5 +0": the byte-level look did not take it for one.
        modern(b"/OpenAction 5 0 R", {5: JS_ACTION}, header=signed),
        modern(b"/OpenAction 5 0 R", {5: JS_ACTION}, header=signed, flate=3),
        # Names spelled in #xx escapes, out of sight of both tricks at once.
        modern(
            b"/OpenAction 5 0 R",
            {5: b"<< /S %s %s (app.alert(1)) >>" % (hex_escaped(b"JavaScript"), hex_escaped(b"JS"))},
            header=signed,
            flate=2,
        ),
        # A page's link annotation launching a program, the /AA of the page, a name tree of scripts, an attachment.
        modern(b"", {5: b"<< /Type /Annot /Subtype /Link /A << /S /Launch /F (cmd.exe) >> >>"}, flate=2),
        modern(b"", {5: b"<< /Type /Page /Parent 2 0 R /AA << /O 6 0 R >> >>", 6: JS_ACTION}, flate=2),
        modern(b"/Names 5 0 R", {5: b"<< /JavaScript << /Names [(a) 6 0 R] >> >>", 6: JS_ACTION}, flate=2),
        modern(b"/Names 5 0 R", {5: b"<< /EmbeddedFiles << /Names [(a.exe) 6 0 R] >> >>"}, flate=2),
        modern(b"/AcroForm 5 0 R", {5: b"<< /Fields [] /XFA 6 0 R >>"}, flate=2),
        modern(b"", {5: b"<< /Type /Annot /Subtype /RichMedia >>"}, flate=2),
        # An object stream nothing in the cross-reference lists, for a reader that rebuilds it.
        document(b"", packed({10: JS_ACTION}, header=signed, flate=2)),
    ],
)
def test_active_content_hidden_from_a_byte_level_look_is_refused(attack: bytes) -> None:
    assert refusal(lambda: inspect_upload(attack, PDF_ONLY, LIMITS)) == "pdf_active_content"


def test_an_incremental_update_adding_an_open_action_is_refused() -> None:
    clean = modern(b"", {5: b"<< /Type /Outlines /Count 0 >>"}, flate=2)
    inspect_upload(clean, PDF_ONLY, LIMITS)
    # The update replaces the catalog with one that runs object 10, kept compressed twice in object stream 9.
    objects = {1: b"<< /Type /Catalog /Pages 2 0 R /OpenAction 10 0 R >>", 9: packed({10: JS_ACTION}, flate=2)}
    update = xref_stream_pdf(objects, {10: (9, 0)}, base=clean)
    assert refusal(lambda: inspect_upload(update, PDF_ONLY, LIMITS)) == "pdf_active_content"


def test_an_encrypted_pdf_is_refused() -> None:
    encrypted = document(b"", b"<< /Filter /Standard /V 2 /R 3 /O <00> /U <00> /P -4 >>", trailer=b"/Encrypt 4 0 R ")
    assert refusal(lambda: inspect_upload(encrypted, PDF_ONLY, LIMITS)) == "pdf_encrypted"
    escaped = document(b"", b"<< /Filter /Standard >>", trailer=b"/Encr#79pt 4 0 R ")
    assert refusal(lambda: inspect_upload(escaped, PDF_ONLY, LIMITS)) == "pdf_encrypted"


@pytest.mark.parametrize(
    "unscreenable",
    [
        document(b"", object_stream(b"<< >>", filter_name=b"/ASCIIHexDecode")),
        document(b"", object_stream(b"<< >>", filter_name=b"[/ASCII85Decode /FlateDecode]")),
        document(b"", object_stream(b"<< >>", filter_name=b"/LZWDecode")),
        document(b"", b"<< /Names [%s] >>" % (b"(#41) " * 100_001)),
    ],
)
def test_a_pdf_the_screen_cannot_see_through_is_refused(unscreenable: bytes) -> None:
    assert refusal(lambda: inspect_upload(unscreenable, PDF_ONLY, LIMITS)) == "pdf_unsupported"


def test_object_streams_inflating_past_the_budget_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdf_screen, "INFLATE_BUDGET", 1024 * 1024)  # 64 MiB in production; 1 MiB keeps this fast
    within = document(b"", stream(b"/Filter /FlateDecode", zlib.compress(b"1 0 " + bytes(1024 * 1024 - 100))))
    inspect_upload(within, PDF_ONLY, LIMITS)
    bomb = document(b"", stream(b"/Filter /FlateDecode", zlib.compress(b"1 0 " + bytes(4 * 1024 * 1024), 9)))
    assert len(bomb) < 10_000
    assert refusal(lambda: inspect_upload(bomb, PDF_ONLY, LIMITS)) == "pdf_unsupported"


def test_pages_are_counted_against_the_limit() -> None:
    limits = UploadLimits(max_pdf_pages=3)
    inspect_upload(document(pages=3), PDF_ONLY, limits)
    assert refusal(lambda: inspect_upload(document(pages=4), PDF_ONLY, limits)) == "pdf_too_many_pages"
    compressed_pages = document(b"", object_stream(b"<</Type/Page>> <</Type /Page>>"), pages=2)
    assert refusal(lambda: inspect_upload(compressed_pages, PDF_ONLY, limits)) == "pdf_too_many_pages"


TEN_MIB = 10 * 1024 * 1024


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("half a million objects", b"1 0 obj\n<<>>\nendobj\n" * (TEN_MIB // 22)),
        ("dictionaries nested 1.7 million deep", b"1 0 obj\n" + b"<</A " * (TEN_MIB // 6)),
        ("arrays nested 5 million deep", b"1 0 obj\n" + b"[" * (TEN_MIB - 100)),
        ("an array of 5 million numbers", b"1 0 obj\n[" + b"1 " * (TEN_MIB // 2 - 100) + b"]\nendobj"),
        ("1.7 million references", b"1 0 obj\n[" + b"1 0 R " * (TEN_MIB // 6 - 100) + b"]\nendobj"),
    ],
)
def test_a_pdf_built_to_exhaust_the_parser_is_refused_within_seconds(name: str, body: bytes) -> None:
    crafted = b"%PDF-1.7\n" + body + b"\nstartxref\n0\n%%EOF\n"
    started = time.perf_counter()
    assert refusal(lambda: inspect_upload(crafted, PDF_ONLY, LIMITS)) in {"pdf_unsupported", "upload_corrupt"}
    # Under a second of CPU each (measured 0.1-0.8 s); the margin is for a busy machine and the fork server's
    # start when this runs first.
    assert time.perf_counter() - started < 4, name


@pytest.mark.slow
def test_a_pdf_that_would_keep_the_parser_busy_for_half_a_minute_is_stopped_at_the_time_limit() -> None:
    # 30 KiB on the wire: an object stream inflating to one 30 MiB string, which pypdf reads a byte at a time
    # (it took 58 s and 1.3 GiB in this process). The child screening it is killed at its limit.
    member = b"<< /Type /Outlines /Count 0 /Title (" + b"x" * (30 * 1024 * 1024) + b") >>"
    bomb = modern(b"", {5: member})
    assert len(bomb) < 64 * 1024
    started = time.perf_counter()
    assert refusal(lambda: inspect_upload(bomb, PDF_ONLY, LIMITS)) == "pdf_unsupported"
    assert time.perf_counter() - started < pdf_process.WALL_SECONDS + 4  # and the inflating done here


def test_a_crafted_pdf_of_10_mib_of_names_is_refused_as_corrupt() -> None:
    # What the refusal costs against reading the file once: bench/screening.py.
    body = b"/J" * (LIMITS.max_bytes // 2 - 100)
    crafted = b"%PDF-1.7\n" + body + b"\n%%EOF\n"
    assert refusal(lambda: inspect_upload(crafted, PDF_ONLY, LIMITS)) == "upload_corrupt"  # no objects at all


# Fuzzing: whatever the bytes, only InvalidValue escapes


SAMPLES = (
    after_jfif(jpeg(64, 64), exif(orientation(6), description(GPS_MARKER)), segment(0xFE, b"comment")),
    jpeg(64, 64, cv2.IMWRITE_JPEG_PROGRESSIVE, 1),
    after_ihdr(png(64, 64), chunk(b"tEXt", b"Comment\x00hello")),
    document(b"/OpenAction [3 0 R /Fit]", object_stream(b"<< /Type /Page >>")),
)


def only_invalid_value(data: bytes) -> None:
    codes = set()
    for call in (
        lambda: inspect_upload(data, ALL_KINDS, LIMITS),
        lambda: sanitize_image(data, LIMITS),
        lambda: decode_image(data, LIMITS),
    ):
        try:
            call()
        except InvalidValue as refused:
            codes.add(refused.code)
    assert codes <= ERROR_CODES


@FUZZ
@given(st.binary(max_size=4096))
def test_random_bytes_raise_only_invalid_value(data: bytes) -> None:
    only_invalid_value(data)


@FUZZ
@given(st.sampled_from([b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"%PDF-1.7\n"]), st.binary(max_size=4096))
def test_random_bytes_after_magic_bytes_raise_only_invalid_value(magic: bytes, data: bytes) -> None:
    only_invalid_value(magic + data)


@FUZZ
@given(st.sampled_from(SAMPLES), st.data())
def test_mutated_files_raise_only_invalid_value(sample: bytes, draw: st.DataObject) -> None:
    mutated = bytearray(sample)
    for _ in range(draw.draw(st.integers(1, 4))):
        mutated[draw.draw(st.integers(0, len(sample) - 1))] = draw.draw(st.integers(0, 255))
    only_invalid_value(bytes(mutated))


@FUZZ
@given(st.sampled_from(SAMPLES), st.data())
def test_truncated_files_raise_only_invalid_value(sample: bytes, draw: st.DataObject) -> None:
    only_invalid_value(sample[: draw.draw(st.integers(0, len(sample)))])


@FUZZ
@given(st.data())
def test_png_with_mutated_image_data_and_valid_crcs_raises_only_invalid_value(draw: st.DataObject) -> None:
    # Mutating a PNG mostly breaks a CRC; recomputing it takes the damage past the structure check to libpng.
    sample = png(64, 64)
    start = sample.index(b"IDAT") + 4
    end = start + int.from_bytes(sample[start - 8 : start - 4], "big")
    idat = bytearray(sample[start:end])
    for _ in range(draw.draw(st.integers(1, 4))):
        idat[draw.draw(st.integers(0, len(idat) - 1))] = draw.draw(st.integers(0, 255))
    only_invalid_value(sample[: start - 8] + chunk(b"IDAT", bytes(idat)) + sample[end + 4 :])
