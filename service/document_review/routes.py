"""HTTP for asking a person to check one's identity document (no facial recognition)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import JSONBody

from service.document_review.review import latest, request_review
from service.document_review.schemas import MAX_BODY_BYTES, DocumentReviewRequest, DocumentReviewStatus
from service.http.dependencies import Acting, CurrentRuntime, SignedIn


class DocumentReviewController(Controller):
    path = "/v1/me/verifications/document-review"
    tags = ["verifications"]

    @post(
        "/",
        status_code=201,
        summary="Ask an operator to check photos of one's ID document (the way without facial recognition)",
        request_max_body_size=MAX_BODY_BYTES,
    )
    async def request(
        self,
        request: Request[Any, Any, Any],
        runtime: CurrentRuntime,
        principal: SignedIn,
        actor: Acting,
        data: JSONBody[DocumentReviewRequest],
    ) -> DocumentReviewStatus:
        return await request_review(runtime, principal.account_id, data, actor)

    @get("/", summary="Where one's latest document review stands")
    async def current(self, runtime: CurrentRuntime, principal: SignedIn) -> DocumentReviewStatus:
        return await latest(runtime, principal.account_id)
