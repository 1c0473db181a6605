"""The console's security frame over HTTP: its cookie, CSRF tokens, headers, and who it refuses."""

from __future__ import annotations

import hashlib
import re
import uuid
from datetime import timedelta
from importlib import resources

import asyncpg
import httpx
from litestar import Litestar

from service.accounts.masking import mask_email
from service.app import create_litestar
from service.audit import Actor
from service.cases.catalogue import CaseType
from service.console.assets import HTMX_SHA256
from service.console.security import CONTENT_SECURITY_POLICY
from service.http.request_guard import ACCEPTS_FORM_OPT
from service.operators.auth import ROLES_OPT
from service.operators.enrolment import create_operator
from service.operators.roles import Role
from service.runtime import Runtime
from service.settings import Settings
from tests.arrange.cases import case_in_review
from tests.arrange.console import ConsoleOperator, console_sign_in, csrf_of, enrolled_for_console
from tests.helpers import STRONG_PASSWORD, enrolled_operator, register, totp_code

COOKIE = "__Host-idv_console"


async def signed_in(client: httpx.AsyncClient, runtime: Runtime, *roles: str) -> ConsoleOperator:
    operator = await enrolled_for_console(runtime, client, *roles)
    response = await console_sign_in(client, operator)
    assert response.status_code == 303, response.text
    return operator


async def case_state(db: asyncpg.Connection, case_id: uuid.UUID) -> tuple[str, uuid.UUID | None]:
    row = await db.fetchrow("SELECT state, assignee_id FROM review_cases WHERE id = $1", case_id)
    assert row is not None
    return row["state"], row["assignee_id"]


async def test_htmx_is_served_as_vendored(client: httpx.AsyncClient) -> None:
    on_disk = resources.files("service.console").joinpath("static", "htmx.min.js").read_bytes()
    assert hashlib.sha256(on_disk).hexdigest() == HTMX_SHA256
    response = await client.get("/console/static/htmx.min.js")
    assert response.status_code == 200
    assert hashlib.sha256(response.content).hexdigest() == HTMX_SHA256
    assert response.headers["content-type"].startswith("text/javascript")
    assert (await client.get("/console/static/../../settings.py")).status_code == 404
    assert (await client.get("/console/static/nothing.js")).status_code == 404


async def test_sign_in_sets_a_strict_host_only_cookie_of_its_own(client: httpx.AsyncClient, runtime: Runtime) -> None:
    operator = await enrolled_for_console(runtime, client, "reviewer")
    response = await console_sign_in(client, operator)
    assert response.status_code == 303
    assert response.headers["location"] == "/console/"
    [cookie] = [c for c in response.headers.get_list("set-cookie") if c.startswith(f"{COOKIE}=")]
    attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "secure", "samesite=strict", "path=/"} <= attributes
    assert not any(a.startswith("domain") for a in attributes)
    home = await client.get("/console/")
    assert home.status_code == 200
    assert "reviewer" in home.text


async def test_pages_forbid_inline_code_framing_and_caching(client: httpx.AsyncClient, runtime: Runtime) -> None:
    sign_in_page = await client.get("/console/sign-in")
    await signed_in(client, runtime, "reviewer")
    case_id = await case_in_review(client, runtime)
    for response in (sign_in_page, await client.get("/console/queue"), await client.get(f"/console/cases/{case_id}")):
        assert response.status_code == 200, response.text
        csp = response.headers["content-security-policy"]
        assert csp == CONTENT_SECURITY_POLICY
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "style-src 'self'" in csp
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["x-frame-options"] == "DENY"
        # No inline script or style in the markup either (the CSP would block them anyway).
        assert "<script>" not in response.text and "style=" not in response.text and "<style" not in response.text
    assert 'autocomplete="username"' in sign_in_page.text
    assert 'autocomplete="current-password"' in sign_in_page.text
    assert 'autocomplete="one-time-code"' in sign_in_page.text


