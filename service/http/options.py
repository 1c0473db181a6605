"""Plain OPTIONS requests, answered with every method of the path.

Litestar 2 builds the OPTIONS handler of a path with its first handler and keeps it when more
handlers join the path, so its Allow header named only the first one's methods (litestar#4169,
fixed only in Litestar 3). The methods are read here from the finished routes instead. CORS
pre-flights (``Access-Control-Request-Method``) are left to Litestar's CORS middleware.
"""

from __future__ import annotations

from typing import Any

from litestar import Litestar, Request, Response
from litestar.routes import HTTPRoute
from litestar.status_codes import HTTP_204_NO_CONTENT


class AllowedMethods:
    def __init__(self) -> None:
        self._by_path: dict[str, str] = {}

    def load(self, app: Litestar) -> None:
        for route in app.routes:
            if isinstance(route, HTTPRoute):
                self._by_path[route.path_format] = ", ".join(sorted(route.methods))

    def of(self, path_template: str) -> str | None:
        return self._by_path.get(path_template)

    def answer(self, request: Request[Any, Any, Any]) -> Response[None] | None:
        if request.method != "OPTIONS" or "access-control-request-method" in request.headers:
            return None
        allow = self.of(request.scope.get("path_template", ""))
        if allow is None:
            return None
        return Response(None, status_code=HTTP_204_NO_CONTENT, headers={"Allow": allow})
