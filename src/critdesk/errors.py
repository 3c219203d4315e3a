"""Domain errors and the one JSON error shape: ``{"error": {"code", "message"}}``."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class DomainError(Exception):
    """A refusal the caller can act on; mapped to a 4xx response by the app."""

    status_code = 400

    def __init__(self, code: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details


class NotAuthenticated(DomainError):
    status_code = 401


class Forbidden(DomainError):
    status_code = 403


class NotFound(DomainError):
    status_code = 404

    def __init__(self, what: str = "object") -> None:
        super().__init__("not_found", f"{what} not found")


class Conflict(DomainError):
    status_code = 409


class Invalid(DomainError):
    status_code = 422


class TooLarge(DomainError):
    status_code = 413


class RateLimited(DomainError):
    status_code = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__("rate_limited", message)
        self.retry_after = retry_after


def error_body(code: str, message: str, **details: Any) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if details:
        error["details"] = details
    return {"error": error}


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: dict[str, Any] | None = None


class ErrorResponse(BaseModel):
    """The one error shape, as the OpenAPI document describes it."""

    error: ErrorDetail


# Every status the error handlers may answer with, documented once for every operation so that
# clients (and the schema tests) know the shape of a refusal wherever it comes from. A $ref
# rather than a response model: FastAPI would build a validator per route and status for a
# model, which every new app pays for on its first request.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}},
    }
    for status, description in {
        401: "Not authenticated: no valid token or session",
        403: "The caller's role or package may not do this",
        404: "Absent, or outside the caller's organisation",
        405: "The path exists but not with this method",
        409: "The object's state forbids the action, or it changed meanwhile",
        413: "The request body is over the limit",
        415: "The uploaded file's type is refused",
        422: "Invalid input",
        429: "Over a rate limit; see Retry-After",
        503: "The desk is busy; nothing was changed, retry after Retry-After",
    }.items()
}


def error_schemas() -> dict[str, Any]:
    """The OpenAPI component schemas ERROR_RESPONSES refers to."""
    schema = ErrorResponse.model_json_schema(ref_template="#/components/schemas/{model}")
    return {"ErrorResponse": schema, **schema.pop("$defs", {})}
