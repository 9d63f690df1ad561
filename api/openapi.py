"""Make the OpenAPI schema true about errors: every error response has the one error body, and every
operation lists the errors the middleware and the access policy can give it.

FastAPI documents 422 with its own ``HTTPValidationError`` model and knows nothing of what middleware
answers (413, 431, 503 ``overloaded``) or what ``enforce_policy`` answers (400 ``key_in_query``, 401,
403, 429). Clients generated from the schema, and schemathesis (tests/test_schemathesis.py), must see
``{"error": {"code", "message", "request_id"}}`` for all of them.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

from api.security import POLICY, Access

__all__ = ["ErrorDetail", "ErrorResponse", "install_openapi"]


class ErrorDetail(BaseModel):
    """A stable machine ``code``, a ``message`` for people, and the ``request_id`` to report."""

    code: str
    message: str
    request_id: str


class ErrorResponse(BaseModel):
    """The body of every 4xx and 5xx answer."""

    error: ErrorDetail


# Errors any operation can answer, from the middleware and the policy dependency (api/security.py).
_COMMON = {
    "400": "bad_request, key_in_query: an API key in the URL, or a malformed request",
    "413": "payload_too_large: the body is above XIZMAT_MAX_UPLOAD_BYTES",
    "422": "invalid_request (or a route-specific code): a parameter is missing or has the wrong type",
    "431": "headers_too_large: too many or too large request headers",
    "500": "internal_error: an unexpected failure (report the request_id)",
    "503": "overloaded (with Retry-After; XIZMAT_MAX_IN_FLIGHT), index_not_ready",
}
_RATE_LIMITED = {"429": "rate_limited: too many requests from this client (with Retry-After)"}
_KEYED = {"401": "unauthorized: missing or wrong key", "403": "forbidden, admin_disabled"}
_REF = "#/components/schemas/ErrorResponse"


def _patch(schema: dict[str, Any]) -> dict[str, Any]:
    keyed = {route for route, rule in POLICY.items() if rule.access is not Access.PUBLIC}
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for model in (ErrorDetail, ErrorResponse):
        components[model.__name__] = model.model_json_schema(ref_template="#/components/schemas/{model}")
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            extra = {**_COMMON, **_RATE_LIMITED}
            if (method.upper(), path) in keyed:
                extra |= _KEYED
            for status, description in extra.items():
                responses.setdefault(status, {"description": description})
            for status, response in responses.items():
                if status.isdigit() and int(status) >= 400:
                    response["content"] = {"application/json": {"schema": {"$ref": _REF}}}
    return schema


def install_openapi(app: FastAPI) -> None:
    """Post-process ``app.openapi()`` once (routes needing a key, from ``POLICY``, also list 401/403)."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _patch(original())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
