"""The console's administration pages over HTTP: operators under dual control, recipients and the
notices they owe, and the open rights requests with their due dates; who may open them."""

from __future__ import annotations

import base64
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from litestar import Litestar

from service.app import create_litestar
from service.audit import Actor
from service.cases.catalogue import CaseType
from service.console.admin import ConsoleAdminController
from service.console.pages import NAVIGATION
from service.operators.auth import ROLES_OPT
from service.operators.enrolment import request_operator
from service.operators.roles import Role
from service.runtime import Runtime
from service.settings import Settings
from tests.arrange.cases import case_in_review
from tests.arrange.console import ConsoleOperator, console_sign_in, csrf_of, enrolled_for_console
from tests.arrange.people import real_name_verified
from tests.helpers import enrolled_operator, outbox, register

COOKIE = "__Host-idv_console"
ADMIN_PAGES = ("/console/operators", "/console/recipients", "/console/rights")


async def signed_in(client: httpx.AsyncClient, runtime: Runtime, *roles: str) -> ConsoleOperator:
    """A new operator of these roles, signed in to the console in a browser of its own (cookies cleared)."""
    client.cookies.clear()
    operator = await enrolled_for_console(runtime, client, *roles)
    response = await console_sign_in(client, operator)
    assert response.status_code == 303, response.text
    return operator


async def operator_row(db: asyncpg.Connection, operator_id: uuid.UUID) -> asyncpg.Record:
    row = await db.fetchrow(
        "SELECT created_by, approved_at, disabled_at, enrolment_expires_at FROM operators WHERE id = $1", operator_id
    )
    assert row is not None
    return row


def one_line(page: httpx.Response) -> str:
    return " ".join(page.text.split())


def handlers(app: Litestar, prefix: str) -> dict[tuple[str, str], Any]:
    """(method, path) → handler, for the routes under ``prefix``."""
    found = {}
    for route in app.routes:
        if route.path.startswith(prefix):
            for handler in route.route_handlers:  # type: ignore[union-attr]
                for method in handler.http_methods:
                    found[(method, route.path)] = handler
    return found


def test_each_admin_page_declares_the_roles_of_its_api_endpoint(settings: Settings) -> None:
    app = create_litestar(settings, dsn="postgresql://unused")
    console, api = handlers(app, "/console"), handlers(app, "/v1/operator")
    same = {
        ("GET", "/console/operators"): ("GET", "/v1/operator/operators"),
        ("POST", "/console/operators"): ("POST", "/v1/operator/operators"),
        ("POST", "/console/operators/{operator_id:uuid}/approve"): (
            "POST",
            "/v1/operator/operators/{operator_id:uuid}/approve",
        ),
        ("POST", "/console/operators/{operator_id:uuid}/disable"): (
            "POST",
            "/v1/operator/operators/{operator_id:uuid}/disable",
        ),
        ("GET", "/console/recipients"): ("GET", "/v1/operator/recipients/notices/unacknowledged"),
        ("POST", "/console/recipients/notices/{notice_id:uuid}/resend"): (
            "POST",
            "/v1/operator/recipients/notices/{notice_id:uuid}/resend",
        ),
    }
    for page, endpoint in same.items():
        assert console[page].opt[ROLES_OPT] == api[endpoint].opt[ROLES_OPT], page
    # The recipients page shows the list too: both endpoints declare the same roles.
    assert (
        api[("GET", "/v1/operator/recipients")].opt[ROLES_OPT] == console[("GET", "/console/recipients")].opt[ROLES_OPT]
    )
    # The rights page: the roles that work the case type.
    assert console[("GET", "/console/rights")].opt[ROLES_OPT] == frozenset({Role.PRIVACY_OFFICER})
    # Every page of the controller is above, and the navigation offers each with its page's roles.
    mine = {
        key
        for key, handler in console.items()
        if isinstance(getattr(handler.fn, "__self__", None), ConsoleAdminController)
    }
    assert mine == {*same, ("GET", "/console/rights")}
    for _, target, roles in NAVIGATION:
        assert console[("GET", target)].opt[ROLES_OPT] == roles, target


