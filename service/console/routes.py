"""HTTP for the operator console: server-rendered pages under /console (HTTP in and out only).

Each page calls the operators' and cases' own domain functions, behind the same role declarations
(``allow``) and the same checks (``service.operators.auth.authenticate`` and ``ensure_allowed``,
which the operator API's guard runs through ``authorize``); what a case page offers comes from
``service.cases.access.case_actions``, the checks the decisions make. A case's documents and
face images open through the operator API's own functions (``documents.access.open_document``,
``face.review.open_face_image``: the same checks, the same audit entries). The templates only
show what they are given.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID

import msgspec
import segno
from litestar import Controller, Response, get, post
from litestar.params import FromPath, FromQuery, PathParameter, QueryParameter

from service.audit.reading import entries_about
from service.cases import decisions, queue
from service.cases.access import refusals_audited, workable_types
from service.cases.schemas import AppealedCase, CaseDetail, RevealReason
from service.cases.states import OPEN_STATES, CaseState, DecisionKind
from service.console.assets import ASSETS
from service.console.pages import (
    AUDIT_ROLES,
    QUEUE_ROLES,
    SIGN_IN_PATH,
    AnyRequest,
    CurrentOperator,
    OperatorNames,
    SignInFirst,
    anonymous_actor,
    console_error,
    console_guard,
    page_context,
    pre_session_form,
    render,
    see_other,
    session_form,
)
from service.console.security import (
    INLINE_MEDIA_TYPES,
    SESSION_COOKIE,
    cleared_pre_session_cookie,
    cleared_session_cookie,
    cookie_name,
    evidence_disposition,
    new_pre_session_token,
    pre_session_cookie,
    session_cookie,
)
from service.documents.access import DocumentSummary, list_documents, open_document
from service.errors import DomainError, Invalid, Unauthenticated, invalid_field
from service.face.review import IMAGE_MEDIA_TYPE, face_image_roles, open_face_image
from service.face.routes import ImageRole
from service.http.clients import client_address, user_agent
from service.http.dependencies import CurrentRuntime
from service.http.evidence import EVIDENCE_HEADERS
from service.http.rate_limits import RateLimitGroup
from service.http.request_guard import ACCEPTS_FORM
from service.i18n.catalogues import in_request_language, translatable
from service.operators.auth import (
    OperatorPrincipal,
    SessionChannel,
    allow,
)
from service.operators.enrolment import begin_enrolment, confirm_enrolment
from service.operators.roles import ANY_ROLE, SECOND_APPROVERS
from service.operators.sign_in import OperatorSignIn, end_replaced_session, sign_in_operator, sign_out_operator
from service.runtime import Runtime
from verification.uploads import UploadKind

EvidenceName = Annotated[str, PathParameter(pattern=r"^[a-z_]{1,64}$")]
# What the operator API's audit endpoint accepts, the same here.
AUDIT_TARGET_TYPE = re.compile(r"^[a-z_]{1,32}$")
AUDIT_TARGET_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


# The kinds of document the viewer shows as images; the others (PDF) are downloads only.
INLINE_KINDS = frozenset(kind.value for kind in UploadKind if kind.media_type in INLINE_MEDIA_TYPES)


# The queue's due filter: cases due before now, or within the next day.
# Cases per page of the console's queue (the API allows up to 200).
QUEUE_PAGE_SIZE = 100
DUE_WITHIN = {"past": timedelta(0), "day": timedelta(days=1)}
# A date the due filter takes: four-digit years up to 9998, so the day after is a date too.
DATE_FIELD = re.compile(r"^(?:19[7-9][0-9]|[2-8][0-9]{3}|9[0-8][0-9]{2}|99[0-8][0-9]|999[0-8])-[0-9]{2}-[0-9]{2}$")


def due_date(text: str | None) -> date | None:
    """The queue's "due by" filter: a calendar date as ``<input type=date>`` sends it (YYYY-MM-DD);
    empty is no filter, anything else the field's error."""
    if not text:
        return None
    try:
        if not DATE_FIELD.match(text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise invalid_field("due_by", "invalid", "enter a date as YYYY-MM-DD") from None


def _operators_named(detail: CaseDetail, appealed: AppealedCase | None) -> list[UUID | str | None]:
    """Every operator a case page names: its assignee, who staged a decision, who acted in its
    history, and who decided the case it appeals."""
    named: list[UUID | str | None] = [detail.summary.assignee_id]
    if detail.staged_decision:
        named.append(detail.staged_decision.staged_by)
    entries = [*detail.history, *(appealed.decisions if appealed else [])]
    named += [entry.actor_id for entry in entries if entry.actor_type == "operator"]
    return named


def _face_image_label(role: str) -> str:
    """A face case's image roles (service.face.routes.ImageRole) as an operator reads them."""
    if role == "document":
        return in_request_language(translatable("Document portrait"))
    if role == "live":
        return in_request_language(translatable("First live frame"))
    _, action, frame = role.split("-")
    text = in_request_language(translatable("Action {action}, frame {frame}"))
    return text.format(action=int(action) + 1, frame=int(frame) + 1)


async def _evidence_viewer(
    runtime: Runtime, operator: OperatorPrincipal, case_id: UUID, may_open: bool
) -> dict[str, Any]:
    """What the viewer lists for a case: its documents (sizes and kinds, as the operator API's list
    gives them) and, when this operator may see the case's personal values in clear (``may_open``,
    from ``case_actions``), the face images it keeps. Opening one is its own audited request."""
    documents: list[DocumentSummary] = await list_documents(runtime, operator, case_id)
    roles = await face_image_roles(runtime, operator, case_id) if may_open else []
    images = [(role, _face_image_label(role)) for role in roles]
    portrait = next((image for image in images if image[0] == "document"), None)
    return {
        "case_id": case_id,
        "may_open": may_open,
        "documents": documents,
        "face_images": images,
        # The document portrait beside each live frame, the comparison the reviewer makes (the
        # portrait is one address, so the browser loads it once for the page).
        "face_pairs": [(portrait, image) for image in images if image is not portrait] if portrait else [],
    }


class ConsoleController(Controller):
    path = "/console"
    include_in_schema = False
    guards = [console_guard]
    exception_handlers = {SignInFirst: console_error, DomainError: console_error}

    # Reachable by a session restricted to enrolling a passkey (IDV_OPERATOR_REQUIRE_PASSKEY), as
    # the API's "who am I" and sign-out are: nothing that acts.
    @get("/", opt=allow(ANY_ROLE, while_enrolling_passkey=True))
    async def home(self, request: AnyRequest, operator: CurrentOperator) -> Response[str]:
        return render("home.html", page_context(request, operator))

    @get("/sign-in", opt={})
    async def sign_in_page(self, request: AnyRequest, runtime: CurrentRuntime) -> Response[str]:
        token = new_pre_session_token()
        context = {**page_context(request, None), "csrf": token, "failed": False, "email": ""}
        return render("sign_in.html", context, cookies=[pre_session_cookie(runtime.settings, token)])

    @post("/sign-in", opt={**ACCEPTS_FORM, "rate_limit": RateLimitGroup.SIGN_IN})
    async def sign_in(self, request: AnyRequest, runtime: CurrentRuntime) -> Response[Any]:
        fields = await pre_session_form(request, runtime)
        attempt = OperatorSignIn(
            fields.get("email", ""),
            fields.get("password", ""),
            fields.get("totp_code", ""),
            client_address(request),
            user_agent(request),
            SessionChannel.CONSOLE,
        )
        try:
            session = await sign_in_operator(runtime, attempt)
        except Unauthenticated:
            token = new_pre_session_token()
            context = {**page_context(request, None), "csrf": token, "failed": True, "email": attempt.email}
            return render("sign_in.html", context, status=401, cookies=[pre_session_cookie(runtime.settings, token)])
        if previous := request.cookies.get(cookie_name(runtime.settings, SESSION_COOKIE)):
            await end_replaced_session(runtime, previous, anonymous_actor(request))
        max_age = max(0, int((session.expires_at - datetime.now(UTC)).total_seconds()))
        cookies = [
            session_cookie(runtime.settings, session.token, max_age),
            cleared_pre_session_cookie(runtime.settings),
        ]
        return see_other("/console/", cookies)

    @get("/enrol", opt={})
    async def enrol_page(self, request: AnyRequest, runtime: CurrentRuntime) -> Response[str]:
        token = new_pre_session_token()
        context = {**page_context(request, None), "csrf": token}
        return render("enrol.html", context, cookies=[pre_session_cookie(runtime.settings, token)])

    @post("/enrol", opt={**ACCEPTS_FORM, "rate_limit": RateLimitGroup.SIGN_IN})
    async def enrol(self, request: AnyRequest, runtime: CurrentRuntime) -> Response[str]:
        """The enrolment code from the e-mail and a new password: the TOTP secret, as a QR code."""
        fields = await pre_session_form(request, runtime)
        code = fields.get("enrolment_code", "").strip()
        factor = await begin_enrolment(runtime, code, fields.get("password", ""), anonymous_actor(request))
        token = new_pre_session_token()
        context = {
            **page_context(request, None),
            "csrf": token,
            "enrolment_code": code,
            "secret": factor.totp_secret,
            "qr": segno.make(factor.otpauth_uri, error="m").svg_data_uri(scale=5),
        }
        return render("enrol_confirm.html", context, cookies=[pre_session_cookie(runtime.settings, token)])

    @post("/enrol/confirm", opt={**ACCEPTS_FORM, "rate_limit": RateLimitGroup.SIGN_IN})
    async def confirm_enrol(self, request: AnyRequest, runtime: CurrentRuntime) -> Response[Any]:
        fields = await pre_session_form(request, runtime)
        await confirm_enrolment(
            runtime, fields.get("enrolment_code", "").strip(), fields.get("totp_code", ""), anonymous_actor(request)
        )
        return see_other(SIGN_IN_PATH, [cleared_pre_session_cookie(runtime.settings)])

    @post("/sign-out", opt={**allow(ANY_ROLE, while_enrolling_passkey=True), **ACCEPTS_FORM})
    async def sign_out(self, request: AnyRequest, runtime: CurrentRuntime, operator: CurrentOperator) -> Response[Any]:
        await session_form(request)
        await sign_out_operator(runtime, operator)
        return see_other(SIGN_IN_PATH, [cleared_session_cookie(runtime.settings)])

    @get("/queue", opt=allow(QUEUE_ROLES))
    async def queue_page(
        self,
        request: AnyRequest,
        runtime: CurrentRuntime,
        operator: CurrentOperator,
        case_type: FromQuery[str | None] = None,
        in_state: Annotated[str | None, QueryParameter(name="state")] = None,
        assigned: FromQuery[str | None] = None,
        due: FromQuery[str | None] = None,
        due_by: Annotated[str | None, QueryParameter(max_length=32)] = None,
        after: Annotated[str | None, QueryParameter(max_length=200)] = None,
    ) -> Response[str]:
        types = workable_types(operator)
        chosen_type = next((t for t in types if t.value == case_type), None)
        open_states = sorted(OPEN_STATES)
        chosen_state = next((s for s in open_states if s.value == in_state), None)
        chosen_assigned = assigned if assigned in {"mine", "unassigned"} else ""
        chosen_due = due if due in DUE_WITHIN else ""
        now = datetime.now(UTC)
        problem: Invalid | None = None
        try:
            chosen_due_by = due_date(due_by)
        except Invalid as exc:
            problem, chosen_due_by = exc, None
        # Due before the sooner of the two filters: within a span of now, and by the end of a day (UTC).
        ends = [now + DUE_WITHIN[chosen_due]] if chosen_due else []
        if chosen_due_by is not None:
            ends.append(datetime.combine(chosen_due_by + timedelta(days=1), time(), UTC))
        # The API's keyset pages (a cursor past the last case shown), so a long queue stays quick.
        page = await queue.queue_page(
            runtime,
            operator,
            case_type=chosen_type.value if chosen_type else None,
            state=chosen_state,
            due_before=min(ends, default=None),
            mine=chosen_assigned == "mine",
            unassigned=chosen_assigned == "unassigned",
            limit=QUEUE_PAGE_SIZE,
            after=after or None,
        )
        counts = await queue.queue_counts(runtime, operator)
        names = await OperatorNames.of(runtime, (c.assignee_id for c in page.cases))
        filters = {
            "case_type": chosen_type.value if chosen_type else "",
            "state": chosen_state.value if chosen_state else "",
            "assigned": chosen_assigned,
            "due": chosen_due,
            "due_by": chosen_due_by.isoformat() if chosen_due_by else "",
        }
        kept = {name: value for name, value in filters.items() if value}
        context = {
            **page_context(request, operator),
            "cases": page.cases,
            "operator_name": names,
            "first_page": "/console/queue" + ("?" + urlencode(kept) if kept else "") if after else None,
            "next_page": (
                "/console/queue?" + urlencode({**kept, "after": page.next_cursor}) if page.next_cursor else None
            ),
            "counts": counts,
            "types": types,
            "states": open_states,
            "chosen_type": chosen_type.value if chosen_type else "",
            "chosen_state": chosen_state.value if chosen_state else "",
            "chosen_assigned": chosen_assigned,
            "chosen_due": chosen_due,
            "chosen_due_by": filters["due_by"],
            "problem": problem,
            "now": now,
        }
        # A malformed date is the form's field error (and no case left out by a misread filter).
        if problem is not None:
            context = {**context, "cases": [], "first_page": None, "next_page": None, "chosen_due_by": due_by}
        return render("queue.html", context, status=422 if problem else 200)

    @get("/cases/{case_id:uuid}", opt=allow(QUEUE_ROLES))
    async def case_page(
        self,
        request: AnyRequest,
        runtime: CurrentRuntime,
        operator: CurrentOperator,
        case_id: FromPath[UUID],
        reason: FromQuery[str | None] = None,
    ) -> Response[str]:
        """The case; with ``reason`` (a reveal reason), its documents and photos shown inline."""
        async with refusals_audited(runtime.audit, operator, case_id):
            detail, actions = await queue.workbench(runtime, operator, case_id)
            appealed = await queue.appealed_case(runtime, operator, detail)
            viewer = await _evidence_viewer(runtime, operator, case_id, actions.may_reveal)
            original_viewer = (
                await _evidence_viewer(runtime, operator, appealed.summary.case_id, appealed.may_reveal)
                if appealed
                else None
            )
        chosen_reason = next((r for r in RevealReason if r.value == reason), None)
        names = await OperatorNames.of(runtime, _operators_named(detail, appealed))
        context = {
            **page_context(request, operator),
            "case": detail,
            "operator_name": names,
            "actions": actions,
            "appealed": appealed,
            "viewer": viewer,
            "original_viewer": original_viewer,
            "viewer_reason": chosen_reason.value if chosen_reason else "",
            "inline_kinds": INLINE_KINDS,
            "now": datetime.now(UTC),
            "pending": CaseState.PENDING_SECOND_APPROVAL,
            "reveal_reasons": list(RevealReason),
            # The decision's note is the written answer its subject reads (rights requests).
            "answer_in_writing": detail.summary.case_type in decisions.EXPLAINED_TO_SUBJECT,
        }
        return render("case.html", context)

    @get("/cases/{case_id:uuid}/documents/{document_id:uuid}", opt=allow(QUEUE_ROLES))
    async def document(
        self,
        runtime: CurrentRuntime,
        operator: CurrentOperator,
        case_id: FromPath[UUID],
        document_id: FromPath[UUID],
        reason: FromQuery[RevealReason],
    ) -> Response[bytes]:
        """One document of the case, as the operator API opens it (the same checks, the same audit
        entry); an image inline for the viewer, a PDF only as a download."""
        async with refusals_audited(runtime.audit, operator, case_id):
            document = await open_document(runtime, operator, case_id, document_id, reason)
        disposition = evidence_disposition(document.media_type, f"document-{document_id}.{document.kind}")
        headers = {**EVIDENCE_HEADERS, "content-disposition": disposition}
        return Response(document.content, media_type=document.media_type, headers=headers)

    @get("/cases/{case_id:uuid}/face-images/{role:str}", opt=allow(QUEUE_ROLES))
    async def face_image(
        self,
        runtime: CurrentRuntime,
        operator: CurrentOperator,
        case_id: FromPath[UUID],
        role: ImageRole,
        reason: FromQuery[RevealReason],
    ) -> Response[bytes]:
        """The document portrait or a live frame of a face case, as the operator API opens it."""
        async with refusals_audited(runtime.audit, operator, case_id):
            content = await open_face_image(runtime, operator, case_id, role, reason)
        disposition = evidence_disposition(IMAGE_MEDIA_TYPE, f"face-{role}.jpeg")
        headers = {**EVIDENCE_HEADERS, "content-disposition": disposition}
        return Response(content, media_type=IMAGE_MEDIA_TYPE, headers=headers)

    @post("/cases/{case_id:uuid}/claim", opt={**allow(QUEUE_ROLES), **ACCEPTS_FORM})
    async def claim(
        self, request: AnyRequest, runtime: CurrentRuntime, operator: CurrentOperator, case_id: FromPath[UUID]
    ) -> Response[Any]:
        await session_form(request)
        async with refusals_audited(runtime.audit, operator, case_id):
            await queue.claim(runtime, operator, case_id)
        return see_other(f"/console/cases/{case_id}")

    @post("/cases/{case_id:uuid}/release", opt={**allow(QUEUE_ROLES), **ACCEPTS_FORM})
    async def release(
        self, request: AnyRequest, runtime: CurrentRuntime, operator: CurrentOperator, case_id: FromPath[UUID]
    ) -> Response[Any]:
        await session_form(request)
        async with refusals_audited(runtime.audit, operator, case_id):
            await queue.release(runtime, operator, case_id)
        return see_other(f"/console/cases/{case_id}")

    @post("/cases/{case_id:uuid}/evidence/{name:str}/reveal", opt={**allow(QUEUE_ROLES), **ACCEPTS_FORM})
    async def reveal(
        self,
        request: AnyRequest,
        runtime: CurrentRuntime,
        operator: CurrentOperator,
        case_id: FromPath[UUID],
        name: EvidenceName,
    ) -> Response[str]:
        fields = await session_form(request)
        try:
            reason = RevealReason(fields.get("reason", ""))
        except ValueError:
            raise invalid_field("reason", "invalid", "choose one of the reasons offered") from None
        async with refusals_audited(runtime.audit, operator, case_id):
            revealed = await queue.reveal(runtime, operator, case_id, name, reason)
        context = {
            **page_context(request, operator),
            "case_id": case_id,
            "revealed": revealed,
        }
        # htmx swaps the value into the case page; without it, a page of its own.
        fragment = request.headers.get("hx-request") == "true"
        return render("revealed_value.html" if fragment else "revealed.html", context)

    @get("/audit", opt=allow(AUDIT_ROLES))
    async def audit_page(
        self,
        request: AnyRequest,
        runtime: CurrentRuntime,
        operator: CurrentOperator,
        target_type: FromQuery[str | None] = None,
        target_id: FromQuery[str | None] = None,
    ) -> Response[str]:
        """The trail about one target (a case, an account, an operator), newest first; reading is audited."""
        chosen_type, chosen_id = (target_type or "").strip(), (target_id or "").strip()
        entries: list[dict[str, Any]] | None = None
        invalid = bool(chosen_type or chosen_id) and not (
            AUDIT_TARGET_TYPE.match(chosen_type) and AUDIT_TARGET_ID.match(chosen_id)
        )
        if (chosen_type or chosen_id) and not invalid:
            rows = await entries_about(runtime, operator.actor, chosen_type, chosen_id, 200)
            names = await OperatorNames.of(runtime, (r.actor_id for r in rows if r.actor_type == "operator"))
            entries = [
                {
                    "at": row.at,
                    "actor_type": row.actor_type,
                    "actor_id": row.actor_id,
                    "actor_name": names(row.actor_id) if row.actor_type == "operator" else None,
                    "action": row.action,
                    "details": sorted(msgspec.json.decode(row.details).items()),
                }
                for row in rows
            ]
        context = {
            **page_context(request, operator),
            "target_type": chosen_type,
            "target_id": chosen_id,
            "invalid": invalid,
            "entries": entries,
        }
        return render("audit.html", context, status=422 if invalid else 200)

    @post("/cases/{case_id:uuid}/decision", opt={**allow(QUEUE_ROLES), **ACCEPTS_FORM})
    async def decide(
        self, request: AnyRequest, runtime: CurrentRuntime, operator: CurrentOperator, case_id: FromPath[UUID]
    ) -> Response[Any]:
        fields = await session_form(request)
        decision, _, reason_code = fields.get("choice", "").partition(":")
        try:
            kind = DecisionKind(decision)
        except ValueError:
            raise invalid_field("choice", "decision_not_allowed", "choose one of the decisions offered") from None
        note = fields.get("note", "").strip() or None
        async with refusals_audited(runtime.audit, operator, case_id):
            await decisions.decide(runtime, operator, case_id, kind, reason_code, note, claim=True)
        return see_other(f"/console/cases/{case_id}")

    @post("/cases/{case_id:uuid}/confirm", opt={**allow(SECOND_APPROVERS), **ACCEPTS_FORM})
    async def confirm(
        self, request: AnyRequest, runtime: CurrentRuntime, operator: CurrentOperator, case_id: FromPath[UUID]
    ) -> Response[Any]:
        await session_form(request)
        async with refusals_audited(runtime.audit, operator, case_id):
            await decisions.confirm(runtime, operator, case_id)
        return see_other(f"/console/cases/{case_id}")

    @post("/cases/{case_id:uuid}/send-back", opt={**allow(SECOND_APPROVERS), **ACCEPTS_FORM})
    async def send_back(
        self, request: AnyRequest, runtime: CurrentRuntime, operator: CurrentOperator, case_id: FromPath[UUID]
    ) -> Response[Any]:
        fields = await session_form(request)
        async with refusals_audited(runtime.audit, operator, case_id):
            await decisions.send_back(runtime, operator, case_id, fields.get("note", "").strip() or None)
        return see_other(f"/console/cases/{case_id}")


class ConsoleAssetsController(Controller):
    path = "/console/static"
    include_in_schema = False

    @get("/{name:str}")
    async def asset(self, name: FromPath[str]) -> Response[bytes]:
        asset = ASSETS.get(name)
        if asset is None:
            return Response(b"", status_code=404, headers={"cache-control": "no-store"})
        headers = {
            "cache-control": "public, max-age=3600",
            "etag": f'"{asset.sha256}"',
        }
        return Response(asset.body, media_type=asset.media_type, headers=headers)
