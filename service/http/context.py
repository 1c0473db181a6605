"""The outermost ASGI layer: request id, security headers, access log, metrics and the server span.

It wraps the whole Litestar app rather than sitting in its middleware stack, so requests
that match no route (404, 405) are counted and logged too.
"""

from __future__ import annotations

import logging
import os
import re
import time
from typing import TYPE_CHECKING

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from service.i18n.languages import Language, negotiate, request_language
from service.observability.context import request_id_var
from service.observability.metrics import count_request

if TYPE_CHECKING:
    from service.observability.spans import Tracing

logger = logging.getLogger("service.access")

_VALID_REQUEST_ID = re.compile(rb"^[A-Za-z0-9._-]{8,64}$")
# Successful calls to these are routine (probes, and the gateway's check on every request):
# logged at debug level so they do not drown the rest.
_ROUTINE_ROUTES = frozenset({"/health/live", "/health/ready", "/metrics", "/v1/sessions/whoami"})
_SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]


class RequestContext:
    def __init__(
        self, app: ASGIApp, tracing: Tracing | None = None, default_language: Language = Language.ZH_CN
    ) -> None:
        self.app = app
        # The language of answers to requests whose Accept-Language names none of ours.
        self.default_language = default_language
        # None unless traces are exported (service.observability.tracing).
        self.tracing = tracing

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        incoming = next((v for k, v in scope["headers"] if k == b"x-request-id"), None)
        request_id = incoming.decode() if incoming and _VALID_REQUEST_ID.match(incoming) else os.urandom(16).hex()
        token = request_id_var.set(request_id)
        accepted = next((v for k, v in scope["headers"] if k == b"accept-language"), None)
        language = negotiate(accepted.decode("latin-1") if accepted else None, self.default_language)
        language_token = request_language.set(language)
        # Every answer says its language, and caches keep one copy per Accept-Language.
        language_headers = [(b"content-language", language.value.encode()), (b"vary", b"Accept-Language")]
        started = time.perf_counter()
        status = 500
        span = None if self.tracing is None else self.tracing.request(scope, request_id)

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                # A response may set its own (the console's pages: a same-origin referrer policy,
                # without which browsers send ``Origin: null`` with their forms).
                present = {name.lower() for name, _ in headers}
                headers.extend(header for header in _SECURITY_HEADERS if header[0] not in present)
                if b"content-language" not in present:
                    headers.extend(language_headers)
                else:
                    headers.append(language_headers[1])
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("path_template") or "unmatched"
            method = str(scope.get("method", ""))
            count_request(method, route, status, elapsed)
            level = logging.DEBUG if route in _ROUTINE_ROUTES and status < 400 else logging.INFO
            if logger.isEnabledFor(level):
                logger.log(
                    level,
                    "request",
                    extra={"method": method, "route": route, "status": status, "duration_ms": round(elapsed * 1000, 2)},
                )
            if span is not None:
                span.finish(scope.get("path_template"), status)
            request_id_var.reset(token)
            request_language.reset(language_token)
