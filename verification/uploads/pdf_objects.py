"""Screening of a PDF's objects as a reader sees them, parsed by pypdf: the structural half of ``pdf``.

Every object is looked at, found three ways, so that neither a conforming reader nor a repairing one sees
something this does not:
- through the cross-reference tables and streams, following every incremental update (``/Prev``), as a
  conforming reader resolves them;
- at every ``N G obj`` in the file, as a reader that rebuilds a damaged cross-reference finds them (older
  revisions, objects nothing refers to);
- inside every object stream (``/Type /ObjStm``, or one with ``/N`` and ``/First``), decoded through its whole
  filter chain (``[/FlateDecode /FlateDecode]`` is two inflations) and parsed from its header, whatever the
  header looks like (``+4 +0``); its decoded bytes are also searched for the names, in case the header lies.

In each object every name is compared, as key or value, at any depth, after pypdf has undone ``#xx``
escapes, with ``ACTIVE_NAMES`` (which covers ``/OpenAction`` and ``/AA`` running a script, ``/Names
/JavaScript``, annotations' actions, launch actions, embedded files, XFA, rich media); an ``/Encrypt``
entry anywhere is an encrypted file. Other streams (images, fonts, page contents) are not decoded: they hold
no dictionaries a reader acts on.

Bounded, because a parser is an attack surface: pypdf's own limits (per-stream output, filters per stream,
array and dictionary sizes), at most ``MAX_OBJECTS`` objects and ``MAX_CONTAINERS`` dictionaries and arrays
(counted before pypdf starts), ``INFLATE_BUDGET`` bytes inflated from object streams in all, and
``MAX_SECONDS`` of work, checked between objects. One object can still keep pypdf busy for long (it reads a
string a byte at a time), so this runs in a child process with hard limits (``pdf_process``). Whatever pypdf
raises on a malformed file is a refusal, never an error of ours.
"""

from __future__ import annotations

import io
import logging
import re
import time
from collections.abc import Callable, Iterator
from typing import Any

from pypdf import Configuration, PdfReader, apply_configuration
from pypdf.errors import LimitReachedError
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    NumberObject,
    StreamObject,
    read_object,
)

from verification.errors import InvalidValue
from verification.uploads.limits import MIB, corrupt

# pypdf reports every oddity of a malformed file as a warning log; an attacker's file would flood the logs.
logging.getLogger("pypdf").setLevel(logging.ERROR)

MAX_OBJECTS = 50_000
# Dictionaries and arrays ("<<", "["): pypdf parses deep nesting slowly (a RecursionError, caught, at every
# thousand levels), so a file with more than this many is refused before pypdf starts (10 MiB of nested
# dictionaries took 4 s; a 10 MiB text PDF of 40000 objects has some 100000).
MAX_CONTAINERS = 200_000
MAX_SECONDS = 3.0
INFLATE_BUDGET = 32 * MIB  # legitimate object streams hold kilobytes
MAX_DEPTH = 64  # nesting of arrays and dictionaries looked into within one object
PYPDF_CONFIGURATION = Configuration(
    zlib_maximum_output_length=INFLATE_BUDGET,
    stream_filters_maximum_length=4,
    array_maximum_element_count=20_000,
    dictionary_maximum_element_count=20_000,
    stream_decoding_work_maximum_length=2 * INFLATE_BUDGET,
    page_tree_maximum_entries=20_000,
    jbig2dec_binary=None,  # never run an external program on an upload
    disable_legacy_handling=True,
)
# "N G obj": the keyword is found first (a literal, fast), then the numbers in the few bytes before it.
_OBJ_KEYWORD = re.compile(rb"obj(?![A-Za-z])")
_NUMBERS_BEFORE = re.compile(rb"(?<![0-9])[0-9]{1,10}[\x00\t\n\x0c\r ]+[0-9]{1,5}[\x00\t\n\x0c\r ]+\Z")
_HEADER_NUMBER = re.compile(rb"[+-]?[0-9]+")


