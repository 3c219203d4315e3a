"""Domain errors and the one JSON error shape: ``{"error": {"code", "message"}}``."""

from __future__ import annotations

from typing import Any


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
