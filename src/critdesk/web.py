"""Request plumbing shared by every route: the session, the clock, pagination, errors."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote

import anyio
from annotated_types import Interval
from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic_core import to_json
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from critdesk import templating
from critdesk.config import Settings
from critdesk.errors import DomainError, Invalid, error_body, error_schemas
from critdesk.execution import run_sync

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


# Trivial dependencies are coroutines: FastAPI runs a plain ``def`` dependency on a worker
# thread, and each such hop costs more than these bodies do.
async def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


async def get_db(request: Request) -> AsyncIterator[Session]:
    """The request's unit of work (``Database.session``'s contract: committed when the route
    returns normally, rolled back otherwise).

    A coroutine: opening a session does no I/O (it connects at its first statement), so only
    the commit or rollback at the end is a synchronous step (``execution.run_sync``: inline, or
    one hop to a worker thread); a plain generator costs a hop on the way in and one out."""
    read_only = request.method in ("GET", "HEAD", "OPTIONS")
    database = request.app.state.db
    session = (database.read_sessions if read_only else database.sessions)()
    request.state.db = session
    try:
        yield session
    except BaseException:
        # Shielded: a request cancelled meanwhile (the client went away) still gives its
        # connection, and on SQLite its place in the writers' line, back.
        with anyio.CancelScope(shield=True):
            await run_sync(_discard, session)
        raise
    with anyio.CancelScope(shield=True):
        await run_sync(_finish, session)


def _finish(session: Session) -> None:
    try:
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def _discard(session: Session) -> None:
    try:
        session.rollback()
    finally:
        session.close()


def get_now(request: Request) -> datetime:
    return request.app.state.clock()  # type: ignore[no-any-return]


# scope="function": the unit of work commits before the response is sent, so a client never
# sees a success for a change that was then lost.
DbSession = Annotated[Session, Depends(get_db, scope="function")]


async def _now(request: Request) -> datetime:
    return get_now(request)


Now = Annotated[datetime, Depends(_now)]
AppSettings = Annotated[Settings, Depends(get_settings_dep)]


def view_response(view: Any, status_code: int = 200) -> Response:
    """A view that already holds every field of its route's response model, nulls included, and
    nothing else, serialised as it is by pydantic's own encoder, without validating the model
    first (for a queue page of fifty cases a fifth of its cost). The route's ``response_model``
    still documents the shape; a test holds each such view to its model's own JSON."""
    return Response(to_json(view), status_code=status_code, media_type="application/json")


# The largest id an integer column holds (PostgreSQL's integer). A larger number names nothing,
# and passed on it fails in the database driver (a 500) instead of answering 404 or 422.
MAX_ID = 2**31 - 1
Id = Annotated[int, Interval(ge=1, le=MAX_ID)]


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
        if not 0 <= value <= MAX_ID:
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


def _document_errors(app: Any) -> None:
    """Adds the error shape ERROR_RESPONSES refers to to the app's OpenAPI components."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        document: dict[str, Any] = generate()  # built once, then cached by FastAPI
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        for name, schema in error_schemas().items():
            schemas.setdefault(name, schema)
        return document

    app.openapi = openapi


def install_error_handlers(app: FastAPI) -> None:
    _document_errors(app)

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
        # The framework answers 400 for a body it cannot parse (bytes that are not UTF-8, a
        # broken multipart body): that is invalid input, which this API answers with 422.
        status_code = 422 if error.status_code == 400 else error.status_code
        if wants_html(request):
            return _html_error(request, status_code, str(error.detail), headers)
        codes = {
            404: "not_found",
            405: "method_not_allowed",
            401: "not_authenticated",
            422: "invalid_input",
        }
        return JSONResponse(
            error_body(codes.get(status_code, "http_error"), str(error.detail)),
            status_code=status_code,
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


# --- security headers on every response ---------------------------------------------------

# The pages load only their own script and style sheet (static/app.js, static/critdesk.css):
# no inline script, no inline style, no plug-ins, never framed, forms post only to us.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)
# FastAPI's API explorers (/docs, /redoc) load their bundles from a CDN and start them with an
# inline script, whose hash is computed from the page served; nothing personal is on them.
DOCS_PATHS = frozenset({"/docs", "/redoc"})
DOCS_POLICY = (
    "default-src 'self'; script-src 'self' https://cdn.jsdelivr.net {hashes}; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    "font-src 'self' https://fonts.gstatic.com; img-src 'self' data: https:; worker-src blob:; "
    "object-src 'none'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), display-capture=(), geolocation=(), gyroscope=(), "
    "magnetometer=(), microphone=(), payment=(), usb=()"
)
HSTS = "max-age=63072000; includeSubDomains"
_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)


def security_headers(*, https: bool) -> list[tuple[bytes, bytes]]:
    headers = [
        (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
        (b"x-frame-options", b"DENY"),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"same-origin"),
        (b"permissions-policy", PERMISSIONS_POLICY.encode()),
        (b"cross-origin-opener-policy", b"same-origin"),
    ]
    if https:
        # Only over HTTPS: a browser ignores it on plain HTTP, and a desk on plain HTTP (the
        # laptop default) must not pin itself to a scheme it does not serve.
        headers.append((b"strict-transport-security", HSTS.encode()))
    return headers


def docs_policy(body: bytes) -> bytes:
    """The API explorer's policy, allowing exactly the inline scripts of this page."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script).digest()).decode() + "'"
        for script in _INLINE_SCRIPT.findall(body)
    )
    return DOCS_POLICY.format(hashes=hashes).encode()


class SecurityHeaders:
    """Adds the security headers to every HTTP response (pages, API, static files, errors);
    a header a route set itself is left as it is."""

    def __init__(self, app: ASGIApp, *, https: bool) -> None:
        self.app = app
        self.headers = security_headers(https=https)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] in DOCS_PATHS:
            await self._docs(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = self._merged(message.get("headers", ()), {})
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _merged(self, present: Any, replace: dict[bytes, bytes]) -> list[tuple[bytes, bytes]]:
        headers = list(present)
        names = {name.lower() for name, _value in headers}
        for name, value in self.headers:
            if name not in names:
                headers.append((name, replace.get(name, value)))
        return headers

    async def _docs(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Small pages, held until complete so that their policy can name their scripts.
        start: Message | None = None
        body = bytearray()

        async def hold(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            body.extend(message.get("body", b""))
            if message.get("more_body"):
                return
            assert start is not None
            policy = {b"content-security-policy": docs_policy(bytes(body))}
            start["headers"] = self._merged(start.get("headers", ()), policy)
            await send(start)
            await send({"type": "http.response.body", "body": bytes(body)})

        await self.app(scope, receive, hold)
