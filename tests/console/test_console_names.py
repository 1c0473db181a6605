"""Operators named on console pages by their e-mail masked (operators have no display name): the
case page's assignee, stager and deciders, the queue's and rights list's assignees, the audit
view's actors, and who created each operator on the admins' list. One query names a whole page;
pages a role may not open name no one."""

from __future__ import annotations

import uuid

import httpx
import pytest

from service.accounts.masking import mask_email
from service.cases.catalogue import CaseType
from service.operators import store
from service.runtime import Runtime
from tests.arrange.cases import case_in_review
from tests.arrange.console import ConsoleOperator, console_sign_in, csrf_of, enrolled_for_console


async def signed_in(client: httpx.AsyncClient, runtime: Runtime, *roles: str, name: str) -> ConsoleOperator:
    client.cookies.clear()
    operator = await enrolled_for_console(runtime, client, *roles, name=name)
    assert (await console_sign_in(client, operator)).status_code == 303
    return operator


async def post_form(client: httpx.AsyncClient, page: str, path: str, **fields: str) -> httpx.Response:
    token = csrf_of((await client.get(page)).text)
    return await client.post(path, data={"csrf_token": token, **fields})


def count_queries(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many times, and for how many operators, a page read operators' e-mails."""
    calls: list[int] = []
    real = store.sealed_emails

    async def counted(conn: object, operator_ids: list[uuid.UUID]) -> list[store.SealedEmail]:
        calls.append(len(operator_ids))
        return await real(conn, operator_ids)  # type: ignore[arg-type]

    monkeypatch.setattr(store, "sealed_emails", counted)
    return calls


async def test_a_case_names_its_assignee_stager_and_deciders_masked(
    client: httpx.AsyncClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    case_id = await case_in_review(client, runtime)
    page = f"/console/cases/{case_id}"
    stager = await signed_in(client, runtime, "reviewer", name="wang.fang")
    staged = await post_form(
        client, page, f"{page}/decision", choice="reject:suspected_false_information", note="Not the holder"
    )
    assert staged.status_code == 303, staged.text

    senior = await signed_in(client, runtime, "senior_reviewer", name="li.na")
    calls = count_queries(monkeypatch)
    text = (await client.get(page)).text
    assert calls == [1]  # the stager, assignee and history's operator: one operator, one query
    assert f"staged by {mask_email(stager.email)}" in " ".join(text.split())
    assert stager.email not in text and str(stager.operator_id) not in text
    confirmed = await post_form(client, page, f"{page}/confirm")
    assert confirmed.status_code == 303, confirmed.text

    await signed_in(client, runtime, "reviewer", name="zhao.lei")
    text = (await client.get(page)).text
    assert mask_email(stager.email) in text and mask_email(senior.email) in text
    assert stager.email not in text and senior.email not in text


async def test_the_queue_names_every_assignee_in_one_query(
    client: httpx.AsyncClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    claimers = []
    cases = [await case_in_review(client, runtime) for _ in range(3)]
    for number, case_id in enumerate(cases):
        claimers.append(await signed_in(client, runtime, "reviewer", name=f"claimer{number}"))
        page = f"/console/cases/{case_id}"
        assert (await post_form(client, page, f"{page}/claim")).status_code == 303
    await signed_in(client, runtime, "reviewer", name="reader")
    calls = count_queries(monkeypatch)
    text = (await client.get("/console/queue")).text
    assert len(calls) == 1 and calls[0] >= 3
    for claimer in claimers:
        assert mask_email(claimer.email) in text and claimer.email not in text


async def test_the_rights_list_names_its_assignees(client: httpx.AsyncClient, runtime: Runtime) -> None:
    case_id = await case_in_review(client, runtime, case_type=CaseType.DATA_SUBJECT_REQUEST)
    worker = await signed_in(client, runtime, "privacy_officer", name="sun.li")
    page = f"/console/cases/{case_id}"
    assert (await post_form(client, page, f"{page}/claim")).status_code == 303
    await signed_in(client, runtime, "privacy_officer", name="zhou.yu")
    text = (await client.get("/console/rights")).text
    assert mask_email(worker.email) in text and worker.email not in text


async def test_the_audit_view_names_operators_for_whom_may_read_it_and_no_one_else(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    case_id = await case_in_review(client, runtime)
    revealer = await signed_in(client, runtime, "reviewer", name="chen.jie")
    page = f"/console/cases/{case_id}"
    revealed = await post_form(client, page, f"{page}/evidence/id_number/reveal", reason="identity_check")
    assert revealed.status_code == 200, revealed.text

    params = {"target_type": "case", "target_id": str(case_id)}
    refused = await client.get("/console/audit", params=params)
    assert refused.status_code == 403
    assert mask_email(revealer.email) not in refused.text
    assert "case.evidence_revealed" not in refused.text

    await signed_in(client, runtime, "admin", name="admin.one")
    text = (await client.get("/console/audit", params=params)).text
    row = next(r for r in text.split("<tr>") if "case.evidence_revealed" in r)
    assert mask_email(revealer.email) in row and revealer.email not in text


async def test_a_reviewer_refused_the_operators_page_sees_no_operator_named(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    admin = await signed_in(client, runtime, "admin", name="admin.two")
    new = f"new.{uuid.uuid4().hex[:8]}@example.com"
    created = await post_form(client, "/console/operators", "/console/operators", email=new, roles="reviewer")
    assert created.status_code == 303, created.text
    listed = (await client.get("/console/operators")).text
    row = next(r for r in listed.split("<tr") if new in r)
    assert admin.email in row  # created by that admin, named by their address (admins see all of them)

    await signed_in(client, runtime, "reviewer", name="plain.reviewer")
    refused = await client.get("/console/operators")
    assert refused.status_code == 403
    assert new not in refused.text and mask_email(new) not in refused.text
    assert admin.email not in refused.text and mask_email(admin.email) not in refused.text
