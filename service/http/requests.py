"""The request class every endpoint gets: where request bodies are read and decoded.

Litestar turns msgspec's ``DecodeError`` into a 400, but msgspec also raises ``RecursionError``
(a body nested a thousand deep, 2 KB) and ``UnicodeDecodeError`` (invalid UTF-8 inside a
string), which would otherwise reach the exception handler as 500s. And a client that goes away
before sending its whole body is not a server error. Both are decided here, once, for every
endpoint that reads a body (JSON or raw upload), before any handler code runs.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from litestar import Request
from litestar.exceptions import InternalServerException, SerializationException
from litestar.types import ReceiveMessage


class ClientDisconnected(Exception):
    """The client closed the connection before its request body was complete."""


class IdvRequest(Request[Any, Any, Any]):
    async def json(self) -> Any:
        try:
            return await super().json()
        except (RecursionError, UnicodeDecodeError) as exc:
            # The same exception Litestar raises for any other undecodable body (a 400).
            raise SerializationException("the request body is not valid JSON") from exc

    async def stream(self) -> AsyncGenerator[bytes, None]:
        # Litestar answers an http.disconnect in the middle of the body with an
        # InternalServerException; watch for the message so that case can be told apart.
        receive = self.receive
        disconnected = False

        async def watched() -> ReceiveMessage:
            nonlocal disconnected
            message = await receive()
            disconnected = disconnected or message["type"] == "http.disconnect"
            return message

        self.receive = watched
        try:
            async for chunk in super().stream():
                yield chunk
        except InternalServerException as exc:
            if disconnected:
                raise ClientDisconnected from exc
            raise
        finally:
            self.receive = receive
