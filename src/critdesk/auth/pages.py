"""Web sessions for the pages: log in and out, who is looking, and CSRF on every form.

The JSON API reads the session cookie in ``auth.deps`` and wants the CSRF token in a header;
a page form sends it as the hidden ``csrf_token`` field instead, checked here.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from critdesk.auth import service
from critdesk.auth.deps import UNSAFE_METHODS, session_cookie, session_cookie_name
from critdesk.auth.models import User
from critdesk.case.service import HANDLER_ROLES
from critdesk.errors import Forbidden, NotAuthenticated, RateLimited
from critdesk.templating import STAFF_TIMEZONE, label, render
from critdesk.web import AppSettings, DbSession, Now

router = APIRouter(include_in_schema=False)

# A pre-session token for the login form itself (double submit): a site that cannot read our
# cookies cannot make a browser log in to an account of the attacker's choosing.
LOGIN_CSRF_COOKIE = "critdesk_login"
# Over HTTPS, "__Host-" prefixed like the session's (which needs path "/").
SECURE_LOGIN_CSRF_COOKIE = "__Host-critdesk_login"
MAX_PASSWORD_CHARS = 1000


async def form_data(request: Request) -> FormData:
    """The posted form (empty for a GET); Starlette parses it once per request."""
    if request.method not in UNSAFE_METHODS:
        return FormData()
    return await request.form()


Form = Annotated[FormData, Depends(form_data)]


def field(form: FormData, name: str, max_chars: int = 50_000) -> str:
    """A text field; an absent field or an uploaded file reads as empty."""
    value = form.get(name)
    return value[:max_chars] if isinstance(value, str) else ""


def safe_next(value: str | None) -> str | None:
    """A local path to return to after logging in, never another site."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or any(ord(c) < 32 for c in value):
        return None
    return value


def home_path(role: str) -> str:
    if role in HANDLER_ROLES:
        return "/queue"
    return "/cases"


def viewer_of(user: User) -> dict[str, Any]:
    """What the layout shows of the viewer, as plain values that outlive the database session."""
    organisation = user.organisation
    timezone = (
        organisation.package.calendar.get("timezone", STAFF_TIMEZONE)
        if organisation is not None
        else STAFF_TIMEZONE
    )
    return {
        "name": user.name,
        "email": user.email,
        "role": user.role,
        "role_label": label(user.role),
        "organisation": organisation.name if organisation else None,
        "is_customer": user.is_customer,
        "is_handler": user.role in HANDLER_ROLES,
        "timezone": timezone,
        "home": home_path(user.role),
    }


def _session_user(request: Request, db: DbSession, now: Now, form: Form) -> User | None:
    cookie = session_cookie(request)
    found = service.session_for_cookie(db=db, cookie=cookie, now=now) if cookie else None
    if found is None:
        return None
    user, web_session = found
    if request.method in UNSAFE_METHODS:
        sent = field(form, "csrf_token", 200)
        if not hmac.compare_digest(sent.encode(), web_session.csrf_token.encode()):
            raise Forbidden(
                "csrf_failed", "this form is out of date or came from elsewhere; please retry"
            )
    request.state.csrf_token = web_session.csrf_token
    request.state.viewer = viewer_of(user)
    return user


def page_user(user: Annotated[User | None, Depends(_session_user)]) -> User:
    """The logged-in viewer; a visitor without a session is sent to the login page."""
    if user is None:
        raise NotAuthenticated("not_authenticated", "please log in")
    return user


PageUser = Annotated[User, Depends(page_user)]
MaybePageUser = Annotated[User | None, Depends(_session_user)]


def _login_cookie(settings: Any) -> tuple[str, str]:
    """The login form's cookie: (name, path)."""
    if settings.secure_cookies:
        return SECURE_LOGIN_CSRF_COOKIE, "/"
    return LOGIN_CSRF_COOKIE, "/login"


def _login_token(request: Request) -> str:
    name, _path = _login_cookie(request.app.state.settings)
    current = request.cookies.get(name, "")
    return current if 20 <= len(current) <= 100 else secrets.token_urlsafe(32)


def _login_page(
    request: Request,
    *,
    email: str = "",
    next_path: str | None = None,
    error: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    token = _login_token(request)
    context = {
        "page_title": "Log in",
        "email": email,
        "next": next_path or "",
        "error": error,
        "login_token": token,
    }
    response = render(request, "auth/login.html", context, status_code=status_code, headers=headers)
    name, path = _login_cookie(request.app.state.settings)
    response.set_cookie(
        name,
        token,
        max_age=3600,
        path=path,
        httponly=True,
        samesite="strict",
        secure=request.app.state.settings.secure_cookies,
    )
    return response


@router.get("/login", response_model=None)
def login_form(request: Request, user: MaybePageUser, next: str | None = None) -> Response:
    if user is not None:
        return RedirectResponse(safe_next(next) or home_path(user.role), status_code=303)
    return _login_page(request, next_path=safe_next(next))


@router.post("/login", response_model=None)
def login_submit(
    request: Request, db: DbSession, now: Now, settings: AppSettings, form: Form
) -> Response:
    email, password = field(form, "email", 254).strip(), field(form, "password")
    next_path = safe_next(field(form, "next", 2000))
    page: dict[str, Any] = {"email": email, "next_path": next_path}
    sent = field(form, "csrf_token", 200)
    expected = request.cookies.get(_login_cookie(settings)[0], "")
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        return _login_page(
            request, **page, error="The login form had expired; please try again.", status_code=403
        )
    if not email or not password or len(password) > MAX_PASSWORD_CHARS:
        return _login_page(request, **page, error="Enter your e-mail address and password.")
    try:
        user = service.login(
            db=db,
            email=email,
            password=password,
            now=now,
            remote_addr=request.client.host if request.client else None,
            max_failures=settings.login_max_failures,
            window=timedelta(minutes=settings.login_failure_window_minutes),
        )
    except RateLimited as error:
        minutes = max(1, error.retry_after // 60)
        message = f"Too many failed attempts for this account. Try again in {minutes} minutes."
        headers = {"Retry-After": str(error.retry_after)}
        return _login_page(request, **page, error=message, status_code=429, headers=headers)
    if user is None:
        # Returned normally, so that this request's unit of work records the failed attempt.
        return _login_page(request, **page, error="That e-mail address or password is wrong.")
    return _logged_in(db=db, user=user, now=now, settings=settings, to=next_path)


def _logged_in(*, db: Any, user: User, now: Any, settings: Any, to: str | None) -> Response:
    """A new web session in an HttpOnly, SameSite=Lax cookie; on to the page asked for."""
    cookie, _csrf = service.open_session(
        db=db, user=user, now=now, lifetime=timedelta(hours=settings.session_hours)
    )
    response = RedirectResponse(to or home_path(user.role), status_code=303)
    response.set_cookie(
        session_cookie_name(settings),
        cookie,
        max_age=settings.session_hours * 3600,
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
    )
    name, path = _login_cookie(settings)
    response.delete_cookie(name, path=path, secure=settings.secure_cookies, httponly=True)
    return response


@router.post("/logout")
def logout(
    request: Request, db: DbSession, settings: AppSettings, _user: PageUser
) -> RedirectResponse:
    service.close_session(db=db, cookie=session_cookie(request) or "")
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(
        session_cookie_name(settings), path="/", secure=settings.secure_cookies, httponly=True
    )
    return response
