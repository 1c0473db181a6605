"""Query parameters, checked strictly and all at once before Litestar converts them.

Litestar converts query strings in msgspec's lax mode, which reads ``?due_before=0.5`` as half a
second after 1970 and ``?due_before=1700000000`` as a Unix time; it also stops at the first
missing parameter, and names a parameter by its Python name rather than the one the client sent.
Here each query parameter must be the text form of its type (RFC 3339 for date-times, a JSON
number for numbers, ``true`` or ``false`` for booleans, the exact value of an enumeration), with
the endpoint's own constraints, and every problem is reported under the name the client used:
400 ``invalid_parameters`` with ``errors: [{field, code, message}]``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import msgspec
from litestar import Litestar, Request
from litestar.enums import ParamType
from litestar.routes import HTTPRoute
from litestar.types import Method

from service.errors import FieldProblem
from service.http.problems import ProblemError, field_problem


@dataclass(frozen=True)
class QueryParameter:
    name: str  # as sent by the client
    type: Any  # the annotated type, with the endpoint's constraints
    required: bool
    literal: bool  # read as a JSON literal (numbers, booleans) rather than as text

    def problem(self, raw: str) -> FieldProblem | None:
        try:
            if self.literal:
                msgspec.json.decode(raw.encode(), type=self.type)
            else:
                msgspec.convert(raw, self.type)
        except msgspec.ValidationError as exc:  # before DecodeError, its base class
            return field_problem(self.name, str(exc))
        except msgspec.DecodeError:
            return FieldProblem(self.name, "invalid", "not a value of this parameter's type")
        return None


def _is_literal(annotation: Any) -> bool:
    def bare(info: msgspec.inspect.Type) -> msgspec.inspect.Type:
        return info.type if isinstance(info, msgspec.inspect.Metadata) else info

    info = bare(msgspec.inspect.type_info(annotation))
    members = info.types if isinstance(info, msgspec.inspect.UnionType) else (info,)
    literal = (msgspec.inspect.IntType, msgspec.inspect.FloatType, msgspec.inspect.BoolType)
    return any(isinstance(bare(member), literal) for member in members)


class QueryParameters:
    """The query parameters of every endpoint, read from the app's routes when an endpoint is first
    called: reading all of them at start cost about a tenth of making the app, which every test pays."""

    def __init__(self) -> None:
        self._routes: dict[str, HTTPRoute] = {}
        self._by_operation: dict[tuple[str, Method], tuple[QueryParameter, ...]] = {}

    def load(self, app: Litestar) -> None:
        self._routes = {route.path_format: route for route in app.routes if isinstance(route, HTTPRoute)}

    def of(self, path_template: str, method: Method) -> tuple[QueryParameter, ...]:
        """The operation's parameters; the keys are the app's own templates, so the cache is bounded."""
        key = (path_template, method)
        if (known := self._by_operation.get(key)) is not None:
            return known
        route = self._routes.get(path_template)
        entry = route.route_handler_map.get(method) if route is not None else None
        found: tuple[QueryParameter, ...] = ()
        if entry is not None:
            handler, kwargs_model = entry
            types = {field.name: field.type for field in msgspec.structs.fields(handler.signature_model)}
            found = tuple(
                QueryParameter(
                    name=param.field_alias,
                    type=types[param.field_name],
                    required=param.is_required,
                    literal=_is_literal(types[param.field_name]),
                )
                for param in sorted(kwargs_model.expected_query_params, key=lambda p: p.field_alias)
                if param.param_type == ParamType.QUERY and not param.is_sequence
            )
        self._by_operation[key] = found
        return found

    def problems(self, path_template: str, method: Method, query: Mapping[str, list[str]]) -> list[FieldProblem]:
        found: list[FieldProblem] = []
        for param in self.of(path_template, method):
            values = query.get(param.name, [])
            if not values and param.required:
                found.append(FieldProblem(param.name, "required", "this parameter is required"))
            # Every occurrence, since Litestar uses the last one and a check of the first would miss it.
            for raw in values:
                if (problem := param.problem(raw)) is not None:
                    found.append(problem)
                    break
        return found

    def check(self, request: Request[Any, Any, Any]) -> None:
        template = request.scope.get("path_template")
        if not template or not self.of(template, request.method):
            return
        query = {name: request.query_params.getall(name) for name in request.query_params}
        if found := self.problems(template, request.method, query):
            raise invalid_parameters(found)


def invalid_parameters(errors: list[FieldProblem]) -> ProblemError:
    return ProblemError(400, "invalid_parameters", "The request has invalid parameters", errors=errors)