class PdfObjects:
    """One screen of one file; call ``screen`` once."""

    def __init__(self, data: bytes, active_names: frozenset[str], name_scan: Callable[[bytes], None]) -> None:
        self.data = data
        self.active = active_names
        self.name_scan = name_scan  # pdf's byte-level look at decoded data, raising InvalidValue
        self.deadline = time.monotonic() + MAX_SECONDS
        self.visits = 0
        self.inflated = 0
        self.pages = 0

    def screen(self) -> int:
        """Raise InvalidValue for an encrypted, active, unreadable or unboundedly large file; else its page count
        as the cross-reference resolves it."""
        # Counted by C-speed searches before pypdf, whose rebuilding of a damaged cross-reference and parsing of
        # one object cannot be interrupted.
        if self.data.count(b"obj") > 2 * MAX_OBJECTS:  # "obj" and "endobj" for each
            raise unsupported()
        refuse_many_containers(self.data)
        with apply_configuration(PYPDF_CONFIGURATION):
            try:
                reader = PdfReader(io.BytesIO(self.data), strict=False)
            except Exception:  # whatever a parser raises on a malformed file
                raise corrupt() from None
            if reader.is_encrypted:
                raise _encrypted()
            try:
                root = reader.trailer.get("/Root")
                rooted = isinstance(root.get_object() if root is not None else None, DictionaryObject)
            except Exception:
                raise corrupt() from None
            if not rooted:  # no reader can open it
                raise corrupt()
            try:
                self._visit(reader.trailer, count_pages=False)
                for reference in _references(reader):
                    self._visit(reader.get_object(reference), count_pages=True)
                for obj in self._objects_at_headers(reader):
                    self._visit(obj, count_pages=False)
            except InvalidValue:
                raise
            except LimitReachedError:
                raise unsupported() from None
            except Exception:
                raise unsupported() from None
        return self.pages

    def _visit(self, obj: Any, *, count_pages: bool) -> None:
        self._tick()
        if isinstance(obj, DictionaryObject):
            if count_pages and obj.get("/Type") == "/Page":
                self.pages += 1
            if isinstance(obj, StreamObject) and _is_object_stream(obj):
                self._screen_object_stream(obj)
        self._refuse_names(obj)

    def _refuse_names(self, root: Any) -> None:
        stack: list[tuple[Any, int]] = [(root, 0)]
        while stack:
            obj, depth = stack.pop()
            if depth > MAX_DEPTH:
                raise unsupported()
            if isinstance(obj, NameObject):
                self._refuse_name(obj)
            elif isinstance(obj, DictionaryObject):
                for key, value in obj.items():
                    self._refuse_name(key)
                    stack.append((value, depth + 1))
            elif isinstance(obj, ArrayObject):
                stack.extend((value, depth + 1) for value in obj)

    def _refuse_name(self, name: str) -> None:
        if name == "/Encrypt":
            raise _encrypted()
        if name in self.active:
            raise active_content()

    def _screen_object_stream(self, stream: StreamObject) -> None:
        decoded = stream.get_data()
        self.inflated += len(decoded)
        if self.inflated > INFLATE_BUDGET:
            raise unsupported()
        refuse_many_containers(decoded)
        self.name_scan(decoded)
        first = stream.get("/First")
        if not isinstance(first, NumberObject) or not 0 <= first <= len(decoded):
            return  # the name scan above is all that can be done
        numbers = [int(number) for number in _HEADER_NUMBER.findall(decoded[:first])]
        for offset in numbers[1::2]:
            self._tick()
            if not 0 <= first + offset < len(decoded):
                continue
            parsed = io.BytesIO(decoded)
            parsed.seek(first + offset)
            try:
                member = read_object(parsed, None)
            except Exception:  # noqa: S112 - a reader cannot use it either; its names were scanned above
                continue
            self._visit(member, count_pages=False)

    def _objects_at_headers(self, reader: PdfReader) -> Iterator[Any]:
        for found in _OBJ_KEYWORD.finditer(self.data):
            self._tick()
            if _NUMBERS_BEFORE.search(self.data, max(0, found.start() - 32), found.start()) is None:
                continue
            parsed = io.BytesIO(self.data)
            parsed.seek(found.end())
            try:
                obj = read_object(parsed, reader)
            except LimitReachedError:
                raise
            except Exception:  # noqa: S112 - "1 0 obj" inside binary stream data, by chance
                continue
            yield obj

    def _tick(self) -> None:
        # Each object is looked at a few times (through the cross-reference, at its header, as a member of its
        # object stream), so the visits are bounded at a multiple of MAX_OBJECTS.
        self.visits += 1
        if self.visits > 4 * MAX_OBJECTS or time.monotonic() > self.deadline:
            raise unsupported()


def refuse_many_containers(data: bytes) -> None:
    if data.count(b"<<") + data.count(b"[") > MAX_CONTAINERS:
        raise unsupported()


def _references(reader: PdfReader) -> Iterator[IndirectObject]:
    for generation, entries in reader.xref.items():
        for number in entries:
            yield IndirectObject(number, generation, reader)
    for number in reader.xref_objStm:
        yield IndirectObject(number, 0, reader)


def _is_object_stream(stream: StreamObject) -> bool:
    return stream.get("/Type") == "/ObjStm" or ("/N" in stream and "/First" in stream)


def _encrypted() -> InvalidValue:
    return InvalidValue("pdf_encrypted", "The PDF is password-protected; please upload it without a password.")


def screen_objects(data: bytes) -> int:
    """The structural screen of ``data`` (which passed pdf's byte-level one); see ``PdfObjects.screen``."""
    from verification.uploads.pdf import ACTIVE_NAMES, screen_decoded  # pdf imports this module

    return PdfObjects(data, frozenset("/" + name.decode() for name in ACTIVE_NAMES), screen_decoded).screen()


def active_content() -> InvalidValue:
    return InvalidValue(
        "pdf_active_content", "The PDF contains scripts, attachments or forms; please upload a plain PDF."
    )


def unsupported() -> InvalidValue:
    return InvalidValue(
        "pdf_unsupported", "We cannot check this PDF; please save it again as a standard PDF or upload a photo."
    )


REFUSALS = {
    "upload_corrupt": corrupt,
    "pdf_encrypted": _encrypted,
    "pdf_active_content": active_content,
    "pdf_unsupported": unsupported,
}
