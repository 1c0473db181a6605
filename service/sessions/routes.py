"""HTTP for sign-in, whoami, and seeing and ending one's sessions."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, delete, get, head, post, route
from litestar.params import FromPath, JSONBody

from service.accounts.schemas import SessionCreated, SessionGrant
from service.audit import Actor, AuditEntry
from service.errors import NotFound
from service.face.assurance import verified_by_header
from service.face.recovery import answer_recovery_challenge
from service.face.schemas import (
    MAX_BODY_BYTES,
    FaceChallenge,
    RecoveryFaceResult,
    RecoveryFaceSubmission,
)
from service.http.clients import client_address, user_agent
from service.http.dependencies import Acting, CurrentRuntime, SignedIn
from service.http.rate_limits import RateLimitGroup
from service.http.responses import EncodedJsonResponse
from service.sessions import claims, store
from service.sessions.assisted import AssistedRecoveryRequest, request_assisted_recovery
from service.sessions.assisted_face import start_face_step
from service.sessions.auth import SELF_SERVICE, STATUS_CHECK
from service.sessions.cookies import cleared_cookie, session_cookie
from service.sessions.passwords import change_password
from service.sessions.recovery import RecoveryAttempt, complete_recovery, request_recovery
from service.sessions.schemas import (
    AssistedRecoveryRequestBody,
    FaceStepRequest,
    PasswordChange,
    RecoveryCompletion,
    RecoveryRequest,
    RecoveryRequested,
    SessionInfo,
    SignInRequest,
    WhoAmI,
)
from service.sessions.sign_in import SignInAttempt, sign_in
from service.vault.labels import VaultField


class SessionController(Controller):
    path = "/v1/sessions"
    tags = ["sessions"]

    @post("/", status_code=201, summary="Sign in", opt={"rate_limit": RateLimitGroup.SIGN_IN})
    async def create(
        self, request: Request[Any, Any, Any], runtime: CurrentRuntime, data: JSONBody[SignInRequest]
    ) -> Response[SessionCreated]:
        signed_in = await sign_in(
            runtime,
            SignInAttempt(
                identifier=data.identifier,
                password=data.password,
                totp_code=data.totp_code,
                recovery_code=data.recovery_code,
                client_address=client_address(request),
                user_agent=user_agent(request),
            ),
        )
        session = signed_in.session
        return Response(
            # The same shape as registration's answer.
            SessionCreated(
                signed_in.account_id,
                signed_in.state,
                SessionGrant(session.session_id, session.token, session.expires_at),
            ),
            status_code=201,
            cookies=[session_cookie(runtime.settings, session.token, session.expires_at)],
        )

    @get("/whoami", summary="The caller's identity; a gateway calls this on every request", opt=STATUS_CHECK)
    async def whoami(self, principal: SignedIn) -> Response[WhoAmI]:
        return whoami_response(principal)

    # Envoy's HTTP ext_authz (Envoy Gateway's SecurityPolicy extAuth.http) cannot call a fixed URL:
    # it appends the checked request's path to the configured one and keeps its method, so a
    # `POST /cart` to a protected app is checked as `POST /v1/sessions/whoami/cart`. Same answer.
    @route(
        "/whoami/{checked_path:path}",
        http_method=["GET", "POST", "PUT", "PATCH", "DELETE"],
        status_code=200,  # ext_authz allows the request on 200 only
        summary="whoami as Envoy's ext_authz asks for it",
        opt=STATUS_CHECK,
        include_in_schema=False,
    )
    async def whoami_for_ext_authz(self, principal: SignedIn, checked_path: FromPath[str]) -> Response[WhoAmI]:
        return whoami_response(principal)

    # Forward-auth that asks with HEAD (nginx auth_request can, and Envoy's ext_authz keeps a checked
    # HEAD request's method): the same status and headers, no body. Litestar answers 405 otherwise.
    @head("/whoami", summary="whoami's status and headers without the body", opt=STATUS_CHECK)
    async def whoami_head(self, principal: SignedIn) -> Response[None]:
        return Response(None, headers=whoami_headers(principal))

    @head(
        "/whoami/{checked_path:path}", summary="whoami for ext_authz, HEAD", opt=STATUS_CHECK, include_in_schema=False
    )
    async def whoami_head_for_ext_authz(self, principal: SignedIn, checked_path: FromPath[str]) -> Response[None]:
        return Response(None, headers=whoami_headers(principal))

    @delete("/current", status_code=204, summary="Sign out (end this session)", opt=STATUS_CHECK)
    async def sign_out(self, runtime: CurrentRuntime, principal: SignedIn, actor: Acting) -> Response[None]:
        async with runtime.database.transaction() as conn:
            await store.end(conn, principal.account_id, principal.session_id, "signed_out")
            await runtime.audit.append(
                conn,
                AuditEntry(
                    actor,
                    "session.signed_out",
                    "account",
                    str(principal.account_id),
                    {"session_id": str(principal.session_id)},
                ),
            )
        # Every replica drops it when the trigger's notification arrives; this one at once.
        runtime.session_cache.drop_account(principal.account_id)
        return Response(None, status_code=204, cookies=[cleared_cookie(runtime.settings)])

    @get("/", summary="One's live sessions", opt=SELF_SERVICE)
    async def list_own(self, runtime: CurrentRuntime, principal: SignedIn) -> list[SessionInfo]:
        async with runtime.database.connection() as conn:
            cipher = await runtime.vault.open(conn, principal.account_id)
            rows = await store.live_for_account(conn, principal.account_id, runtime.settings.session_idle_timeout)
        return [
            SessionInfo(
                session_id=row.id,
                current=row.id == principal.session_id,
                assurance_level=row.assurance,
                created_at=row.created_at,
                last_seen_at=row.last_seen_at,
                expires_at=row.expires_at,
                client_address=cipher.open_optional(VaultField.SESSION_CLIENT_ADDRESS, row.client_address),
                user_agent=cipher.open_optional(VaultField.SESSION_USER_AGENT, row.user_agent),
            )
            for row in rows
        ]

    @delete("/{session_id:uuid}", status_code=204, summary="End one of one's sessions", opt=SELF_SERVICE)
    async def end_one(self, runtime: CurrentRuntime, principal: SignedIn, session_id: FromPath[UUID]) -> None:
        async with runtime.database.transaction() as conn:
            ended = await store.end(conn, principal.account_id, session_id, "ended_by_user")
        runtime.session_cache.drop_account(principal.account_id)
        if not ended:
            raise NotFound("session_not_found", "No such live session")


class PasswordController(Controller):
    path = "/v1/me/password"
    tags = ["sessions"]

    @post(
        "/",
        status_code=204,
        summary="Change one's password: the current one, throttled like sign-in; every other session ends",
        opt={**STATUS_CHECK, "rate_limit": RateLimitGroup.SIGN_IN},
    )
    async def change(
        self,
        request: Request[Any, Any, Any],
        runtime: CurrentRuntime,
        principal: SignedIn,
        data: JSONBody[PasswordChange],
    ) -> None:
        await change_password(
            runtime,
            principal,
            data.current_password,
            data.new_password,
            client_address=client_address(request),
            user_agent=user_agent(request),
        )
        runtime.session_cache.drop_account(principal.account_id)


RECOVERY_REQUESTED = RecoveryRequested(
    "If this identifier belongs to an account with a verified e-mail or phone, a code was sent there."
)
ASSISTED_RECOVERY_REQUESTED = RecoveryRequested(
    "If these details match an account's verified identity, our staff will review the request and write "
    "to the account's verified e-mail or phone."
)


class RecoveryController(Controller):
    path = "/v1/recovery"
    tags = ["sessions"]

    @post(
        "/",
        status_code=202,
        summary="Forgotten password: a code to every verified contact; the same answer for unknown identifiers",
        opt={"rate_limit": RateLimitGroup.SIGN_IN},
    )
    async def request_code(
        self, request: Request[Any, Any, Any], runtime: CurrentRuntime, data: JSONBody[RecoveryRequest]
    ) -> RecoveryRequested:
        await request_recovery(
            runtime, data.identifier, client_address=client_address(request), user_agent=user_agent(request)
        )
        return RECOVERY_REQUESTED

    @post(
        "/assisted",
        status_code=202,
        summary="Lost password and second factor: two operators review a request that matches the verified "
        "real name; the same answer for every identifier",
        opt={"rate_limit": RateLimitGroup.SIGN_IN},
    )
    async def request_assisted(
        self, request: Request[Any, Any, Any], runtime: CurrentRuntime, data: JSONBody[AssistedRecoveryRequestBody]
    ) -> RecoveryRequested:
        await request_assisted_recovery(
            runtime,
            AssistedRecoveryRequest(
                data.identifier, data.legal_name, data.id_number, client_address(request), user_agent(request)
            ),
        )
        return ASSISTED_RECOVERY_REQUESTED

    @post(
        "/assisted/face",
        status_code=201,
        summary="Assisted recovery's face step: the key sent to the verified contacts buys a liveness challenge "
        "tied to the request (once)",
        opt={"rate_limit": RateLimitGroup.SIGN_IN},
    )
    async def start_face_step(
        self, request: Request[Any, Any, Any], runtime: CurrentRuntime, data: JSONBody[FaceStepRequest]
    ) -> FaceChallenge:
        return await start_face_step(
            runtime, data.case_id, data.key, client_address=client_address(request), user_agent=user_agent(request)
        )

    @post(
        "/assisted/face/{verification_id:uuid}",
        status_code=200,
        summary="Answer the face step's challenge (frames per action, base64): the result goes to the request's "
        "operators",
        opt={"rate_limit": RateLimitGroup.UPLOADS},
        request_max_body_size=MAX_BODY_BYTES,
    )
    async def answer_face_step(
        self,
        request: Request[Any, Any, Any],
        runtime: CurrentRuntime,
        verification_id: FromPath[UUID],
        data: JSONBody[RecoveryFaceSubmission],
    ) -> RecoveryFaceResult:
        actor = Actor.anonymous(client_address(request), user_agent(request))
        return await answer_recovery_challenge(runtime, verification_id, data, actor)

    @post(
        "/complete",
        status_code=201,
        summary="Set a new password with the code (and the second factor): a session, as sign-in answers",
        opt={"rate_limit": RateLimitGroup.SIGN_IN},
    )
    async def complete(
        self, request: Request[Any, Any, Any], runtime: CurrentRuntime, data: JSONBody[RecoveryCompletion]
    ) -> Response[SessionCreated]:
        recovered = await complete_recovery(
            runtime,
            RecoveryAttempt(
                identifier=data.identifier,
                code=data.code,
                new_password=data.new_password,
                totp_code=data.totp_code,
                recovery_code=data.recovery_code,
                client_address=client_address(request),
                user_agent=user_agent(request),
            ),
        )
        session = recovered.session
        return Response(
            SessionCreated(
                recovered.account_id,
                recovered.state,
                SessionGrant(session.session_id, session.token, session.expires_at),
            ),
            status_code=201,
            cookies=[session_cookie(runtime.settings, session.token, session.expires_at)],
        )


def whoami_headers(principal: SignedIn) -> dict[str, str]:
    """What forward-auth gateways copy onto the upstream request."""
    real_name, qualified, face, reviewed = claims.proofing_flags(principal)
    return {
        "x-idv-account-id": str(principal.account_id),
        "x-idv-account-state": principal.state.value,
        "x-idv-assurance-level": str(principal.assurance),
        "x-idv-consent-required": "true" if principal.consent_required else "false",
        "x-idv-real-name-verified": "true" if real_name else "false",
        "x-idv-qualified": "true" if qualified else "false",
        "x-idv-face-verified": "true" if face else "false",
        "x-idv-face-verified-by": verified_by_header(claims.face_verified_by(principal)),
        "x-idv-document-reviewed": "true" if reviewed else "false",
        "cache-control": "no-store",
    }


def whoami_response(principal: SignedIn) -> Response[WhoAmI]:
    body = WhoAmI(
        account_id=principal.account_id,
        session_id=principal.session_id,
        state=principal.state,
        assurance=claims.assurance(principal),
        roles=[],
        expires_at=principal.expires_at,
        consent_required=principal.consent_required,
    )
    # On every request of every protected app: its headers are encoded once (service/http/responses.py).
    return EncodedJsonResponse(body, headers=whoami_headers(principal))
