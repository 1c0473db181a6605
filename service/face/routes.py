"""HTTP for one's face verification, and for operators comparing the photos under review."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody, PathParameter

from service.cases.access import refusals_audited
from service.cases.schemas import RevealReason
from service.face.challenge import start_challenge
from service.face.review import IMAGE_MEDIA_TYPE, face_image_roles, open_face_image
from service.face.schemas import MAX_BODY_BYTES, FaceChallenge, FaceResult, FaceSubmission
from service.face.verification import current, submit
from service.http.dependencies import Acting, CurrentRuntime, SignedIn
from service.http.evidence import EVIDENCE_HEADERS
from service.operators.auth import allow, operator_guard
from service.operators.roles import CASE_WORKERS
from service.operators.routes import CurrentOperator
from service.sessions.auth import FOR_VERIFICATION

# The document, the first live frame, and (for the grey band) every frame: frame-<action>-<frame>.
ImageRole = Annotated[str, PathParameter(pattern=r"^(document|live|frame-[0-9]-[0-9])$")]


class FaceController(Controller):
    path = "/v1/me/verifications/face"
    tags = ["verifications"]
    opt = FOR_VERIFICATION

    @post("/", status_code=201, summary="Start: a liveness challenge (needs the biometric consent)")
    async def start(self, runtime: CurrentRuntime, principal: SignedIn, actor: Acting) -> FaceChallenge:
        return await start_challenge(runtime, principal.account_id, actor)

    @post(
        "/{verification_id:uuid}",
        status_code=200,
        summary="Answer the challenge: the document portrait and frames per action (base64)",
        request_max_body_size=MAX_BODY_BYTES,
    )
    async def answer(
        self,
        runtime: CurrentRuntime,
        principal: SignedIn,
        actor: Acting,
        verification_id: FromPath[UUID],
        data: JSONBody[FaceSubmission],
    ) -> FaceResult:
        return await submit(runtime, principal.account_id, verification_id, data, actor)

    @get("/", summary="Where one's latest face verification stands")
    async def latest(self, runtime: CurrentRuntime, principal: SignedIn) -> FaceResult:
        return await current(runtime, principal.account_id)


class FaceReviewController(Controller):
    path = "/v1/operator/cases/{case_id:uuid}/face-images"
    tags = ["review cases"]
    guards = [operator_guard]

    @get(
        "/",
        summary="Which images a case under review keeps: the document, the first live frame and every frame",
        opt=allow(CASE_WORKERS),
    )
    async def roles(self, runtime: CurrentRuntime, operator: CurrentOperator, case_id: FromPath[UUID]) -> list[str]:
        async with refusals_audited(runtime.audit, operator, case_id):
            return await face_image_roles(runtime, operator, case_id)

    @get(
        "/{role:str}",
        summary="The document portrait or a live frame of a case under review, with a reason (audited)",
        opt=allow(CASE_WORKERS),
        media_type=IMAGE_MEDIA_TYPE,
    )
    async def image(
        self,
        runtime: CurrentRuntime,
        operator: CurrentOperator,
        case_id: FromPath[UUID],
        role: ImageRole,
        reason: FromQuery[RevealReason],
    ) -> Response[bytes]:
        async with refusals_audited(runtime.audit, operator, case_id):
            content = await open_face_image(runtime, operator, case_id, role, reason)
        return Response(content, media_type=IMAGE_MEDIA_TYPE, headers=EVIDENCE_HEADERS)
