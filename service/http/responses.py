"""A JSON answer for the gateway's hot path, sent without Litestar's per-header bookkeeping.

whoami answers every request of every protected app with a small body and ten headers. Litestar's
``ASGIResponse`` adds each header to a ``MutableScopeHeaders`` (a list scan with lower-casing per
header, twice more for the content type and length): about a quarter of whoami's time in process
once the session comes from the cache (`bench/registration.py --whoami-only`). This response
encodes its headers once, in order, and sends them as they are. It takes the ordinary path whenever
anything else asks to be added (cookies, layered headers, background tasks, encoders, HEAD).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

import msgspec
from litestar import Response
from litestar.datastructures import MutableScopeHeaders
from litestar.enums import MediaType
from litestar.response.base import ASGIResponse

if TYPE_CHECKING:
    from collections.abc import Iterable

    from litestar.background_tasks import BackgroundTask, BackgroundTasks
    from litestar.connection import Request
    from litestar.datastructures import Cookie
    from litestar.types import TypeEncodersMap

T = TypeVar("T")

_JSON = (b"content-type", b"application/json")


class _EncodedResponse(ASGIResponse):
    """An ``ASGIResponse`` whose headers were encoded by its maker; ``headers`` stays empty."""

    __slots__ = ("_encoded",)

    def __init__(self, status_code: int, body: bytes, encoded: list[tuple[bytes, bytes]]) -> None:
        # Not ASGIResponse.__init__: it would add every header one by one, which is what this avoids.
        self.headers = MutableScopeHeaders()
        self.background = None
        self.body = body
        self.content_length = len(body)
        self._encoded_cookies = ()
        self.encoding = "utf-8"
        self.is_head_response = False
        self.status_code = status_code
        self._encoded = encoded

    def encode_headers(self) -> list[tuple[bytes, bytes]]:
        return self._encoded


class EncodedJsonResponse(Response[T]):
    """``Response`` for a 200 answer whose content is a msgspec Struct, dict or list sent as JSON, with
    plain string headers (their names sent in lower case; its own content type and length win)."""

    def to_asgi_response(
        self,
        app: Any,
        request: Request[Any, Any, Any],
        *,
        background: BackgroundTask | BackgroundTasks | None = None,
        cookies: Iterable[Cookie] | None = None,
        encoded_headers: Iterable[tuple[bytes, bytes]] | None = None,
        headers: dict[str, str] | None = None,
        is_head_response: bool = False,
        media_type: MediaType | str | None = None,
        status_code: int | None = None,
        type_encoders: TypeEncodersMap | None = None,
    ) -> ASGIResponse:
        cookies = list(cookies or ())
        if (
            app is not None
            or background is not None
            or self.background is not None
            or cookies
            or self.cookies
            or encoded_headers
            or headers
            or is_head_response
            or self.media_type is not None
            # A handler that names no media type passes "" (Litestar's "not set"), whoami among them.
            or media_type not in (None, "", MediaType.JSON, MediaType.JSON.value)
            or (self.status_code or status_code or 200) != 200
            or not isinstance(self.content, (msgspec.Struct, dict, list))
        ):
            return self._ordinary(
                request,
                background=background,
                cookies=cookies,
                encoded_headers=encoded_headers,
                headers=headers,
                is_head_response=is_head_response,
                media_type=media_type,
                status_code=status_code,
                type_encoders=type_encoders,
            )
        # Type encoders (the app always has the pydantic plugin's) are for values msgspec cannot
        # encode by itself; one that it cannot encode takes the ordinary path, encoders and all.
        try:
            body = msgspec.json.encode(self.content)
        except (TypeError, msgspec.EncodeError):
            return self._ordinary(request, status_code=status_code, type_encoders=type_encoders)
        encoded = [_JSON, (b"content-length", str(len(body)).encode())]
        encoded.extend(
            (name.lower().encode("latin-1"), str(value).encode("latin-1"))
            for name, value in self.headers.items()
            if name.lower() not in ("content-type", "content-length")
        )
        return _EncodedResponse(200, body, encoded)

    def _ordinary(self, request: Request[Any, Any, Any], **arguments: Any) -> ASGIResponse:
        return super().to_asgi_response(None, request, **arguments)
