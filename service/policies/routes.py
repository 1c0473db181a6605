"""GET /v1/policies: what a frontend shows before someone registers."""

from __future__ import annotations

from datetime import date

import msgspec
from litestar import Controller, get
from litestar.params import FromPath

from service.http.dependencies import CurrentRuntime
from service.http.problems import ProblemError
from service.policies.catalog import PolicyDocument, PolicyKind


class PolicySummary(msgspec.Struct):
    kind: PolicyKind
    version: str
    title: str
    effective_at: date
    major: bool
    sha256: str
    url: str


class PolicyText(PolicySummary):
    content: str


def _url(document: PolicyDocument) -> str:
    return f"/v1/policies/{document.kind}/{document.version}"


def _summary(d: PolicyDocument) -> PolicySummary:
    return PolicySummary(d.kind, d.version, d.title, d.effective_at, d.major, d.sha256, _url(d))


class PolicyController(Controller):
    path = "/v1/policies"
    tags = ["policies"]

    @get("/", summary="The policies in effect, whose versions registration must accept")
    async def current(self, runtime: CurrentRuntime) -> list[PolicySummary]:
        return [_summary(d) for d in runtime.policies.all_current()]

    @get("/{kind:str}/{version:str}", summary="One version of a policy, with its text")
    async def one(self, runtime: CurrentRuntime, kind: FromPath[PolicyKind], version: FromPath[str]) -> PolicyText:
        document = runtime.policies.find(kind, version)
        if document is None:
            raise ProblemError(404, "policy_not_found", "No such policy version")
        return PolicyText(**msgspec.structs.asdict(_summary(document)), content=document.content)