async def test_a_form_without_the_session_csrf_token_is_refused(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    operator = await signed_in(client, runtime, "reviewer")
    case_id = await case_in_review(client, runtime)
    page = await client.get(f"/console/cases/{case_id}")
    token = csrf_of(page.text)
    for form in ({}, {"csrf_token": ""}, {"csrf_token": "0" * 64}, {"csrf_token": token[:-1]}):
        response = await client.post(f"/console/cases/{case_id}/claim", data=form)
        assert response.status_code == 403, form
        assert "csrf_token_invalid" in response.text
    assert await case_state(db, case_id) == ("in_review", None)
    # A JSON body or a foreign origin never reaches the handler.
    response = await client.post(f"/console/cases/{case_id}/claim", json={"csrf_token": token})
    assert response.status_code == 415
    response = await client.post(
        f"/console/cases/{case_id}/claim", data={"csrf_token": token}, headers={"origin": "https://evil.example"}
    )
    assert response.status_code == 403
    assert await case_state(db, case_id) == ("in_review", None)
    response = await client.post(f"/console/cases/{case_id}/claim", data={"csrf_token": token})
    assert response.status_code == 303
    assert await case_state(db, case_id) == ("in_review", operator.operator_id)


async def test_another_sessions_csrf_token_is_refused(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    await signed_in(client, runtime, "reviewer")
    case_id = await case_in_review(client, runtime)
    other_token = csrf_of((await client.get("/console/queue")).text)
    client.cookies.clear()
    await signed_in(client, runtime, "reviewer")
    response = await client.post(f"/console/cases/{case_id}/claim", data={"csrf_token": other_token})
    assert response.status_code == 403
    assert await case_state(db, case_id) == ("in_review", None)


def console_form_routes(app: Litestar, *, forms: bool = True) -> list[str]:
    """The console's POST routes behind a session: its forms, or (``forms=False``) the JSON calls
    of its scripts (tests/console/test_console_passkeys.py checks those tokens)."""
    found = []
    for route in app.routes:
        if not route.path.startswith("/console"):
            continue
        for handler in route.route_handlers:  # type: ignore[union-attr]
            in_session = "POST" in handler.http_methods and ROLES_OPT in handler.opt
            if in_session and bool(handler.opt.get(ACCEPTS_FORM_OPT)) == forms:
                found.append(route.path)
    return found


async def test_every_console_form_checks_its_csrf_token(
    client: httpx.AsyncClient, runtime: Runtime, settings: Settings, db: asyncpg.Connection
) -> None:
    app = create_litestar(settings, dsn="postgresql://unused")
    paths = console_form_routes(app)
    assert len(paths) >= 6
    # Every other one is a JSON call whose token a test of its own checks.
    assert sorted(console_form_routes(app, forms=False)) == ["/console/passkeys/enrolment", "/console/passkeys/options"]
    # Every role, so that no form is refused for its roles before its token is read.
    await signed_in(client, runtime, *Role)
    case_id = await case_in_review(client, runtime)
    for path in paths:
        target = re.sub(r"\{[a-z_]+:uuid\}", str(case_id), path).replace("{name:str}", "id_number")
        response = await client.post(target, data={"csrf_token": "forged", "choice": "approve:evidence_consistent"})
        assert response.status_code == 403, path
        assert "csrf_token_invalid" in response.text, path
    assert await case_state(db, case_id) == ("in_review", None)
    assert (await client.get("/console/")).status_code == 200  # sign-out was refused too


async def test_the_sign_in_form_needs_its_own_token(client: httpx.AsyncClient, runtime: Runtime) -> None:
    operator = await enrolled_for_console(runtime, client, "reviewer")
    form = {"email": operator.email, "password": operator.password, "totp_code": operator.sign_in_code()}
    for token in ({}, {"csrf_token": "made-up"}):
        response = await client.post("/console/sign-in", data={**form, **token})
        assert response.status_code == 403
        assert not [c for c in response.headers.get_list("set-cookie") if c.startswith(f"{COOKIE}=")]
    assert (await client.get("/console/")).status_code == 303


async def test_wrong_credentials_answer_alike_and_open_nothing(client: httpx.AsyncClient, runtime: Runtime) -> None:
    operator = await enrolled_for_console(runtime, client, "reviewer")
    answers = []
    for change in ({"password": "wrong password 1234"}, {"totp_code": "000000"}, {"email": "nobody@example.com"}):
        page = await client.get("/console/sign-in")
        form = {
            "csrf_token": csrf_of(page.text),
            "email": operator.email,
            "password": operator.password,
            "totp_code": "123456",
            **change,
        }
        response = await client.post("/console/sign-in", data=form)
        assert response.status_code == 401
        answers.append(response.text.replace(csrf_of(response.text), "").replace(form["email"], ""))
    assert answers[0] == answers[1] == answers[2]
    assert (await client.get("/console/queue")).status_code == 303


async def test_a_persons_session_never_opens_the_console(client: httpx.AsyncClient) -> None:
    person = await register(client)
    token = person["session"]["token"]
    for cookies in ({COOKIE: token}, {"__Host-idv_session": token}, {"idv_console": token}):
        client.cookies.clear()
        for name, value in cookies.items():
            client.cookies.set(name, value, domain="idv.test")
        response = await client.get("/console/queue")
        assert response.status_code == 303
        assert response.headers["location"] == "/console/sign-in"
    client.cookies.clear()
    response = await client.get("/console/queue", headers={"authorization": f"Bearer {token}"})
    assert response.status_code == 303


async def test_an_operators_api_token_is_not_a_console_session(client: httpx.AsyncClient, runtime: Runtime) -> None:
    login = await enrolled_operator(runtime, client, "reviewer")
    assert (await client.get("/console/queue", headers=login.headers)).status_code == 303


async def test_a_console_cookie_is_dead_after_sign_out(client: httpx.AsyncClient, runtime: Runtime) -> None:
    await signed_in(client, runtime, "reviewer")
    stolen = client.cookies[COOKIE]
    token = csrf_of((await client.get("/console/queue")).text)
    response = await client.post("/console/sign-out", data={"csrf_token": token})
    assert response.status_code == 303
    assert response.headers["location"] == "/console/sign-in"
    # Another operator's browser, holding the first one's cookie and token after they signed out.
    client.cookies.clear()
    await signed_in(client, runtime, "reviewer")
    client.cookies.set(COOKIE, stolen, domain="idv.test")
    assert (await client.get("/console/queue")).status_code == 303
    response = await client.post("/console/sign-out", data={"csrf_token": token})
    assert response.status_code == 303 and response.headers["location"] == "/console/sign-in"


async def test_an_idle_console_session_ends(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    await signed_in(client, runtime, "reviewer")
    assert (await client.get("/console/queue")).status_code == 200
    idle = runtime.settings.operator_session_idle_timeout + timedelta(seconds=5)
    await db.execute("UPDATE operator_sessions SET last_seen_at = now() - $1::interval", idle)
    assert (await client.get("/console/queue")).status_code == 303


async def test_a_reviewer_sees_only_the_case_types_of_their_roles(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    real_name = await case_in_review(client, runtime)
    rights = await case_in_review(client, runtime, case_type=CaseType.DATA_SUBJECT_REQUEST)
    operator = await signed_in(client, runtime, "reviewer")
    queue = await client.get("/console/queue")
    assert str(real_name)[:8] in queue.text
    assert str(rights)[:8] not in queue.text
    assert CaseType.DATA_SUBJECT_REQUEST.value not in queue.text
    # Asking by name for a type one may not work shows nothing of it either.
    filtered = await client.get("/console/queue", params={"case_type": CaseType.DATA_SUBJECT_REQUEST.value})
    assert str(rights)[:8] not in filtered.text
    page = await client.get(f"/console/cases/{rights}")
    assert page.status_code == 403
    assert "case_type_not_allowed" in page.text
    assert "1101*" not in page.text and "002X" not in page.text  # none of its evidence, not even masked
    denied = await db.fetchval(
        """SELECT count(*) FROM audit_log WHERE action = 'operator.access_denied' AND target_id = $1
           AND actor_id = $2""",
        str(rights),
        str(operator.operator_id),
    )
    assert denied == 1


async def test_an_admin_gets_no_queue(client: httpx.AsyncClient, runtime: Runtime) -> None:
    await case_in_review(client, runtime)
    await signed_in(client, runtime, "admin")
    home = await client.get("/console/")
    assert home.status_code == 200
    assert "/console/queue" not in home.text
    queue = await client.get("/console/queue")
    assert queue.status_code == 403
    assert "role_not_allowed" in queue.text
    assert "Sign out" in queue.text and "csrf_token" in queue.text  # who is signed in is still known


async def revealed_count(db: asyncpg.Connection, case_id: uuid.UUID) -> int:
    count: int = await db.fetchval(
        "SELECT count(*) FROM audit_log WHERE action = 'case.evidence_revealed' AND target_id = $1", str(case_id)
    )
    return count


async def test_revealing_a_value_takes_a_reason_and_the_sessions_token(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    await signed_in(client, runtime, "reviewer")
    case_id = await case_in_review(client, runtime)
    page = await client.get(f"/console/cases/{case_id}")
    assert "11010519491231002X" not in page.text
    token = csrf_of(page.text)
    path = f"/console/cases/{case_id}/evidence/id_number/reveal"
    response = await client.post(path, data={"reason": "identity_check"})
    assert response.status_code == 403
    for reason in ({}, {"reason": "curiosity"}):
        response = await client.post(path, data={"csrf_token": token, **reason})
        assert response.status_code == 422
        assert "11010519491231002X" not in response.text
    assert await revealed_count(db, case_id) == 0
    response = await client.post(
        f"/console/cases/{case_id}/evidence/nothing_here/reveal", data={"csrf_token": token, "reason": "identity_check"}
    )
    assert response.status_code == 404
    response = await client.post(path, data={"csrf_token": token, "reason": "identity_check"})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert "11010519491231002X" in response.text and "<html" in response.text
    response = await client.post(
        path, data={"csrf_token": token, "reason": "fraud_investigation"}, headers={"hx-request": "true"}
    )
    assert response.status_code == 200
    assert "11010519491231002X" in response.text and "<html" not in response.text
    reasons = await db.fetch(
        """SELECT details::jsonb->>'reason' AS reason FROM audit_log
           WHERE action = 'case.evidence_revealed' AND target_id = $1 ORDER BY at""",
        str(case_id),
    )
    assert [r["reason"] for r in reasons] == ["identity_check", "fraud_investigation"]


async def test_a_value_of_a_case_of_another_type_is_not_revealed(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    rights = await case_in_review(client, runtime, case_type=CaseType.DATA_SUBJECT_REQUEST)
    await signed_in(client, runtime, "reviewer")
    token = csrf_of((await client.get("/console/queue")).text)
    response = await client.post(
        f"/console/cases/{rights}/evidence/id_number/reveal", data={"csrf_token": token, "reason": "identity_check"}
    )
    assert response.status_code == 403
    assert "1101" not in response.text
    assert await revealed_count(db, rights) == 0


async def test_the_queue_filters_and_counts(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    mine = await case_in_review(client, runtime)
    free = await case_in_review(client, runtime)
    await signed_in(client, runtime, "reviewer")
    token = csrf_of((await client.get("/console/queue")).text)
    assert (await client.post(f"/console/cases/{mine}/claim", data={"csrf_token": token})).status_code == 303

    async def shown(**params: str) -> set[uuid.UUID]:
        response = await client.get("/console/queue", params=params)
        assert response.status_code == 200
        return {case for case in (mine, free) if f"/console/cases/{case}" in response.text}

    assert await shown() == {mine, free}
    assert await shown(assigned="mine") == {mine}
    assert await shown(assigned="unassigned") == {free}
    assert await shown(state="in_review") == {mine, free}
    assert await shown(state="pending_second_approval") == set()
    assert await shown(case_type="face") == set()
    assert await shown(case_type="real_name", assigned="mine") == {mine}
    assert await shown(due="day") == {mine, free}
    assert await shown(due="past") == set()
    await db.execute("UPDATE review_cases SET due_at = now() - interval '1 minute' WHERE id = $1", free)
    assert await shown(due="past") == {free}
    # Values that are not filters are ignored, never an error page.
    assert await shown(state="approved' OR 1=1", case_type="<script>", assigned="everyone") == {mine, free}
    counts = " ".join((await client.get("/console/queue")).text.split())
    assert "<b>2</b> open" in counts and "<b>1</b> unclaimed" in counts and "<b>1</b> due" in counts


async def test_a_refused_decision_says_why_and_changes_nothing(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    case_id = await case_in_review(client, runtime)
    await signed_in(client, runtime, "reviewer")
    token = csrf_of((await client.get(f"/console/cases/{case_id}")).text)
    path = f"/console/cases/{case_id}/decision"
    for choice, code in (
        ("approve:name_mismatch", "reason_not_allowed"),  # a reason of another decision
        ("overturn:original_decision_wrong", "decision_not_allowed"),  # a decision of appeals
        ("frobnicate:evidence_consistent", "decision_not_allowed"),
        ("", "decision_not_allowed"),
    ):
        response = await client.post(path, data={"csrf_token": token, "choice": choice})
        assert response.status_code == 422, choice
        assert code in response.text, choice
        assert f'href="/console/cases/{case_id}"' in response.text
    assert await case_state(db, case_id) == ("in_review", None)


async def test_an_operator_enrols_in_the_console_and_signs_in(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    address = f"op-{uuid.uuid4().hex[:8]}@example.com"
    created = await create_operator(runtime, address, [Role.REVIEWER], Actor.system("tests"))
    page = await client.get("/console/enrol")
    assert page.status_code == 200
    assert 'autocomplete="new-password"' in page.text
    form = {"enrolment_code": created.enrolment_code, "password": STRONG_PASSWORD}
    # Without the page's token nothing starts.
    assert (await client.post("/console/enrol", data=form)).status_code == 403
    assert await db.fetchval("SELECT totp_secret FROM operators WHERE id = $1", created.operator_id) is None
    weak = await client.post("/console/enrol", data={**form, "password": "password", "csrf_token": csrf_of(page.text)})
    assert weak.status_code == 422
    page = await client.get("/console/enrol")
    factor = await client.post("/console/enrol", data={**form, "csrf_token": csrf_of(page.text)})
    assert factor.status_code == 200, factor.text
    assert factor.headers["cache-control"] == "no-store"
    assert 'src="data:image/svg+xml' in factor.text
    assert 'autocomplete="one-time-code"' in factor.text
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', factor.text)
    assert secret is not None
    confirm = {"csrf_token": csrf_of(factor.text), "enrolment_code": created.enrolment_code}
    forged = {**confirm, "csrf_token": "forged", "totp_code": totp_code(secret.group(1))}
    assert (await client.post("/console/enrol/confirm", data=forged)).status_code == 403
    wrong = await client.post("/console/enrol/confirm", data={**confirm, "totp_code": "000000"})
    assert wrong.status_code == 400
    done = await client.post("/console/enrol/confirm", data={**confirm, "totp_code": totp_code(secret.group(1))})
    assert done.status_code == 303
    assert done.headers["location"] == "/console/sign-in"
    # The code is spent: enrolling again with it is refused.
    page = await client.get("/console/enrol")
    again = await client.post("/console/enrol", data={**form, "csrf_token": csrf_of(page.text)})
    assert again.status_code in {400, 404, 409, 410}
    operator = ConsoleOperator(created.operator_id, address, secret.group(1))
    assert (await console_sign_in(client, operator)).status_code == 303
    assert (await client.get("/console/queue")).status_code == 200


async def test_an_appeal_shows_the_decision_appealed_and_its_decider_may_not_judge_it(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    user = await register(client)
    person = {"authorization": f"Bearer {user['session']['token']}"}
    case_id = await case_in_review(client, runtime, account_id=uuid.UUID(user["account_id"]))
    await signed_in(client, runtime, "reviewer")
    token = csrf_of((await client.get(f"/console/cases/{case_id}")).text)
    decided = await client.post(
        f"/console/cases/{case_id}/decision",
        data={"csrf_token": token, "choice": "reject:document_unreadable", "note": "Glare over the number"},
    )
    assert decided.status_code == 303
    assert (await case_state(db, case_id))[0] == "rejected"
    appealed = await client.post(
        f"/v1/me/cases/{case_id}/appeal", json={"statement": "The photo was clear."}, headers=person
    )
    assert appealed.status_code == 201
    appeal_id = appealed.json()["case_id"]

    page = await client.get(f"/console/cases/{appeal_id}")
    assert page.status_code == 200
    assert "The decision appealed" in page.text and "document_unreadable" in page.text
    assert f'href="/console/cases/{case_id}"' in page.text
    assert 'id="choice"' not in page.text  # the original decider may not judge the appeal
    assert "another operator must review this appeal" in page.text

    client.cookies.clear()
    await signed_in(client, runtime, "reviewer")
    page = await client.get(f"/console/cases/{appeal_id}")
    text = " ".join(page.text.split())
    assert "document_unreadable" in text and "Glare over the number" in text
    assert 'value="uphold:original_decision_correct"' in text
    assert 'value="approve:evidence_consistent"' not in text  # an appeal's decisions only
    viewed = await db.fetchval(
        "SELECT count(*) FROM audit_log WHERE action = 'case.viewed' AND target_id = $1 AND details LIKE $2",
        str(case_id),
        f"%{appeal_id}%",
    )
    assert viewed == 2


async def test_a_reveal_is_found_in_the_audit_view_which_only_its_roles_open(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    case_id = await case_in_review(client, runtime)
    reviewer = await signed_in(client, runtime, "reviewer")
    token = csrf_of((await client.get(f"/console/cases/{case_id}")).text)
    revealed = await client.post(
        f"/console/cases/{case_id}/evidence/id_number/reveal", data={"csrf_token": token, "reason": "user_request"}
    )
    assert revealed.status_code == 200
    assert "/console/audit" not in (await client.get("/console/")).text
    refused = await client.get("/console/audit", params={"target_type": "case", "target_id": str(case_id)})
    assert refused.status_code == 403
    assert "case.evidence_revealed" not in refused.text

    client.cookies.clear()
    await signed_in(client, runtime, "admin")
    assert "/console/audit" in (await client.get("/console/")).text
    reads = "SELECT count(*) FROM audit_log WHERE action = 'audit.read'"
    assert await db.fetchval(reads) == 0
    for bad in ({"target_type": "case'--", "target_id": str(case_id)}, {"target_type": "case", "target_id": "a b"}):
        page = await client.get("/console/audit", params=bad)
        assert page.status_code == 422
    assert await db.fetchval(reads) == 0
    page = await client.get("/console/audit", params={"target_type": "case", "target_id": str(case_id)})
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    text = " ".join(page.text.split())
    assert "case.evidence_revealed" in text and "reason=user_request" in text and "evidence=id_number" in text
    assert mask_email(reviewer.email) in text and reviewer.email not in text
    assert "11010519491231002X" not in text
    assert await db.fetchval(reads) == 1


async def test_a_staged_decision_is_sent_back_by_a_second_operator_only(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    case_id = await case_in_review(client, runtime)
    staging = await signed_in(client, runtime, "reviewer", "senior_reviewer")
    token = csrf_of((await client.get(f"/console/cases/{case_id}")).text)
    staged = await client.post(
        f"/console/cases/{case_id}/decision", data={"csrf_token": token, "choice": "reject:suspected_false_information"}
    )
    assert staged.status_code == 303
    assert await case_state(db, case_id) == ("pending_second_approval", staging.operator_id)
    page = await client.get(f"/console/cases/{case_id}")
    assert "Confirm decision" not in page.text  # one's own staged decision
    for action in ("confirm", "send-back"):
        refused = await client.post(f"/console/cases/{case_id}/{action}", data={"csrf_token": token})
        assert refused.status_code == 403
        assert "four_eyes_same_operator" in refused.text
    assert (await case_state(db, case_id))[0] == "pending_second_approval"

    client.cookies.clear()
    await signed_in(client, runtime, "reviewer")  # a reviewer is not a second approver
    token = csrf_of((await client.get(f"/console/cases/{case_id}")).text)
    assert "Confirm decision" not in (await client.get(f"/console/cases/{case_id}")).text
    refused = await client.post(f"/console/cases/{case_id}/confirm", data={"csrf_token": token})
    assert refused.status_code == 403 and "role_not_allowed" in refused.text

    client.cookies.clear()
    await signed_in(client, runtime, "senior_reviewer")
    page = await client.get(f"/console/cases/{case_id}")
    assert "Confirm decision" in page.text and "suspected_false_information" in page.text
    sent_back = await client.post(
        f"/console/cases/{case_id}/send-back", data={"csrf_token": csrf_of(page.text), "note": "Ask for the document"}
    )
    assert sent_back.status_code == 303
    assert (await case_state(db, case_id))[0] == "in_review"
    page = await client.get(f"/console/cases/{case_id}")
    assert "Ask for the document" in page.text and "Confirm decision" not in page.text


async def test_signing_in_ends_the_session_the_browser_held(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    first = await signed_in(client, runtime, "reviewer")
    held = client.cookies[COOKIE]
    second = await signed_in(client, runtime, "reviewer")
    assert client.cookies[COOKIE] != held
    ended = await db.fetch("SELECT operator_id, end_reason FROM operator_sessions WHERE ended_at IS NOT NULL")
    assert [(row["operator_id"], row["end_reason"]) for row in ended] == [(first.operator_id, "replaced")]
    assert (await client.get("/console/queue")).status_code == 200
    client.cookies.set(COOKIE, held, domain="idv.test")
    assert (await client.get("/console/queue")).status_code == 303
    live = await db.fetchval(
        "SELECT count(*) FROM operator_sessions WHERE ended_at IS NULL AND operator_id = $1", second.operator_id
    )
    assert live == 1
