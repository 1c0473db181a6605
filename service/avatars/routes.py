"""HTTP for one's avatar: the raw image as the body, the image as the answer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from litestar import Controller, Request, Response, delete, get, put

from service.audit import Actor
from service.avatars.avatars import MAX_AVATAR_BODY, get_avatar, put_avatar, remove_avatar
from service.http.clients import client_address, user_agent
from service.http.dependencies import CurrentRuntime, SignedIn
from service.http.rate_limits import RateLimitGroup
from service.http.request_guard import ACCEPTS_UPLOAD
from service.sessions.auth import SELF_SERVICE

# An avatar is personal data: never cached by anyone on the way, never sniffed into another type (nosniff is
# set on every response, service/http/context.py), and never run as active content if a browser opens it.
_AVATAR_HEADERS = {"Cache-Control": "no-store", "Content-Security-Policy": "default-src 'none'; sandbox"}


class AvatarReceipt(msgspec.Struct):
    kind: str
    byte_size: int
    side: int
    updated_at: datetime


def _actor(request: Request[Any, Any, Any], principal: SignedIn) -> Actor:
    return Actor.user(principal.account_id, client_address(request), user_agent(request))


class AvatarController(Controller):
    path = "/v1/me/avatar"
    tags = ["accounts"]

    @put(
        "/",
        status_code=200,
        summary=(
            "Set one's picture: the raw JPEG or PNG file as the body (at most 5 MiB, judged by its bytes), "
            "kept as its centre square, at most 512 pixels a side, without metadata"
        ),
        opt={**ACCEPTS_UPLOAD, "rate_limit": RateLimitGroup.UPLOADS},
        request_max_body_size=MAX_AVATAR_BODY,
    )
    async def set_avatar(
        self, request: Request[Any, Any, Any], runtime: CurrentRuntime, principal: SignedIn
    ) -> AvatarReceipt:
        avatar = await put_avatar(runtime, principal.account_id, request.body, _actor(request, principal))
        return AvatarReceipt(avatar.kind, len(avatar.content), avatar.side, avatar.updated_at)

    @get(
        "/",
        summary="One's picture (image/jpeg or image/png); 404 avatar_not_found when none is set",
        opt=SELF_SERVICE,
        media_type="application/octet-stream",
    )
    async def read(self, runtime: CurrentRuntime, principal: SignedIn) -> Response[bytes]:
        avatar = await get_avatar(runtime, principal.account_id)
        return Response(avatar.content, media_type=avatar.media_type, headers=_AVATAR_HEADERS)

    @delete("/", status_code=204, summary="Remove one's picture", opt=SELF_SERVICE)
    async def remove(self, request: Request[Any, Any, Any], runtime: CurrentRuntime, principal: SignedIn) -> None:
        await remove_avatar(runtime, principal.account_id, _actor(request, principal))
