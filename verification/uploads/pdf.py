"""Screening of PDF files, in two passes: a byte-level look, then every object as a reader sees it (pypdf).

Not a renderer. Checked, in this order:
- the header (``%PDF-1.0`` to ``%PDF-1.7``, or ``%PDF-2.0``) at the very start, and ``startxref``, an offset
  and ``%%EOF`` in the last 1024 bytes: without them the file was cut short (``upload_corrupt``);
- encryption (an ``/Encrypt`` entry): an encrypted file cannot be screened (``pdf_encrypted``);
- filters that would hide dictionaries from the byte-level look (ASCIIHex, ASCII85, LZW, RunLength): refused as
  ``pdf_unsupported``, as is a file whose object streams inflate to more than 32 MiB;
- active content: JavaScript (``/JavaScript``, ``/JS``, which also covers an ``/OpenAction`` or ``/AA`` that runs
  a script; an ``/OpenAction`` that only opens a page is fine), ``/Launch``, embedded files, ``/RichMedia``, XFA
  forms, ``/SubmitForm``, ``/ImportData``, ``/GoToE`` and 3D scripts (``/OnInstantiate``)
  (``pdf_active_content``);
- the number of pages, counted as ``/Type /Page`` dictionaries (``pdf_too_many_pages``). Pages an incremental
  update replaced are counted again, so the count errs high.

The byte-level pass compares names after undoing ``#xx`` escapes (``/J#61vaScript`` is ``/JavaScript``), in the
bytes outside streams and in the inflated content of object streams compressed once with Flate; other stream
data (images, fonts) is only searched for the long names: short ones such as ``/JS`` turn up in binary data by
chance. A stream starts after the ``stream`` keyword and ends at the next ``endstream``. Every pattern is linear
in its input, and undoing escapes is capped, so a crafted 10 MiB file costs at most some 0.4 s of CPU.

A byte-level look can be led astray: an object stream behind a chain of filters (``[/FlateDecode
/FlateDecode]``) or with an unusual header (``+4 +0``) got a JavaScript ``/OpenAction`` past it (issue 17). So
the second pass (``pdf_objects``) parses the file with pypdf and walks every object, found through the
cross-reference, at every ``obj`` header, and inside every object stream decoded through its whole filter
chain, within its own limits of objects, bytes and time, in a child process with hard CPU, memory and wall
clock limits (``pdf_process``). A file pypdf cannot open is ``upload_corrupt``; one it cannot finish within
the limits is ``pdf_unsupported``.

Even so, a PDF upload is kept as uploaded, is never rendered by the service and is shown only to operators,
as a download (``Content-Disposition: attachment``, a sandboxing CSP, ``nosniff``); it is never served to the
public or embedded in a page.
"""

from __future__ import annotations

import itertools
import re
import zlib
from collections.abc import Iterable

from verification.errors import InvalidValue
from verification.uploads.limits import MIB, UploadLimits, corrupt
from verification.uploads.pdf_process import MEMORY_GROWTH, screen_objects_in_child

HEADER = re.compile(rb"%PDF-(?:1\.[0-7]|2\.0)(?![0-9])")
TRAILER_WINDOW = 1024
INFLATE_BUDGET = 32 * MIB
# What screening one PDF may take in memory at its peak: the object streams inflated here, and what the
# structural screen's process may add to what it was forked with.
SCREEN_MEMORY = 2 * INFLATE_BUDGET + MEMORY_GROWTH
WHITESPACE = b"\x00\t\n\x0c\r "
ACTIVE_NAMES = frozenset(
    {
        b"JavaScript",
        b"JS",
        b"Launch",
        b"EmbeddedFile",
        b"EmbeddedFiles",
        b"RichMedia",
        b"XFA",
        b"SubmitForm",
        b"ImportData",
        b"GoToE",
        b"OnInstantiate",
    }
)
# Long enough that image and font data do not spell them (with a delimiter after) by chance.
UNMISTAKABLE_NAMES = ACTIVE_NAMES - {b"JS", b"XFA", b"GoToE"}
OBSCURING_FILTERS = frozenset(
    {b"ASCIIHexDecode", b"AHx", b"ASCII85Decode", b"A85", b"LZWDecode", b"LZW", b"RunLengthDecode", b"RL"}
)
ENCRYPT = b"Encrypt"
# #xx escapes in a file or object stream; a real PDF has a handful, 10 MiB of image data some 300 by chance.
MAX_ESCAPES = 100_000
_HEAD = 1024  # decoded bytes looked at to tell an object stream from an image or a font

# The keyword, not the end of "endstream". The lookbehind comes after the literal so that the search can skip
# ahead to each "stream"; in front, it made the search 40 times slower.
_STREAM = re.compile(rb"stream(?<![A-Za-z]stream)(?:\r\n|\n|\r)")
_NAME_END = rb"(?=[\x00\t\n\x0c\r ()<>\[\]{}/%]|\Z)"


def _factored(words: Iterable[bytes]) -> bytes:
    """A pattern matching exactly ``words``, factored by leading character. A plain alternation tries every
    word at every ``/``, which made the worst case twice as slow."""
    branches = []
    for first, group in itertools.groupby(sorted(words), key=lambda word: word[:1]):
        rests = [word[1:] for word in group]
        tail = _factored(rest for rest in rests if rest)
        optional = b"?" if b"" in rests else b""
        branches.append(re.escape(first) + (b"(?:" + tail + b")" + optional if tail else b""))
    return b"|".join(branches)


