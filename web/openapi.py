"""The OpenAPI 3.1 description of /api/v1 (GET /api/v1/openapi.json), generated from the views, and the
Swagger UI page that renders it (GET /api/v1/docs, from npm's swagger-ui-dist).

To describe an endpoint, put `@operation(...)` under its route decorator:

    @bp.get("/things")
    @operation("List things", query=ThingQuery, response=ThingPage, errors=(400, 403))
    def things() -> ResponseReturnValue: ...

`query`, `body` and `response` are anything pydantic can describe: a pydantic model, or one of the
services' frozen dataclasses as it is (`with_fields(View, url=str)` adds the keys a view puts beside
`asdict(view)`). Method, path and path parameters come from the URL rule, so a blueprint under /api/v1
is described as soon as the app registers it and its views are decorated; there is nothing else to
wire. `undescribed(app)` names the /api/v1 views without a description (a test keeps it empty).
"""

from __future__ import annotations

import dataclasses
import re
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

from flask import Blueprint, Flask, current_app, jsonify, render_template, send_from_directory
from flask.typing import ResponseReturnValue
from pydantic import BaseModel, TypeAdapter, create_model
from pydantic.json_schema import JsonSchemaMode
from werkzeug.exceptions import NotFound
from werkzeug.routing import Rule
from werkzeug.routing.converters import NumberConverter

PREFIX = "/api/v1"
F = TypeVar("F", bound=Callable[..., Any])

bp = Blueprint("api_docs", __name__, url_prefix=PREFIX)  # public: no login, nothing secret in it


class ApiError(BaseModel):
    code: str
    message: str
    field: str | None


class ErrorBody(BaseModel):
    """Every error answer: {"error": {"code", "message", "field"}}; some add keys beside it."""

    error: ApiError


ERROR_DESCRIPTIONS = {
    400: "Invalid input (the field is named when one is at fault), or a cookie session's POST without CSRF token",
    401: "No session and no valid API token",
    403: "Not allowed (the access policy), or a read-scope token sent a write",
    404: "No such record, or one outside the user's access",
    413: "The upload is larger than allowed",
    429: "Too many requests of this kind",
}
DEFAULT_ERRORS = (400, 401, 403, 404)


@dataclass(frozen=True)
class Operation:
    summary: str
    description: str
    query: Any
    body: Any
    body_media: str
    response: Any
    status: int
    errors: tuple[int, ...]
    responses: dict[int, Any]  # other documented answers: status → type


def operation(summary: str, *, query: Any = None, body: Any = None,  # noqa: PLR0913
              body_media: Literal["application/json", "multipart/form-data"] = "application/json",
              response: Any = None, status: int = 200, errors: Iterable[int] = DEFAULT_ERRORS,
              responses: dict[int, Any] | None = None, description: str = "") -> Callable[[F], F]:
    """Describe the view in /api/v1/openapi.json (see the module docstring). The view's docstring is the
    description unless one is given."""

    def mark(view: F) -> F:
        view.__openapi__ = Operation(  # type: ignore[attr-defined]
            summary=summary, description=description or (view.__doc__ or "").strip(), query=query, body=body,
            body_media=body_media, response=response, status=status, errors=tuple(errors),
            responses=dict(responses or {}))
        return view

    return mark


def with_fields(view: type, name: str | None = None, **fields: Any) -> type[BaseModel]:
    """The JSON of `asdict(view)` with more keys beside (or instead of) its fields, for a response schema:
    with_fields(View, url=str). Every key is required (asdict writes them all) unless given as
    (type, default), for a key that is sometimes left out."""
    hints = typing.get_type_hints(view)
    spec: dict[str, Any] = {f.name: (hints[f.name], ...) for f in dataclasses.fields(view)}
    spec |= {key: kind if isinstance(kind, tuple) else (kind, ...) for key, kind in fields.items()}
    doc = view.__doc__ if view.__doc__ and not view.__doc__.startswith(f"{view.__name__}(") else None
    return create_model(name or f"{view.__name__}Json", __doc__=doc, **spec)


@dataclass
class _Schemas:
    """The schemas one description needs, generated together so that shared types become one component."""

    wanted: list[tuple[Any, JsonSchemaMode]] = field(default_factory=list)

    def ref(self, kind: Any, mode: JsonSchemaMode = "serialization") -> dict[str, Any]:
        key = (kind, mode)
        if key not in self.wanted:
            self.wanted.append(key)
        return {"$ref": f"#/$ref/{self.wanted.index(key)}"}  # resolved by resolve()

    def resolve(self, document: dict[str, Any]) -> dict[str, Any]:
        adapters = [(index, mode, TypeAdapter(kind)) for index, (kind, mode) in enumerate(self.wanted)]
        top, definitions = TypeAdapter.json_schemas(adapters, ref_template="#/components/schemas/{model}")
        by_index = {index: schema for (index, _mode), schema in top.items()}

        def swap(node: Any) -> Any:
            if isinstance(node, dict):
                ref = node.get("$ref", "")
                if isinstance(ref, str) and ref.startswith("#/$ref/"):
                    return swap(by_index[int(ref.rsplit("/", 1)[1])])
                return {key: swap(value) for key, value in node.items()}
            if isinstance(node, list):
                return [swap(value) for value in node]
            return node

        resolved = swap(document)
        components = dict(sorted(definitions.get("$defs", {}).items()))
        for name, schema in components.items():  # a dataclass without docstring gets its signature as one
            if str(schema.get("description", "")).startswith(f"{name}("):
                del schema["description"]
        resolved.setdefault("components", {})["schemas"] = components
        return resolved


