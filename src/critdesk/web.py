"""Request plumbing shared by every route: the session, the clock, pagination, errors."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from critdesk import templating
from critdesk.config import Settings
from critdesk.errors import DomainError, Invalid, error_body

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def get_db(request: Request) -> Iterator[Session]:
    read_only = request.method in ("GET", "HEAD", "OPTIONS")
    with request.app.state.db.session(read_only=read_only) as session:
        request.state.db = session
        yield session


def get_now(request: Request) -> datetime:
    return request.app.state.clock()  # type: ignore[no-any-return]


# scope="function": the unit of work commits before the response is sent, so a client never
# sees a success for a change that was then lost.
DbSession = Annotated[Session, Depends(get_db, scope="function")]
Now = Annotated[datetime, Depends(get_now)]
AppSettings = Annotated[Settings, Depends(get_settings_dep)]


class Pagination:
    def __init__(
        self,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
        cursor: Annotated[str | None, Query(max_length=100)] = None,
    ) -> None:
        self.limit = limit
        self.cursor = cursor

    def cursor_int(self) -> int | None:
        if self.cursor is None:
            return None
        try:
            value = int(base64.urlsafe_b64decode(self.cursor.encode() + b"==").decode())
        except (ValueError, UnicodeDecodeError) as error:
            raise Invalid("invalid_cursor", "cursor is not one this API returned") from error
        if value < 0:
            raise Invalid("invalid_cursor", "cursor is not one this API returned")
        return value


def encode_cursor(value: int | None) -> str | None:
    if value is None:
        return None
    return base64.urlsafe_b64encode(str(value).encode()).decode().rstrip("=")


Page = Annotated[Pagination, Depends()]


def _describe_validation(errors: list[Any]) -> str:
    parts = []
    for error in errors[:5]:
        location = ".".join(str(p) for p in error.get("loc", ()) if p not in ("body",))
        parts.append(f"{location or 'body'}: {error.get('msg', 'invalid')}")
    return "; ".join(parts)


def wants_html(request: Request) -> bool:
    """A browser asking for a page: errors become pages in the layout, not JSON."""
    if request.url.path.startswith("/api/"):
        return False
    return "text/html" in request.headers.get("accept", "")


def _html_error(
    request: Request, status_code: int, message: str, headers: dict[str, str] | None = None
) -> Response:
    if status_code == 401:
        # Only a page that can be fetched again is worth returning to after logging in.
        target = request.url.path
        if request.url.query:
            target += "?" + request.url.query
        query = f"?next={quote(target, safe='/')}" if request.method == "GET" else ""
        return RedirectResponse(f"/login{query}", status_code=303)
    return templating.error_page(request, status_code, message, headers=headers)


def install_error_handlers(app: Any) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(request: Request, error: DomainError) -> Response:
        headers = {}
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            headers["Retry-After"] = str(retry_after)
        if wants_html(request):
            return _html_error(request, error.status_code, error.message, headers)
        return JSONResponse(
            error_body(error.code, error.message, **error.details),
            status_code=error.status_code,
            headers=headers,
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError) -> Response:
        message = _describe_validation(list(error.errors()))
        if wants_html(request):
            return _html_error(request, 422, message)
        fields = [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": e.get("msg"), "type": e.get("type")}
            for e in error.errors()
        ]
        return JSONResponse(
            error_body("invalid_input", message, fields=fields),
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        headers = getattr(error, "headers", None)
        if wants_html(request):
            return _html_error(request, error.status_code, str(error.detail), headers)
        codes = {404: "not_found", 405: "method_not_allowed", 401: "not_authenticated"}
        return JSONResponse(
            error_body(codes.get(error.status_code, "http_error"), str(error.detail)),
            status_code=error.status_code,
            headers=headers,
        )

    @app.exception_handler(StaleDataError)
    async def stale(request: Request, _error: StaleDataError) -> Response:
        message = "the case changed meanwhile; reload and try again"
        if wants_html(request):
            return _html_error(request, 409, message)
        return JSONResponse(error_body("concurrent_change", message), status_code=409)

    @app.exception_handler(OperationalError)
    async def busy(request: Request, error: OperationalError) -> Response:
        # Only a database that could not be reached or locked in time is the client's to retry;
        # anything else is a real fault and stays a 500.
        text = str(error.orig).lower()
        if "locked" not in text and "busy" not in text and "connection" not in text:
            raise error
        message = "the desk is busy; nothing was changed, please retry in a moment"
        if wants_html(request):
            return _html_error(request, 503, message, headers={"Retry-After": "1"})
        return JSONResponse(
            error_body("busy", message), status_code=503, headers={"Retry-After": "1"}
        )


class BodyLimit:
    """Refuses request bodies over a limit while they stream in (413), uploads excepted."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, upload_max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.upload_max_bytes = upload_max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        upload = scope["path"].endswith("/attachments")
        limit = self.upload_max_bytes if upload else self.max_bytes
        code = "file_too_large" if upload else "body_too_large"
        declared = dict(scope.get("headers", ())).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _too_large(send, limit, code)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        try:
            await self.app(scope, limited_receive, send)
        except BodyTooLarge:
            await _too_large(send, limit, code)


class BodyTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"request body over {limit} bytes")


async def _too_large(send: Send, limit: int, code: str) -> None:
    response = JSONResponse(
        error_body(code, f"the request body is over the {limit}-byte limit"),
        status_code=413,
    )
    await send({"type": "http.response.start", "status": 413, "headers": response.raw_headers})
    await send({"type": "http.response.body", "body": response.body})