_WATCHED_NAME = re.compile(b"/(" + _factored(ACTIVE_NAMES | OBSCURING_FILTERS | {ENCRYPT}) + b")" + _NAME_END)
# Page dictionaries, /Type /Page with whitespace between; a comment there would go uncounted.
_PAGE = re.compile(rb"/Type[\x00\t\n\x0c\r ]*+/Page" + _NAME_END)
_ESCAPE = re.compile(rb"#[0-9A-Fa-f]{2}")
# The end of every PDF (ISO 32000-2, 7.5.5): "startxref" at the start of a line, the offset, "%%EOF". Required
# near the end, because pypdf reads the last lines backwards and a multi-megabyte last line costs it seconds.
_TRAILER = re.compile(rb"[\r\n]startxref[\x00\t\x0c\r\n ]+[0-9]{1,10}[\x00\t\x0c\r\n ]+%%EOF")


def screen_pdf(data: bytes, limits: UploadLimits) -> None:
    """Refuse a PDF that is truncated, encrypted, active or too long; raise InvalidValue."""
    if HEADER.match(data) is None or _TRAILER.search(data[-TRAILER_WINDOW:]) is None:
        raise corrupt()
    _refuse_many_escapes(data)
    raw_outside, streams = _split(data)
    outside = _unescape(raw_outside)
    names = _watched_names(outside)
    if ENCRYPT in names:
        raise InvalidValue("pdf_encrypted", "The PDF is password-protected; please upload it without a password.")
    if not names.isdisjoint(OBSCURING_FILTERS):
        raise _unsupported()
    _refuse_active(names, ACTIVE_NAMES)
    pages = len(_PAGE.findall(outside))
    budget = INFLATE_BUDGET
    for body in streams:
        content = _object_stream_content(body, budget)
        if content is None:
            _refuse_active(_watched_names(_unescape(body)), UNMISTAKABLE_NAMES)
            continue
        budget -= len(content)
        _refuse_many_escapes(content)
        decoded = _unescape(content)
        _refuse_active(_watched_names(decoded), ACTIVE_NAMES)
        pages += len(_PAGE.findall(decoded))
    # The second pass: every object as a reader sees it (pdf_objects).
    pages = max(pages, screen_objects_in_child(data))
    if pages > limits.max_pdf_pages:
        raise InvalidValue("pdf_too_many_pages", f"The PDF has too many pages: at most {limits.max_pdf_pages}.")


def screen_decoded(content: bytes) -> None:
    """The byte-level look at an object stream the second pass decoded."""
    _refuse_many_escapes(content)
    names = _watched_names(_unescape(content))
    if ENCRYPT in names:
        raise InvalidValue("pdf_encrypted", "The PDF is password-protected; please upload it without a password.")
    _refuse_active(names, ACTIVE_NAMES)


def _split(data: bytes) -> tuple[bytes, list[memoryview]]:
    """The bytes outside stream bodies (joined by newlines), and the bodies."""
    view = memoryview(data)
    outside: list[bytes] = []
    streams: list[memoryview] = []
    cursor = 0
    while (found := _STREAM.search(data, cursor)) is not None:
        end = data.find(b"endstream", found.end())
        if end < 0:
            raise corrupt()
        outside.append(data[cursor : found.end()])
        streams.append(view[found.end() : end])
        cursor = end + len(b"endstream")
    outside.append(data[cursor:])
    return b"\n".join(outside), streams


def _object_stream_content(body: memoryview, budget: int) -> bytes | None:
    """The decoded content of a stream that may hold dictionaries, or None for one that cannot.

    An object stream begins with pairs of integers (perhaps after comments); a content stream often begins with
    a number too and is screened alike. Images, fonts and cross-reference streams begin otherwise.
    """
    inflater = zlib.decompressobj()
    try:
        head = inflater.decompress(body, _HEAD)
        compressed = True
    except zlib.error:  # not Flate: the body is its own content
        head = bytes(body[:_HEAD])
        compressed = False
    stripped = head.lstrip(WHITESPACE)
    if not stripped or stripped[0] not in b"0123456789%":
        return None
    if not compressed:
        return bytes(body)
    try:
        rest = inflater.decompress(inflater.unconsumed_tail, max(budget - len(head), 0) + 1)
    except zlib.error:
        rest = b""  # damaged part way: screen what a reader could get out of it
    if len(head) + len(rest) > budget:
        raise _unsupported()
    return head + rest


def _refuse_many_escapes(text: bytes) -> None:
    # Each escape _unescape undoes costs a Python call; stop counting at the cap.
    if next(itertools.islice(_ESCAPE.finditer(text), MAX_ESCAPES, None), None) is not None:
        raise _unsupported()


def _unescape(text: bytes | memoryview) -> bytes | memoryview:
    """``text`` with every ``#xx`` replaced by its byte: in names that is what it means, elsewhere it is harmless."""
    if _ESCAPE.search(text) is None:
        return text
    return _ESCAPE.sub(lambda escape: bytes.fromhex(escape.group()[1:].decode()), text)


def _watched_names(text: bytes | memoryview) -> set[bytes]:
    return {match.group(1) for match in _WATCHED_NAME.finditer(text)}


def _refuse_active(names: set[bytes], active: frozenset[bytes]) -> None:
    if not names.isdisjoint(active):
        raise InvalidValue(
            "pdf_active_content", "The PDF contains scripts, attachments or forms; please upload a plain PDF."
        )


def _unsupported() -> InvalidValue:
    return InvalidValue(
        "pdf_unsupported", "We cannot check this PDF; please save it again as a standard PDF or upload a photo."
    )
