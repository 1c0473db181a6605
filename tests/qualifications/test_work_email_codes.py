"""Work e-mail codes are throttled per address: a second qualification with another work e-mail is
not held up by the first one's code, while one address is not flooded."""

from __future__ import annotations

import uuid

import httpx

from service.runtime import Runtime
from tests.arrange.people import ready_for_real_name
from tests.arrange.qualifications import declaration
from tests.helpers import latest_code


async def test_another_work_email_gets_its_code_at_once_and_the_same_one_waits(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    _, me = await ready_for_real_name(client, runtime)
    # Declared with one work e-mail, then withdrawn to declare with another, within the minute.
    first = await client.post("/v1/me/qualifications", json=declaration("first@corp.example.com"), headers=me)
    assert first.status_code == 201, first.text
    withdrawn = await client.post(f"/v1/me/qualifications/{first.json()['qualification_id']}/withdraw", headers=me)
    assert withdrawn.status_code == 200, withdrawn.text

    second_email = f"w{uuid.uuid4().hex[:8]}@corp.example.com"
    started = await client.post("/v1/me/qualifications", json=declaration(second_email), headers=me)
    assert started.status_code == 201, started.text
    qid = started.json()["qualification_id"]
    code = await latest_code(runtime, "email", second_email)

    again = await client.post(f"/v1/me/qualifications/{qid}/work-email/code", headers=me)
    assert (again.status_code, again.json()["code"]) == (429, "code_resend_too_soon")
    verified = await client.post(f"/v1/me/qualifications/{qid}/work-email/verify", json={"code": code}, headers=me)
    assert verified.status_code == 200 and verified.json()["work_email_verified"] is True