def _path_and_parameters(rule: Rule) -> tuple[str, list[dict[str, Any]]]:
    """Werkzeug's /a/<int:id> as OpenAPI's /a/{id}, with the converter's bounds as the schema."""
    parameters = []
    for name, converter in rule._converters.items():
        schema: dict[str, Any] = {"type": "string"}
        if isinstance(converter, NumberConverter):
            schema = {"type": "integer" if converter.num_convert is int else "number"}
            if not converter.signed:
                schema["minimum"] = converter.min if converter.min is not None else 0
            if converter.max is not None:
                schema["maximum"] = converter.max
        parameters.append({"name": name, "in": "path", "required": True, "schema": schema})
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule), parameters


def _query_parameters(query: Any) -> list[dict[str, Any]]:
    """One query parameter per field of the query model."""
    schema = TypeAdapter(query).json_schema(mode="validation")
    required = set(schema.get("required", ()))
    parameters = []
    for name, prop in schema.get("properties", {}).items():
        description = prop.pop("description", None)
        prop.pop("title", None)
        if "anyOf" in prop:  # a query string has no null: "absent" is the None
            branches = [b for b in prop.pop("anyOf") if b.get("type") != "null"]
            prop = {**branches[0], **prop} if len(branches) == 1 else {"anyOf": branches, **prop}
        if "default" in prop and prop["default"] is None:
            del prop["default"]
        parameter = {"name": name, "in": "query", "required": name in required, "schema": prop}
        if description:
            parameter["description"] = description
        if prop.get("deprecated"):
            parameter["deprecated"] = True
        parameters.append(parameter)
    return parameters


def _responses(schemas: _Schemas, op: Operation) -> dict[str, Any]:
    def content(kind: Any) -> dict[str, Any]:
        return {"application/json": {"schema": schemas.ref(kind)}}

    answers: dict[str, Any] = {str(op.status): {"description": "Success"}}
    if op.response is not None:
        answers[str(op.status)]["content"] = content(op.response)
    for status in op.errors:
        answers[str(status)] = {"description": ERROR_DESCRIPTIONS.get(status, "Error"), "content": content(ErrorBody)}
    for status, kind in op.responses.items():
        answers[str(status)] = {"description": ERROR_DESCRIPTIONS.get(status, "Answer"), "content": content(kind)}
    return answers


def describe(app: Flask) -> dict[str, Any]:
    """The OpenAPI 3.1 document of every described /api/v1 view of the app."""
    schemas = _Schemas()
    paths: dict[str, dict[str, Any]] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        op = getattr(app.view_functions.get(rule.endpoint), "__openapi__", None)
        if not rule.rule.startswith(PREFIX + "/") or op is None:
            continue
        path, parameters = _path_and_parameters(rule)
        if op.query is not None:
            parameters += _query_parameters(op.query)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            entry: dict[str, Any] = {
                "operationId": rule.endpoint.replace(".", "_"), "summary": op.summary,
                "tags": [rule.endpoint.split(".")[0]], "responses": _responses(schemas, op),
            }
            if op.description:
                entry["description"] = op.description
            if parameters:
                entry["parameters"] = parameters
            if op.body is not None:
                entry["requestBody"] = {"required": True, "content": {
                    op.body_media: {"schema": schemas.ref(op.body, "validation")}}}
            paths.setdefault(path[len(PREFIX):], {})[method.lower()] = entry
    document = {
        "openapi": "3.1.0",
        "info": {"title": "客户档案管理系统 — customer-file archive API", "version": "1",
                 "description": "JSON API of the archive. Errors answer as {\"error\": {\"code\", \"message\", "
                                "\"field\"}} in the request's language. Lists take `limit` and `cursor` and "
                                "answer `next_cursor` (null on the last page)."},
        "servers": [{"url": PREFIX}],
        "paths": paths,
        "components": {"securitySchemes": {
            "bearerAuth": {"type": "http", "scheme": "bearer", "description":
                           "A personal API token (scope read: GET only; write: every method); no CSRF token."},
            "cookieAuth": {"type": "apiKey", "in": "cookie", "name": current_app.config["SESSION_COOKIE_NAME"],
                           "description": "The web session; POST, PUT and DELETE then need the X-CSRFToken header."},
        }},
        "security": [{"bearerAuth": []}, {"cookieAuth": []}],
    }
    return schemas.resolve(document)


def undescribed(app: Flask) -> list[str]:
    """The /api/v1 endpoints without @operation (they are missing from the description)."""
    own = {f"{bp.name}.openapi", f"{bp.name}.docs", f"{bp.name}.docs_asset"}
    return sorted({rule.endpoint for rule in app.url_map.iter_rules()
                   if rule.rule.startswith(PREFIX + "/") and rule.endpoint not in own
                   and not hasattr(app.view_functions.get(rule.endpoint), "__openapi__")})


@bp.get("/openapi.json")
def openapi() -> ResponseReturnValue:
    if "openapi" not in current_app.extensions:  # the routes are fixed once the app serves
        current_app.extensions["openapi"] = describe(current_app._get_current_object())  # type: ignore[attr-defined]
    return jsonify(current_app.extensions["openapi"])


SWAGGER_FILES = ("swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "favicon-32x32.png")


def swagger_ui_dir() -> Path:
    """npm's swagger-ui-dist (make assets) in the checkout, or the SWAGGER_UI_DIR setting of the app."""
    configured = current_app.config.get("SWAGGER_UI_DIR")
    return Path(configured) if configured else Path(current_app.root_path).parent / "node_modules" / "swagger-ui-dist"


@bp.get("/docs")
def docs() -> ResponseReturnValue:
    return render_template("api_docs/docs.html")


@bp.get("/docs/<path:filename>")
def docs_asset(filename: str) -> ResponseReturnValue:
    if filename not in SWAGGER_FILES:
        raise NotFound()
    return send_from_directory(swagger_ui_dir(), filename, max_age=3600)
