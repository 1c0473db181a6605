"""GET /v1/policies: what a frontend shows before someone registers."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import msgspec
from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody

from service.errors import NotFound
from service.http.dependencies import CurrentRuntime
from service.http.schemas import RequestBody
from service.i18n.languages import Language, request_language
from service.operators.auth import allow, operator_guard
from service.operators.roles import ADMINS
from service.operators.routes import CurrentOperator
from service.policies.catalog import ORIGINAL_LANGUAGE, PolicyDocument, PolicyKind
from service.policies.publishing import publish


class PolicySummary(msgspec.Struct):
    kind: PolicyKind
    version: str
    title: str
    effective_at: date
    major: bool
    # Of this text: each language's text of a version has its own.
    sha256: str
    url: str
    # The language of this text (`zh-CN` or `en`), negotiated from Accept-Language.
    language: str
    # The languages this version has a text in.
    languages: list[str]


class PolicyText(PolicySummary):
    content: str


def _url(document: PolicyDocument) -> str:
    return f"/v1/policies/{document.kind}/{document.version}"


def _summary(document: PolicyDocument) -> PolicySummary:
    d = document.in_language(request_language.get() or ORIGINAL_LANGUAGE)
    languages = [ORIGINAL_LANGUAGE, *sorted(document.translations)]
    return PolicySummary(d.kind, d.version, d.title, d.effective_at, d.major, d.sha256, _url(d), d.language, languages)


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
            raise NotFound("policy_not_found", "No such policy version")
        shown = document.in_language(request_language.get() or ORIGINAL_LANGUAGE)
        return PolicyText(**msgspec.structs.asdict(_summary(document)), content=shown.content)


class PublishRequest(RequestBody):
    kind: PolicyKind
    version: Annotated[str, msgspec.Meta(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}(\.[0-9]{1,3})?$")]
    # Markdown with the header (title, effective_at, major), as in service/policies/documents.
    source: Annotated[str, msgspec.Meta(min_length=10, max_length=200_000)]
    # Another language than English: a translation of the published version `version`.
    language: Language = Language.EN


class PolicyPublishingController(Controller):
    path = "/v1/operator/policies"
    tags = ["policies"]
    guards = [operator_guard]

    @post("/", status_code=201, summary="Publish a new policy version", opt=allow(ADMINS))
    async def publish(
        self, runtime: CurrentRuntime, operator: CurrentOperator, data: JSONBody[PublishRequest]
    ) -> PolicySummary:
        document = await publish(
            runtime.database,
            runtime.policies,
            runtime.audit,
            data.kind,
            data.version,
            data.source,
            operator.actor,
            data.language.value,
        )
        published = runtime.policies.find(document.kind, document.version) or document
        return _summary(published)
