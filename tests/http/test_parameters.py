"""Query parameters are read strictly and every problem is named, with the name the client used;
a body with several problems reports all of them."""

from __future__ import annotations

import httpx
import pytest
from litestar.routes import HTTPRoute

from service.app import create_litestar
from service.http.parameters import QueryParameters
from service.runtime import Runtime
from service.settings import Settings
from tests.helpers import OperatorLogin, enrolled_operator

PROBLEM = "application/problem+json"


@pytest.fixture
async def reviewer(runtime: Runtime, client: httpx.AsyncClient) -> OperatorLogin:
    return await enrolled_operator(runtime, client, "reviewer")


async def invalid(client: httpx.AsyncClient, url: str, reviewer: OperatorLogin) -> list[dict[str, str]]:
    response = await client.get(url, headers=reviewer.headers)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    problem = response.json()
    assert problem["code"] == "invalid_parameters"
    errors: list[dict[str, str]] = problem["errors"]
    assert all(set(e) == {"field", "code", "message"} for e in errors)
    return errors


@pytest.mark.parametrize("value", ["0.5", "1700000000", "-1", "2026-13-01T00:00:00Z", "tomorrow"])
async def test_a_date_time_parameter_takes_only_rfc_3339(
    client: httpx.AsyncClient, reviewer: OperatorLogin, value: str
) -> None:
    errors = await invalid(client, f"/v1/operator/cases?due_before={value}", reviewer)
    assert [e["field"] for e in errors] == ["due_before"]


async def test_well_formed_parameters_still_work(client: httpx.AsyncClient, reviewer: OperatorLogin) -> None:
    url = "/v1/operator/cases?due_before=2030-01-01T00:00:00Z&mine=true&limit=5&state=in_review"
    response = await client.get(url, headers=reviewer.headers)
    assert response.status_code == 200, response.text


async def test_every_bad_parameter_is_named_as_sent(client: httpx.AsyncClient, reviewer: OperatorLogin) -> None:
    errors = await invalid(client, "/v1/operator/cases?state=bad&limit=0&mine=1&case_type=nope", reviewer)
    assert {e["field"]: e["code"] for e in errors} == {
        "state": "invalid",  # the handler calls it in_state; the client sent state
        "limit": "out_of_range",
        "mine": "invalid",
        "case_type": "invalid",
    }
    assert not any("nope" in e["message"] or "bad" in e["message"] for e in errors)  # values are not echoed


async def test_every_missing_required_parameter_is_reported(runtime: Runtime, client: httpx.AsyncClient) -> None:
    admin = await enrolled_operator(runtime, client, "admin")
    response = await client.get("/v1/operator/audit", headers=admin.headers)
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"field": "target_id", "code": "required", "message": "this parameter is required"},
        {"field": "target_type", "code": "required", "message": "this parameter is required"},
    ]


async def test_every_missing_body_field_is_reported(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/registrations", json={"display_name": 7, "nickname": "x"})
    assert response.status_code == 422
    errors = {e["field"]: e["code"] for e in response.json()["errors"]}
    assert errors == {
        "display_name": "invalid",
        "password": "required",
        "birth_date": "required",
        "accepted_terms_version": "required",
        "accepted_privacy_version": "required",
        "nickname": "unknown_field",
    }


async def test_a_repeated_parameter_is_checked_every_time(client: httpx.AsyncClient, reviewer: OperatorLogin) -> None:
    # Litestar reads the last occurrence: a check of the first alone would let 0.5 through.
    errors = await invalid(client, "/v1/operator/cases?due_before=2030-01-01T00:00:00Z&due_before=0.5", reviewer)
    assert [e["field"] for e in errors] == ["due_before"]


def test_every_endpoints_parameters_can_be_read(settings: Settings) -> None:
    """They are read at an endpoint's first call, not when the app is made: one that could not be
    read would be a 500 on every call of it, so every endpoint's are read here."""
    app = create_litestar(settings)
    parameters = QueryParameters()
    parameters.load(app)
    read = {
        (route.path_format, method): parameters.of(route.path_format, method)
        for route in app.routes
        if isinstance(route, HTTPRoute)
        for method in route.route_handler_map
    }
    assert len(read) > 100
    names = {parameter.name for parameter in read[("/v1/operator/cases", "GET")]}
    assert {"due_before", "mine", "limit", "state", "after"} <= names