async def test_an_admin_creates_an_operator_another_approves_and_disables(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    first = await signed_in(client, runtime, "admin")
    first_cookie = client.cookies[COOKIE]
    page = await client.get("/console/operators")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert first.email in page.text
    token = csrf_of(page.text)
    address = f"new-{uuid.uuid4().hex[:8]}@example.com"
    created = await client.post(
        "/console/operators", data={"csrf_token": token, "email": address, "roles": ["reviewer", "senior_reviewer"]}
    )
    assert created.status_code == 303 and created.headers["location"] == "/console/operators"
    new_id = await db.fetchval("SELECT id FROM operators WHERE created_by = $1", f"operator:{first.operator_id}")
    assert new_id is not None
    assert await db.fetchval("SELECT roles FROM operators WHERE id = $1", new_id) == ["reviewer", "senior_reviewer"]

    # What the API refuses, the form refuses: no role, a role that does not exist, no address, the same address.
    for form, status, code in (
        ({"email": "other@example.com"}, 422, "roles"),
        ({"email": "other@example.com", "roles": ["superuser"]}, 422, "roles"),
        ({"email": "not an address", "roles": ["reviewer"]}, 422, "email"),
        ({"email": address, "roles": ["reviewer"]}, 409, "operator_exists"),
    ):
        refused = await client.post("/console/operators", data={"csrf_token": token, **form})
        assert refused.status_code == status, (form, refused.text)
        assert code in refused.text and 'href="/console/operators"' in refused.text
    assert await db.fetchval("SELECT count(*) FROM operators") == 2

    # The creator is not offered the approval, and is refused it if they post it anyway.
    text = one_line(await client.get("/console/operators"))
    assert "waiting for approval" in text and "another admin must approve" in text
    assert f"/console/operators/{new_id}/approve" not in text
    refused = await client.post(f"/console/operators/{new_id}/approve", data={"csrf_token": token})
    assert refused.status_code == 403 and "four_eyes_same_operator" in refused.text
    assert (await operator_row(db, new_id))["approved_at"] is None
    await runtime.courier.deliver_queued()
    assert not [m for m in outbox(runtime) if m["to"] == address]

    second = await signed_in(client, runtime, "admin")
    page = await client.get("/console/operators")
    assert f'action="/console/operators/{new_id}/approve"' in page.text
    token = csrf_of(page.text)
    assert (await client.post(f"/console/operators/{new_id}/approve", data={})).status_code == 403
    approved = await client.post(f"/console/operators/{new_id}/approve", data={"csrf_token": token})
    assert approved.status_code == 303
    row = await operator_row(db, new_id)
    assert row["approved_at"] is not None and row["enrolment_expires_at"] is not None
    # The enrolment code went to the new operator's own address, and to nobody's page.
    await runtime.courier.deliver_queued()
    [mail] = [m for m in outbox(runtime) if m["to"] == address]
    code = re.search(r"\n\n(\S{20,})\n\n", mail["body"])
    assert code is not None and code.group(1) not in (await client.get("/console/operators")).text
    again = await client.post(f"/console/operators/{new_id}/approve", data={"csrf_token": token})
    assert again.status_code == 409 and "operator_already_approved" in again.text

    # Disabling: never oneself; the first admin is disabled, and their console session ends with it.
    own = await client.post(f"/console/operators/{second.operator_id}/disable", data={"csrf_token": token})
    assert own.status_code == 409 and "cannot_disable_self" in own.text
    assert f"/console/operators/{second.operator_id}/disable" not in (await client.get("/console/operators")).text
    for target in (new_id, first.operator_id):
        done = await client.post(f"/console/operators/{target}/disable", data={"csrf_token": token})
        assert done.status_code == 303
        assert (await operator_row(db, target))["disabled_at"] is not None
    twice = await client.post(f"/console/operators/{new_id}/disable", data={"csrf_token": token})
    assert twice.status_code == 404 and "operator_not_found" in twice.text
    text = one_line(await client.get("/console/operators"))
    assert f"/console/operators/{new_id}/disable" not in text
    actions = await db.fetch(
        "SELECT action, actor_id FROM audit_log WHERE target_type = 'operator' AND target_id = $1 ORDER BY at, id",
        str(new_id),
    )
    assert [(a["action"], a["actor_id"]) for a in actions] == [
        ("operator.created", str(first.operator_id)),
        ("operator.approved", str(second.operator_id)),
        ("operator.disabled", str(second.operator_id)),
    ]
    client.cookies.set(COOKIE, first_cookie, domain="idv.test")
    assert (await client.get("/console/operators")).status_code == 303


async def test_a_reviewer_opens_no_admin_page_and_is_offered_none(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    pending = await request_operator(runtime, "pending@example.com", [Role.REVIEWER], Actor.system("tests"))
    reviewer = await signed_in(client, runtime, "reviewer", "senior_reviewer")
    home = await client.get("/console/")
    token = csrf_of(home.text)
    for page in ADMIN_PAGES:
        assert page not in home.text
        refused = await client.get(page)
        assert refused.status_code == 403, page
        assert "role_not_allowed" in refused.text
        assert "pending@example.com" not in refused.text
    forms = (
        ("/console/operators", {"email": "sneaky@example.com", "roles": ["admin"]}),
        (f"/console/operators/{pending}/approve", {}),
        (f"/console/operators/{pending}/disable", {}),
        (f"/console/recipients/notices/{uuid.uuid4()}/resend", {}),
    )
    for path, form in forms:
        refused = await client.post(path, data={"csrf_token": token, **form})
        assert refused.status_code == 403 and "role_not_allowed" in refused.text, path
    row = await operator_row(db, pending)
    assert (row["approved_at"], row["disabled_at"]) == (None, None)
    assert await db.fetchval("SELECT count(*) FROM operators") == 2
    denied = await db.fetchval(
        "SELECT count(*) FROM audit_log WHERE action = 'operator.access_denied' AND actor_id = $1",
        str(reviewer.operator_id),
    )
    assert denied == len(ADMIN_PAGES) + len(forms)

    # Each role is offered exactly the pages it may open.
    for roles, offered in (
        (("admin",), {"/console/operators", "/console/recipients"}),
        (("privacy_officer",), {"/console/recipients", "/console/rights"}),
    ):
        await signed_in(client, runtime, *roles)
        home = await client.get("/console/")
        assert {page for page in ADMIN_PAGES if f'href="{page}"' in home.text} == offered, roles
        for page in ADMIN_PAGES:
            assert (await client.get(page)).status_code == (200 if page in offered else 403), (roles, page)


async def test_a_privacy_officer_resends_a_notice_not_acknowledged(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    account_id, me = await real_name_verified(client, runtime)
    admin = await enrolled_operator(runtime, client, "admin")
    body = {
        "name": "Shop",
        "kind": "relying_party",
        "webhook_url": "http://127.0.0.1:9/idv-events",
        "secret": base64.b64encode(b"relying-party-shared-secret-0123456789abcdef").decode(),
    }
    recipient = await client.post("/v1/operator/recipients", json=body, headers=admin.headers)
    assert recipient.status_code == 201, recipient.text
    disclosed = await client.post(
        f"/v1/operator/recipients/{recipient.json()['recipient_id']}/disclosures",
        json={"account_id": str(account_id), "categories": ["contact"]},
        headers=admin.headers,
    )
    assert disclosed.status_code == 204
    assert (await client.post("/v1/me/consents/identity_data/withdraw", headers=me)).status_code in {200, 204}
    notice_id = await db.fetchval("SELECT id FROM recipient_notices")
    assert notice_id is not None

    await signed_in(client, runtime, "privacy_officer")
    page = await client.get("/console/recipients")
    assert page.status_code == 200
    text = one_line(page)
    assert "Shop" in text and "http://127.0.0.1:9/idv-events" in text and "consent.withdrawn" in text
    assert body["secret"] not in text
    assert f'action="/console/recipients/notices/{notice_id}/resend"' in text
    token = csrf_of(page.text)
    resent = "SELECT count(*) FROM audit_log WHERE action = 'recipient.notice_resent' AND target_id = $1"
    path = f"/console/recipients/notices/{notice_id}/resend"
    for form in ({}, {"csrf_token": "forged"}):
        refused = await client.post(path, data=form)
        assert refused.status_code == 403 and "csrf_token_invalid" in refused.text
    assert await db.fetchval(resent, str(notice_id)) == 0
    done = await client.post(path, data={"csrf_token": token})
    assert done.status_code == 303 and done.headers["location"] == "/console/recipients"
    assert await db.fetchval(resent, str(notice_id)) == 1
    unknown = await client.post(f"/console/recipients/notices/{uuid.uuid4()}/resend", data={"csrf_token": token})
    assert unknown.status_code == 404 and "notice_not_found" in unknown.text
    assert 'href="/console/recipients"' in unknown.text
    await db.execute("UPDATE recipient_notices SET acknowledged_at = now() WHERE id = $1", notice_id)
    acknowledged = await client.post(path, data={"csrf_token": token})
    assert acknowledged.status_code == 409 and "notice_acknowledged" in acknowledged.text
    assert "Every notice was acknowledged" in (await client.get("/console/recipients")).text


async def test_the_rights_page_lists_open_requests_by_due_date_and_the_answer_is_written(
    client: httpx.AsyncClient, runtime: Runtime, db: asyncpg.Connection
) -> None:
    user = await register(client)
    person = {"authorization": f"Bearer {user['session']['token']}"}
    filed = await client.post(
        "/v1/me/requests",
        json={"kind": "correction", "statement": "My date of birth is recorded wrongly."},
        headers=person,
    )
    assert filed.status_code == 201, filed.text
    request_id = uuid.UUID(filed.json()["case_id"])
    overdue = await case_in_review(client, runtime, case_type=CaseType.DATA_SUBJECT_REQUEST)
    soon = await case_in_review(client, runtime, case_type=CaseType.DATA_SUBJECT_REQUEST)
    other_type = await case_in_review(client, runtime)
    await db.execute("UPDATE review_cases SET due_at = now() - interval '1 hour' WHERE id = $1", overdue)
    await db.execute("UPDATE review_cases SET due_at = now() + interval '2 days' WHERE id = $1", soon)
    due_at = await db.fetchval("SELECT due_at FROM review_cases WHERE id = $1", request_id)
    assert timedelta(days=14) < due_at - datetime.now(UTC) <= timedelta(days=15)

    await signed_in(client, runtime, "privacy_officer")
    page = await client.get("/console/rights")
    assert page.status_code == 200
    text = one_line(page)
    links = [f'href="/console/cases/{case}"' for case in (overdue, soon, request_id)]
    assert all(link in text for link in links)
    assert text.index(links[0]) < text.index(links[1]) < text.index(links[2])  # soonest due first
    assert f"/console/cases/{other_type}" not in text
    assert f'<time datetime="{due_at.isoformat()}">' in text
    rows = {
        case: text[text.index(link) :].split("</tr>")[0]
        for case, link in zip((overdue, soon, request_id), links, strict=True)
    }
    assert "overdue" in rows[overdue] and "due within" not in rows[overdue]
    assert "due within 3 days" in rows[soon] and "overdue" not in rows[soon]
    assert "overdue" not in rows[request_id] and "due within" not in rows[request_id]
    assert 'tr class="due"' in text

    # The case page asks for the written answer, which a refusal needs and the person reads as written.
    case_page = await client.get(f"/console/cases/{request_id}")
    assert "Written answer to the person" in case_page.text
    assert "Written answer" not in (await client.get(f"/console/cases/{other_type}")).text
    token = csrf_of(case_page.text)
    path = f"/console/cases/{request_id}/decision"
    bare = await client.post(path, data={"csrf_token": token, "choice": "reject:request_unfounded"})
    assert bare.status_code == 422 and "reasons_required" in bare.text
    answer = "We hold no date of birth for you; nothing needs correcting."
    decided = await client.post(path, data={"csrf_token": token, "choice": "reject:request_unfounded", "note": answer})
    assert decided.status_code == 303, decided.text
    [own] = (await client.get("/v1/me/requests", headers=person)).json()
    assert (own["state"], own["explanation"]) == ("rejected", answer)
    assert f"/console/cases/{request_id}" not in (await client.get("/console/rights")).text


@pytest.mark.parametrize(
    "path",
    [
        "/console/operators/not-a-uuid/approve",
        "/console/operators/12345/disable",
        "/console/operators/%00/approve",
        "/console/operators/' OR 1=1 --/disable",
        "/console/recipients/notices/not-a-uuid/resend",
        "/console/recipients/notices/" + "f" * 200 + "/resend",
    ],
)
async def test_malformed_ids_are_refused_never_an_error(client: httpx.AsyncClient, runtime: Runtime, path: str) -> None:
    await signed_in(client, runtime, "admin", "privacy_officer")
    token = csrf_of((await client.get("/console/operators")).text)
    response = await client.post(path, data={"csrf_token": token})
    assert 400 <= response.status_code < 500, response.text
    assert (await client.get(path)).status_code < 500
